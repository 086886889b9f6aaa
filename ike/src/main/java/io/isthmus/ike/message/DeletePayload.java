package io.isthmus.ike.message;

import java.util.List;

/** Delete payload (RFC 7296 §3.11): the IKE SA itself (no SPIs) or child SAs by inbound SPI. */
public record DeletePayload(int protocolId, int spiSize, List<byte[]> spis) implements Payload {
    public DeletePayload {
        spis = spis.stream().map(byte[]::clone).toList();
        for (byte[] spi : spis) {
            if (spi.length != spiSize) {
                throw new IllegalArgumentException("SPI of " + spi.length + " bytes in a Delete of " + spiSize);
            }
        }
    }

    @Override
    public List<byte[]> spis() {
        return spis.stream().map(byte[]::clone).toList();
    }

    @Override
    public int type() {
        return PayloadType.DELETE;
    }
}
