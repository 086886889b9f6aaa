package io.isthmus.ike.message;

/**
 * Encrypted and Authenticated payload (RFC 7296 §3.14): IV, ciphertext and ICV as received.
 * {@code firstInnerPayload} is its Next Payload field, the type of the first payload inside.
 */
public record SkPayload(int firstInnerPayload, byte[] content) implements Payload {
    public SkPayload {
        content = content.clone();
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    @Override
    public int type() {
        return PayloadType.SK;
    }
}
