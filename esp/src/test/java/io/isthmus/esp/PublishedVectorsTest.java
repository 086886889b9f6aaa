package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The transforms against the published vectors in test-vectors/, exact bytes in both directions:
 * sealing the vector's plaintext must give the vector's packet, opening the packet must give the
 * plaintext back.
 */
class PublishedVectorsTest {

    /** draft-mcgrew-gcm-test-01: every AES-GCM-ESP case, with the JDK's GHASH and the portable one. */
    @TestFactory
    Stream<DynamicTest> aesGcmEspPackets() {
        List<VectorFile.Case> cases = VectorFile.load("vectors/esp/draft-mcgrew-gcm-test-01.vec").cases();
        assertEquals(16, cases.size(), "every AES-GCM-ESP case of the draft");
        return cases.stream().flatMap(c -> Stream.of(true, false).map(intrinsic ->
                dynamicTest(c + (intrinsic ? " JDK GHASH" : " portable GHASH"), () -> {
                    if (intrinsic) {
                        assertTrue(Ghash.preferred(), "tests run with the JDK's GHASH opened: " + Ghash.implementation());
                    }
                    byte[] key = c.bytes("key");
                    byte[] nonce = c.bytes("nonce");
                    byte[] keyingMaterial = concat(key, Arrays.copyOf(nonce, 4));
                    byte[] seqBytes = c.bytes("seq");
                    boolean esn = seqBytes.length == 8;
                    long seq = c.hexLong("seq");
                    long iv = ByteBuffer.wrap(nonce, 4, 8).getLong();
                    byte[] plaintext = c.bytes("plaintext");
                    byte[] expected = c.bytes("packet");

                    // The AAD the draft lists is the one RFC 4106 §5 prescribes.
                    byte[] aad = esn ? concat(c.bytes("spi"), seqBytes) : concat(c.bytes("spi"), seqBytes);
                    assertArrayEquals(c.bytes("aad"), aad);

                    byte[] packet = new byte[expected.length];
                    System.arraycopy(c.bytes("spi"), 0, packet, 0, 4);
                    System.arraycopy(seqBytes, seqBytes.length - 4, packet, 4, 4);
                    System.arraycopy(plaintext, 0, packet, 16, plaintext.length);
                    AesGcmTransform transform = new AesGcmTransform(keyingMaterial, intrinsic);
                    assertEquals(intrinsic, transform.usesGhashIntrinsic());
                    transform.seal(packet, 0, plaintext.length, seq, iv, esn);
                    assertArrayEquals(expected, packet, "sealed packet");

                    assertTrue(transform.open(packet, 0, plaintext.length, (int) (seq >>> 32), esn), "ICV verifies");
                    assertArrayEquals(plaintext, Arrays.copyOfRange(packet, 16, 16 + plaintext.length), "opened payload");
                })));
    }

    /** RFC 7634 Appendix A through the SA API: a tunnel-mode IPv4 packet, sequence number 5. */
    @Test
    void chacha20Poly1305EspExample() {
        VectorFile.Case c = VectorFile.load("vectors/esp/rfc7634-chacha20-poly1305-esp.vec").cases().getFirst();
        int spi = (int) c.hexLong("spi");
        SaParameters parameters = SaParameters.builder(spi, CipherSuite.CHACHA20_POLY1305)
                .encryptionKey(concat(c.bytes("key"), c.bytes("salt"))).build();
        byte[] inner = c.bytes("inner");
        byte[] expected = concat(c.bytes("spi"), c.bytes("seq"), c.bytes("iv"), c.bytes("ciphertext_tag"));

        OutboundSa out = new OutboundSa(parameters, SaListener.NONE);
        byte[] packet = new byte[256];
        for (int i = 1; i < 5; i++) {
            assertTrue(out.seal(packet, 0, 0, EspPacket.NEXT_HEADER_NONE) > 0); // sequence numbers 1 to 4
        }
        System.arraycopy(inner, 0, packet, out.headerLength(), inner.length);
        int length = out.sealWithIv(packet, 0, inner.length, EspPacket.NEXT_HEADER_IPV4, c.hexLong("iv"));
        assertArrayEquals(expected, Arrays.copyOf(packet, length));

        InboundSa in = new InboundSa(parameters, SaListener.NONE);
        int innerLength = in.open(packet, 0, length);
        assertEquals(inner.length, innerLength);
        assertArrayEquals(inner, Arrays.copyOfRange(packet, in.headerLength(), in.headerLength() + innerLength));
        assertEquals(DropReason.REPLAY.code(), in.open(Arrays.copyOf(expected, expected.length), 0, length));
    }

    /**
     * RFC 8439 2.8.2 and A.5: their 12-byte AADs are SPI || high || low of an ESN packet. With the
     * JDK's block function and with the one written here.
     */
    @TestFactory
    Stream<DynamicTest> chacha20Poly1305Aead() {
        return VectorFile.load("vectors/crypto/rfc8439-chacha20-poly1305.vec").cases().stream()
                .filter(c -> c.name().startsWith("aead"))
                .flatMap(c -> Stream.of(true, false).map(jdk -> dynamicTest(c + (jdk ? " JDK blocks" : " own blocks"), () -> {
                    if (jdk) {
                        assertTrue(ChaCha20.jdkAvailable(), "tests run with the JDK's ChaCha20 opened: " + ChaCha20.implementation());
                    }
                    byte[] aad = c.bytes("aad");
                    assertEquals(12, aad.length);
                    long seq = ByteBuffer.wrap(aad, 4, 8).getLong();
                    byte[] plaintext = c.bytes("plaintext");
                    byte[] expected = concat(Arrays.copyOf(aad, 4), Arrays.copyOfRange(aad, 8, 12), c.bytes("iv"), c.bytes("ciphertext_tag"));

                    var transform = new ChaCha20Poly1305Transform(concat(c.bytes("key"), c.bytes("salt")), jdk);
                    assertEquals(jdk, transform.usesJdkBlocks());
                    byte[] packet = new byte[expected.length];
                    System.arraycopy(expected, 0, packet, 0, 8);
                    System.arraycopy(plaintext, 0, packet, 16, plaintext.length);
                    transform.seal(packet, 0, plaintext.length, seq, c.hexLong("iv"), true);
                    assertArrayEquals(expected, packet);
                    assertTrue(transform.open(packet, 0, plaintext.length, (int) (seq >>> 32), true));
                    assertArrayEquals(plaintext, Arrays.copyOfRange(packet, 16, 16 + plaintext.length));
                })));
    }

    @TestFactory
    Stream<DynamicTest> poly1305() {
        return VectorFile.load("vectors/crypto/rfc8439-chacha20-poly1305.vec").cases().stream()
                .filter(c -> c.name().startsWith("poly1305"))
                .map(c -> dynamicTest(c.toString(), () -> {
                    byte[] message = c.bytes("message");
                    if (c.has("message_length")) {
                        assertEquals(c.integer("message_length"), message.length, "transcription");
                    }
                    Poly1305 poly = new Poly1305();
                    poly.init(c.bytes("key"), 0);
                    poly.blocks(message, 0, message.length / 16);
                    if (message.length % 16 != 0) {
                        poly.finalPartialBlock(message, message.length / 16 * 16, message.length % 16);
                    }
                    byte[] tag = new byte[16];
                    poly.finish(tag, 0);
                    assertArrayEquals(c.bytes("tag"), tag);
                }));
    }

    @TestFactory
    Stream<DynamicTest> hmacSha2() {
        return VectorFile.load("vectors/crypto/rfc4868-hmac-sha2.vec").cases().stream()
                .map(c -> dynamicTest(c.toString(), () -> {
                    String digest = c.string("digest");
                    Hmac hmac = new Hmac(digest, digest.equals("SHA-256") ? 64 : 128, c.bytes("key"));
                    byte[] data = c.bytes("data");
                    byte[] out = new byte[hmac.length()];
                    for (int round = 0; round < 2; round++) { // the second round checks the reset
                        hmac.update(data, 0, data.length);
                        hmac.finish(out, 0);
                        byte[] expected = c.bytes("mac");
                        assertArrayEquals(expected, Arrays.copyOf(out, expected.length));
                    }
                }));
    }

    /**
     * RFC 3602 cases 1-3 as ESP packets: opening gives the vector's plaintext; sealing gives a
     * packet that the JDK's own AES-CBC and HMAC accept.
     */
    @TestFactory
    Stream<DynamicTest> aesCbc() {
        return VectorFile.load("vectors/crypto/rfc3602-aes-cbc.vec").cases().stream()
                .map(c -> dynamicTest(c.toString(), () -> {
                    byte[] key = c.bytes("key");
                    byte[] integrityKey = new byte[32];
                    Arrays.fill(integrityKey, (byte) 0x42);
                    byte[] plaintext = c.bytes("plaintext");
                    var transform = new AesCbcHmacTransform(key, IntegrityAlgorithm.HMAC_SHA2_256_128, integrityKey);

                    byte[] packet = concat(new byte[] {1, 2, 3, 4, 0, 0, 0, 9}, c.bytes("iv"), c.bytes("ciphertext"), new byte[16]);
                    int icvAt = packet.length - 16;
                    System.arraycopy(jdkHmac(integrityKey, Arrays.copyOf(packet, icvAt)), 0, packet, icvAt, 16);
                    assertTrue(transform.open(packet, 0, plaintext.length, 0, false));
                    assertArrayEquals(plaintext, Arrays.copyOfRange(packet, 24, 24 + plaintext.length));

                    byte[] sealed = new byte[packet.length];
                    System.arraycopy(packet, 0, sealed, 0, 8);
                    System.arraycopy(plaintext, 0, sealed, 24, plaintext.length);
                    transform.seal(sealed, 0, plaintext.length, 9, 0, false);
                    assertArrayEquals(jdkCbcDecrypt(key, Arrays.copyOfRange(sealed, 8, 24), Arrays.copyOfRange(sealed, 24, icvAt)), plaintext);
                    assertArrayEquals(Arrays.copyOf(jdkHmac(integrityKey, Arrays.copyOf(sealed, icvAt)), 16), Arrays.copyOfRange(sealed, icvAt, sealed.length));
                }));
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static byte[] jdkHmac(byte[] key, byte[] data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    static byte[] jdkCbcDecrypt(byte[] key, byte[] iv, byte[] ciphertext) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
        return cipher.doFinal(ciphertext);
    }
}
