package io.isthmus.ike.crypto;

import java.util.Arrays;

/**
 * The seven keys of an IKE SA (RFC 7296 §2.14). For AEAD ciphers SK_ai and SK_ar are empty and
 * SK_ei, SK_er end with the salt. Never printed; {@link #destroy()} wipes them.
 */
public record IkeSaKeys(byte[] skD, byte[] skAi, byte[] skAr, byte[] skEi, byte[] skEr, byte[] skPi, byte[] skPr) {

    public void destroy() {
        for (byte[] k : new byte[][] {skD, skAi, skAr, skEi, skEr, skPi, skPr}) {
            Arrays.fill(k, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "IkeSaKeys[hidden]";
    }
}
