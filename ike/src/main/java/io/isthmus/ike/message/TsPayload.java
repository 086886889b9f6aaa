package io.isthmus.ike.message;

import java.util.List;

/** Traffic Selector payload, TSi or TSr (RFC 7296 §3.13). */
public record TsPayload(boolean initiator, List<TrafficSelector> selectors) implements Payload {
    public TsPayload {
        selectors = List.copyOf(selectors);
        if (selectors.size() > 255) {
            throw new IllegalArgumentException("at most 255 traffic selectors");
        }
    }

    @Override
    public int type() {
        return initiator ? PayloadType.TSI : PayloadType.TSR;
    }
}
