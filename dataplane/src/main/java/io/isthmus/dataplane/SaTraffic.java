package io.isthmus.dataplane;

/** A child SA's traffic, each direction's inner packets and bytes. */
public record SaTraffic(long inPackets, long inBytes, long outPackets, long outBytes) {
    public static final SaTraffic NONE = new SaTraffic(0, 0, 0, 0);
}
