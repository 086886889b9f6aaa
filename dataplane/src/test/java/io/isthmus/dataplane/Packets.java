package io.isthmus.dataplane;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.tun.VirtioHeader;
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

    /** The IPv4 header of the whole of {@code p}: DF set, TTL 64, checksum filled in (identification as already in p). */
    static void ipv4(byte[] p, int protocol, String src, String dst) {
        p[0] = 0x45;
        IpPacket.put16(p, 2, Math.min(p.length, 0xFFFF));
        p[6] = 0x40;
        p[8] = 64;
        p[9] = (byte) protocol;
        System.arraycopy(address(src), 0, p, 12, 4);
        System.arraycopy(address(dst), 0, p, 16, 4);
        IpPacket.put16(p, 10, 0);
        IpPacket.put16(p, 10, ~IpPacket.sum(p, 0, 20, 0) & 0xFFFF);
    }

    /** An IPv4 UDP packet with {@code payload} bytes of a counting pattern; DF set. */
    static byte[] udp4(String src, String dst, int srcPort, int dstPort, int payload) {
        byte[] p = new byte[20 + 8 + payload];
        ipv4(p, IpPacket.PROTO_UDP, src, dst);
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
        ipv4(p, IpPacket.PROTO_TCP, src, dst);
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

    static final int TCP_SYN = 0x02;
    static final int TCP_ACK = 0x10;
    static final int TCP_PSH = 0x08;

    /** An IPv4 TCP segment (ACK|PSH, timestamps option) with {@code payload} bytes of a pattern; checksums right. */
    static byte[] tcp4(String src, String dst, long seq, int payload) {
        return tcp(src, dst, seq, payload, TCP_ACK | TCP_PSH);
    }

    /** An IPv4 or IPv6 TCP segment from 40000 to 443 with a 12-byte timestamps option. */
    static byte[] tcp(String src, String dst, long seq, int payload, int flags) {
        boolean v4 = !src.contains(":");
        int ip = v4 ? 20 : 40;
        int hl = 32;
        byte[] p = new byte[ip + hl + payload];
        if (v4) {
            IpPacket.put16(p, 4, 0x1234);
            ipv4(p, IpPacket.PROTO_TCP, src, dst);
        } else {
            p[0] = 0x60;
            IpPacket.put16(p, 4, hl + payload);
            p[6] = IpPacket.PROTO_TCP;
            p[7] = 64;
            System.arraycopy(address(src), 0, p, 8, 16);
            System.arraycopy(address(dst), 0, p, 24, 16);
        }
        IpPacket.put16(p, ip, 40000);
        IpPacket.put16(p, ip + 2, 443);
        IpPacket.put32(p, ip + 4, seq);
        IpPacket.put32(p, ip + 8, 777_777);
        p[ip + 12] = (byte) ((hl / 4) << 4);
        p[ip + 13] = (byte) flags;
        IpPacket.put16(p, ip + 14, 502);
        p[ip + 20] = 1;
        p[ip + 21] = 1;
        p[ip + 22] = 8;
        p[ip + 23] = 10;
        IpPacket.put32(p, ip + 24, 123456);
        IpPacket.put32(p, ip + 28, 654321);
        for (int i = 0; i < payload; i++) {
            p[ip + hl + i] = (byte) (i * 7 + (seq & 0xFF));
        }
        IpPacket.put16(p, ip + 16, ~l4Sum(p) & 0xFFFF);
        return p;
    }

    /** The transport checksum over pseudo-header and segment: 0xFFFF when the checksum in place is right. */
    static int l4Sum(byte[] p) {
        int ip = IpPacket.headerLength(p, 0);
        int len = IpPacket.totalLength(p, 0) - ip;
        return IpPacket.sum(p, ip, len, IpPacket.pseudoHeaderSum(p, 0, IpPacket.protocol(p, 0), len));
    }

    /**
     * The virtio header the kernel puts before a TCP super-packet it hands over with TSO; like the
     * kernel, leaves only the pseudo-header's sum in the packet's TCP checksum.
     */
    static byte[] tsoHeader(byte[] p, int mss) {
        boolean v4 = IpPacket.version(p, 0) == 4;
        int ip = v4 ? 20 : 40;
        byte[] h = new byte[VirtioHeader.LENGTH];
        VirtioHeader.tcp(h, 0, v4, ip + ((p[ip + 12] & 0xF0) >>> 2), mss, ip);
        IpPacket.put16(p, ip + 16, IpPacket.pseudoHeaderSum(p, 0, IpPacket.PROTO_TCP, p.length - ip));
        return h;
    }
}
