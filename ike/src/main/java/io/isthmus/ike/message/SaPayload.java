package io.isthmus.ike.message;

import java.util.List;

/** Security Association payload (RFC 7296 §3.3): proposals in order of preference. */
public record SaPayload(List<Proposal> proposals) implements Payload {
    public SaPayload {
        proposals = List.copyOf(proposals);
    }

    @Override
    public int type() {
        return PayloadType.SA;
    }
}
