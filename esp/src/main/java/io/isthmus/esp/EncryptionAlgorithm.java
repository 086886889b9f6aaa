package io.isthmus.esp;

import java.util.Arrays;

/**
 * ESP encryption transforms, with their IKEv2 Transform Type 1 identifiers (IANA "IKEv2
 * Parameters", RFC 7296 §3.3.2).
 */
public enum EncryptionAlgorithm {
    /** RFC 3602; needs an integrity algorithm. */
    AES_CBC(12, "aes", 16, 16, 0, 0, 128, 192, 256),
    /** RFC 4106 with a 16-byte ICV; the keying material ends with a 4-byte salt. */
    AES_GCM_16(20, "aes%dgcm16", 8, 4, 4, 16, 128, 192, 256),
    /** RFC 7634; the keying material ends with a 4-byte salt. */
    CHACHA20_POLY1305(28, "chacha20poly1305", 8, 4, 4, 16, 256);

    private final int ianaId;
    private final String nameFormat;
    private final int ivLength;
    private final int blockAlignment;
    private final int saltLength;
    private final int aeadIcvLength;
    private final int[] keyBits;

    EncryptionAlgorithm(int ianaId, String nameFormat, int ivLength, int blockAlignment, int saltLength,
                        int aeadIcvLength, int... keyBits) {
        this.ianaId = ianaId;
        this.nameFormat = nameFormat;
        this.ivLength = ivLength;
        this.blockAlignment = blockAlignment;
        this.saltLength = saltLength;
        this.aeadIcvLength = aeadIcvLength;
        this.keyBits = keyBits;
    }

    public int ianaId() {
        return ianaId;
    }

    /** Bytes of IV carried in every packet. */
    public int ivLength() {
        return ivLength;
    }

    /** The encrypted part (payload, padding, trailer) is a multiple of this. */
    public int blockAlignment() {
        return blockAlignment;
    }

    /** Bytes of salt taken from the end of the keying material (RFC 4106 §8.1, RFC 7634 §4). */
    public int saltLength() {
        return saltLength;
    }

    public boolean isAead() {
        return aeadIcvLength > 0;
    }

    int aeadIcvLength() {
        return aeadIcvLength;
    }

    public boolean supportsKeyBits(int bits) {
        return Arrays.stream(keyBits).anyMatch(b -> b == bits);
    }

    public int[] keyBits() {
        return keyBits.clone();
    }

    String displayName(int bits) {
        return this == AES_CBC ? "aes" + bits : nameFormat.formatted(bits);
    }

    public static EncryptionAlgorithm fromIanaId(int id) {
        for (EncryptionAlgorithm a : values()) {
            if (a.ianaId == id) {
                return a;
            }
        }
        throw new IllegalArgumentException("unsupported ESP encryption transform " + id);
    }
}
