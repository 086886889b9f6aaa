package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RadiusSecretTest {
    static final HexFormat HEX = HexFormat.of();
    final RadiusSecret secret = new RadiusSecret("xyzzy5461".getBytes(StandardCharsets.US_ASCII));
    final byte[] requestAuth = HEX.parseHex("0f403f9473978057bd83d5cb98f4227a");

    @Test
    void messageAuthenticatorIsHmacMd5OverThePacketWithItZeroed() throws Exception {
        RadiusPacket request = RadiusPacket.decode(RadiusPacketTest.RFC2865_REQUEST, RadiusPacketTest.RFC2865_REQUEST.length);
        byte[] wire = secret.sign(request);
        assertEquals(56 + 18, wire.length);
        assertEquals(0x4A, wire[3] & 0xFF);
        assertEquals(80, wire[56] & 0xFF);
        assertEquals(18, wire[57] & 0xFF);
        byte[] zeroed = wire.clone();
        java.util.Arrays.fill(zeroed, 58, 74, (byte) 0);
        // Independently: HMAC-MD5 keyed with the secret, via the JDK's Mac directly.
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacMD5");
        mac.init(new javax.crypto.spec.SecretKeySpec("xyzzy5461".getBytes(StandardCharsets.US_ASCII), "HmacMD5"));
        assertArrayEquals(mac.doFinal(zeroed), java.util.Arrays.copyOfRange(wire, 58, 74));
    }

    @Test
    void anAnswerSignedWithTheSecretVerifiesAndAnyChangeBreaksIt() throws Exception {
        RadiusPacket accept = new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, 3, new byte[16],
                List.of(new RadiusPacket.Attribute(RadiusPacket.FRAMED_IP_ADDRESS, HEX.parseHex("0a000005"))));
        byte[] wire = secret.signAnswer(accept, requestAuth);
        assertTrue(secret.verifiesAnswer(wire, wire.length, RadiusPacket.decode(wire, wire.length), requestAuth));

        byte[] otherRequest = requestAuth.clone();
        otherRequest[0] ^= 1;
        assertFalse(secret.verifiesAnswer(wire, wire.length, RadiusPacket.decode(wire, wire.length), otherRequest));
        RadiusSecret wrong = new RadiusSecret("xyzzy5462".getBytes(StandardCharsets.US_ASCII));
        assertFalse(wrong.verifiesAnswer(wire, wire.length, RadiusPacket.decode(wire, wire.length), requestAuth));
        for (int i : new int[] {0, 5, 22, wire.length - 1}) {
            byte[] flipped = wire.clone();
            flipped[i] ^= 0x40;
            assertFalse(secret.verifiesAnswer(flipped, flipped.length, RadiusPacket.decode(flipped, flipped.length), requestAuth), "byte " + i);
        }
        // A forger who recomputes the Response Authenticator without the secret cannot: and without a Message-Authenticator it is refused.
        RadiusPacket noMa = new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, 3, requestAuth, accept.attributes());
        byte[] unsigned = noMa.encode();
        System.arraycopy(secret.responseAuthenticator(unsigned), 0, unsigned, 4, 16);
        assertFalse(secret.verifiesAnswer(unsigned, unsigned.length, RadiusPacket.decode(unsigned, unsigned.length), requestAuth));
    }

    @Test
    void mppeKeysDecryptToTheMskRecvThenSend() throws Exception {
        byte[] recv = new byte[32];
        byte[] send = new byte[32];
        for (int i = 0; i < 32; i++) {
            recv[i] = (byte) i;
            send[i] = (byte) (0xA0 + i);
        }
        byte[] r = secret.encryptMppeKey(recv, requestAuth, HEX.parseHex("8001"));
        byte[] s = secret.encryptMppeKey(send, requestAuth, HEX.parseHex("8002"));
        assertEquals(2 + 48, r.length);
        // The salt changes the key stream: the two ciphertexts of equal-length keys differ everywhere it matters.
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(r, 2, 18), java.util.Arrays.copyOfRange(secret.encryptMppeKey(recv, requestAuth, HEX.parseHex("8002")), 2, 18)));
        RadiusPacket accept = new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, 1, new byte[16], List.of(
                vsa(RadiusSecret.MS_MPPE_SEND_KEY, s), vsa(RadiusSecret.MS_MPPE_RECV_KEY, r)));
        byte[] msk = secret.msk(accept, requestAuth).orElseThrow();
        byte[] expected = new byte[64];
        System.arraycopy(recv, 0, expected, 0, 32);
        System.arraycopy(send, 0, expected, 32, 32);
        assertArrayEquals(expected, msk);

        assertEquals(Optional.empty(), new RadiusSecret("other".getBytes()).msk(accept, requestAuth).filter(m -> java.util.Arrays.equals(m, expected)));
        byte[] noSaltBit = r.clone();
        noSaltBit[0] = 0;
        assertTrue(secret.mppeKey(noSaltBit, requestAuth).isEmpty());
        assertTrue(secret.mppeKey(java.util.Arrays.copyOf(r, 20), requestAuth).isEmpty());
        assertTrue(secret.msk(new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, 1, new byte[16], List.of(vsa(RadiusSecret.MS_MPPE_RECV_KEY, r))), requestAuth).isEmpty());
    }

    static RadiusPacket.Attribute vsa(int vendorType, byte[] data) {
        byte[] out = new byte[6 + data.length];
        out[2] = 0x01;
        out[3] = 0x37;
        out[4] = (byte) vendorType;
        out[5] = (byte) (2 + data.length);
        System.arraycopy(data, 0, out, 6, data.length);
        return new RadiusPacket.Attribute(RadiusPacket.VENDOR_SPECIFIC, out);
    }
}
