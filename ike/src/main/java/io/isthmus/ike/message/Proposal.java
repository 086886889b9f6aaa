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

    /** An ESP SPI as proposals, notifies and deletes carry it (4 bytes, network order). */
    public static byte[] spiBytes(int spi) {
        return new byte[] {(byte) (spi >>> 24), (byte) (spi >>> 16), (byte) (spi >>> 8), (byte) spi};
    }

    public static int spiInt(byte[] spi) {
        return ((spi[0] & 0xFF) << 24) | ((spi[1] & 0xFF) << 16) | ((spi[2] & 0xFF) << 8) | (spi[3] & 0xFF);
    }

    /** An IKE SPI as the SA payload of an IKE rekey carries it (8 bytes). */
    public static byte[] spiBytes(long spi) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (spi >>> (56 - 8 * i));
        }
        return b;
    }

    public static long spiLong(byte[] spi) {
        long v = 0;
        for (byte b : spi) {
            v = (v << 8) | (b & 0xFF);
        }
        return v;
    }
}
