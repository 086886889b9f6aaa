package io.isthmus.ike.message;

import java.util.ArrayList;
import java.util.List;

/**
 * Payload chains to bytes and back. Every payload starts with the generic header (RFC 7296 §3.2):
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Decoding checks every length against what is left before reading, and reports malformed input
 * as INVALID_SYNTAX and unknown critical payloads as UNSUPPORTED_CRITICAL_PAYLOAD.
 */
public final class PayloadCodec {
    static final int GENERIC_HEADER = 4;
    private static final int CRITICAL = 0x80;

    private PayloadCodec() {
    }

    /** The chain starting with a payload of type {@code firstType}, filling all of {@code r}. */
    static List<Payload> decodeChain(int firstType, WireReader r) throws IkeProtocolException {
        List<Payload> payloads = new ArrayList<>();
        int type = firstType;
        while (type != PayloadType.NONE) {
            int next = r.u8("payload header");
            boolean critical = (r.u8("payload header") & CRITICAL) != 0;
            int length = r.u16("payload header");
            if (length < GENERIC_HEADER) {
                throw IkeProtocolException.invalidSyntax(PayloadType.name(type) + " payload length " + length);
            }
            WireReader body = r.slice(length - GENERIC_HEADER, PayloadType.name(type) + " payload");
            if (type == PayloadType.SK || type == PayloadType.SKF) {
                // The encrypted payload is last; its Next Payload names the first payload inside it.
                if (r.remaining() != 0) {
                    throw IkeProtocolException.invalidSyntax(r.remaining() + " bytes after the " + PayloadType.name(type) + " payload");
                }
                payloads.add(type == PayloadType.SK ? new SkPayload(next, body.rest())
                        : new SkfPayload(next, body.u16("SKF"), body.u16("SKF"), body.rest()));
                return payloads;
            }
            payloads.add(decodeBody(type, critical, body));
            type = next;
        }
        if (r.remaining() != 0) {
            throw IkeProtocolException.invalidSyntax(r.remaining() + " bytes after the last payload");
        }
        return payloads;
    }

    /** Decodes a chain found in the plaintext of an SK payload. */
    public static List<Payload> decodeChain(int firstType, byte[] buf, int offset, int length) throws IkeProtocolException {
        return decodeChain(firstType, new WireReader(buf, offset, length));
    }

    private static Payload decodeBody(int type, boolean critical, WireReader b) throws IkeProtocolException {
        Payload p = switch (type) {
            case PayloadType.SA -> decodeSa(b);
            case PayloadType.KE -> {
                int group = b.u16("KE");
                b.skip(2, "KE");
                yield new KePayload(group, b.rest());
            }
            case PayloadType.IDI, PayloadType.IDR -> {
                int idType = b.u8("ID");
                b.skip(3, "ID");
                yield new IdPayload(type == PayloadType.IDI, idType, b.rest());
            }
            case PayloadType.CERT -> new CertPayload(b.u8("CERT"), b.rest());
            case PayloadType.CERTREQ -> new CertReqPayload(b.u8("CERTREQ"), b.rest());
            case PayloadType.AUTH -> {
                int method = b.u8("AUTH");
                b.skip(3, "AUTH");
                yield new AuthPayload(method, b.rest());
            }
            case PayloadType.NONCE -> {
                byte[] nonce = b.rest();
                if (nonce.length < NoncePayload.MIN_LENGTH || nonce.length > NoncePayload.MAX_LENGTH) {
                    throw IkeProtocolException.invalidSyntax("nonce of " + nonce.length + " bytes (16 to 256 allowed)");
                }
                yield new NoncePayload(nonce);
            }
            case PayloadType.NOTIFY -> {
                int protocol = b.u8("N");
                int spiSize = b.u8("N");
                int notifyType = b.u16("N");
                byte[] spi = b.bytes(spiSize, "N SPI");
                yield new NotifyPayload(protocol, spi, notifyType, b.rest());
            }
            case PayloadType.DELETE -> {
                int protocol = b.u8("D");
                int spiSize = b.u8("D");
                int count = b.u16("D");
                if ((long) spiSize * count != b.remaining()) {
                    throw IkeProtocolException.invalidSyntax("Delete of " + count + " SPIs of " + spiSize + " bytes in " + b.remaining());
                }
                List<byte[]> spis = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    spis.add(b.bytes(spiSize, "D SPI"));
                }
                yield new DeletePayload(protocol, spiSize, spis);
            }
            case PayloadType.VENDOR_ID -> new VendorIdPayload(b.rest());
            case PayloadType.TSI, PayloadType.TSR -> decodeTs(type == PayloadType.TSI, b);
            case PayloadType.CP -> decodeCp(b);
            case PayloadType.EAP -> new EapPayload(b.rest());
            default -> {
                if (critical) {
                    throw new IkeProtocolException(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, new byte[] {(byte) type},
                            "unsupported critical payload type " + type);
                }
                yield new UnsupportedPayload(type, b.rest());
            }
        };
        if (b.remaining() != 0) {
            throw IkeProtocolException.invalidSyntax(b.remaining() + " stray bytes in " + PayloadType.name(type));
        }
        return p;
    }

    private static SaPayload decodeSa(WireReader b) throws IkeProtocolException {
        List<Proposal> proposals = new ArrayList<>();
        boolean last = false;
        while (!last) {
            int more = b.u8("proposal");
            b.skip(1, "proposal");
            int length = b.u16("proposal");
            if (more != 0 && more != 2) {
                throw IkeProtocolException.invalidSyntax("proposal substructure marked " + more);
            }
            last = more == 0;
            if (length < 8) {
                throw IkeProtocolException.invalidSyntax("proposal length " + length);
            }
            WireReader p = b.slice(length - 4, "proposal");
            int number = p.u8("proposal");
            int protocol = p.u8("proposal");
            int spiSize = p.u8("proposal");
            int count = p.u8("proposal");
            byte[] spi = p.bytes(spiSize, "proposal SPI");
            List<Transform> transforms = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int tmore = p.u8("transform");
                p.skip(1, "transform");
                int tlength = p.u16("transform");
                if ((tmore != 0 && tmore != 3) || (tmore == 0) != (i == count - 1)) {
                    throw IkeProtocolException.invalidSyntax("transform " + (i + 1) + " of " + count + " marked " + tmore);
                }
                if (tlength < 8) {
                    throw IkeProtocolException.invalidSyntax("transform length " + tlength);
                }
                WireReader t = p.slice(tlength - 4, "transform");
                int type = t.u8("transform");
                t.skip(1, "transform");
                int id = t.u16("transform");
                int keyLength = 0;
                while (t.remaining() > 0) {
                    int attributeType = t.u16("transform attribute");
                    if ((attributeType & 0x8000) != 0) {
                        int value = t.u16("transform attribute");
                        if ((attributeType & 0x7FFF) == Transform.ATTRIBUTE_KEY_LENGTH) {
                            keyLength = value;
                        }
                    } else {
                        t.skip(t.u16("transform attribute"), "transform attribute");
                    }
                }
                if (type == 0) {
                    throw IkeProtocolException.invalidSyntax("transform type 0");
                }
                transforms.add(new Transform(type, id, keyLength));
            }
            if (p.remaining() != 0) {
                throw IkeProtocolException.invalidSyntax(p.remaining() + " stray bytes in proposal " + number);
            }
            if (number < 1) {
                throw IkeProtocolException.invalidSyntax("proposal number 0");
            }
            proposals.add(new Proposal(number, protocol, spi, transforms));
        }
        return new SaPayload(proposals);
    }

    private static TsPayload decodeTs(boolean initiator, WireReader b) throws IkeProtocolException {
        int count = b.u8("TS");
        b.skip(3, "TS");
        List<TrafficSelector> selectors = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int tsType = b.u8("traffic selector");
            int protocol = b.u8("traffic selector");
            int length = b.u16("traffic selector");
            int addressLength = tsType == TrafficSelector.TS_IPV4_ADDR_RANGE ? 4
                    : tsType == TrafficSelector.TS_IPV6_ADDR_RANGE ? 16 : -1;
            if (addressLength < 0) {
                // Unknown types would have to be skipped; the two defined ones are all we negotiate.
                throw IkeProtocolException.invalidSyntax("traffic selector type " + tsType);
            }
            if (length != 8 + 2 * addressLength) {
                throw IkeProtocolException.invalidSyntax("traffic selector length " + length + " for type " + tsType);
            }
            int startPort = b.u16("traffic selector");
            int endPort = b.u16("traffic selector");
            byte[] start = b.bytes(addressLength, "traffic selector");
            byte[] end = b.bytes(addressLength, "traffic selector");
            selectors.add(new TrafficSelector(tsType, protocol, startPort, endPort, start, end));
        }
        return new TsPayload(initiator, selectors);
    }

    private static CpPayload decodeCp(WireReader b) throws IkeProtocolException {
        int cfgType = b.u8("CP");
        b.skip(3, "CP");
        List<CpPayload.Attribute> attributes = new ArrayList<>();
        while (b.remaining() > 0) {
            int type = b.u16("CP attribute") & 0x7FFF;
            int length = b.u16("CP attribute");
            attributes.add(new CpPayload.Attribute(type, b.bytes(length, "CP attribute")));
        }
        return new CpPayload(cfgType, attributes);
    }

    /**
     * Writes {@code payloads} as a chain. The last payload's Next Payload is {@code nextAfterLast}
     * (0 for a plain chain). Returns the type of the first payload, for whatever precedes the chain.
     */
    static int encodeChain(List<? extends Payload> payloads, WireWriter w) {
        for (int i = 0; i < payloads.size(); i++) {
            Payload p = payloads.get(i);
            int next = i + 1 < payloads.size() ? payloads.get(i + 1).type() : PayloadType.NONE;
            int start = w.length();
            w.u8(next).u8(0).u16(0);
            encodeBody(p, w);
            w.patchU16(start + 2, w.length() - start);
        }
        return payloads.isEmpty() ? PayloadType.NONE : payloads.getFirst().type();
    }

    /** A chain on its own: the plaintext of an SK payload. */
    public static byte[] encodeChain(List<? extends Payload> payloads) {
        WireWriter w = new WireWriter();
        encodeChain(payloads, w);
        return w.toByteArray();
    }

    private static void encodeBody(Payload payload, WireWriter w) {
        switch (payload) {
            case SaPayload sa -> encodeSa(sa, w);
            case KePayload ke -> w.u16(ke.group()).u16(0).bytes(ke.data());
            case IdPayload id -> w.u8(id.idType()).u8(0).u16(0).bytes(id.data());
            case CertPayload c -> w.u8(c.encoding()).bytes(c.data());
            case CertReqPayload c -> w.u8(c.encoding()).bytes(c.authorities());
            case AuthPayload a -> w.u8(a.method()).u8(0).u16(0).bytes(a.data());
            case NoncePayload n -> w.bytes(n.nonce());
            case NotifyPayload n -> w.u8(n.protocolId()).u8(n.spi().length).u16(n.notifyType()).bytes(n.spi()).bytes(n.data());
            case DeletePayload d -> {
                w.u8(d.protocolId()).u8(d.spiSize()).u16(d.spis().size());
                d.spis().forEach(w::bytes);
            }
            case VendorIdPayload v -> w.bytes(v.vendorId());
            case TsPayload ts -> {
                w.u8(ts.selectors().size()).u8(0).u16(0);
                for (TrafficSelector s : ts.selectors()) {
                    w.u8(s.tsType()).u8(s.ipProtocol()).u16(8 + 2 * s.startAddress().length)
                            .u16(s.startPort()).u16(s.endPort()).bytes(s.startAddress()).bytes(s.endAddress());
                }
            }
            case CpPayload cp -> {
                w.u8(cp.cfgType()).u8(0).u16(0);
                for (CpPayload.Attribute a : cp.attributes()) {
                    w.u16(a.type()).u16(a.value().length).bytes(a.value());
                }
            }
            case EapPayload e -> w.bytes(e.message());
            case SkPayload sk -> w.bytes(sk.content());
            case SkfPayload skf -> w.u16(skf.fragmentNumber()).u16(skf.totalFragments()).bytes(skf.content());
            case UnsupportedPayload u -> w.bytes(u.body());
        }
    }

    private static void encodeSa(SaPayload sa, WireWriter w) {
        List<Proposal> proposals = sa.proposals();
        for (int i = 0; i < proposals.size(); i++) {
            Proposal p = proposals.get(i);
            int start = w.length();
            w.u8(i + 1 < proposals.size() ? 2 : 0).u8(0).u16(0)
                    .u8(p.number()).u8(p.protocolId()).u8(p.spi().length).u8(p.transforms().size()).bytes(p.spi());
            List<Transform> transforms = p.transforms();
            for (int j = 0; j < transforms.size(); j++) {
                Transform t = transforms.get(j);
                int tstart = w.length();
                w.u8(j + 1 < transforms.size() ? 3 : 0).u8(0).u16(0).u8(t.type()).u8(0).u16(t.id());
                if (t.keyLength() != 0) {
                    w.u16(0x8000 | Transform.ATTRIBUTE_KEY_LENGTH).u16(t.keyLength());
                }
                w.patchU16(tstart + 2, w.length() - tstart);
            }
            w.patchU16(start + 2, w.length() - start);
        }
    }
}
