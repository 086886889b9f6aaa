package io.isthmus.ike;

import io.isthmus.ike.message.IkeMessage;
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
 */
final class MessageIdSyncLane {
    private MessageIdSyncLane() {
    }

    /** Whether {@code message} (message ID 0, INFORMATIONAL, one datagram, SA up) was taken or dropped here. */
    static boolean receive(MessageWindow window, IkeMessage message, boolean response) {
        if (response && !window.syncing()) {
            return false;
        }
        List<Payload> payloads = window.openWhole(message);
        if (payloads == null) {
            return true; // forged, or the peer's bug: dropped, nothing moved
        }
        Optional<NotifyPayload> sync = payloads.stream().filter(p -> p instanceof NotifyPayload n
                && n.notifyType() == NotifyType.IKEV2_MESSAGE_ID_SYNC).map(NotifyPayload.class::cast).findFirst();
        if (sync.isEmpty()) {
            return false;
        }
        IkeSa sa = window.owner();
        IncomingMessage in = new IncomingMessage(sa, message, payloads);
        sa.heard();
        window.countedSync(response);
        if (response) {
            window.syncAnswered(in);
            return true;
        }
        byte[] data = sync.get().data();
        if (data.length != 12) {
            sa.context().floodLog().log("bad-mid-sync", System.Logger.Level.WARNING, "{0}: IKEV2_MESSAGE_ID_SYNC of {1} bytes, not 12: ignored",
                    sa, data.length);
            return true;
        }
        if (window.answeredSyncBefore(Arrays.copyOf(data, 4))) {
            return true;
        }
        Exchange responder = sa.context().exchanges().messageIdSyncResponder(sa);
        try {
            if (responder.process(in) == Exchange.Status.NEED_MORE) {
                OutgoingMessage answer = new OutgoingMessage(sa);
                responder.build(answer);
                window.answerSync(Arrays.copyOf(data, 4), answer.payloads());
            }
        } finally {
            responder.ended();
        }
        return true;
    }
}
