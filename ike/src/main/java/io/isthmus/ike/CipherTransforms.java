package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.Transform;

/** A cipher suite as the ENCR and INTEG transforms of an SA payload's proposal (RFC 7296 §3.3), both ways: the part IKE and ESP proposals share. */
final class CipherTransforms {
    private CipherTransforms() {
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
}
