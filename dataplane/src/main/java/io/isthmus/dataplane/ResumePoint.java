package io.isthmus.dataplane;

/**
 * Where a child SA taken over from the other node of a gateway pair goes on from; all numbers
 * unsigned (ESN ones may pass 2^63).
 *
 * @param outboundAfter the last sequence number the other node may have used: at least the
 *                      end of every lease it was granted. The first packet sent gets the
 *                      next one.
 * @param inboundTop    every inbound sequence number up to this one counts as received (the
 *                      other node may have delivered them): anything at or below it is
 *                      dropped as a replay (or as too old), the next one is accepted
 * @param leaseEnd      the lease this node starts with: it may send up to this number (at or
 *                      below {@code outboundAfter}: nothing until {@link Dataplane#lease} grants more)
 * @param leaseDeadlineNanos until when ({@link System#nanoTime()} here)
 * @param carried       what the SA carried on the other node, as last synced: counted here
 *                      too, so that its byte and packet lifetimes and its totals go on
 */
public record ResumePoint(long outboundAfter, long inboundTop, long leaseEnd, long leaseDeadlineNanos, SaTraffic carried) {
    public ResumePoint {
        java.util.Objects.requireNonNull(carried, "carried");
    }

    /** Nothing carried before. */
    public ResumePoint(long outboundAfter, long inboundTop, long leaseEnd, long leaseDeadlineNanos) {
        this(outboundAfter, inboundTop, leaseEnd, leaseDeadlineNanos, SaTraffic.NONE);
    }
}
