package io.isthmus.ike.exchange;

import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.MessageWindow;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * RFC 6311 §4: the two ends of an IKE SA agree where both message ID counters stand, after one
 * end (an instance of an active-active pair) carried the SA on from a record that may be behind.
 * Message ID 0, beside the window ({@code MessageWindow.syncOutsideWindow}):
 *
 * <pre>
 *   Initiator (took the SA over)                     Responder (the peer)
 *   HDR(0), SK {N(IKEV2_MESSAGE_ID_SYNC, nonce | M1 | P1)}  -->
 *                               <--  HDR(0), SK {N(IKEV2_MESSAGE_ID_SYNC, nonce | P2 | M2)}
 *   M1: our next request's ID, P1: the ID we expect of the peer's next request;
 *   M2 = max(M1, the peer's expected), P2 = max(P1, the peer's next);
 *   after it both take them: our requests from M2, the peer's from P2.
 * </pre>
 *
 * The responder drops a request whose M1 is below what it expects next (§5.1: it saw more from
 * us than the sender thinks), which also makes replays of an old request harmless; a
 * retransmission (same nonce) gets the same answer. The initiator adds {@link #MARGIN} to M1 for
 * that reason: its record may be behind what the peer saw.
 */
final class MessageIdSync implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");
    /**
     * Added to our next request ID in M1. An instance sends nothing before its partner has the
     * record, so a record is behind the peer by a request or two at most; 64 also covers a
     * partner that missed a few updates, and is nothing against 2^32 message IDs.
     */
    static final int MARGIN = 64;

    private final IkeSa sa;
    private final boolean initiator;
    private byte[] nonce;
    private int m1;
    private int p1;
    /** Responder: the values it answers with (its next send, its expected receive). */
    private int p2;
    private int m2;

    private MessageIdSync(IkeSa sa, boolean initiator) {
        this.sa = sa;
        this.initiator = initiator;
    }

    static void start(IkeSa sa) {
        sa.window().syncOutsideWindow(new MessageIdSync(sa, true));
    }

    static MessageIdSync responder(IkeSa sa) {
        return new MessageIdSync(sa, false);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.INFORMATIONAL;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (initiator) {
            MessageWindow w = sa.window();
            nonce = sa.context().randomBytes(4);
            m1 = w.nextRequestId() + MARGIN;
            p1 = w.expectedRequestId();
            m.add(notify(nonce, m1, p1));
            return Status.NEED_MORE;
        }
        m.add(notify(nonce, p2, m2));
        return Status.SUCCESS;
    }

    @Override
    public Status process(IncomingMessage m) {
        Optional<byte[]> data = m.notify(NotifyType.IKEV2_MESSAGE_ID_SYNC).map(NotifyPayload::data).filter(d -> d.length == 12);
        if (data.isEmpty()) {
            return initiator ? Status.NEED_MORE : Status.SUCCESS;
        }
        ByteBuffer b = ByteBuffer.wrap(data.get());
        byte[] theirNonce = new byte[4];
        b.get(theirNonce);
        int first = b.getInt();
        int second = b.getInt();
        return initiator ? answered(theirNonce, first, second) : asked(theirNonce, first, second);
    }

    /** Initiator: the peer's P2 (its next request) and M2 (the next it expects of us). */
    private Status answered(byte[] theirNonce, int peerNext, int peerExpects) {
        if (!Arrays.equals(theirNonce, nonce)) {
            return Status.NEED_MORE; // not the answer to this request (a replayed old one): keep waiting
        }
        if (Integer.compareUnsigned(peerExpects, m1) < 0 || Integer.compareUnsigned(peerNext, p1) < 0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: the peer answered the message ID sync with values below ours (it expects {1}, "
                    + "sends {2}; we said {3}, {4}): against RFC 6311 §5.1, ignored", sa, peerExpects, peerNext, m1, p1);
            return Status.SUCCESS;
        }
        sa.window().resynchronize(peerExpects, peerNext);
        LOG.log(System.Logger.Level.INFO, "{0}: message IDs synchronised: our requests from {1}, the peer''s from {2}", sa, peerExpects,
                peerNext);
        return Status.SUCCESS;
    }

    /** Responder: the sender's M1 (its next request) and P1 (the next it expects of us). */
    private Status asked(byte[] theirNonce, int senderNext, int senderExpects) {
        MessageWindow w = sa.window();
        int expected = w.expectedRequestId();
        if (Integer.compareUnsigned(senderNext, expected) < 0) {
            sa.context().floodLog().log("stale-mid-sync", System.Logger.Level.WARNING,
                    "{0}: message ID sync asks us to expect {1}, below the {2} we expect: dropped (RFC 6311 §5.1)", sa, senderNext, expected);
            return Status.SUCCESS;
        }
        nonce = theirNonce;
        m2 = senderNext; // at least what we expect, checked above
        int ours = w.outstandingRequestId();
        // P2 is one more than the highest ID we used (§5.1). A request of ours on the wire that the
        // sender already answered (it expects the next one) gets that answer again when retransmitted;
        // one it never saw would be dropped under its old ID, so it is built anew under P2.
        p2 = Integer.compareUnsigned(senderExpects, w.nextRequestId()) > 0 ? senderExpects : w.nextRequestId();
        if (ours >= 0 && senderExpects != ours + 1) {
            w.rebuildOutstanding();
        }
        LOG.log(System.Logger.Level.INFO, "{0}: the peer synchronised message IDs (RFC 6311): its requests from {1} (we expected {2}), "
                + "ours from {3} (next was {4})", sa, m2, expected, p2, w.nextRequestId());
        w.resynchronize(p2, m2);
        return Status.NEED_MORE;
    }

    private static NotifyPayload notify(byte[] nonce, int first, int second) {
        return NotifyPayload.of(NotifyType.IKEV2_MESSAGE_ID_SYNC, ByteBuffer.allocate(12).put(nonce).putInt(first).putInt(second).array());
    }
}
