package io.isthmus.ike.message;

/** EAP payload (RFC 7296 §3.16): recognised so it can be refused; gateways authenticate with PSK or certificates. */
public record EapPayload(byte[] message) implements Payload {
    public EapPayload {
        message = message.clone();
    }

    @Override
    public byte[] message() {
        return message.clone();
    }

    @Override
    public int type() {
        return PayloadType.EAP;
    }
}
