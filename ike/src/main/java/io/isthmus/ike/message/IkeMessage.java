package io.isthmus.ike.message;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A whole IKE message: header and payloads. A protected message holds an {@link SkPayload} (or
 * {@link SkfPayload}) as its last payload; {@link #protectedContentOffset()} says where its
 * content starts in {@link #raw()}, because everything before it is authenticated data and the
 * cryptography works on the datagram as received.
 */
public record IkeMessage(IkeHeader header, List<Payload> payloads, byte[] raw, int protectedContentOffset) {

    public IkeMessage {
        payloads = List.copyOf(payloads);
    }

    /** Parses a datagram (without the non-ESP marker). */
    public static IkeMessage decode(byte[] datagram, int offset, int length) throws IkeProtocolException {
        if (length < IkeHeader.LENGTH) {
            throw IkeProtocolException.invalidSyntax("datagram of " + length + " bytes is shorter than an IKE header");
        }
        WireReader r = new WireReader(datagram, offset, length);
        IkeHeader header = IkeHeader.decode(r, length);
        List<Payload> payloads = PayloadCodec.decodeChain(header.nextPayload(), r);
        byte[] raw = new byte[length];
        System.arraycopy(datagram, offset, raw, 0, length);
        int contentOffset = -1;
        if (!payloads.isEmpty()) {
            Payload last = payloads.getLast();
            if (last instanceof SkPayload sk) {
                contentOffset = length - sk.content().length;
            } else if (last instanceof SkfPayload skf) {
                contentOffset = length - skf.content().length;
            }
        }
        return new IkeMessage(header, payloads, raw, contentOffset);
    }

    /** An unprotected message (IKE_SA_INIT), with the header's length filled in. */
    public static byte[] encode(IkeHeader header, List<? extends Payload> payloads) {
        WireWriter w = new WireWriter();
        header.encode(w, payloads.isEmpty() ? PayloadType.NONE : payloads.getFirst().type(), 0);
        PayloadCodec.encodeChain(payloads, w);
        w.patchU32(24, w.length());
        return w.toByteArray();
    }

    /**
     * The skeleton of a protected message: header, an SK (or, with {@code fragment}, SKF) payload
     * header and {@code contentLength} zero bytes for the cipher to fill.
     * Returns the datagram; the content starts at {@code length - contentLength}.
     */
    public static byte[] encodeProtected(IkeHeader header, int firstInnerPayload, int contentLength, int[] fragment) {
        WireWriter w = new WireWriter();
        int type = fragment == null ? PayloadType.SK : PayloadType.SKF;
        int payloadLength = PayloadCodec.GENERIC_HEADER + (fragment == null ? 0 : 4) + contentLength;
        header.encode(w, type, IkeHeader.LENGTH + payloadLength);
        w.u8(firstInnerPayload).u8(0).u16(payloadLength);
        if (fragment != null) {
            w.u16(fragment[0]).u16(fragment[1]);
        }
        w.bytes(new byte[contentLength]);
        return w.toByteArray();
    }

    public boolean isProtected() {
        return protectedContentOffset >= 0;
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }

    /** The first payload of this type, if any. */
    public <P extends Payload> java.util.Optional<P> first(Class<P> kind) {
        return payloads.stream().filter(kind::isInstance).map(kind::cast).findFirst();
    }

    /** As strongSwan logs: "IKE_SA_INIT request 0 [ SA KE No N(NAT_DETECTION_SOURCE_IP) ]". */
    @Override
    public String toString() {
        return header + " [ " + payloads.stream().map(IkeMessage::label).collect(Collectors.joining(" ")) + " ]";
    }

    static String label(Payload p) {
        return p instanceof NotifyPayload n ? n.toString() : PayloadType.name(p.type());
    }
}
