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
    /** The request to send in place of this one from the next transmission on (see {@link #replaceAtNextTransmission}). */
    private java.util.function.Supplier<List<byte[]>> replacement;
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
     * From the next transmission on, sends what {@code next} builds then (a new request under the
     * same message ID, with its own tries and deadline) instead of this one, {@code within} from
     * now: until then an answer to a copy already sent is still taken as the answer to this request.
     */
    void replaceAtNextTransmission(java.util.function.Supplier<List<byte[]>> next, Duration within) {
        boolean pending = replacement != null;
        this.replacement = next;
        if (pending) {
            // Once: a stream of answers (forged ones too) must not keep putting the request off past its deadline.
            return;
        }
        if (timer != null) {
            timer.cancel();
        }
        timer = sa.context().scheduler().schedule(within, this::retransmit);
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
