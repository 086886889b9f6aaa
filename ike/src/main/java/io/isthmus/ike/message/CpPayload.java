package io.isthmus.ike.message;

import java.util.List;

/** Configuration payload (RFC 7296 §3.15): parsed and carried; site-to-site use makes no requests. */
public record CpPayload(int cfgType, List<Attribute> attributes) implements Payload {
    public static final int CFG_REQUEST = 1;
    public static final int CFG_REPLY = 2;
    public static final int CFG_SET = 3;
    public static final int CFG_ACK = 4;

    public record Attribute(int type, byte[] value) {
        public Attribute {
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }
    }

    public CpPayload {
        attributes = List.copyOf(attributes);
    }

    @Override
    public int type() {
        return PayloadType.CP;
    }
}
