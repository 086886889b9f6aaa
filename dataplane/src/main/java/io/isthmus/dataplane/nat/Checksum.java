package io.isthmus.dataplane.nat;

import io.isthmus.dataplane.ip.IpPacket;

/**
 * Incremental updates of Internet checksums (RFC 1624 eqn. 3, {@code HC' = ~(~HC + ~m + m')}),
 * for a rewrite that changes a few 16-bit words of a packet: cheaper than summing the packet
 * again, and exact: for a checksum that was right before, the result is the very value a full
 * recomputation gives (eqn. 3 never yields the +0/-0 ambiguity eqn. 2 does), which
 * {@code ChecksumPropertyTest} checks. Chained updates stay exact for the same reason.
 */
final class Checksum {
    private Checksum() {
    }

    /** The checksum after a 16-bit word changed from {@code old} to {@code now}. */
    static int word(int checksum, int old, int now) {
        return IpPacket.adjust(checksum, old & 0xFFFF, now & 0xFFFF);
    }

    /** The checksum after a 32-bit value (an address) changed, both words aligned as in the packet. */
    static int address(int checksum, int old, int now) {
        return word(word(checksum, old >>> 16, now >>> 16), old, now);
    }

    /**
     * The UDP checksum after a change: 0 means "none" (RFC 768) and stays 0; a result of 0 is
     * sent as 0xFFFF, as a sender would.
     */
    static int udpAddress(int checksum, int old, int now) {
        if (checksum == 0) {
            return 0;
        }
        int c = address(checksum, old, now);
        return c == 0 ? 0xFFFF : c;
    }

    static int udpWord(int checksum, int old, int now) {
        if (checksum == 0) {
            return 0;
        }
        int c = word(checksum, old, now);
        return c == 0 ? 0xFFFF : c;
    }

    static int u32(byte[] p, int i) {
        return (int) IpPacket.u32(p, i);
    }

    static void put32(byte[] p, int i, int v) {
        IpPacket.put32(p, i, v & 0xFFFFFFFFL);
    }
}
