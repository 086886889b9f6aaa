package io.isthmus.ike.crypto;

/**
 * The IKEv2 key schedule (RFC 7296 §2.13-2.18). Nonces and SPIs always go initiator first, the
 * IKE SA's original roles, whoever started the exchange at hand.
 */
public final class KeyDerivation {
    private KeyDerivation() {
    }

    /** SKEYSEED = prf(Ni | Nr, g^ir)  (§2.14) */
    public static byte[] skeyseed(PseudorandomFunction prf, byte[] ni, byte[] nr, byte[] sharedSecret) {
        return prf.compute(concat(ni, nr), sharedSecret);
    }

    /** SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)  (§2.18, IKE SA rekey) */
    public static byte[] rekeySkeyseed(PseudorandomFunction prf, byte[] oldSkD, byte[] sharedSecret, byte[] ni, byte[] nr) {
        return prf.compute(oldSkD, sharedSecret, ni, nr);
    }

    /** prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), cut into the seven keys of the IKE SA (§2.14). */
    public static IkeSaKeys ikeSaKeys(PseudorandomFunction prf, byte[] skeyseed, byte[] ni, byte[] nr, long spiI, long spiR,
                                      int integrityKeyLength, int encryptionKeyLength) {
        return ikeSaKeys(prf, prf.length(), skeyseed, ni, nr, spiI, spiR, integrityKeyLength, encryptionKeyLength);
    }

    /**
     * The keys of an IKE SA made by rekeying: SKEYSEED and prf+ use the old SA's PRF, while
     * SK_d, SK_pi and SK_pr take the length of the new one's (strongSwan reads §2.18 so, and
     * the two only differ when a rekey changes the PRF).
     */
    public static IkeSaKeys rekeyedIkeSaKeys(PseudorandomFunction oldPrf, byte[] oldSkD, PseudorandomFunction newPrf, byte[] sharedSecret,
                                             byte[] ni, byte[] nr, long spiI, long spiR, int integrityKeyLength, int encryptionKeyLength) {
        byte[] skeyseed = rekeySkeyseed(oldPrf, oldSkD, sharedSecret, ni, nr);
        try {
            return ikeSaKeys(oldPrf, newPrf.length(), skeyseed, ni, nr, spiI, spiR, integrityKeyLength, encryptionKeyLength);
        } finally {
            java.util.Arrays.fill(skeyseed, (byte) 0);
        }
    }

    private static IkeSaKeys ikeSaKeys(PseudorandomFunction prf, int prfKeyLength, byte[] skeyseed, byte[] ni, byte[] nr, long spiI,
                                       long spiR, int integrityKeyLength, int encryptionKeyLength) {
        int total = 3 * prfKeyLength + 2 * integrityKeyLength + 2 * encryptionKeyLength;
        byte[] seed = concat(ni, nr, bytes(spiI), bytes(spiR));
        byte[] stream = prf.plus(skeyseed, seed, total);
        int at = 0;
        byte[] skD = slice(stream, at, prfKeyLength);
        at += prfKeyLength;
        byte[] skAi = slice(stream, at, integrityKeyLength);
        at += integrityKeyLength;
        byte[] skAr = slice(stream, at, integrityKeyLength);
        at += integrityKeyLength;
        byte[] skEi = slice(stream, at, encryptionKeyLength);
        at += encryptionKeyLength;
        byte[] skEr = slice(stream, at, encryptionKeyLength);
        at += encryptionKeyLength;
        byte[] skPi = slice(stream, at, prfKeyLength);
        at += prfKeyLength;
        byte[] skPr = slice(stream, at, prfKeyLength);
        java.util.Arrays.fill(stream, (byte) 0);
        return new IkeSaKeys(skD, skAi, skAr, skEi, skEr, skPi, skPr);
    }

    /**
     * KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)  (§2.17): all keys for the initiator-to-responder
     * SA (encryption, then integrity), then the responder-to-initiator SA's.
     */
    public static byte[] childKeymat(PseudorandomFunction prf, byte[] skD, byte[] pfsSecret, byte[] ni, byte[] nr, int length) {
        byte[] seed = pfsSecret == null ? concat(ni, nr) : concat(pfsSecret, ni, nr);
        return prf.plus(skD, seed, length);
    }

    static byte[] bytes(long spi) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (spi >>> (56 - 8 * i));
        }
        return b;
    }

    static byte[] slice(byte[] from, int offset, int length) {
        return java.util.Arrays.copyOfRange(from, offset, offset + length);
    }

    public static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
