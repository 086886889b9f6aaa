package io.isthmus.ike.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.VectorFile;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.PayloadType;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SkCipherTest {

    /** RFC 7634 Appendix B: an INFORMATIONAL request protected with ChaCha20-Poly1305, to the byte. */
    @Test
    void chacha20Poly1305IkeExample() throws IkeProtocolException {
        VectorFile.Case c = VectorFile.load("vectors/ike/rfc7634-ikev2-example.vec").cases().getFirst();
        byte[] aad = c.bytes("aad");
        byte[] plaintext = c.bytes("plaintext");
        byte[] expected = KeyDerivation.concat(aad, c.bytes("iv"), c.bytes("ciphertext_tag"));

        // Our own encoding of the same message must give the same header and SK header.
        IkeHeader header = new IkeHeader(0xc0c1c2c3c4c5c6c7L, 0xd0d1d2d3d4d5d6d7L, 0, 2, 0, ExchangeType.INFORMATIONAL, 0, 9, 0);
        byte[] inner = PayloadCodec.encodeChain(List.of(NotifyPayload.of(NotifyType.SET_WINDOW_SIZE, new byte[] {0, 0, 0, 10})));
        assertArrayEquals(Arrays.copyOf(plaintext, plaintext.length - 1), inner, "the inner Notify");
        SkCipher cipher = new SkCipher(CipherSuite.CHACHA20_POLY1305, KeyDerivation.concat(c.bytes("key"), c.bytes("salt")), new byte[0]);
        byte[] datagram = IkeMessage.encodeProtected(header, PayloadType.NOTIFY, cipher.contentLength(inner.length), null);
        assertArrayEquals(aad, Arrays.copyOf(datagram, aad.length), "IKE header and SK header");

        cipher.nextIv(c.hexLong("iv"));
        cipher.seal(datagram, aad.length, inner);
        assertArrayEquals(expected, datagram);
        assertArrayEquals(inner, cipher.open(datagram, aad.length));
    }

    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha384", "aes256-sha512"})
    void roundTripsAndRejectsAnyFlippedBit(String name) throws IkeProtocolException {
        CipherSuite suite = switch (name) {
            case "aes128gcm16" -> CipherSuite.AES128_GCM16;
            case "aes256gcm16" -> CipherSuite.AES256_GCM16;
            case "chacha20poly1305" -> CipherSuite.CHACHA20_POLY1305;
            case "aes128-sha256" -> CipherSuite.AES128_SHA256;
            case "aes256-sha384" -> CipherSuite.AES256_SHA384;
            default -> CipherSuite.AES256_SHA512;
        };
        Random random = new Random(suite.hashCode());
        byte[] ek = new byte[suite.encryptionKeyLength()];
        byte[] ik = new byte[suite.integrityKeyLength()];
        random.nextBytes(ek);
        random.nextBytes(ik);
        SkCipher sender = new SkCipher(suite, ek, ik);
        SkCipher receiver = new SkCipher(suite, ek, ik);
        IkeHeader header = new IkeHeader(1, 2, 0, 2, 0, ExchangeType.IKE_AUTH, IkeHeader.FLAG_INITIATOR, 1, 0);
        for (int n : new int[] {1, 15, 16, 17, 100, 1000}) {
            byte[] inner = new byte[n];
            random.nextBytes(inner);
            byte[] datagram = IkeMessage.encodeProtected(header, PayloadType.IDI, sender.contentLength(n), null);
            int offset = datagram.length - sender.contentLength(n);
            sender.seal(datagram, offset, inner);
            assertArrayEquals(inner, receiver.open(datagram, offset));
            for (int bit = 0; bit < datagram.length * 8; bit += 7) {
                byte[] bad = datagram.clone();
                bad[bit / 8] ^= (byte) (1 << (bit % 8));
                int flipped = bit;
                IkeProtocolException e = assertThrows(IkeProtocolException.class, () -> receiver.open(bad, offset),
                        "bit " + flipped + " of " + datagram.length * 8);
                assertEquals(true, e.notifyType() == NotifyType.AUTHENTICATION_FAILED || e.notifyType() == NotifyType.INVALID_SYNTAX);
            }
        }
    }
}
