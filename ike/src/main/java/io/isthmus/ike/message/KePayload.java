package io.isthmus.ike.message;

/** Key Exchange payload (RFC 7296 §3.4): the group and this side's public value. */
public record KePayload(int group, byte[] data) implements Payload {
    public KePayload {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public int type() {
        return PayloadType.KE;
    }
}
