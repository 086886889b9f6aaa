package io.isthmus.ike;

import java.time.Instant;
import java.util.Arrays;

/**
 * A child SA as its IKE SA keeps it: what was announced, how it was negotiated, where it is in
 * its life, and its timers. Moves to the new IKE SA when the IKE SA is rekeyed.
 */
final class ChildSa {
    enum State {
        /** Carrying traffic. */
        INSTALLED,
        /** Our CREATE_CHILD_SA to replace it is under way. */
        REKEYING,
        /** Replaced; inbound still accepted until the delete exchange ends. */
        REKEYED,
        /** Our delete is under way. */
        DELETING
    }

    final ChildSaDescription description;
    final ChildProposal proposal;
    final Instant established;
    /** Whether we initiated the exchange that created it: its keys are in that exchange's order. */
    final boolean createdAsInitiator;
    State state = State.INSTALLED;
    IkeSa owner;
    Scheduler.Cancellable rekeyTimer;
    Scheduler.Cancellable expiryTimer;

    /**
     * Set while our rekey is under way and the peer rekeys the same SA (RFC 7296 §2.8.1): the SA
     * the peer's exchange created and the lower of that exchange's two nonces, to decide which
     * of the two replacements survives.
     */
    ChildSa peersReplacement;
    byte[] peersExchangeLowestNonce;

    ChildSa(IkeSa owner, ChildSaDescription description, ChildProposal proposal, Instant established, boolean createdAsInitiator) {
        this.owner = owner;
        this.description = description;
        this.proposal = proposal;
        this.established = established;
        this.createdAsInitiator = createdAsInitiator;
    }

    int inboundSpi() {
        return description.inbound().spi();
    }

    int outboundSpi() {
        return description.outbound().spi();
    }

    void cancelTimers() {
        if (rekeyTimer != null) {
            rekeyTimer.cancel();
            rekeyTimer = null;
        }
        if (expiryTimer != null) {
            expiryTimer.cancel();
            expiryTimer = null;
        }
    }

    static byte[] lower(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) <= 0 ? a : b;
    }

    @Override
    public String toString() {
        return description.toString();
    }
}
