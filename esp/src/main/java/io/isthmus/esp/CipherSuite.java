package io.isthmus.esp;

/**
 * What protects an ESP SA: an encryption transform with its key size and, for AES-CBC, an
 * integrity transform. {@link #toString()} uses strongSwan's proposal keywords
 * ({@code aes128gcm16}, {@code aes256-sha256}, {@code chacha20poly1305}) so logs read the way a
 * strongSwan user expects.
 */
public record CipherSuite(EncryptionAlgorithm encryption, int keyBits, IntegrityAlgorithm integrity) {
    public static final CipherSuite AES128_GCM16 = new CipherSuite(EncryptionAlgorithm.AES_GCM_16, 128, IntegrityAlgorithm.NONE);
    public static final CipherSuite AES256_GCM16 = new CipherSuite(EncryptionAlgorithm.AES_GCM_16, 256, IntegrityAlgorithm.NONE);
    public static final CipherSuite CHACHA20_POLY1305 = new CipherSuite(EncryptionAlgorithm.CHACHA20_POLY1305, 256, IntegrityAlgorithm.NONE);
    public static final CipherSuite AES128_SHA256 = new CipherSuite(EncryptionAlgorithm.AES_CBC, 128, IntegrityAlgorithm.HMAC_SHA2_256_128);
    public static final CipherSuite AES256_SHA256 = new CipherSuite(EncryptionAlgorithm.AES_CBC, 256, IntegrityAlgorithm.HMAC_SHA2_256_128);
    public static final CipherSuite AES256_SHA384 = new CipherSuite(EncryptionAlgorithm.AES_CBC, 256, IntegrityAlgorithm.HMAC_SHA2_384_192);
    public static final CipherSuite AES256_SHA512 = new CipherSuite(EncryptionAlgorithm.AES_CBC, 256, IntegrityAlgorithm.HMAC_SHA2_512_256);

    public CipherSuite {
        if (encryption == null || integrity == null) {
            throw new IllegalArgumentException("encryption and integrity must be given (IntegrityAlgorithm.NONE for AEAD)");
        }
        if (!encryption.supportsKeyBits(keyBits)) {
            throw new IllegalArgumentException(encryption + " does not take " + keyBits + "-bit keys");
        }
        if (encryption.isAead() && integrity != IntegrityAlgorithm.NONE) {
            throw new IllegalArgumentException(encryption + " is an AEAD transform: integrity must be NONE, not " + integrity);
        }
        if (!encryption.isAead() && integrity == IntegrityAlgorithm.NONE) {
            throw new IllegalArgumentException(encryption + " needs an integrity algorithm");
        }
    }

    /** Encryption keying material taken from KEYMAT: the key, then the salt if the transform has one. */
    public int encryptionKeyLength() {
        return keyBits / 8 + encryption.saltLength();
    }

    public int integrityKeyLength() {
        return integrity.keyLength();
    }

    public int ivLength() {
        return encryption.ivLength();
    }

    public int icvLength() {
        return encryption.isAead() ? encryption.aeadIcvLength() : integrity.icvLength();
    }

    public int blockAlignment() {
        return encryption.blockAlignment();
    }

    /** ESP header plus IV: where the inner packet starts, counted from the SPI. */
    public int headerLength() {
        return EspPacket.HEADER_LENGTH + ivLength();
    }

    /** Bytes the ESP packet adds to an inner packet of {@code innerLength} bytes. */
    public int overhead(int innerLength) {
        return headerLength() + paddedPayloadLength(innerLength) - innerLength + icvLength();
    }

    /** The encrypted length: inner packet, minimal padding and the 2-byte trailer. */
    public int paddedPayloadLength(int innerLength) {
        int align = blockAlignment();
        return (innerLength + EspPacket.TRAILER_LENGTH + align - 1) / align * align;
    }

    /** Room an encapsulating caller must leave after the inner packet for padding, trailer and ICV. */
    public int maxTrailerLength() {
        return blockAlignment() - 1 + EspPacket.TRAILER_LENGTH + icvLength();
    }

    /** How this suite's cryptography is carried out in this JVM, for the startup log. */
    public String implementation() {
        return switch (encryption) {
            case AES_GCM_16 -> "AES-ECB counter keystream (javax.crypto, AES-NI) + " + Ghash.implementation();
            case CHACHA20_POLY1305 -> ChaCha20.implementation() + " + Poly1305 in Java";
            case AES_CBC -> "chained AES-CBC (javax.crypto) + HMAC over " + integrity.digest() + " (MessageDigest)";
        };
    }

    PacketTransform newTransform(byte[] encryptionKey, byte[] integrityKey) {
        return switch (encryption) {
            case AES_GCM_16 -> new AesGcmTransform(encryptionKey, Ghash.preferred());
            case CHACHA20_POLY1305 -> new ChaCha20Poly1305Transform(encryptionKey, ChaCha20.jdkAvailable());
            case AES_CBC -> new AesCbcHmacTransform(encryptionKey, integrity, integrityKey);
        };
    }

    @Override
    public String toString() {
        String name = encryption.displayName(keyBits);
        return integrity == IntegrityAlgorithm.NONE ? name : name + "-" + integrity.shortName();
    }
}
