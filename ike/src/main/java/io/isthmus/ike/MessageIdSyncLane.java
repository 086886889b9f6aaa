package io.isthmus.ike;

import io.isthmus.ike.IkeCounters.Direction;
import io.isthmus.ike.IkeCounters.Kind;
import io.isthmus.ike.crypto.SkProtection;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * RFC 6311's message ID 0 on an established IKE SA, beside its {@link MessageWindow}: an
 * INFORMATIONAL of message ID 0 is opened here first, and taken only when its ICV verified and it
 * carries N(IKEV2_MESSAGE_ID_SYNC); anything else of message ID 0 goes on to the window's usual
 * rules (where it is a new request only on an SA whose IDs start at 0, a retransmission only of
 * request 0), so a forgery, a replay or a peer's stray message ID 0 never moves the window.
 *
 * <p>It holds our sync request while it is on the wire, and the answer to the peer's last one
 * for its retransmissions; neither is ever the window's request on the wire or its last answer.
 */
final class MessageIdSyncLane {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final MessageWindow window;
    private final IkeSa sa;
    /** Our IKEV2_MESSAGE_ID_SYNC request, on the wire under message ID 0 beside the window, until answered. */
    private Exchange syncing;
    private Retransmitter retransmitter;
    /** The nonce of the peer's last IKEV2_MESSAGE_ID_SYNC request we answered, and the answer, for its retransmissions. */
    private byte[] answeredNonce;
    private List<byte[]> answer;

    MessageIdSyncLane(MessageWindow window, IkeSa sa) {
        this.window = window;
        this.sa = sa;
    }

    /** Whether our sync request is on the wire: the window holds back our other requests meanwhile. */
    boolean syncing() {
        return syncing != null;
    }

    /** See {@link MessageWindow#syncOutsideWindow}. */
    void start(Exchange e) {
        if (window.protection() == null || syncing != null || sa.state() == IkeSaState.DESTROYED) {
            e.ended();
            return;
        }
        window.rebuildOutstanding();
        OutgoingMessage request = new OutgoingMessage(sa);
        if (e.build(request) == Exchange.Status.CANCELLED) {
            e.ended();
            window.sendNext();
            return;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: synchronising message IDs (RFC 6311): ours {1}, the peer''s {2}", sa,
                window.nextRequestId(), window.expectedRequestId());
        syncing = e;
        retransmitter = new Retransmitter(sa, 0, ExchangeType.INFORMATIONAL,
                window.protect(ExchangeType.INFORMATIONAL, false, 0, request.payloads()));
        retransmitter.start();
    }

    /** The SA is gone: our request stops being retransmitted, and its exchange ends. */
    void stop() {
        if (syncing != null) {
            retransmitter.stop();
            syncing.ended();
            syncing = null;
            retransmitter = null;
        }
    }

    /** Whether {@code message} (message ID 0, INFORMATIONAL, one datagram, SA up) was taken or dropped here. */
    boolean receive(IkeMessage message, boolean response) {
        if (response && syncing == null) {
            return false;
        }
        List<Payload> payloads = openWhole(message);
        if (payloads == null) {
            return true; // forged, or the peer's bug: dropped, nothing moved
        }
        Optional<NotifyPayload> sync = payloads.stream().filter(p -> p instanceof NotifyPayload n
                && n.notifyType() == NotifyType.IKEV2_MESSAGE_ID_SYNC).map(NotifyPayload.class::cast).findFirst();
        if (sync.isEmpty()) {
            return false;
        }
        IncomingMessage in = new IncomingMessage(sa, message, payloads);
        sa.heard();
        window.count(ExchangeType.INFORMATIONAL, Direction.IN, response ? Kind.RESPONSE : Kind.REQUEST);
        if (response) {
            answered(in);
            return true;
        }
        byte[] data = sync.get().data();
        if (data.length != 12) {
            sa.context().floodLog().log("bad-mid-sync", System.Logger.Level.WARNING, "{0}: IKEV2_MESSAGE_ID_SYNC of {1} bytes, not 12: ignored",
                    sa, data.length);
            return true;
        }
        if (answeredBefore(Arrays.copyOf(data, 4))) {
            return true;
        }
        Exchange responder = sa.context().exchanges().messageIdSyncResponder(sa);
        try {
            if (responder.process(in) == Exchange.Status.NEED_MORE) {
                OutgoingMessage out = new OutgoingMessage(sa);
                responder.build(out);
                answer(Arrays.copyOf(data, 4), out.payloads());
            }
        } finally {
            responder.ended();
        }
        return true;
    }

    /**
     * A verified answer with a sync notify: its exchange takes the values, then our requests go
     * on. Unless it says NEED_MORE: not the answer to ours (another nonce, an old answer replayed),
     * which is still waited for.
     */
    private void answered(IncomingMessage response) {
        Exchange e = syncing;
        if (e.process(response) == Exchange.Status.NEED_MORE) {
            return;
        }
        retransmitter.stop();
        syncing = null;
        retransmitter = null;
        e.ended();
        window.sendNext();
    }

    /** The peer's sync request {@code nonce}, answered before: the same answer again; true if it was. */
    private boolean answeredBefore(byte[] nonce) {
        if (answeredNonce != null && Arrays.equals(answeredNonce, nonce)) {
            window.count(ExchangeType.INFORMATIONAL, Direction.OUT, Kind.RETRANSMISSION);
            window.send(answer);
            return true;
        }
        return false;
    }

    /** Answers the peer's sync request under message ID 0, kept for its retransmissions, never as the window's last answer. */
    private void answer(byte[] nonce, List<Payload> payloads) {
        answeredNonce = nonce.clone();
        answer = window.protect(ExchangeType.INFORMATIONAL, true, 0, payloads);
        window.count(ExchangeType.INFORMATIONAL, Direction.OUT, Kind.RESPONSE);
        window.send(answer);
        window.sendNext();
    }

    /** Opens a verified message's payloads, or null when it does not verify (anyone's forgery) or is malformed. */
    private List<Payload> openWhole(IkeMessage message) {
        SkProtection protection = window.protection();
        byte[] inner;
        try {
            inner = protection.open(message);
        } catch (IkeProtocolException e) {
            sa.context().floodLog().log("does-not-verify", System.Logger.Level.DEBUG, "{0}: dropping {1}: {2}", sa, message, e.getMessage());
            return null;
        }
        try {
            return protection.decode(message, inner);
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: malformed {1}: {2}", sa, message, e.getMessage());
            return null;
        }
    }
}
