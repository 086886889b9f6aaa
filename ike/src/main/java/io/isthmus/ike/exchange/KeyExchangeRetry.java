package io.isthmus.ike.exchange;

import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import java.util.Collection;
import java.util.Objects;

/**
 * INVALID_KE_PAYLOAD (RFC 7296 §1.2, §1.3): the responder accepted a proposal whose key exchange
 * method is not the one the initiator sent a value for, and names the method it wants in two
 * bytes; the initiator sends the whole request again with a value for that method. The same for
 * IKE_SA_INIT, the IKE SA's rekey and a child SA's PFS.
 */
final class KeyExchangeRetry {
    private KeyExchangeRetry() {
    }

    /** The responder's answer asking for {@code method}. */
    static NotifyPayload askFor(KeyExchangeMethod method) {
        return NotifyPayload.of(NotifyType.INVALID_KE_PAYLOAD, groupBytes(method));
    }

    /** The notify's data asking for {@code method}, for answers made from an exception. */
    static byte[] groupBytes(KeyExchangeMethod method) {
        return new byte[] {(byte) (method.ianaId() >>> 8), (byte) method.ianaId()};
    }

    /** The method number the responder asks for, or -1 when the notify does not carry one. */
    static int requested(NotifyPayload invalidKe) {
        byte[] d = invalidKe.data();
        return d.length == 2 ? ((d[0] & 0xFF) << 8) | (d[1] & 0xFF) : -1;
    }

    /**
     * The method to send the request again with: one of {@code ours} (nulls ignored), and not the
     * one we {@code sent} (asking for what we sent is a broken peer, and retrying would loop).
     * Null when there is none, and the exchange fails as refused.
     */
    static KeyExchangeMethod retryWith(NotifyPayload invalidKe, Collection<KeyExchangeMethod> ours, KeyExchangeMethod sent) {
        int wanted = requested(invalidKe);
        KeyExchangeMethod m = ours.stream().filter(Objects::nonNull).filter(k -> k.ianaId() == wanted).findFirst().orElse(null);
        return m != null && m != sent ? m : null;
    }
}
