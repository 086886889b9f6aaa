package io.isthmus.dataplane.tun;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;

/**
 * The packets of one read from the TUN device ({@link TunPort#read}): one IP packet, or a TCP or
 * UDP super-packet the kernel handed over with TSO or USO, which stands for several segments.
 * The header of packet 0 is at {@link #bytes()}{@code [}{@link #ipOffset()}{@code ]}, the same for
 * every segment but for lengths, identification, sequence numbers and checksums, so the caller
 * routes a batch once.
 *
 * <p>Segments are cut when they are copied out ({@link #copy}), straight to where the caller
 * wants them, as the NIC would cut them: the same IP and transport header on each, IPv4
 * identification counting up, lengths and checksums recomputed; for TCP, sequence numbers
 * advanced, FIN and PSH on the last segment only, CWR on the first only. This is where
 * wireguard-go's {@code Read(bufs, sizes, offset)} differs: there the device cuts into the
 * caller's buffers at a fixed headroom. Here the outbound path copies each segment into its ESP
 * send batch, after room for the ESP header, where the sealed packets must lie back to back for
 * one GSO send; where each goes depends on the SA, known only once the batch is routed. Cutting
 * into fixed buffers first would copy every byte twice (64 KB more per super-packet) where now it
 * is copied once, as before the port existed.
 */
public final class TunBatch {
    /** A virtio header and the largest packet a TUN read returns. */
    static final int CAPACITY = VirtioHeader.LENGTH + 65_536;
    private static final int IP = VirtioHeader.LENGTH;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;

    /** What the device handed over: a virtio header (zeros if the device has none), then the IP packet. */
    final PacketBuffer frame = new PacketBuffer(CAPACITY);

    private int count;
    private boolean segmented;
    /** Plain: the packet's length. Segmented: IP and transport headers together. */
    private int length;
    private boolean tcp;
    private boolean v4;
    private int l4Start;
    private int mss;
    private int payload;
    private int id;
    private long sequence;
    private int flags;

    /** The frame as read, with its header at 0 (or the header zeroed when the device has none): how many packets it holds. */
    int parse(int frameLength, boolean hasHeader) {
        byte[] p = frame.bytes();
        if (!hasHeader) {
            VirtioHeader.clear(p, 0);
        }
        count = 0;
        int len = frameLength - IP;
        if (!IpPacket.isValid(p, IP, len)) {
            return 0;
        }
        int gso = VirtioHeader.gsoType(p, 0) & ~VirtioHeader.GSO_ECN;
        if (gso == VirtioHeader.GSO_NONE) {
            len = IpPacket.totalLength(p, IP);
            if ((VirtioHeader.flags(p, 0) & VirtioHeader.F_NEEDS_CSUM) != 0
                    && !completeChecksum(p, IP, len, VirtioHeader.csumStart(p, 0), VirtioHeader.csumOffset(p, 0))) {
                return 0;
            }
            segmented = false;
            length = len;
            count = 1;
            return count;
        }
        if (gso != VirtioHeader.GSO_TCPV4 && gso != VirtioHeader.GSO_TCPV6 && gso != VirtioHeader.GSO_UDP_L4) {
            // Only TSO and USO are asked of the kernel (TUNSETOFFLOAD); anything else is not ours to cut.
            return 0;
        }
        tcp = gso != VirtioHeader.GSO_UDP_L4;
        l4Start = VirtioHeader.csumStart(p, 0);
        mss = VirtioHeader.gsoSize(p, 0);
        int l4 = IP + l4Start;
        if (l4Start < IpPacket.headerLength(p, IP) || l4 + (tcp ? 20 : 8) > IP + len || mss <= 0) {
            return 0;
        }
        int headers = l4Start + (tcp ? (p[l4 + 12] & 0xF0) >>> 2 : 8);
        payload = len - headers;
        if (headers < l4Start + 8 || payload <= 0) {
            return 0;
        }
        segmented = true;
        length = headers;
        v4 = IpPacket.version(p, IP) == 4;
        id = v4 ? IpPacket.u16(p, IP + 4) : 0;
        sequence = tcp ? IpPacket.u32(p, l4 + 4) : 0;
        flags = p[l4 + 13] & 0xFF;
        count = (payload + mss - 1) / mss;
        return count;
    }

    /** The frame's bytes: packet 0's IP header at {@link #ipOffset()}. */
    public byte[] bytes() {
        return frame.bytes();
    }

    public int ipOffset() {
        return IP;
    }

    /** How many packets: 0 if what was read cannot be forwarded. */
    public int count() {
        return count;
    }

    /** Whether the packets are segments cut from one super-packet (TSO or USO). */
    public boolean segmented() {
        return segmented;
    }

    /** The longest packet of the batch: the packet, or a full-sized segment (headers and the segment size). */
    public int largest() {
        return segmented ? length + mss : length;
    }

    /** The length of packet {@code i}. */
    public int length(int i) {
        return segmented ? length + Math.min(mss, payload - i * mss) : length;
    }

    /** Packet {@code i}, whole and valid (lengths and checksums), to {@code b[at]}. */
    public void copy(int i, byte[] b, int at) {
        byte[] p = frame.bytes();
        if (!segmented) {
            System.arraycopy(p, IP, b, at, length);
            return;
        }
        int headers = length;
        int size = Math.min(mss, payload - i * mss);
        int total = headers + size;
        System.arraycopy(p, IP, b, at, headers);
        System.arraycopy(p, IP + headers + i * mss, b, at + headers, size);
        if (v4) {
            IpPacket.put16(b, at + 2, total);
            IpPacket.put16(b, at + 4, id + i);
            IpPacket.put16(b, at + 10, 0);
            IpPacket.put16(b, at + 10, ~IpPacket.sum(b, at, IpPacket.headerLength(b, at), 0));
        } else {
            IpPacket.put16(b, at + 4, total - 40);
        }
        int t = at + l4Start;
        int checksum;
        if (tcp) {
            IpPacket.put32(b, t + 4, sequence + (long) i * mss);
            int f = flags;
            if (i < count - 1) {
                f &= ~(TCP_FIN | TCP_PSH);
            }
            if (i > 0) {
                f &= ~TCP_CWR;
            }
            b[t + 13] = (byte) f;
            checksum = t + 16;
        } else {
            IpPacket.put16(b, t + 4, total - l4Start);
            checksum = t + 6;
        }
        IpPacket.put16(b, checksum, 0);
        int sum = IpPacket.pseudoHeaderSum(b, at, tcp ? IpPacket.PROTO_TCP : IpPacket.PROTO_UDP, total - l4Start);
        sum = ~IpPacket.sum(b, t, total - l4Start, sum) & 0xFFFF;
        IpPacket.put16(b, checksum, sum == 0 && !tcp ? 0xFFFF : sum);
    }

    /**
     * A packet whose transport checksum the kernel left to us (checksum offload): the field holds
     * the pseudo-header sum; the rest is summed here, as a NIC would.
     */
    private static boolean completeChecksum(byte[] p, int ip, int len, int csumStart, int csumOffset) {
        if (csumStart < 20 || csumStart + csumOffset + 2 > len) {
            return false;
        }
        int sum = ~IpPacket.sum(p, ip + csumStart, len - csumStart, 0) & 0xFFFF;
        // UDP sends a computed 0 as 0xFFFF (RFC 768); for TCP the two are the same number.
        IpPacket.put16(p, ip + csumStart + csumOffset, sum == 0 ? 0xFFFF : sum);
        return true;
    }
}
