package io.isthmus.dataplane.capture;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** The IP and UDP headers an outer packet had on the wire, made from its addresses: what a capture writes before ESP or IKE. */
final class OuterHeaders {
    static final int ESP = 50;
    static final int UDP = 17;
    /** The length of an IPv6 header with a UDP header after it. */
    static final int IPV6_UDP = 48;

    private OuterHeaders() {
    }

    /**
     * Writes at {@code b[0]} the IPv4 (20 bytes) or IPv6 (40) header from {@code src} to {@code dst}, and
     * with {@code udp} a UDP header (8), for {@code payload} bytes after them; their length, or -1 if
     * the two addresses are of different families.
     */
    static int write(byte[] b, InetSocketAddress src, InetSocketAddress dst, boolean udp, int payload) {
        int transport = udp ? 8 : 0;
        int at;
        if (src.getAddress() instanceof Inet4Address && dst.getAddress() instanceof Inet4Address) {
            int total = 20 + transport + payload;
            b[0] = 0x45;
            b[1] = 0;
            u16(b, 2, total);
            u16(b, 4, 0);
            u16(b, 6, 0x4000); // don't fragment
            b[8] = 64;
            b[9] = (byte) (udp ? UDP : ESP);
            u16(b, 10, 0);
            System.arraycopy(src.getAddress().getAddress(), 0, b, 12, 4);
            System.arraycopy(dst.getAddress().getAddress(), 0, b, 16, 4);
            u16(b, 10, checksum(b, 0, 20));
            at = 20;
        } else if (src.getAddress() instanceof Inet6Address && dst.getAddress() instanceof Inet6Address) {
            b[0] = 0x60;
            b[1] = 0;
            b[2] = 0;
            b[3] = 0;
            u16(b, 4, transport + payload);
            b[6] = (byte) (udp ? UDP : ESP);
            b[7] = 64;
            System.arraycopy(src.getAddress().getAddress(), 0, b, 8, 16);
            System.arraycopy(dst.getAddress().getAddress(), 0, b, 24, 16);
            at = 40;
        } else {
            return -1;
        }
        if (udp) {
            u16(b, at, src.getPort());
            u16(b, at + 2, dst.getPort());
            u16(b, at + 4, 8 + payload);
            u16(b, at + 6, 0); // IPv4 allows none; IPv6's is filled in by udpChecksumV6, which has the payload

        }
        return at + transport;
    }

    /**
     * The UDP checksum of the IPv6 packet whose headers {@link #write} put at {@code h[0..48)}, its
     * payload {@code p[off..off+length)} after {@code marker}'s four zero bytes if any.
     */
    static void udpChecksumV6(byte[] h, byte[] p, int off, int length, boolean marker) {
        long sum = 0;
        for (int i = 8; i < 40; i += 2) {
            sum += (h[i] & 0xff) << 8 | h[i + 1] & 0xff; // source and destination
        }
        int udpLength = (h[44] & 0xff) << 8 | h[45] & 0xff;
        sum += udpLength + UDP;
        for (int i = 40; i < 46; i += 2) {
            sum += (h[i] & 0xff) << 8 | h[i + 1] & 0xff; // ports and length; the checksum field counts as zero
        }
        // The marker's zeros add nothing; the payload's bytes keep their parity after it (4 bytes).
        for (int i = 0; i + 1 < length; i += 2) {
            sum += (p[off + i] & 0xff) << 8 | p[off + i + 1] & 0xff;
        }
        if ((length & 1) != 0) {
            sum += (p[off + length - 1] & 0xff) << 8;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        int c = ~(int) sum & 0xffff;
        u16(h, 46, c == 0 ? 0xffff : c);
    }

    private static void u16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static int checksum(byte[] b, int off, int length) {
        int sum = 0;
        for (int i = off; i < off + length; i += 2) {
            sum += (b[i] & 0xff) << 8 | b[i + 1] & 0xff;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return ~sum & 0xffff;
    }
}
