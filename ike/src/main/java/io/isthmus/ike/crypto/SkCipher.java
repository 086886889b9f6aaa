package io.isthmus.ike.crypto;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyType;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Protection of one direction of an IKE SA: the content of the Encrypted payload (RFC 7296 §3.14),
 * IV || ciphertext || ICV, over a plaintext of inner payloads || padding || Pad Length.
 * <ul>
 * <li>AES-CBC with an HMAC: random IV; the ICV covers the whole message up to itself.</li>
 * <li>AES-GCM-16 (RFC 5282) and ChaCha20-Poly1305 (RFC 7634 §3): nonce = salt || 8-byte IV, the
 *     IV a counter so it never repeats under the key; AAD = the message up to the SK content
 *     (IKE header, payloads before SK, SK header); no padding.</li>
 * </ul>
 * The IKE SA uses the same transform identifiers as ESP, so suites are {@link CipherSuite}s.
 * This is the control plane: javax.crypto, allocations and all.
 */
public final class SkCipher {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CipherSuite suite;
    private final byte[] encryptionKey;
    private final byte[] integrityKey;
    private long ivCounter;

    /**
     * @param encryptionKey SK_e (with the salt at its end for AEAD suites)
     * @param integrityKey  SK_a, empty for AEAD suites
     */
    public SkCipher(CipherSuite suite, byte[] encryptionKey, byte[] integrityKey) {
        if (encryptionKey.length != suite.encryptionKeyLength() || integrityKey.length != suite.integrityKeyLength()) {
            throw new IllegalArgumentException("key lengths do not fit " + suite);
        }
        this.suite = suite;
        this.encryptionKey = encryptionKey.clone();
        this.integrityKey = integrityKey.clone();
    }

    public CipherSuite suite() {
        return suite;
    }

    private int blockSize() {
        return suite.encryption() == EncryptionAlgorithm.AES_CBC ? 16 : 1;
    }

    /** Bytes of SK content for {@code plaintextLength} bytes of inner payloads. */
    public int contentLength(int plaintextLength) {
        int block = blockSize();
        int padded = (plaintextLength + 1 + block - 1) / block * block;
        int ivLength = suite.encryption() == EncryptionAlgorithm.AES_CBC ? 16 : 8;
        return ivLength + padded + suite.icvLength();
    }

    /**
     * Fills the SK content at {@code contentOffset} of {@code datagram}, which already holds the
     * header and SK payload header and is exactly {@code contentOffset + contentLength(n)} long.
     */
    public void seal(byte[] datagram, int contentOffset, byte[] plaintext) {
        int contentLength = datagram.length - contentOffset;
        if (contentLength != contentLength(plaintext.length)) {
            throw new IllegalArgumentException("datagram has room for " + contentLength + " bytes of SK content, need "
                    + contentLength(plaintext.length));
        }
        int ivLength = suite.encryption() == EncryptionAlgorithm.AES_CBC ? 16 : 8;
        int icvLength = suite.icvLength();
        int paddedLength = contentLength - ivLength - icvLength;
        byte[] padded = Arrays.copyOf(plaintext, paddedLength);
        padded[paddedLength - 1] = (byte) (paddedLength - 1 - plaintext.length);
        try {
            if (suite.encryption().isAead()) {
                long iv = ++ivCounter;
                for (int i = 0; i < 8; i++) {
                    datagram[contentOffset + i] = (byte) (iv >>> (56 - 8 * i));
                }
                Cipher cipher = aead(Cipher.ENCRYPT_MODE, datagram, contentOffset);
                cipher.updateAAD(datagram, 0, contentOffset);
                cipher.doFinal(padded, 0, padded.length, datagram, contentOffset + ivLength);
            } else {
                byte[] iv = new byte[16];
                RANDOM.nextBytes(iv);
                System.arraycopy(iv, 0, datagram, contentOffset, 16);
                Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
                cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(encryptionKey, "AES"), new IvParameterSpec(iv));
                cipher.doFinal(padded, 0, padded.length, datagram, contentOffset + 16);
                byte[] icv = mac(datagram, datagram.length - icvLength);
                System.arraycopy(icv, 0, datagram, datagram.length - icvLength, icvLength);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite + " failed to encrypt", e);
        } finally {
            Arrays.fill(padded, (byte) 0);
        }
    }

    /**
     * Checks and decrypts the SK content of a received message: the inner payloads, padding and
     * Pad Length removed. A message that does not authenticate is an exception the caller drops
     * silently (RFC 7296 §2.21.2: no answer to what cannot be authenticated).
     */
    public byte[] open(byte[] datagram, int contentOffset) throws IkeProtocolException {
        int ivLength = suite.encryption() == EncryptionAlgorithm.AES_CBC ? 16 : 8;
        int icvLength = suite.icvLength();
        int cipherLength = datagram.length - contentOffset - ivLength - icvLength;
        if (cipherLength < 1 || cipherLength % blockSize() != 0) {
            throw IkeProtocolException.invalidSyntax("SK content of " + (datagram.length - contentOffset) + " bytes does not fit " + suite);
        }
        byte[] plain;
        try {
            if (suite.encryption().isAead()) {
                Cipher cipher = aead(Cipher.DECRYPT_MODE, datagram, contentOffset);
                cipher.updateAAD(datagram, 0, contentOffset);
                plain = cipher.doFinal(datagram, contentOffset + ivLength, cipherLength + icvLength);
            } else {
                byte[] expected = mac(datagram, datagram.length - icvLength);
                if (!MessageDigest.isEqual(Arrays.copyOf(expected, icvLength),
                        Arrays.copyOfRange(datagram, datagram.length - icvLength, datagram.length))) {
                    throw new IkeProtocolException(NotifyType.AUTHENTICATION_FAILED, "SK integrity check failed");
                }
                Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
                cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(encryptionKey, "AES"),
                        new IvParameterSpec(datagram, contentOffset, 16));
                plain = cipher.doFinal(datagram, contentOffset + 16, cipherLength);
            }
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IkeProtocolException(NotifyType.AUTHENTICATION_FAILED, "SK integrity check failed");
        } catch (GeneralSecurityException e) {
            throw IkeProtocolException.invalidSyntax("SK content refused by " + suite + ": " + e.getMessage());
        }
        int padLength = plain[plain.length - 1] & 0xFF;
        if (padLength + 1 > plain.length) {
            throw IkeProtocolException.invalidSyntax("Pad Length " + padLength + " in " + plain.length + " bytes");
        }
        byte[] inner = Arrays.copyOf(plain, plain.length - 1 - padLength);
        Arrays.fill(plain, (byte) 0);
        return inner;
    }

    private Cipher aead(int mode, byte[] datagram, int contentOffset) throws GeneralSecurityException {
        int keyLength = encryptionKey.length - 4;
        byte[] nonce = new byte[12];
        System.arraycopy(encryptionKey, keyLength, nonce, 0, 4);
        System.arraycopy(datagram, contentOffset, nonce, 4, 8);
        Cipher cipher;
        if (suite.encryption() == EncryptionAlgorithm.AES_GCM_16) {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, new SecretKeySpec(encryptionKey, 0, keyLength, "AES"), new GCMParameterSpec(128, nonce));
        } else {
            cipher = Cipher.getInstance("ChaCha20-Poly1305");
            cipher.init(mode, new SecretKeySpec(encryptionKey, 0, keyLength, "ChaCha20"), new IvParameterSpec(nonce));
        }
        return cipher;
    }

    private byte[] mac(byte[] datagram, int length) throws GeneralSecurityException {
        String name = switch (suite.integrity()) {
            case HMAC_SHA2_256_128 -> "HmacSHA256";
            case HMAC_SHA2_384_192 -> "HmacSHA384";
            case HMAC_SHA2_512_256 -> "HmacSHA512";
            case NONE -> throw new IllegalStateException("no integrity algorithm");
        };
        Mac mac = Mac.getInstance(name);
        mac.init(new SecretKeySpec(integrityKey, name));
        mac.update(datagram, 0, length);
        return mac.doFinal();
    }

    /** For test vectors: the next AEAD IV will be {@code iv}. */
    void nextIv(long iv) {
        ivCounter = iv - 1;
    }

    public void destroy() {
        Arrays.fill(encryptionKey, (byte) 0);
        Arrays.fill(integrityKey, (byte) 0);
    }
}
