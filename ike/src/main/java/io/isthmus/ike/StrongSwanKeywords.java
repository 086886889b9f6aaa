package io.isthmus.ike;

import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;

/**
 * strongSwan's proposal keywords ("aes256gcm16", "prfsha384", "ecp384" ...), which IkeProposal
 * and ChildProposal parse: how tests, the lab and an operator used to swanctl.conf write proposals.
 */
final class StrongSwanKeywords {
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

    private StrongSwanKeywords() {
    }
}
