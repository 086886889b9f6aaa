package io.isthmus.ike.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    static final IkeHeader INIT_REQUEST = new IkeHeader(0x1122334455667788L, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT,
            IkeHeader.FLAG_INITIATOR, 0, 0);

    static List<Payload> everyPayload() {
        Proposal ike = new Proposal(1, Proposal.PROTOCOL_IKE, new byte[0], List.of(
                new Transform(Transform.ENCR, 20, 128), Transform.of(Transform.PRF, 5), Transform.of(Transform.KE, 31)));
        Proposal esp = new Proposal(2, Proposal.PROTOCOL_ESP, new byte[] {1, 2, 3, 4}, List.of(
                new Transform(Transform.ENCR, 12, 256), Transform.of(Transform.INTEG, 12), Transform.of(Transform.ESN, 0)));
        return List.of(
                new SaPayload(List.of(ike, esp)),
                new KePayload(31, new byte[32]),
                new NoncePayload(new byte[32]),
                NotifyPayload.of(NotifyType.NAT_DETECTION_SOURCE_IP, new byte[20]),
                new NotifyPayload(Proposal.PROTOCOL_ESP, new byte[] {9, 9, 9, 9}, NotifyType.REKEY_SA, new byte[0]),
                new IdPayload(true, IdPayload.ID_FQDN, "gw1.example.net".getBytes()),
                new IdPayload(false, IdPayload.ID_IPV4_ADDR, new byte[] {10, 77, 0, 2}),
                new CertPayload(CertPayload.X509_SIGNATURE, new byte[] {0x30, 0x03, 1, 2, 3}),
                new CertReqPayload(CertPayload.X509_SIGNATURE, new byte[40]),
                new AuthPayload(AuthPayload.SHARED_KEY_MIC, new byte[32]),
                new DeletePayload(Proposal.PROTOCOL_ESP, 4, List.of(new byte[] {1, 2, 3, 4}, new byte[] {5, 6, 7, 8})),
                new VendorIdPayload("isthmus".getBytes()),
                new TsPayload(true, List.of(TrafficSelector.ofPrefix("192.168.10.0/24"), TrafficSelector.ofPrefix("fd00:10::/64"))),
                new TsPayload(false, List.of(new TrafficSelector(TrafficSelector.TS_IPV4_ADDR_RANGE, 17, 500, 500,
                        new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 9}))),
                new CpPayload(CpPayload.CFG_REQUEST, List.of(new CpPayload.Attribute(1, new byte[0]))),
                new EapPayload(new byte[] {1, 2, 0, 5, 1}),
                new UnsupportedPayload(200, new byte[] {7, 7}));
    }

    @Test
    void everyPayloadSurvivesARoundTrip() throws IkeProtocolException {
        List<Payload> payloads = everyPayload();
        byte[] datagram = IkeMessage.encode(INIT_REQUEST, payloads);
        IkeMessage decoded = IkeMessage.decode(datagram, 0, datagram.length);
        assertEquals(payloads.size(), decoded.payloads().size());
        assertEquals(datagram.length, decoded.header().length());
        for (int i = 0; i < payloads.size(); i++) {
            assertEquals(describe(payloads.get(i)), describe(decoded.payloads().get(i)), "payload " + i);
        }
        assertArrayEquals(datagram, IkeMessage.encode(decoded.header(), decoded.payloads()), "re-encoded identically");
        assertEquals(-1, decoded.protectedContentOffset());
        assertTrue(decoded.toString().startsWith("IKE_SA_INIT request 0 [1122334455667788_i 0000000000000000_r]"
                + " [ SA KE No N(NAT_DETECTION_SOURCE_IP) N(REKEY_SA) IDi"), decoded.toString());
    }

    /** Records holding arrays compare by identity; compare their encodings instead. */
    private static String describe(Payload p) {
        return HexFormat.of().formatHex(PayloadCodec.encodeChain(List.of(p)));
    }

    @Test
    void protectedSkeletonLocatesItsContent() throws IkeProtocolException {
        IkeHeader header = new IkeHeader(1, 2, 0, 2, 0, ExchangeType.IKE_AUTH, IkeHeader.FLAG_INITIATOR, 1, 0);
        byte[] datagram = IkeMessage.encodeProtected(header, PayloadType.IDI, 100, null);
        IkeMessage decoded = IkeMessage.decode(datagram, 0, datagram.length);
        SkPayload sk = assertInstanceOf(SkPayload.class, decoded.payloads().getFirst());
        assertEquals(PayloadType.IDI, sk.firstInnerPayload());
        assertEquals(100, sk.content().length);
        assertEquals(IkeHeader.LENGTH + 4, decoded.protectedContentOffset());

        byte[] fragment = IkeMessage.encodeProtected(header, PayloadType.IDI, 50, new int[] {1, 3});
        SkfPayload skf = assertInstanceOf(SkfPayload.class, IkeMessage.decode(fragment, 0, fragment.length).payloads().getFirst());
        assertEquals(1, skf.fragmentNumber());
        assertEquals(3, skf.totalFragments());
        assertEquals(50, skf.content().length);
    }

    private static int notifyOf(byte[] datagram) {
        return assertThrows(IkeProtocolException.class, () -> IkeMessage.decode(datagram, 0, datagram.length)).notifyType();
    }

    private static byte[] message(Payload... payloads) {
        return IkeMessage.encode(INIT_REQUEST, List.of(payloads));
    }

    @Test
    void shortDatagramsAreInvalidSyntax() {
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(new byte[27]));
        byte[] ok = message(new NoncePayload(new byte[16]));
        for (int n = 0; n < ok.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(ok, n);
            assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(cut), "truncated to " + n);
        }
    }

    @Test
    void headerLengthMustMatchTheDatagram() {
        byte[] d = message(new NoncePayload(new byte[16]));
        d[27]++;
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(d));
    }

    @Test
    void otherMajorVersionsAreRefused() {
        byte[] d = message(new NoncePayload(new byte[16]));
        d[17] = 0x30;
        assertEquals(NotifyType.INVALID_MAJOR_VERSION, notifyOf(d));
    }

    @Test
    void payloadLengthsAreChecked() {
        byte[] d = message(new NoncePayload(new byte[16]), new VendorIdPayload(new byte[4]));
        byte[] tooShort = d.clone();
        tooShort[28 + 3] = 3; // a payload length below the generic header
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(tooShort));
        byte[] tooLong = d.clone();
        tooLong[28 + 2] = 1; // past the end of the datagram
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(tooLong));
        byte[] trailing = java.util.Arrays.copyOf(d, d.length + 3);
        trailing[27] += 3;
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(trailing), "bytes after the last payload");
    }

    @Test
    void unknownPayloadsAreSkippedUnlessCritical() throws IkeProtocolException {
        byte[] d = message(new UnsupportedPayload(222, new byte[] {1, 2}), new NoncePayload(new byte[16]));
        IkeMessage m = IkeMessage.decode(d, 0, d.length);
        assertInstanceOf(UnsupportedPayload.class, m.payloads().getFirst());
        d[28 + 1] = (byte) 0x80;
        IkeProtocolException e = assertThrows(IkeProtocolException.class, () -> IkeMessage.decode(d, 0, d.length));
        assertEquals(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, e.notifyType());
        assertArrayEquals(new byte[] {(byte) 222}, e.notifyData(), "the notify names the payload type");
    }

    @Test
    void malformedPayloadBodiesAreInvalidSyntax() {
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.NONCE, new byte[15])), "nonce too short");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.DELETE, new byte[] {3, 4, 0, 2, 1, 2, 3, 4})), "Delete count");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.TSI,
                new byte[] {1, 0, 0, 0, 7, 0, 0, 15, 0, 0, (byte) 0xFF, (byte) 0xFF, 1, 2, 3, 4, 5, 6, 7})), "TS length");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.TSI,
                new byte[] {1, 0, 0, 0, 9, 0, 0, 16, 0, 0, (byte) 0xFF, (byte) 0xFF, 1, 2, 3, 4, 5, 6, 7, 8})), "TS type");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.KE, new byte[] {0, 31, 0})), "KE header");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.NOTIFY, new byte[] {3, 8, 0x40, 0x09, 1, 2, 3})), "notify SPI");
        // A proposal announcing two transforms but holding one.
        byte[] sa = {0, 0, 0, 16, 1, 1, 0, 2, 0, 0, 0, 8, 1, 0, 0, 12};
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.SA, sa)), "transform count");
        byte[] moreMarker = {5, 0, 0, 16, 1, 1, 0, 1, 0, 0, 0, 8, 1, 0, 0, 12};
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(raw(PayloadType.SA, moreMarker)), "proposal marker");
    }

    @Test
    void nothingMayFollowTheEncryptedPayload() {
        IkeHeader header = new IkeHeader(1, 2, 0, 2, 0, ExchangeType.IKE_AUTH, IkeHeader.FLAG_INITIATOR, 1, 0);
        byte[] d = IkeMessage.encodeProtected(header, PayloadType.IDI, 32, null);
        // Shorten the SK payload's declared length: its last bytes now trail it.
        d[28 + 3] -= 4;
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(d));
    }

    /** A message of one payload with the given body, bypassing the records' own checks. */
    private static byte[] raw(int type, byte[] body) {
        byte[] d = IkeMessage.encode(new IkeHeader(INIT_REQUEST.initiatorSpi(), 0, 0, 2, 0, ExchangeType.IKE_SA_INIT,
                IkeHeader.FLAG_INITIATOR, 0, 0), List.of(new UnsupportedPayload(type, body)));
        d[16] = (byte) type;
        return d;
    }

    /** Whatever the corruption, decoding either succeeds or reports a notify: nothing else escapes. */
    @Property(tries = 3000)
    void corruptedMessagesNeverThrowAnythingElse(@ForAll @IntRange(min = 0, max = 100_000) int where,
                                                 @ForAll byte value, @ForAll @IntRange(min = 0, max = 3) int cut) {
        byte[] d = IkeMessage.encode(INIT_REQUEST, everyPayload());
        d[where % d.length] = value;
        int length = d.length - cut;
        try {
            IkeMessage.decode(d, 0, length);
        } catch (IkeProtocolException expected) {
            assertTrue(expected.notifyType() > 0);
        }
    }
}
