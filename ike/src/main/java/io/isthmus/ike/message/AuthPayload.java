package io.isthmus.ike.message;

/** Authentication payload (RFC 7296 §3.8, RFC 7427 for method 14). */
public record AuthPayload(int method, byte[] data) implements Payload {
    public static final int RSA_DIGITAL_SIGNATURE = 1;
    public static final int SHARED_KEY_MIC = 2;
    public static final int ECDSA_SHA256_P256 = 9;
    public static final int ECDSA_SHA384_P384 = 10;
    public static final int ECDSA_SHA512_P521 = 11;
    public static final int DIGITAL_SIGNATURE = 14;

    public AuthPayload {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public int type() {
        return PayloadType.AUTH;
    }
}
