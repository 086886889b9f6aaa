package io.isthmus.esp;

/**
 * ESP integrity transforms (RFC 4868), with their IKEv2 Transform Type 3 identifiers. The ICV is
 * the HMAC truncated to half the digest, so every key is as long as the digest.
 */
public enum IntegrityAlgorithm {
    /** For AEAD transforms, which carry their own ICV. */
    NONE(0, "", null, 0, 0, 0),
    HMAC_SHA2_256_128(12, "sha256", "SHA-256", 64, 32, 16),
    HMAC_SHA2_384_192(13, "sha384", "SHA-384", 128, 48, 24),
    HMAC_SHA2_512_256(14, "sha512", "SHA-512", 128, 64, 32);

    private final int ianaId;
    private final String shortName;
    private final String digest;
    private final int digestBlockLength;
    private final int keyLength;
    private final int icvLength;

    IntegrityAlgorithm(int ianaId, String shortName, String digest, int digestBlockLength, int keyLength,
                       int icvLength) {
        this.ianaId = ianaId;
        this.shortName = shortName;
        this.digest = digest;
        this.digestBlockLength = digestBlockLength;
        this.keyLength = keyLength;
        this.icvLength = icvLength;
    }

    public int ianaId() {
        return ianaId;
    }

    public int keyLength() {
        return keyLength;
    }

    public int icvLength() {
        return icvLength;
    }

    String shortName() {
        return shortName;
    }

    /** The JDK MessageDigest algorithm the HMAC is built on. */
    String digest() {
        return digest;
    }

    int digestBlockLength() {
        return digestBlockLength;
    }

    public static IntegrityAlgorithm fromIanaId(int id) {
        for (IntegrityAlgorithm a : values()) {
            if (a.ianaId == id) {
                return a;
            }
        }
        throw new IllegalArgumentException("unsupported ESP integrity transform " + id);
    }
}
