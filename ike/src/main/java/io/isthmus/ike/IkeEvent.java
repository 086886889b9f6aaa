package io.isthmus.ike;

import java.time.Instant;

/**
 * Something that happened to a connection's SAs, as strongSwan's vici announces it (ike-updown,
 * ike-rekey, child-updown, child-rekey) and an operator follows it with {@code isthmus monitor}:
 * an SA up, down (and why), rekeyed, or an attempt that failed (a refusal, a peer that stopped
 * answering). A child SA replaced by a rekey is not also announced down: its CHILD_REKEYED says it.
 *
 * @param ikeSa   the IKE SA's SPIs, {@code 5f0c..._i 9a31..._r}
 * @param childSa the child SA's SPIs, {@code c1000001_i c2000002_o}, or null for an IKE SA's event
 * @param detail  why it went down or failed, what replaced what, or null
 */
public record IkeEvent(Instant at, Kind kind, String connection, String ikeSa, String childSa, String detail) {
    public enum Kind {
        IKE_UP, IKE_DOWN, IKE_REKEYED, CHILD_UP, CHILD_DOWN, CHILD_REKEYED,
        /** IKE_AUTH refused, by us or by the peer (the detail says which and why). */
        AUTHENTICATION_FAILED,
        /** A liveness check the peer never answered within the dead peer timeout: the IKE SA is gone. */
        DPD_TIMEOUT,
        /** Any other attempt that failed: no proposal chosen, traffic selectors refused, a request never answered. */
        FAILED
    }

    /** Who hears of the events: called on the IKE thread, so it hands them over and returns at once. */
    @FunctionalInterface
    public interface Listener {
        void event(IkeEvent e);
    }
}
