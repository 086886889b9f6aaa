package io.isthmus.ike;

/** Where an IKE SA is in its life (strongSwan's names where they exist). */
public enum IkeSaState {
    /** IKE_SA_INIT sent or answered, IKE_AUTH not yet done. */
    CONNECTING,
    ESTABLISHED,
    /** Our CREATE_CHILD_SA to replace this IKE SA is under way; it still works meanwhile. */
    REKEYING,
    /** Replaced by a new IKE SA that took its child SAs; waiting for the old one's delete. */
    REKEYED,
    DELETING,
    /** Gone: failed, deleted, or the peer stopped answering. */
    DESTROYED
}
