package io.isthmus.ike.message;

/** Notify payload (RFC 7296 §3.10). */
public record NotifyPayload(int protocolId, byte[] spi, int notifyType, byte[] data) implements Payload {
    public NotifyPayload {
        spi = spi.clone();
        data = data.clone();
    }

    public static NotifyPayload of(int notifyType) {
        return new NotifyPayload(0, new byte[0], notifyType, new byte[0]);
    }

    public static NotifyPayload of(int notifyType, byte[] data) {
        return new NotifyPayload(0, new byte[0], notifyType, data);
    }

    @Override
    public byte[] spi() {
        return spi.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    public boolean isError() {
        return NotifyType.isError(notifyType);
    }

    @Override
    public int type() {
        return PayloadType.NOTIFY;
    }

    @Override
    public String toString() {
        return "N(" + NotifyType.name(notifyType) + ")";
    }
}
