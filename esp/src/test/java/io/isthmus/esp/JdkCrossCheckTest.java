package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The hand-assembled transforms agree with the JDK's own implementations of the same algorithms
 * on random keys, nonces, sequence numbers and payloads: AES-GCM (either GHASH) and
 * ChaCha20-Poly1305 (either block function) against javax.crypto's AEAD ciphers, AES-CBC and HMAC against javax.crypto's
 * CBC and Mac. ESP framing (SPI, sequence number, IV, ICV) is built here from the RFCs, not taken
 * from the code under test.
 */
class JdkCrossCheckTest {

    @Property(tries = 300)
    void aesGcmMatchesJavaxCrypto(@ForAll @Size(min = 20, max = 20) byte[] keyAndSalt, @ForAll int spi, @ForAll long seq,
                                  @ForAll long iv, @ForAll boolean esn, @ForAll boolean intrinsic,
                                  @ForAll @Size(max = 9000) byte[] payload) throws GeneralSecurityException {
        byte[] aad = aad(spi, seq, esn);
        byte[] nonce = ByteBuffer.allocate(12).put(keyAndSalt, 16, 4).putLong(iv).array();
        Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keyAndSalt, 0, 16, "AES"), new GCMParameterSpec(128, nonce));
        jdk.updateAAD(aad);
        byte[] expected = jdk.doFinal(payload);

        check(new AesGcmTransform(keyAndSalt, intrinsic), spi, seq, iv, esn, payload, expected);
    }

    @Property(tries = 300)
    void chacha20Poly1305MatchesJavaxCrypto(@ForAll @Size(min = 36, max = 36) byte[] keyAndSalt, @ForAll int spi, @ForAll long seq,
                                            @ForAll long iv, @ForAll boolean esn, @ForAll boolean jdkBlocks,
                                            @ForAll @Size(max = 9000) byte[] payload) throws GeneralSecurityException {
        byte[] aad = aad(spi, seq, esn);
        byte[] nonce = ByteBuffer.allocate(12).put(keyAndSalt, 32, 4).putLong(iv).array();
        Cipher jdk = Cipher.getInstance("ChaCha20-Poly1305");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keyAndSalt, 0, 32, "ChaCha20"), new IvParameterSpec(nonce));
        jdk.updateAAD(aad);
        byte[] expected = jdk.doFinal(payload);

        check(new ChaCha20Poly1305Transform(keyAndSalt, jdkBlocks), spi, seq, iv, esn, payload, expected);
    }

    @Property(tries = 300)
    void aesCbcHmacMatchesJavaxCrypto(@ForAll @Size(min = 32, max = 32) byte[] key, @ForAll @Size(min = 64, max = 64) byte[] integrityKey,
                                      @ForAll("integrity") IntegrityAlgorithm integrity, @ForAll int spi, @ForAll long seq,
                                      @ForAll boolean esn, @ForAll @IntRange(max = 560) int blocks) throws GeneralSecurityException {
        byte[] intKey = Arrays.copyOf(integrityKey, integrity.keyLength());
        byte[] payload = new byte[blocks * 16];
        new java.util.Random(seq).nextBytes(payload);
        var transform = new AesCbcHmacTransform(key, integrity, intKey);
        byte[] packet = new byte[8 + 16 + payload.length + integrity.icvLength()];
        ByteBuffer.wrap(packet).putInt(spi).putInt((int) seq);
        System.arraycopy(payload, 0, packet, 24, payload.length);
        transform.seal(packet, 0, payload.length, seq, 0, esn);

        Cipher cbc = Cipher.getInstance("AES/CBC/NoPadding");
        cbc.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(packet, 8, 16));
        assertArrayEquals(payload, cbc.doFinal(packet, 24, payload.length), "standard CBC under the packet's IV");
        String macName = "Hmac" + integrity.digest().replace("-", "");
        Mac mac = Mac.getInstance(macName);
        mac.init(new SecretKeySpec(intKey, macName));
        mac.update(packet, 0, 24 + payload.length);
        if (esn) {
            mac.update(ByteBuffer.allocate(4).putInt((int) (seq >>> 32)).array());
        }
        byte[] icv = Arrays.copyOf(mac.doFinal(), integrity.icvLength());
        assertArrayEquals(icv, Arrays.copyOfRange(packet, 24 + payload.length, packet.length), "ICV (RFC 4303 3.3.2.1 with ESN)");

        assertTrue(transform.open(packet, 0, payload.length, (int) (seq >>> 32), esn));
        assertArrayEquals(payload, Arrays.copyOfRange(packet, 24, 24 + payload.length));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<IntegrityAlgorithm> integrity() {
        return net.jqwik.api.Arbitraries.of(IntegrityAlgorithm.HMAC_SHA2_256_128, IntegrityAlgorithm.HMAC_SHA2_384_192,
                IntegrityAlgorithm.HMAC_SHA2_512_256);
    }

    /** RFC 4106 §5 / RFC 7634 §2.1. */
    private static byte[] aad(int spi, long seq, boolean esn) {
        return esn ? ByteBuffer.allocate(12).putInt(spi).putLong(seq).array()
                : ByteBuffer.allocate(8).putInt(spi).putInt((int) seq).array();
    }

    private static void check(PacketTransform transform, int spi, long seq, long iv, boolean esn, byte[] payload, byte[] expected) {
        byte[] packet = new byte[16 + payload.length + 16];
        ByteBuffer.wrap(packet).putInt(spi).putInt((int) seq);
        System.arraycopy(payload, 0, packet, 16, payload.length);
        transform.seal(packet, 0, payload.length, seq, iv, esn);
        assertArrayEquals(ByteBuffer.allocate(8).putLong(iv).array(), Arrays.copyOfRange(packet, 8, 16), "IV on the wire");
        assertArrayEquals(expected, Arrays.copyOfRange(packet, 16, packet.length), "ciphertext and ICV");
        assertTrue(transform.open(packet, 0, payload.length, (int) (seq >>> 32), esn));
        assertArrayEquals(payload, Arrays.copyOfRange(packet, 16, 16 + payload.length));
    }
}
