package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.Transform;
import java.util.ArrayList;
import java.util.List;

/**
 * One IKE SA proposal: encryption (with integrity unless AEAD), PRF and key exchange method,
 * written as strongSwan writes it: {@code aes128gcm16-prfsha256-x25519}, {@code aes256-sha256-modp2048}
 * (there the PRF follows the integrity algorithm).
 */
public record IkeProposal(CipherSuite cipher, PseudorandomFunction prf, KeyExchangeMethod keyExchange) {

    public static IkeProposal parse(String text) {
        List<String> words = List.of(text.strip().toLowerCase().split("-"));
        EncryptionAlgorithm encryption = null;
        int keyBits = 0;
        IntegrityAlgorithm integrity = IntegrityAlgorithm.NONE;
        PseudorandomFunction prf = null;
        KeyExchangeMethod ke = null;
        for (String w : words) {
            StrongSwanKeywords.Cipher c = StrongSwanKeywords.cipher(w);
            if (c != null) {
                encryption = c.encryption();
                keyBits = c.keyBits();
                continue;
            }
            IntegrityAlgorithm i = StrongSwanKeywords.integrity(w);
            if (i != null) {
                integrity = i;
                continue;
            }
            PseudorandomFunction p = StrongSwanKeywords.prf(w);
            if (p != null) {
                prf = p;
                continue;
            }
            KeyExchangeMethod k = StrongSwanKeywords.keyExchange(w);
            if (k != null) {
                ke = k;
                continue;
            }
            throw new IllegalArgumentException("unknown algorithm '" + w + "' in IKE proposal '" + text + "'");
        }
        if (encryption == null || ke == null) {
            throw new IllegalArgumentException("IKE proposal '" + text + "' needs an encryption algorithm and a key exchange method");
        }
        if (prf == null) {
            prf = switch (integrity) {
                case HMAC_SHA2_256_128 -> PseudorandomFunction.HMAC_SHA2_256;
                case HMAC_SHA2_384_192 -> PseudorandomFunction.HMAC_SHA2_384;
                case HMAC_SHA2_512_256 -> PseudorandomFunction.HMAC_SHA2_512;
                case NONE -> throw new IllegalArgumentException("IKE proposal '" + text + "' with an AEAD cipher needs a PRF (prfsha256 ...)");
            };
        }
        return new IkeProposal(new CipherSuite(encryption, keyBits, integrity), prf, ke);
    }

    public Proposal toProposal(int number, byte[] spi) {
        List<Transform> transforms = new ArrayList<>();
        transforms.add(CipherTransforms.encryptionTransform(cipher));
        transforms.add(Transform.of(Transform.PRF, prf.ianaId()));
        if (cipher.integrity() != IntegrityAlgorithm.NONE) {
            transforms.add(Transform.of(Transform.INTEG, cipher.integrity().ianaId()));
        }
        transforms.add(Transform.of(Transform.KE, keyExchange.ianaId()));
        return new Proposal(number, Proposal.PROTOCOL_IKE, spi, transforms);
    }

    /** Whether a received proposal offers exactly this combination among its choices. */
    public boolean offeredBy(Proposal p) {
        return p.protocolId() == Proposal.PROTOCOL_IKE
                && CipherTransforms.offersCipher(p, cipher)
                && p.transformsOfType(Transform.PRF).stream().anyMatch(t -> t.id() == prf.ianaId())
                && p.transformsOfType(Transform.KE).stream().anyMatch(t -> t.id() == keyExchange.ianaId());
    }

    /** The transforms of the choice made, as the responder returns them (one per type). */
    public static IkeProposal fromChosen(Proposal p) {
        CipherSuite cipher = CipherTransforms.chosenCipher(p);
        PseudorandomFunction prf = p.transformsOfType(Transform.PRF).stream().findFirst()
                .map(t -> PseudorandomFunction.fromIanaId(t.id())).orElse(null);
        KeyExchangeMethod ke = p.transformsOfType(Transform.KE).stream().findFirst()
                .map(t -> KeyExchangeMethod.fromIanaId(t.id())).orElse(null);
        if (cipher == null || prf == null || ke == null) {
            return null;
        }
        return new IkeProposal(cipher, prf, ke);
    }

    @Override
    public String toString() {
        return cipher + "-" + prf.keyword() + "-" + keyExchange.keyword();
    }
}
