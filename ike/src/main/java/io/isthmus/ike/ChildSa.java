package io.isthmus.ike;

import java.time.Instant;

/**
 * A child SA as its IKE SA keeps it: what was announced, how it was negotiated, where it is in
 * its life, its timers, and its inbound SPI, which it holds from its installation until its IKE SA
 * removes it. Moves to the new IKE SA when the IKE SA is rekeyed. The exchanges
 * ({@code io.isthmus.ike.exchange}) move it through its states; what two exchanges need to know
 * about each other when both rekey it at once is kept on the exchanges, not here.
 */
public final class ChildSa {
    public enum State {
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
    /** Taken over from the exchange that reserved it; released by {@link ChildSas#remove}. */
    final InboundSpi spi;
    State state = State.INSTALLED;
    IkeSa owner;
    Scheduler.Cancellable rekeyTimer;
    Scheduler.Cancellable expiryTimer;
    /** A rekey made its replacement (CHILD_REKEYED said so): its going is no CHILD_DOWN. */
    boolean replaced;
    /** When its rekey and expiry are due, for status; null once the timers are cancelled. */
    Instant rekeyAt;
    Instant expiresAt;
    /** Installed with {@code spi}, which it holds from now on (the exchange that reserved it no longer gives it back). */
    public ChildSa(IkeSa owner, ChildSaDescription description, ChildProposal proposal, Instant established, boolean createdAsInitiator,
                   InboundSpi spi) {
        if (description.inbound().spi() != spi.value()) {
            throw new IllegalArgumentException("child SA " + description + " installed with " + spi);
        }
        this.owner = owner;
        this.description = description;
        this.proposal = proposal;
        this.established = established;
        this.createdAsInitiator = createdAsInitiator;
        this.spi = spi;
        spi.installedIn(this);
    }

    public ChildSaDescription description() {
        return description;
    }

    public ChildProposal proposal() {
        return proposal;
    }

    /** Whether a rekey has made its replacement already. */
    public boolean isReplaced() {
        return replaced;
    }

    /** Its rekey made a replacement: when it goes, that is no CHILD_DOWN (the CHILD_REKEYED said it). */
    public void markReplaced() {
        replaced = true;
    }

    public State state() {
        return state;
    }

    /** When it was made. */
    public Instant establishedAt() {
        return established;
    }

    /** When it is rekeyed, or null (none due). */
    public Instant rekeyAt() {
        return rekeyAt;
    }

    /** When it expires unless rekeyed first, or null. */
    public Instant expiresAt() {
        return expiresAt;
    }

    public void state(State next) {
        this.state = next;
    }

    /** The IKE SA it belongs to now (a rekey of the IKE SA moves it). */
    public IkeSa owner() {
        return owner;
    }

    public int inboundSpi() {
        return description.inbound().spi();
    }

    public int outboundSpi() {
        return description.outbound().spi();
    }

    /** Stops the rekey and expiry timers: it is being replaced or deleted. */
    public void cancelTimers() {
        if (rekeyTimer != null) {
            rekeyTimer.cancel();
            rekeyTimer = null;
        }
        rekeyAt = null;
        expiresAt = null;
        if (expiryTimer != null) {
            expiryTimer.cancel();
            expiryTimer = null;
        }
    }

    @Override
    public String toString() {
        return description.toString();
    }
}
