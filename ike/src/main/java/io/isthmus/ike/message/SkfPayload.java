package io.isthmus.ike.message;

/**
 * Encrypted and Authenticated Fragment payload (RFC 7383 §2.5). Only fragment 1 carries the
 * type of the first inner payload; the others have 0 there.
 */
public record SkfPayload(int firstInnerPayload, int fragmentNumber, int totalFragments, byte[] content) implements Payload {
    public SkfPayload {
        content = content.clone();
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    @Override
    public int type() {
        return PayloadType.SKF;
    }
}
