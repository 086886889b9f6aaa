package io.isthmus.control.ha;

import java.time.Duration;

/**
 * How far the sync link lets the partner fall behind, each way: what may wait unsent for it
 * ({@link SyncLink#MAX_UNSENT_BYTES}), how long its acknowledgement may keep this instance
 * waiting ({@link #ACK_DEADLINE}), and how much of what it sent may wait unapplied here
 * ({@link #MAX_UNAPPLIED_BYTES}). Tests pass small ones, reached quickly.
 */
record SyncBounds(int maxUnsentBytes, Duration ackDeadline, int maxUnappliedBytes, int resumeBelowBytes) {
    /**
     * How long the partner may go without acknowledging anything while updates of this instance
     * wait for it, before the connection counts as failed ({@link SyncConnection}: "unacknowledged").
     * It guards against a partner whose event loop is alive (it reads, it sends heartbeats, so
     * the silence timeout never fires) while the daemon thread that applies updates is stuck:
     * {@link HeldTransport} holds this instance's IKE datagrams until the partner acknowledges
     * the state they reveal, so without a deadline the partner's wedge would stall IKE here.
     *
     * <p>Why 2 s. Below it: a partner's stop-the-world pauses (150 to 480 ms measured on the
     * shared 2-core CI machine) and its IKE thread busy with a takeover of its own (~200 ms, see
     * {@link ProcessPauses}) are normal and must not cost a full sync; twice keepalived's ~1 s
     * alive-check also means a partner stalled this long as a process is declared dead by
     * keepalived anyway, so closing the link then agrees with what the pair does next. Above it:
     * the held IKE answers go out when the link closes, and a peer (strongSwan) first
     * retransmits after 4 s; released at 2 s plus a heartbeat, they reach the peer before it
     * retransmits, so a wedged partner costs the peer latency but no exchange. Not derived from
     * the heartbeat: the silence timeout is 150 ms in production, which a GC pause exceeds.
     *
     * <p>The deadline counts time without progress (any acknowledgement that rises starts it
     * again), not the age of the oldest update: a partner applying a full sync of 10,000 SAs
     * acknowledges burst after burst and may take longer than 2 s in all. And it counts only
     * time this instance's event loop ran (each tick adds at most two heartbeat intervals): after
     * a pause of this process (a GC here), the partner's acknowledgements wait unread in the
     * socket, and the partner is not to blame for that.
     */
    static final Duration ACK_DEADLINE = Duration.ofSeconds(2);
    /**
     * What the event loop may hand to the daemon's thread (the IKE thread in production) in
     * decoded updates not applied yet, per connection, counted in frame octets: above it the
     * connection stops reading (autoRead off) until the daemon has brought it below
     * {@link #RESUME_BELOW_BYTES}; TCP then pushes back on the partner, whose own unsent bound
     * ({@link SyncLink#MAX_UNSENT_BYTES}) closes the connection if it keeps writing regardless.
     *
     * <p>Why 4 MiB: what waits here waits ahead of the IKE packets on the same thread, and a
     * partner flooding valid PUTs would otherwise queue without end. 4 MiB is 1,200 to 2,700
     * SAs' worth (1.5 to 3.5 KB each, see {@link SyncLink#MAX_UNSENT_BYTES}), a few milliseconds of
     * applying, and with the decoded copies a few times that in heap, not the gateway's memory.
     * A legitimate full sync of 10,000 SAs (15 to 35 MB) still passes: it waits in TCP and in the
     * partner's send buffer (under its 64 MiB bound) and comes in as fast as the daemon applies
     * it; the partner's acknowledgement deadline is not reached meanwhile, since each applied
     * burst is acknowledged. Stopping reads is not exact: the read under way is decoded whole,
     * so the figure may pass the limit by one read of the socket (64 KiB at most with Netty's
     * allocator), a TLS record and one frame (58 to 68 KiB over a 64 KiB bound in three runs of the test).
     */
    static final int MAX_UNAPPLIED_BYTES = 4 << 20;
    /** Reading resumes below this: a quarter, so the loop does not switch reading for every frame applied. */
    static final int RESUME_BELOW_BYTES = 1 << 20;

    static final SyncBounds DEFAULT = new SyncBounds(SyncLink.MAX_UNSENT_BYTES, ACK_DEADLINE, MAX_UNAPPLIED_BYTES, RESUME_BELOW_BYTES);

    SyncBounds {
        if (maxUnsentBytes < 1 || maxUnappliedBytes < 1 || resumeBelowBytes < 0 || resumeBelowBytes >= maxUnappliedBytes
                || ackDeadline.isNegative() || ackDeadline.isZero()) {
            throw new IllegalArgumentException("bounds must be positive, resuming below the limit: " + maxUnsentBytes + ", "
                    + ackDeadline + ", " + maxUnappliedBytes + ", " + resumeBelowBytes);
        }
    }

    SyncBounds withMaxUnsentBytes(int max) {
        return new SyncBounds(max, ackDeadline, maxUnappliedBytes, resumeBelowBytes);
    }

    SyncBounds withAckDeadline(Duration deadline) {
        return new SyncBounds(maxUnsentBytes, deadline, maxUnappliedBytes, resumeBelowBytes);
    }

    SyncBounds withUnapplied(int max, int resumeBelow) {
        return new SyncBounds(maxUnsentBytes, ackDeadline, max, resumeBelow);
    }
}
