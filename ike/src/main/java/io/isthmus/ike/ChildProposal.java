package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.Transform;
import java.util.ArrayList;
import java.util.List;

/**
 * One ESP proposal, as strongSwan writes it: {@code aes128gcm16-x25519-esn}. A key exchange
 * method means PFS in CREATE_CHILD_SA (it is left out of the proposal sent in IKE_AUTH, which
 * has no KE payload); {@code esn} or {@code noesn} (the default) choose the sequence numbers.
 */
public record ChildProposal(CipherSuite cipher, boolean esn, KeyExchangeMethod pfs) {

    public static ChildProposal parse(String text) {
        EncryptionAlgorithm encryption = null;
        int keyBits = 0;
        IntegrityAlgorithm integrity = IntegrityAlgorithm.NONE;
        boolean esn = false;
        KeyExchangeMethod ke = null;
        for (String w : text.strip().toLowerCase().split("-")) {
            StrongSwanKeywords.Cipher c = StrongSwanKeywords.cipher(w);
            IntegrityAlgorithm i = c == null ? StrongSwanKeywords.integrity(w) : null;
            KeyExchangeMethod k = c == null && i == null ? StrongSwanKeywords.keyExchange(w) : null;
            if (c != null) {
                encryption = c.encryption();
                keyBits = c.keyBits();
            } else if (i != null) {
                integrity = i;
            } else if (k != null) {
                ke = k;
            } else if (w.equals("esn")) {
                esn = true;
            } else if (!w.equals("noesn")) {
                throw new IllegalArgumentException("unknown algorithm '" + w + "' in ESP proposal '" + text + "'");
            }
        }
        if (encryption == null) {
            throw new IllegalArgumentException("ESP proposal '" + text + "' needs an encryption algorithm");
        }
        return new ChildProposal(new CipherSuite(encryption, keyBits, integrity), esn, ke);
    }

    /** @param withKeyExchange include the PFS group (CREATE_CHILD_SA) or not (IKE_AUTH) */
    public Proposal toProposal(int number, int spi, boolean withKeyExchange) {
        List<Transform> transforms = new ArrayList<>();
        transforms.add(CipherTransforms.encryptionTransform(cipher));
        if (cipher.integrity() != IntegrityAlgorithm.NONE) {
            transforms.add(Transform.of(Transform.INTEG, cipher.integrity().ianaId()));
        }
        if (withKeyExchange && pfs != null) {
            transforms.add(Transform.of(Transform.KE, pfs.ianaId()));
        }
        transforms.add(Transform.of(Transform.ESN, esn ? 1 : 0));
        return new Proposal(number, Proposal.PROTOCOL_ESP, Proposal.spiBytes(spi), transforms);
    }

    public boolean offeredBy(Proposal p, boolean withKeyExchange) {
        if (p.protocolId() != Proposal.PROTOCOL_ESP || p.spi().length != 4 || !CipherTransforms.offersCipher(p, cipher)) {
            return false;
        }
        List<Transform> esnOffered = p.transformsOfType(Transform.ESN);
        boolean esnOk = esnOffered.isEmpty() ? !esn : esnOffered.stream().anyMatch(t -> t.id() == (esn ? 1 : 0));
        List<Transform> keOffered = p.transformsOfType(Transform.KE);
        boolean keOk = !withKeyExchange || pfs == null
                ? keOffered.isEmpty() || keOffered.stream().anyMatch(t -> t.id() == 0)
                : keOffered.stream().anyMatch(t -> t.id() == pfs.ianaId());
        return esnOk && keOk;
    }

    public static ChildProposal fromChosen(Proposal p) {
        CipherSuite cipher = CipherTransforms.chosenCipher(p);
        if (cipher == null) {
            return null;
        }
        boolean esn = p.transformsOfType(Transform.ESN).stream().anyMatch(t -> t.id() == 1);
        KeyExchangeMethod ke = p.transformsOfType(Transform.KE).stream().filter(t -> t.id() != 0).findFirst()
                .map(t -> KeyExchangeMethod.fromIanaId(t.id())).orElse(null);
        return new ChildProposal(cipher, esn, ke);
    }

    @Override
    public String toString() {
        return cipher + (pfs == null ? "" : "-" + pfs.keyword()) + (esn ? "-esn" : "");
    }
}
