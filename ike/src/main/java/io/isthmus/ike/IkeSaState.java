package io.isthmus.ike;

/** Where an IKE SA is in its life (strongSwan's names where they exist). */
public enum IkeSaState {
    /** IKE_SA_INIT sent or answered, IKE_AUTH not yet done. */
    CONNECTING,
    ESTABLISHED,
    REKEYING,
    DELETING,
    /** Gone: failed, deleted, or the peer stopped answering. */
    DESTROYED
}
