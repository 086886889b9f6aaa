package io.isthmus.ike;

import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.WireWriter;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;

/**
 * Responder: the IKE_SA_INIT request an IKE SA was made from, and that request again with our
 * cookie first (RFC 7296 §2.6: "all other payloads unchanged"), either of which the initiator may
 * sign in IKE_AUTH.
 *
 * <p>Why both: copies of one request may meet a responder both ways. One, while it is loaded, is
 * asked for a cookie; another, once the load fell, is answered in full and makes the SA. The
 * initiator retries with the cookie, and may then take the full answer, which does not say which
 * request it answers, and sign its retry. Both carry the same SA, KE and nonce, so the SA is the
 * same; only the bytes signed differ. Nothing is weakened: the cookie is the one we would ask of
 * this very request, and everything after it is that request's bytes.
 */
public final class AnsweredInitRequest {
    /** The cookie's Notify payload without its data: generic header, protocol 0, no SPI, the type. */
    private static final int COOKIE_NOTIFY_HEADER = 8;

    private final byte[] request;
    /** The cookie we would ask of {@link #request} (the engine's), or null when there can be no retry. */
    private final byte[] cookie;
    /** The last retry with our cookie that came, as it came. */
    private byte[] received;

    /** {@code cookie}: what the engine asks of this request when it asks one (null for none). */
    public AnsweredInitRequest(IkeMessage request, byte[] cookie) {
        this.request = request.raw();
        // A request that brought a cookie already is a retry itself: nobody retries it with another.
        boolean cookied = !request.payloads().isEmpty() && request.payloads().getFirst() instanceof NotifyPayload n
                && n.notifyType() == NotifyType.COOKIE;
        this.cookie = cookied || cookie == null ? null : cookie.clone();
    }

    /** The request the SA was made from, as it came. */
    public byte[] request() {
        return request.clone();
    }

    /**
     * Whether {@code m} is the request again: the same bytes, or (kept, for {@link #retries}) our
     * cookie first and then the same payloads byte for byte, under the same header. Anything else is
     * not answered: it cannot be authenticated, and copying the request is all an initiator may do.
     */
    boolean isCopy(IkeMessage m) {
        byte[] raw = m.raw();
        if (Arrays.equals(raw, request)) {
            return true;
        }
        if (cookie == null || raw.length <= IkeHeader.LENGTH + COOKIE_NOTIFY_HEADER || raw[16] != PayloadType.NOTIFY
                || m.payloads().isEmpty() || !(m.payloads().getFirst() instanceof NotifyPayload n) || n.notifyType() != NotifyType.COOKIE
                // The cookie Cookies would accept: it hashes the nonce, SPIi and address, all of them this request's here.
                || !MessageDigest.isEqual(n.data(), cookie)) {
            return false;
        }
        int notifyLength = ((raw[IkeHeader.LENGTH + 2] & 0xFF) << 8) | (raw[IkeHeader.LENGTH + 3] & 0xFF);
        int rest = IkeHeader.LENGTH + notifyLength;
        boolean same = Arrays.equals(raw, 0, 16, request, 0, 16) // the SPIs
                && Arrays.equals(raw, 17, 24, request, 17, 24) // version, exchange, flags, message ID
                && raw[IkeHeader.LENGTH] == request[16] // the cookie's next payload: the request's first
                && Arrays.equals(raw, rest, raw.length, request, IkeHeader.LENGTH, request.length);
        if (same) {
            received = raw;
        }
        return same;
    }

    /**
     * What the initiator signed if not {@link #request}: the retry that came, as it came (its
     * cookie's Notify may be encoded otherwise, the RFC has a receiver ignore the difference); and
     * the retry as RFC 7296 §2.6 has it sent, our cookie first, when that is another one: the retry
     * may have been lost on the way while the initiator took our answer to the request, and what
     * came may be someone else's variant. Empty when there can be none.
     */
    public List<byte[]> retries() {
        if (cookie == null) {
            return List.of();
        }
        byte[] spliced = spliced();
        return received == null || Arrays.equals(received, spliced) ? List.of(spliced) : List.of(received.clone(), spliced);
    }

    private byte[] spliced() {
        int notifyLength = COOKIE_NOTIFY_HEADER + cookie.length;
        WireWriter w = new WireWriter(request.length + notifyLength);
        // The header as it was, but for its first payload and length.
        w.bytes(request, 0, 16).u8(PayloadType.NOTIFY).bytes(request, 17, 7).u32(request.length + notifyLength);
        w.u8(request[16]).u8(0).u16(notifyLength).u8(0).u8(0).u16(NotifyType.COOKIE).bytes(cookie);
        w.bytes(request, IkeHeader.LENGTH, request.length - IkeHeader.LENGTH);
        return w.toByteArray();
    }
}
