package io.isthmus.ike.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * IKEv2 PRFs (Transform Type 2) and prf+ (RFC 7296 §2.13). HMAC-SHA1 is accepted from peers that
 * still offer it; Isthmus proposes the SHA-2 ones.
 */
public enum PseudorandomFunction {
    HMAC_SHA1(2, "HmacSHA1", 20, "prfsha1"),
    HMAC_SHA2_256(5, "HmacSHA256", 32, "prfsha256"),
    HMAC_SHA2_384(6, "HmacSHA384", 48, "prfsha384"),
    HMAC_SHA2_512(7, "HmacSHA512", 64, "prfsha512");

    private final int ianaId;
    private final String jdkName;
    private final int length;
    private final String keyword;

    PseudorandomFunction(int ianaId, String jdkName, int length, String keyword) {
        this.ianaId = ianaId;
        this.jdkName = jdkName;
        this.length = length;
        this.keyword = keyword;
    }

    public int ianaId() {
        return ianaId;
    }

    /** Output length, which is also the preferred key length (SK_d, SK_pi, SK_pr). */
    public int length() {
        return length;
    }

    /** strongSwan's proposal keyword, e.g. {@code prfsha256}. */
    public String keyword() {
        return keyword;
    }

    public static PseudorandomFunction fromIanaId(int id) {
        for (PseudorandomFunction p : values()) {
            if (p.ianaId == id) {
                return p;
            }
        }
        return null;
    }

    /** prf(key, data...) */
    public byte[] compute(byte[] key, byte[]... data) {
        try {
            Mac mac = Mac.getInstance(jdkName);
            mac.init(new SecretKeySpec(key, jdkName));
            for (byte[] d : data) {
                mac.update(d);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(jdkName + " unavailable", e);
        }
    }

    /** prf+(key, seed): T1 | T2 | ... with Tn = prf(key, Tn-1 | seed | n), cut to {@code length} bytes. */
    public byte[] plus(byte[] key, byte[] seed, int length) {
        if (length > 255 * this.length) {
            throw new IllegalArgumentException("prf+ yields at most 255 blocks");
        }
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        for (int n = 1, at = 0; at < length; n++) {
            t = compute(key, t, seed, new byte[] {(byte) n});
            System.arraycopy(t, 0, out, at, Math.min(t.length, length - at));
            at += t.length;
        }
        Arrays.fill(t, (byte) 0);
        return out;
    }
}
