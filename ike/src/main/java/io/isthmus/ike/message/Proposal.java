package io.isthmus.ike.message;

import java.util.List;

/**
 * A Proposal substructure (RFC 7296 §3.3.1): protocol (IKE, AH or ESP), the sender's SPI for it,
 * and the transforms offered. Among transforms of one type the peer picks one; across types all.
 */
public record Proposal(int number, int protocolId, byte[] spi, List<Transform> transforms) {
    public static final int PROTOCOL_IKE = 1;
    public static final int PROTOCOL_AH = 2;
    public static final int PROTOCOL_ESP = 3;

    public Proposal {
        spi = spi.clone();
        transforms = List.copyOf(transforms);
        if (number < 1 || number > 255) {
            throw new IllegalArgumentException("proposal number " + number);
        }
        if (spi.length > 255 || transforms.size() > 255) {
            throw new IllegalArgumentException("proposal too large");
        }
    }

    @Override
    public byte[] spi() {
        return spi.clone();
    }

    public List<Transform> transformsOfType(int type) {
        return transforms.stream().filter(t -> t.type() == type).toList();
    }
}
