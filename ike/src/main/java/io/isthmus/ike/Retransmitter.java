package io.isthmus.ike;

import io.isthmus.ike.message.ExchangeType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One request of ours on the wire until its response comes (Android's IKE library keeps one such
 * object per outstanding request too). Sent again on strongSwan's schedule, base × 1.8^n, but
 * never past the dead peer timeout; when the tries or the timeout are used up the peer counts as
 * dead and the IKE SA fails. {@link MessageWindow} stops it, in one place, when the response
 * arrives or the SA goes.
 */
final class Retransmitter {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    final int messageId;
    final int exchangeType;
    private final IkeSa sa;
    private List<byte[]> datagrams;
    private Instant firstSent;
    private int transmissions;
    /** The request to send in place of this one from the next transmission on (see {@link #retryAsked}). */
    private java.util.function.Supplier<List<byte[]>> replacement;
    /** Answers to copies of this request that asked for it again ({@link #retryAsked}). */
    private int retriesAsked;
    private Scheduler.Cancellable timer;
    private boolean stopped;

    Retransmitter(IkeSa sa, int messageId, int exchangeType, List<byte[]> datagrams) {
        this.sa = sa;
        this.messageId = messageId;
        this.exchangeType = exchangeType;
        this.datagrams = datagrams;
        this.firstSent = sa.context().scheduler().now();
    }

    void start() {
        transmit();
    }

    /** How often the request has gone out so far. */
    int transmissions() {
        return transmissions;
    }

    /**
     * An answer to a copy of this request asked for it again with something added (a cookie):
     * what {@code next} builds then goes in its place (a new request under the same message ID,
     * with its own tries and deadline). At once when every copy sent has been answered so, as no
     * other answer to this one can come; else at the next transmission, the schedule unchanged, as
     * a copy not answered yet may still be answered in full, which is then taken as the answer.
     */
    void retryAsked(java.util.function.Supplier<List<byte[]>> next) {
        this.replacement = next;
        if (++retriesAsked >= transmissions) {
            if (timer != null) {
                timer.cancel();
            }
            retransmit();
        }
    }

    void stop() {
        stopped = true;
        if (timer != null) {
            timer.cancel();
        }
    }

    /** To wherever the peer is now: NAT traversal may have moved it since the first transmission. */
    private void transmit() {
        sa.context().counters(sa).message(exchangeType, IkeCounters.Direction.OUT, transmissions == 0 ? IkeCounters.Kind.REQUEST
                : IkeCounters.Kind.RETRANSMISSION);
        for (byte[] d : datagrams) {
            sa.context().transport().send(d, sa.localAddress(), sa.remoteAddress());
        }
        Connection.Timers t = sa.connection().timers();
        Instant now = sa.context().scheduler().now();
        Instant deadline = firstSent.plus(t.dpdTimeout());
        Duration delay = Duration.ofMillis((long) (t.retransmitBase().toMillis() * Math.pow(1.8, transmissions)));
        if (now.plus(delay).isAfter(deadline)) {
            delay = Duration.between(now, deadline);
            if (delay.isNegative()) {
                delay = Duration.ZERO;
            }
        }
        transmissions++;
        timer = sa.context().scheduler().schedule(delay, this::retransmit);
    }

    private void retransmit() {
        if (stopped || sa.state() == IkeSaState.DESTROYED) {
            return;
        }
        Connection.Timers t = sa.connection().timers();
        Instant now = sa.context().scheduler().now();
        if (replacement != null) {
            datagrams = replacement.get();
            replacement = null;
            retriesAsked = 0;
            transmissions = 0;
            firstSent = now;
            transmit();
            return;
        }
        if (transmissions >= t.retransmitTries() || !now.isBefore(firstSent.plus(t.dpdTimeout()))) {
            sa.context().counters(sa).timedOut(exchangeType);
            sa.fail("peer " + sa.remoteAddress() + " did not answer " + ExchangeType.name(exchangeType) + " request " + messageId + " in "
                    + Duration.between(firstSent, now).toSeconds() + " s (" + transmissions + " transmissions): giving up",
                    exchangeType == ExchangeType.INFORMATIONAL ? IkeEvent.Kind.DPD_TIMEOUT : IkeEvent.Kind.FAILED);
            return;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: retransmitting {1} request {2} ({3})", sa, ExchangeType.name(exchangeType), messageId,
                transmissions);
        transmit();
    }
}
