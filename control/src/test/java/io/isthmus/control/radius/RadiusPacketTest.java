package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class RadiusPacketTest {
    static final HexFormat HEX = HexFormat.of();
    /** RFC 2865 §7.1: nemo's Access-Request (User-Password encrypted, NAS-IP-Address, NAS-Port), secret xyzzy5461. */
    static final byte[] RFC2865_REQUEST = HEX.parseHex("010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f782a0aee0406c0a80110050600000003");
    /** RFC 2865 §7.1: the Access-Accept answering it (Service-Type, Login-Service, Login-IP-Host). */
    static final byte[] RFC2865_ACCEPT = HEX.parseHex("0200002686fe220e7624ba2a1005f6bf9b55e0b206060000000 10f06000000000e06c0a80103".replace(" ", ""));

    @Test
    void decodesAndReencodesTheRfc2865Request() throws Exception {
        RadiusPacket p = RadiusPacket.decode(RFC2865_REQUEST, RFC2865_REQUEST.length);
        assertEquals(RadiusPacket.ACCESS_REQUEST, p.code());
        assertEquals(0, p.identifier());
        assertEquals(4, p.attributes().size());
        assertEquals("nemo", new String(p.first(RadiusPacket.USER_NAME).orElseThrow(), StandardCharsets.UTF_8));
        assertArrayEquals(HEX.parseHex("c0a80110"), p.first(RadiusPacket.NAS_IP_ADDRESS).orElseThrow());
        assertArrayEquals(RFC2865_REQUEST, p.encode());
    }

    @Test
    void responseAuthenticatorMatchesRfc2865() throws Exception {
        RadiusSecret secret = new RadiusSecret("xyzzy5461".getBytes(StandardCharsets.US_ASCII));
        byte[] withRequestAuthenticator = RFC2865_ACCEPT.clone();
        System.arraycopy(RFC2865_REQUEST, 4, withRequestAuthenticator, 4, 16);
        assertArrayEquals(HEX.parseHex("86fe220e7624ba2a1005f6bf9b55e0b2"), secret.responseAuthenticator(withRequestAuthenticator));
        // The RFC's answer carries no Message-Authenticator: we refuse such an answer even with a right Response Authenticator.
        RadiusPacket accept = RadiusPacket.decode(RFC2865_ACCEPT, RFC2865_ACCEPT.length);
        assertEquals(false, secret.verifiesAnswer(RFC2865_ACCEPT, RFC2865_ACCEPT.length, accept, HEX.parseHex("0f403f9473978057bd83d5cb98f4227a")));
    }

    @Test
    void paddingPastLengthIsIgnored() throws Exception {
        byte[] padded = java.util.Arrays.copyOf(RFC2865_REQUEST, RFC2865_REQUEST.length + 7);
        assertArrayEquals(RFC2865_REQUEST, RadiusPacket.decode(padded, padded.length).encode());
    }

    @Test
    void malformedPacketsAreRefusedWithTheReason() {
        assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(new byte[19], 19));
        byte[] lengthPastDatagram = RFC2865_REQUEST.clone();
        lengthPastDatagram[3] = 0x39;
        var e = assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(lengthPastDatagram, lengthPastDatagram.length));
        assertEquals("Length 57 with 56 bytes received (20-4096 allowed)", e.getMessage());
        byte[] attributePastLength = RFC2865_REQUEST.clone();
        attributePastLength[21] = 0x7F;
        assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(attributePastLength, attributePastLength.length));
        byte[] zeroLengthAttribute = RFC2865_REQUEST.clone();
        zeroLengthAttribute[21] = 0;
        assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(zeroLengthAttribute, zeroLengthAttribute.length));
        byte[] tooLong = new byte[5000];
        tooLong[2] = 0x13;
        tooLong[3] = (byte) 0x88;
        assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(tooLong, tooLong.length));
        byte[] oneByteLeft = java.util.Arrays.copyOf(RFC2865_REQUEST, 57);
        oneByteLeft[3] = 57;
        oneByteLeft[56] = 1;
        assertThrows(MalformedRadiusException.class, () -> RadiusPacket.decode(oneByteLeft, oneByteLeft.length));
    }

    @Test
    void eapMessagesAreSplitAt253AndJoinedInOrder() throws Exception {
        byte[] eap = new byte[600];
        for (int i = 0; i < eap.length; i++) {
            eap[i] = (byte) i;
        }
        List<RadiusPacket.Attribute> parts = RadiusPacket.split(RadiusPacket.EAP_MESSAGE, eap);
        assertEquals(List.of(253, 253, 94), parts.stream().map(a -> a.value().length).toList());
        RadiusPacket p = new RadiusPacket(RadiusPacket.ACCESS_REQUEST, 9, new byte[16], parts);
        byte[] wire = p.encode();
        assertEquals(20 + 3 * 2 + 600, wire.length);
        assertArrayEquals(eap, RadiusPacket.decode(wire, wire.length).joined(RadiusPacket.EAP_MESSAGE));
        assertThrows(IllegalArgumentException.class, () -> new RadiusPacket.Attribute(RadiusPacket.EAP_MESSAGE, new byte[254]));
    }
}
