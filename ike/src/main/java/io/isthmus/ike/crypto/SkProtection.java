package io.isthmus.ike.crypto;

import io.isthmus.esp.CipherSuite;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.SkPayload;
import io.isthmus.ike.message.SkfPayload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Encrypted payload of one IKE SA in both directions (RFC 7296 §3.14), and its fragments
 * (RFC 7383) when a message would not fit one datagram:
 *
 * <pre>
 *   HDR, SK {payloads}                                          one datagram, or when it would not fit:
 *   HDR, SKF(1/n) {first part} ... HDR, SKF(n/n) {last part}    each sealed on its own
 * </pre>
 *
 * Opening is split in two so the message window can tell a forgery (the ICV does not verify:
 * dropped in silence) from a peer's bug (it verifies but does not parse: answered). Its ciphers
 * hold copies of SK_e and SK_a, wiped by {@link #destroy()}.
 */
public final class SkProtection {
    private final SkCipher outbound;
    private final SkCipher inbound;
    private final boolean peerTakesFragments;
    private final Reassembly requests = new Reassembly();
    private final Reassembly responses = new Reassembly();

    /**
     * @param initiator          the original initiator of the IKE SA, which seals with SK_ei and opens with SK_er
     * @param peerTakesFragments the peer announced IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT
     */
    public SkProtection(CipherSuite suite, IkeSaKeys keys, boolean initiator, boolean peerTakesFragments) {
        SkCipher i2r = new SkCipher(suite, keys.skEi(), keys.skAi());
        SkCipher r2i = new SkCipher(suite, keys.skEr(), keys.skAr());
        this.outbound = initiator ? i2r : r2i;
        this.inbound = initiator ? r2i : i2r;
        this.peerTakesFragments = peerTakesFragments;
    }

    /** The message as datagrams: one, or fragments of at most {@code limit} bytes each when it is bigger and the peer takes them. */
    public List<byte[]> protect(IkeHeader header, List<Payload> payloads, int limit) {
        byte[] plaintext = PayloadCodec.encodeChain(payloads);
        int firstInner = payloads.isEmpty() ? PayloadType.NONE : payloads.getFirst().type();
        int whole = IkeHeader.LENGTH + 4 + outbound.contentLength(plaintext.length);
        if (!peerTakesFragments || whole <= limit) {
            int contentLength = outbound.contentLength(plaintext.length);
            byte[] datagram = IkeMessage.encodeProtected(header, firstInner, contentLength, null);
            outbound.seal(datagram, datagram.length - contentLength, plaintext);
            return List.of(datagram);
        }
        int chunk = limit - IkeHeader.LENGTH - 8;
        while (chunk > 0 && outbound.contentLength(chunk) > limit - IkeHeader.LENGTH - 8) {
            chunk--;
        }
        int total = (plaintext.length + chunk - 1) / chunk;
        List<byte[]> datagrams = new ArrayList<>(total);
        for (int n = 1; n <= total; n++) {
            byte[] part = Arrays.copyOfRange(plaintext, (n - 1) * chunk, Math.min(plaintext.length, n * chunk));
            int contentLength = outbound.contentLength(part.length);
            byte[] datagram = IkeMessage.encodeProtected(header, n == 1 ? firstInner : PayloadType.NONE, contentLength, new int[] {n, total});
            outbound.seal(datagram, datagram.length - contentLength, part);
            datagrams.add(datagram);
        }
        return datagrams;
    }

    /** Verifies the SK or SKF payload's ICV and decrypts it; whatever fails here is anyone's forgery. */
    public byte[] open(IkeMessage message) throws IkeProtocolException {
        return inbound.open(message.raw(), message.protectedContentOffset());
    }

    /**
     * The payloads inside a verified message, or null while fragments of it are missing. What
     * fails here was sent by the peer itself (it verified), so it deserves an answer.
     */
    public List<Payload> decode(IkeMessage message, byte[] inner) throws IkeProtocolException {
        if (message.payloads().getLast() instanceof SkfPayload f) {
            Reassembly r = message.header().isResponse() ? responses : requests;
            return r.add(message.header().messageId(), f, inner);
        }
        SkPayload sk = (SkPayload) message.payloads().getLast();
        return PayloadCodec.decodeChain(sk.firstInnerPayload(), inner, 0, inner.length);
    }

    /** Wipes the keys: nothing is sealed or opened after. */
    public void destroy() {
        outbound.destroy();
        inbound.destroy();
    }
}
