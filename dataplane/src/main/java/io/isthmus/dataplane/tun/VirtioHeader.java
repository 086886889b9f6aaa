package io.isthmus.dataplane.tun;

/**
 * The struct virtio_net_hdr that comes before each packet on a TUN device opened with
 * IFF_VNET_HDR (include/uapi/linux/virtio_net.h), little-endian on the machines we run on:
 *
 * <pre>
 *  0 flags (1: NEEDS_CSUM)   1 gso_type (0 none, 1 TCPv4, 4 TCPv6, 5 UDP, 0x80 ECN)
 *  2 hdr_len   4 gso_size   6 csum_start   8 csum_offset      (u16 each)
 * </pre>
 *
 * NEEDS_CSUM means the transport checksum field holds only the pseudo-header sum and the rest
 * is to be summed from csum_start to the end; gso_size is the payload of each segment a
 * super-packet stands for. Only {@code tun/} reads and writes these; the packet paths never see one.
 */
public final class VirtioHeader {
    public static final int LENGTH = 10;
    public static final int F_NEEDS_CSUM = 1;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;

    private VirtioHeader() {
    }

    public static int flags(byte[] p, int h) {
        return p[h] & 0xFF;
    }

    public static int gsoType(byte[] p, int h) {
        return p[h + 1] & 0xFF;
    }

    public static int gsoSize(byte[] p, int h) {
        return u16le(p, h + 4);
    }

    public static int csumStart(byte[] p, int h) {
        return u16le(p, h + 6);
    }

    public static int csumOffset(byte[] p, int h) {
        return u16le(p, h + 8);
    }

    /** A header that says: one plain packet, checksums done. */
    public static void clear(byte[] p, int h) {
        for (int i = 0; i < LENGTH; i++) {
            p[h + i] = 0;
        }
    }

    /** A TCP super-packet for the kernel to cut into segments of {@code gsoSize} payload bytes. */
    public static void tcp(byte[] p, int h, boolean v4, int headerLength, int gsoSize, int l4Start) {
        p[h] = F_NEEDS_CSUM;
        p[h + 1] = (byte) (v4 ? GSO_TCPV4 : GSO_TCPV6);
        put16le(p, h + 2, headerLength);
        put16le(p, h + 4, gsoSize);
        put16le(p, h + 6, l4Start);
        put16le(p, h + 8, 16); // the TCP checksum field
    }

    /** A UDP super-packet for the kernel to cut into datagrams of {@code gsoSize} payload bytes (USO). */
    public static void udp(byte[] p, int h, int l4Start, int gsoSize) {
        p[h] = F_NEEDS_CSUM;
        p[h + 1] = (byte) GSO_UDP_L4;
        put16le(p, h + 2, l4Start + 8);
        put16le(p, h + 4, gsoSize);
        put16le(p, h + 6, l4Start);
        put16le(p, h + 8, 6); // the UDP checksum field
    }

    private static int u16le(byte[] p, int i) {
        return (p[i] & 0xFF) | ((p[i + 1] & 0xFF) << 8);
    }

    private static void put16le(byte[] p, int i, int v) {
        p[i] = (byte) v;
        p[i + 1] = (byte) (v >>> 8);
    }
}
