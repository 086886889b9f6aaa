package io.isthmus.dataplane.tun;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;

/**
 * Generic receive offload towards the TUN device: consecutive TCP segments (or UDP datagrams)
 * of one flow written to the port are merged into one super-packet, the reverse of what the
 * sender's kernel and our peer's outbound path did. Merging is what makes the receiving side
 * cheap: one TUN write and one trip through the kernel's stack for up to 64 KB instead of one per
 * segment.
 *
 * <p>It follows the rules of Linux's own GRO: same addresses, ports, IP header fields, every
 * segment the size of the first but the last; for TCP also the same header but for the sequence
 * number and checksum, sequence numbers in order, and no flag but ACK (PSH may end a run).
 * Anything else is written as it came. The merged packet carries a virtio header asking the
 * kernel to finish the checksum and to cut it again at the same size where it must (forwarding
 * it, or a socket without GRO). One per port, so one per packet thread.
 */
final class GroMerger {
    private static final int TCP_ACK = 0x10;
    private static final int TCP_PSH = 0x08;
    private static final int MAX_MERGED = 65_535;
    private static final int MAX_SEGMENTS = 64;

    private final boolean mergeTcp;
    private final boolean mergeUdp;
    private final TunPort.FrameWriter device;
    private final PacketBuffer merged = new PacketBuffer(VirtioHeader.LENGTH + MAX_MERGED);

    /** Segments in {@link #merged}, 0 if none. */
    private int count;
    /** What is merged: UDP datagrams, or TCP segments. */
    private boolean udp;
    /** Bytes of the IP packet in {@link #merged} (after the virtio header). */
    private int length;
    private int l4Start;
    private int headers;
    private int firstPayload;
    private long nextSequence;
    private boolean closed;
    private TunPort.Loss mergedLoss;

    /**
     * @param mergeTcp whether TCP segments may be merged: only if the TUN device takes a virtio header
     * @param mergeUdp whether UDP datagrams may be merged: only if it also takes UDP super-packets (USO)
     * @param device where frames go, each with its virtio header
     */
    GroMerger(boolean mergeTcp, boolean mergeUdp, TunPort.FrameWriter device) {
        this.mergeTcp = mergeTcp;
        this.mergeUdp = mergeUdp && mergeTcp;
        this.device = device;
    }

    /** {@link TunPort#write}: the packet at {@code buffer[ip]}, {@link TunPort#HEADROOM} bytes free before it. */
    void write(PacketBuffer buffer, int ip, int len, TunPort.Loss loss) {
        byte[] p = buffer.bytes();
        int l4 = mergeable(p, ip, len);
        if (l4 < 0) {
            flush();
            int h = ip - VirtioHeader.LENGTH;
            VirtioHeader.clear(p, h);
            if (device.write(buffer, h, VirtioHeader.LENGTH + len) < 0) {
                loss.refused(1);
            }
            return;
        }
        boolean isUdp = IpPacket.protocol(p, ip) == IpPacket.PROTO_UDP;
        int hl = l4 + (isUdp ? 8 : (p[ip + l4 + 12] & 0xF0) >>> 2);
        int payload = len - hl;
        if (count > 0 && isUdp == udp && follows(p, ip, l4, hl, payload)) {
            System.arraycopy(p, ip + hl, merged.bytes(), VirtioHeader.LENGTH + length, payload);
            length += payload;
            nextSequence = (nextSequence + payload) & 0xFFFFFFFFL;
            count++;
            int flags = p[ip + l4 + 13] & 0xFF;
            if (!udp && (flags & TCP_PSH) != 0) {
                merged.bytes()[VirtioHeader.LENGTH + l4Start + 13] |= TCP_PSH;
                closed = true;
            }
            if (payload < firstPayload) {
                closed = true;
            }
            return;
        }
        flush();
        System.arraycopy(p, ip, merged.bytes(), VirtioHeader.LENGTH, len);
        count = 1;
        udp = isUdp;
        length = len;
        l4Start = l4;
        headers = hl;
        firstPayload = payload;
        nextSequence = udp ? 0 : (IpPacket.u32(p, ip + l4 + 4) + payload) & 0xFFFFFFFFL;
        closed = !udp && (p[ip + l4 + 13] & TCP_PSH) != 0;
        mergedLoss = loss;
    }

    /** Writes what is merged. */
    void flush() {
        if (count == 0) {
            return;
        }
        byte[] m = merged.bytes();
        int ip = VirtioHeader.LENGTH;
        if (count == 1) {
            VirtioHeader.clear(m, 0);
        } else {
            boolean v4 = IpPacket.version(m, ip) == 4;
            if (v4) {
                IpPacket.put16(m, ip + 2, length);
                IpPacket.put16(m, ip + 10, 0);
                IpPacket.put16(m, ip + 10, ~IpPacket.sum(m, ip, 20, 0));
            } else {
                IpPacket.put16(m, ip + 4, length - 40);
            }
            // Partial checksum: the pseudo-header's sum, the kernel adds the rest (as for TSO).
            if (udp) {
                IpPacket.put16(m, ip + l4Start + 4, length - l4Start);
                IpPacket.put16(m, ip + l4Start + 6, IpPacket.pseudoHeaderSum(m, ip, IpPacket.PROTO_UDP, length - l4Start));
                VirtioHeader.udp(m, 0, l4Start, firstPayload);
            } else {
                IpPacket.put16(m, ip + l4Start + 16, IpPacket.pseudoHeaderSum(m, ip, IpPacket.PROTO_TCP, length - l4Start));
                VirtioHeader.tcp(m, 0, v4, headers, firstPayload, l4Start);
            }
        }
        if (device.write(merged, 0, VirtioHeader.LENGTH + length) < 0) {
            mergedLoss.refused(count);
        }
        count = 0;
        mergedLoss = null;
    }

    /**
     * Where the transport header starts if this packet may take part in a merge: a TCP segment
     * with data and flags ACK and maybe PSH, or a UDP datagram with data; no IP options,
     * fragments or IPv6 extension headers. Otherwise -1.
     */
    private int mergeable(byte[] p, int ip, int len) {
        if (!mergeTcp) {
            return -1;
        }
        int l4;
        int protocol;
        if (IpPacket.version(p, ip) == 4) {
            if ((p[ip] & 0x0F) != 5 || (IpPacket.u16(p, ip + 6) & 0x3FFF) != 0) {
                return -1;
            }
            l4 = 20;
            protocol = p[ip + 9];
        } else {
            l4 = 40;
            protocol = p[ip + 6];
        }
        if (protocol == IpPacket.PROTO_UDP) {
            return mergeUdp && l4 + 8 < len && IpPacket.u16(p, ip + l4 + 4) == len - l4 ? l4 : -1;
        }
        if (protocol != IpPacket.PROTO_TCP || l4 + 20 > len) {
            return -1;
        }
        int hl = (p[ip + l4 + 12] & 0xF0) >>> 2;
        int flags = p[ip + l4 + 13] & 0xFF;
        if (hl < 20 || l4 + hl >= len || (flags & ~(TCP_ACK | TCP_PSH)) != 0 || (flags & TCP_ACK) == 0) {
            return -1;
        }
        return l4;
    }

    /** Whether this segment continues the merged one ({@code hl}: IP and transport headers together). */
    private boolean follows(byte[] p, int ip, int l4, int hl, int payload) {
        byte[] m = merged.bytes();
        int mip = VirtioHeader.LENGTH;
        if (closed || l4 != l4Start || hl != headers || payload > firstPayload || length + payload > MAX_MERGED || count == MAX_SEGMENTS) {
            return false;
        }
        if (!udp && IpPacket.u32(p, ip + l4 + 4) != nextSequence) {
            return false;
        }
        boolean v4 = l4 == 20;
        if (v4) {
            // Version to TOS, flags to protocol, addresses; not length, identification or checksum.
            if (p[ip + 1] != m[mip + 1] || !same(p, ip + 6, m, mip + 6, 4) || !same(p, ip + 12, m, mip + 12, 8)) {
                return false;
            }
        } else if (!same(p, ip, m, mip, 4) || !same(p, ip + 6, m, mip + 6, 34)) {
            return false;
        }
        int t = ip + l4;
        int mt = mip + l4;
        if (udp) {
            return same(p, t, m, mt, 4);
        }
        // Ports; acknowledgment, data offset, window; options. Flags as checked: ACK, maybe PSH.
        return same(p, t, m, mt, 4) && same(p, t + 8, m, mt + 8, 5) && same(p, t + 14, m, mt + 14, 2)
                && same(p, t + 20, m, mt + 20, hl - l4 - 20);
    }

    private static boolean same(byte[] a, int ai, byte[] b, int bi, int n) {
        return java.util.Arrays.equals(a, ai, ai + n, b, bi, bi + n);
    }
}
