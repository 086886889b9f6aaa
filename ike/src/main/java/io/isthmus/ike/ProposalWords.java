package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.Transform;

/** strongSwan's proposal keywords, and the cipher part of proposals both kinds share. */
final class ProposalWords {
    record Cipher(EncryptionAlgorithm encryption, int keyBits) {
    }

    static Cipher cipher(String w) {
        return switch (w) {
            case "aes128", "aes" -> new Cipher(EncryptionAlgorithm.AES_CBC, 128);
            case "aes192" -> new Cipher(EncryptionAlgorithm.AES_CBC, 192);
            case "aes256" -> new Cipher(EncryptionAlgorithm.AES_CBC, 256);
            case "aes128gcm16", "aes128gcm128" -> new Cipher(EncryptionAlgorithm.AES_GCM_16, 128);
            case "aes192gcm16", "aes192gcm128" -> new Cipher(EncryptionAlgorithm.AES_GCM_16, 192);
            case "aes256gcm16", "aes256gcm128" -> new Cipher(EncryptionAlgorithm.AES_GCM_16, 256);
            case "chacha20poly1305" -> new Cipher(EncryptionAlgorithm.CHACHA20_POLY1305, 256);
            default -> null;
        };
    }

    static IntegrityAlgorithm integrity(String w) {
        return switch (w) {
            case "sha256", "sha2_256" -> IntegrityAlgorithm.HMAC_SHA2_256_128;
            case "sha384", "sha2_384" -> IntegrityAlgorithm.HMAC_SHA2_384_192;
            case "sha512", "sha2_512" -> IntegrityAlgorithm.HMAC_SHA2_512_256;
            default -> null;
        };
    }

    static PseudorandomFunction prf(String w) {
        for (PseudorandomFunction p : PseudorandomFunction.values()) {
            if (p.keyword().equals(w)) {
                return p;
            }
        }
        return null;
    }

    static KeyExchangeMethod keyExchange(String w) {
        for (KeyExchangeMethod k : KeyExchangeMethod.values()) {
            if (k.keyword().equals(w) || (k == KeyExchangeMethod.CURVE25519 && w.equals("curve25519"))) {
                return k;
            }
        }
        return null;
    }

    /** ChaCha20-Poly1305 has one key size and takes no Key Length attribute (RFC 7634 §2, §4). */
    static Transform encryptionTransform(CipherSuite cipher) {
        int bits = cipher.encryption() == EncryptionAlgorithm.CHACHA20_POLY1305 ? 0 : cipher.keyBits();
        return new Transform(Transform.ENCR, cipher.encryption().ianaId(), bits);
    }

    static boolean offersCipher(Proposal p, CipherSuite cipher) {
        boolean encryption = p.transformsOfType(Transform.ENCR).stream().anyMatch(t -> t.id() == cipher.encryption().ianaId()
                && (t.keyLength() == cipher.keyBits() || (t.keyLength() == 0 && cipher.encryption() == EncryptionAlgorithm.CHACHA20_POLY1305)));
        if (!encryption) {
            return false;
        }
        var integrities = p.transformsOfType(Transform.INTEG);
        if (cipher.integrity() == IntegrityAlgorithm.NONE) {
            return integrities.isEmpty() || integrities.stream().anyMatch(t -> t.id() == 0);
        }
        return integrities.stream().anyMatch(t -> t.id() == cipher.integrity().ianaId());
    }

    static CipherSuite chosenCipher(Proposal p) {
        var encryptions = p.transformsOfType(Transform.ENCR);
        if (encryptions.size() != 1) {
            return null;
        }
        Transform e = encryptions.getFirst();
        EncryptionAlgorithm encryption;
        try {
            encryption = EncryptionAlgorithm.fromIanaId(e.id());
        } catch (IllegalArgumentException unknown) {
            return null;
        }
        int bits = e.keyLength() == 0 && encryption == EncryptionAlgorithm.CHACHA20_POLY1305 ? 256 : e.keyLength();
        IntegrityAlgorithm integrity = IntegrityAlgorithm.NONE;
        var integrities = p.transformsOfType(Transform.INTEG);
        if (!integrities.isEmpty() && integrities.getFirst().id() != 0) {
            try {
                integrity = IntegrityAlgorithm.fromIanaId(integrities.getFirst().id());
            } catch (IllegalArgumentException unknown) {
                return null;
            }
        }
        try {
            return new CipherSuite(encryption, bits, integrity);
        } catch (IllegalArgumentException invalid) {
            return null;
        }
    }

    private ProposalWords() {
    }
}
