package io.isthmus.ike.message;

/**
 * A payload of a type this implementation does not know. Without the critical bit it is skipped
 * (RFC 7296 §2.5); with it, the message is refused with UNSUPPORTED_CRITICAL_PAYLOAD, which
 * {@link PayloadCodec} raises before one of these is ever made.
 */
public record UnsupportedPayload(int payloadType, byte[] body) implements Payload {
    public UnsupportedPayload {
        body = body.clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    @Override
    public int type() {
        return payloadType;
    }
}
