package io.isthmus.ike.message;

/**
 * A Transform substructure (RFC 7296 §3.3.2): a type (ENCR, PRF, INTEG, KE, ESN), an ID, and the
 * only attribute IKEv2 defines, the key length in bits (0 when absent).
 */
public record Transform(int type, int id, int keyLength) {
    public static final int ENCR = 1;
    public static final int PRF = 2;
    public static final int INTEG = 3;
    /** Key Exchange Method, formerly Diffie-Hellman group. */
    public static final int KE = 4;
    public static final int ESN = 5;

    /** The Key Length attribute (RFC 7296 §3.3.5): TV format, type 14. */
    static final int ATTRIBUTE_KEY_LENGTH = 14;

    public Transform {
        if (type < 1 || type > 255 || id < 0 || id > 0xFFFF || keyLength < 0 || keyLength > 0xFFFF) {
            throw new IllegalArgumentException("transform out of range: type " + type + " id " + id + " key length " + keyLength);
        }
    }

    public static Transform of(int type, int id) {
        return new Transform(type, id, 0);
    }
}
