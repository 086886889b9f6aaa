package io.isthmus.ike.message;

/** Nonce payload (RFC 7296 §3.9): 16 to 256 random bytes. */
public record NoncePayload(byte[] nonce) implements Payload {
    public static final int MIN_LENGTH = 16;
    public static final int MAX_LENGTH = 256;

    public NoncePayload {
        nonce = nonce.clone();
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public int type() {
        return PayloadType.NONCE;
    }
}
