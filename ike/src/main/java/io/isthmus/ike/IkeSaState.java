package io.isthmus.ike;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where an IKE SA is in its life (strongSwan's names where they exist), and where it may go from
 * each state; {@link IkeSa#transitionTo} refuses anything else:
 *
 * <pre>
 *   from          to
 *   CONNECTING    ESTABLISHED (IKE_AUTH done, or a rekey made it), DELETING (we refuse the
 *                 responder's AUTH and tell it), DESTROYED (failed, or a refused IKE_SA_INIT)
 *   ESTABLISHED   REKEYING (our rekey is sent), REKEYED (the peer's rekey replaced it),
 *                 DELETING, DESTROYED
 *   REKEYING      ESTABLISHED (our rekey was refused), REKEYED, DELETING, DESTROYED
 *   REKEYED       DELETING (deleted before its own delete came), DESTROYED
 *   DELETING      DESTROYED
 * </pre>
 */
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
    DESTROYED;

    /** Whether an IKE SA in this state may move to {@code next}. */
    public boolean canBecome(IkeSaState next) {
        return next(this).contains(next);
    }

    private static Set<IkeSaState> next(IkeSaState s) {
        return switch (s) {
            case CONNECTING -> EnumSet.of(ESTABLISHED, DELETING, DESTROYED);
            case ESTABLISHED -> EnumSet.of(REKEYING, REKEYED, DELETING, DESTROYED);
            case REKEYING -> EnumSet.of(ESTABLISHED, REKEYED, DELETING, DESTROYED);
            case REKEYED -> EnumSet.of(DELETING, DESTROYED);
            case DELETING -> EnumSet.of(DESTROYED);
            case DESTROYED -> EnumSet.noneOf(IkeSaState.class);
        };
    }
}
