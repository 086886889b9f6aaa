package io.isthmus.esp;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * HMAC (RFC 2104) over a JDK MessageDigest, for one thread. javax.crypto.Mac would do, but its
 * {@code doFinal} allocates the digest on every call; this writes into caller-owned arrays.
 */
final class Hmac {
    private final MessageDigest digest;
    private final byte[] innerPad;
    private final byte[] outerPad;
    private final byte[] innerHash;
    private final int length;

    Hmac(String digestAlgorithm, int blockLength, byte[] key) {
        try {
            digest = MessageDigest.getInstance(digestAlgorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(digestAlgorithm + " is unavailable", e);
        }
        length = digest.getDigestLength();
        innerHash = new byte[length];
        byte[] k = key.length > blockLength ? digest.digest(key) : key;
        innerPad = new byte[blockLength];
        outerPad = new byte[blockLength];
        for (int i = 0; i < blockLength; i++) {
            byte b = i < k.length ? k[i] : 0;
            innerPad[i] = (byte) (b ^ 0x36);
            outerPad[i] = (byte) (b ^ 0x5c);
        }
        if (k != key) {
            Arrays.fill(k, (byte) 0);
        }
        digest.update(innerPad);
    }

    int length() {
        return length;
    }

    void update(byte[] data, int offset, int count) {
        digest.update(data, offset, count);
    }

    /** Writes the full MAC to {@code out} and starts the next one. */
    void finish(byte[] out, int offset) {
        try {
            digest.digest(innerHash, 0, length);
            digest.update(outerPad);
            digest.update(innerHash, 0, length);
            digest.digest(out, offset, length);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
        digest.update(innerPad);
    }

    void destroy() {
        Arrays.fill(innerPad, (byte) 0);
        Arrays.fill(outerPad, (byte) 0);
        Arrays.fill(innerHash, (byte) 0);
        digest.reset();
    }
}
