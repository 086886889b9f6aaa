package io.isthmus.dataplane;

import java.net.InetAddress;

/** Hand-made IPv4 and IPv6 packets for tests, with correct lengths and checksums. */
final class Packets {
    private Packets() {
    }

    static byte[] address(String text) {
        try {
            return InetAddress.getByName(text).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An IPv4 UDP packet with {@code payload} bytes of a counting pattern; DF set. */
    static byte[] udp4(String src, String dst, int srcPort, int dstPort, int payload) {
        byte[] p = new byte[20 + 8 + payload];
        p[0] = 0x45;
        IpPacket.put16(p, 2, p.length);
        p[6] = 0x40;
        p[8] = 64;
        p[9] = IpPacket.PROTO_UDP;
        System.arraycopy(address(src), 0, p, 12, 4);
        System.arraycopy(address(dst), 0, p, 16, 4);
        IpPacket.put16(p, 10, ~IpPacket.sum(p, 0, 20, 0) & 0xFFFF);
        IpPacket.put16(p, 20, srcPort);
        IpPacket.put16(p, 22, dstPort);
        IpPacket.put16(p, 24, 8 + payload);
        for (int i = 0; i < payload; i++) {
            p[28 + i] = (byte) i;
        }
        return p;
    }

    static byte[] udp6(String src, String dst, int srcPort, int dstPort, int payload) {
        byte[] p = new byte[40 + 8 + payload];
        p[0] = 0x60;
        IpPacket.put16(p, 4, 8 + payload);
        p[6] = IpPacket.PROTO_UDP;
        p[7] = 64;
        System.arraycopy(address(src), 0, p, 8, 16);
        System.arraycopy(address(dst), 0, p, 24, 16);
        IpPacket.put16(p, 40, srcPort);
        IpPacket.put16(p, 42, dstPort);
        IpPacket.put16(p, 44, 8 + payload);
        for (int i = 0; i < payload; i++) {
            p[48 + i] = (byte) i;
        }
        return p;
    }

    /** An IPv4 TCP SYN with an MSS option, TCP checksum filled in. */
    static byte[] syn4(String src, String dst, int mss) {
        byte[] p = new byte[20 + 24];
        p[0] = 0x45;
        IpPacket.put16(p, 2, p.length);
        p[6] = 0x40;
        p[8] = 64;
        p[9] = IpPacket.PROTO_TCP;
        System.arraycopy(address(src), 0, p, 12, 4);
        System.arraycopy(address(dst), 0, p, 16, 4);
        IpPacket.put16(p, 10, ~IpPacket.sum(p, 0, 20, 0) & 0xFFFF);
        int t = 20;
        IpPacket.put16(p, t, 40000);
        IpPacket.put16(p, t + 2, 443);
        p[t + 12] = (byte) (6 << 4); // data offset 24 bytes
        p[t + 13] = 0x02; // SYN
        IpPacket.put16(p, t + 14, 64240);
        p[t + 20] = 2;
        p[t + 21] = 4;
        IpPacket.put16(p, t + 22, mss);
        IpPacket.put16(p, t + 16, ~tcpSum(p) & 0xFFFF);
        return p;
    }

    /** TCP checksum over the IPv4 pseudo-header and segment (0 when the checksum in place is right, before complementing). */
    static int tcpSum(byte[] p) {
        int len = p.length - 20;
        int s = IpPacket.sum(p, 12, 8, 0);
        s += IpPacket.PROTO_TCP + len;
        return IpPacket.sum(p, 20, len, s);
    }
}
