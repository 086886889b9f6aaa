package io.isthmus.dataplane.nat;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.Arrays;

/** IPv4 packets for NAT tests, built with every checksum summed in full (the reference the incremental updates must equal). */
final class NatPackets {
    static final int TCP = IpPacket.PROTO_TCP;
    static final int UDP = IpPacket.PROTO_UDP;
    static final int ICMP = IpPacket.PROTO_ICMP;

    private NatPackets() {
    }

    static int address(String dotted) {
        String[] parts = dotted.split("\\.");
        int a = 0;
        for (String part : parts) {
            a = a << 8 | Integer.parseInt(part);
        }
        return a;
    }

    static String text(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xFF) + "." + (a >>> 8 & 0xFF) + "." + (a & 0xFF);
    }

    /**
     * A packet of {@code proto} with a payload of {@code payload} bytes from {@code seed}; ports for
     * TCP/UDP, the identifier (sport) for an ICMP echo request; IPv4 options of {@code optionWords}
     * 4-byte words. With {@code udpChecksum} false, UDP carries 0 (none).
     */
    static byte[] packet(int proto, int src, int dst, int sport, int dport, int payload, int optionWords, boolean udpChecksum, long seed) {
        int ihl = 20 + 4 * optionWords;
        int l4len = switch (proto) {
            case TCP -> 20;
            case UDP, ICMP -> 8;
            default -> 0;
        };
        byte[] p = new byte[ihl + l4len + payload];
        p[0] = (byte) (0x40 | ihl / 4);
        IpPacket.put16(p, 2, p.length);
        IpPacket.put16(p, 4, (int) seed & 0xFFFF);
        p[8] = 64;
        p[9] = (byte) proto;
        IpPacket.put32(p, 12, src & 0xFFFFFFFFL);
        IpPacket.put32(p, 16, dst & 0xFFFFFFFFL);
        for (int i = 20; i < ihl; i++) {
            p[i] = 1; // NOP options
        }
        long x = seed;
        for (int i = ihl + l4len; i < p.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            p[i] = (byte) (x >>> 56);
        }
        int l4 = ihl;
        if (proto == TCP) {
            IpPacket.put16(p, l4, sport);
            IpPacket.put16(p, l4 + 2, dport);
            IpPacket.put32(p, l4 + 4, seed & 0xFFFFFFFFL);
            p[l4 + 12] = 0x50;
            p[l4 + 13] = 0x18;
            IpPacket.put16(p, l4 + 14, 1000);
        } else if (proto == UDP) {
            IpPacket.put16(p, l4, sport);
            IpPacket.put16(p, l4 + 2, dport);
            IpPacket.put16(p, l4 + 4, p.length - ihl);
        } else if (proto == ICMP) {
            p[l4] = 8;
            IpPacket.put16(p, l4 + 4, sport);
            IpPacket.put16(p, l4 + 6, 1);
        }
        fill(p, udpChecksum);
        return p;
    }

    /** Every checksum of the packet summed again in full: the IPv4 header's and the transport's. */
    static void fill(byte[] p, boolean udpChecksum) {
        IpPacket.put16(p, 10, 0);
        IpPacket.put16(p, 10, ~IpPacket.sum(p, 0, ihl(p), 0) & 0xFFFF);
        int at = checksumAt(p);
        if (at < 0) {
            return;
        }
        IpPacket.put16(p, at, 0);
        if (proto(p) == UDP && !udpChecksum) {
            return;
        }
        IpPacket.put16(p, at, transportChecksum(p));
    }

    static int ihl(byte[] p) {
        return (p[0] & 0x0F) << 2;
    }

    static int proto(byte[] p) {
        return p[9] & 0xFF;
    }

    /** Where the transport checksum is, -1 for none. */
    static int checksumAt(byte[] p) {
        return switch (proto(p)) {
            case TCP -> ihl(p) + 16;
            case UDP -> ihl(p) + 6;
            case ICMP -> ihl(p) + 2;
            default -> -1;
        };
    }

    /** What the transport checksum should be, summed in full over the packet as it is now (its own field counted as 0). */
    static int transportChecksum(byte[] p) {
        byte[] c = p.clone();
        int at = checksumAt(c);
        IpPacket.put16(c, at, 0);
        int l4 = ihl(c);
        int len = IpPacket.u16(c, 2) - l4;
        int initial = proto(c) == ICMP ? 0 : IpPacket.pseudoHeaderSum(c, 0, proto(c), len);
        int sum = ~IpPacket.sum(c, l4, len, initial) & 0xFFFF;
        return proto(c) == UDP && sum == 0 ? 0xFFFF : sum;
    }

    static int ipChecksum(byte[] p) {
        byte[] c = Arrays.copyOf(p, ihl(p));
        IpPacket.put16(c, 10, 0);
        return ~IpPacket.sum(c, 0, c.length, 0) & 0xFFFF;
    }

    /**
     * An ICMP error of {@code type}/{@code code} from {@code src} to {@code dst}, quoting the first
     * {@code quoted} bytes of {@code about}; checksums in full.
     */
    static byte[] icmpError(int type, int code, int src, int dst, byte[] about, int quoted) {
        byte[] p = new byte[20 + 8 + quoted];
        p[0] = 0x45;
        IpPacket.put16(p, 2, p.length);
        p[8] = 64;
        p[9] = ICMP;
        IpPacket.put32(p, 12, src & 0xFFFFFFFFL);
        IpPacket.put32(p, 16, dst & 0xFFFFFFFFL);
        p[20] = (byte) type;
        p[21] = (byte) code;
        if (type == 3 && code == 4) {
            IpPacket.put16(p, 26, 1400);
        }
        System.arraycopy(about, 0, p, 28, quoted);
        fill(p, true);
        return p;
    }

    static int src(byte[] p, int off) {
        return (int) IpPacket.u32(p, off + 12);
    }

    static int dst(byte[] p, int off) {
        return (int) IpPacket.u32(p, off + 16);
    }
}
