package io.isthmus.dataplane;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.esp.EspPacket;

/**
 * TUN to ESP, owned by one thread:
 *
 * <pre>
 * TUN read (a packet, or a TCP or UDP super-packet with its virtio header)
 *   -> check -> tunnel by destination (LPM) -> SA -> too big? ICMP back
 *   -> for each segment (one, or the super-packet cut at its MSS): copy into the batch,
 *      fix lengths, sequence number and checksums, clamp MSS, seal in place
 *   -> the batch: ESP packets of one SA back to back, sent as one UDP GSO call
 * </pre>
 *
 * A batch is sent when the next packet cannot join it (another SA, a longer packet, one after a
 * shorter one, 64 segments or 64 KB) and when the TUN device has nothing more to read
 * ({@link #flush}), so a lone packet never waits.
 */
final class OutboundPath {
    /** The most segments one GSO send may carry (UDP_MAX_SEGMENTS is 64 before Linux 6.x). */
    static final int MAX_SEGMENTS = 64;
    /** A GSO send is one UDP datagram before the kernel cuts it: under 64 KB with its headers. */
    static final int MAX_BATCH_BYTES = 65_000;
    /** Room for the ESP header before, and padding, trailer and ICV after, an inner packet. */
    private static final int ESP_SLACK = 64 + 64;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;

    private final Dataplane dataplane;
    private final Emitter out;
    private final PacketBuffer batch = new PacketBuffer(2 * 65_536 + 2 * ESP_SLACK);
    private final PacketBuffer scratch = new PacketBuffer(2048);

    private InstalledSa.Outbound batchRoute;
    private int start;
    private int end;
    private int count;
    private int segmentSize;
    private long innerBytes;
    /** The last packet was shorter than the first: nothing may follow it in this batch. */
    private boolean closed;

    OutboundPath(Dataplane dataplane, Emitter out) {
        this.dataplane = dataplane;
        this.out = out;
    }

    /**
     * A packet read from the TUN device: its virtio header at {@code buffer[off]} (zeros if the
     * device has none), the IP packet after it; {@code length} counts both.
     */
    void packet(PacketBuffer buffer, int off, int length) {
        byte[] p = buffer.bytes();
        int ip = off + VirtioHeader.LENGTH;
        int len = length - VirtioHeader.LENGTH;
        if (!IpPacket.isValid(p, ip, len)) {
            dataplane.counters().drop(Drop.MALFORMED_INNER);
            return;
        }
        int gso = VirtioHeader.gsoType(p, off) & ~VirtioHeader.GSO_ECN;
        if (gso == VirtioHeader.GSO_NONE) {
            len = IpPacket.totalLength(p, ip);
        }
        Tunnel tunnel = dataplane.table().lookup(p, ip);
        if (tunnel == null) {
            dataplane.counters().drop(Drop.NO_ROUTE);
            return;
        }
        InstalledSa.Outbound route = tunnel.choose(p, ip, len);
        if (route == null) {
            tunnel.counters().drop(Drop.NO_SA);
            return;
        }
        if (gso == VirtioHeader.GSO_NONE) {
            if (len > route.maxInner && IpPacket.dontFragment(p, ip)) {
                tooBig(tunnel, route, p, ip, len);
                return;
            }
            if ((VirtioHeader.flags(p, off) & VirtioHeader.F_NEEDS_CSUM) != 0
                    && !completeChecksum(p, ip, len, VirtioHeader.csumStart(p, off), VirtioHeader.csumOffset(p, off))) {
                tunnel.counters().drop(Drop.MALFORMED_INNER);
                return;
            }
            int at = place(route, len);
            System.arraycopy(p, ip, batch.bytes(), at, len);
            IpPacket.clampMss(batch.bytes(), at, len, dataplane.mss());
            seal(route, tunnel, at, len);
        } else if (gso == VirtioHeader.GSO_TCPV4 || gso == VirtioHeader.GSO_TCPV6 || gso == VirtioHeader.GSO_UDP_L4) {
            segment(tunnel, route, p, ip, len, VirtioHeader.csumStart(p, off), VirtioHeader.gsoSize(p, off), gso != VirtioHeader.GSO_UDP_L4);
        } else {
            // Only TSO and USO are asked of the kernel (TUNSETOFFLOAD); anything else is not ours to cut.
            tunnel.counters().drop(Drop.MALFORMED_INNER);
        }
    }

    /** Sends what is batched: called when the TUN device has nothing more to read. */
    void flush() {
        send();
        start = 0;
        end = 0;
    }

    /**
     * Cuts a TCP or UDP super-packet into segments of {@code mss} payload bytes, as the NIC
     * would have: the same IP and transport header on each, IPv4 identification counting up,
     * lengths and checksums recomputed; for TCP, sequence numbers advanced, FIN and PSH on the
     * last segment only, CWR on the first only.
     */
    private void segment(Tunnel tunnel, InstalledSa.Outbound route, byte[] p, int ip, int len, int l4Start, int mss, boolean tcp) {
        boolean v4 = IpPacket.version(p, ip) == 4;
        int l4 = ip + l4Start;
        if (l4Start < IpPacket.headerLength(p, ip) || l4 + (tcp ? 20 : 8) > ip + len || mss <= 0) {
            tunnel.counters().drop(Drop.MALFORMED_INNER);
            return;
        }
        int headers = l4Start + (tcp ? (p[l4 + 12] & 0xF0) >>> 2 : 8);
        int payload = len - headers;
        if (headers < l4Start + 8 || payload <= 0) {
            tunnel.counters().drop(Drop.MALFORMED_INNER);
            return;
        }
        if (headers + mss > route.maxInner) {
            tooBig(tunnel, route, p, ip, headers + mss);
            return;
        }
        int segments = (payload + mss - 1) / mss;
        int id = v4 ? IpPacket.u16(p, ip + 4) : 0;
        long seq = tcp ? IpPacket.u32(p, l4 + 4) : 0;
        int flags = p[l4 + 13] & 0xFF;
        for (int i = 0; i < segments; i++) {
            int size = Math.min(mss, payload - i * mss);
            int total = headers + size;
            int at = place(route, total);
            byte[] b = batch.bytes();
            System.arraycopy(p, ip, b, at, headers);
            System.arraycopy(p, ip + headers + i * mss, b, at + headers, size);
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
                IpPacket.put32(b, t + 4, seq + (long) i * mss);
                int f = flags;
                if (i < segments - 1) {
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
            seal(route, tunnel, at, total);
        }
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

    private void tooBig(Tunnel tunnel, InstalledSa.Outbound route, byte[] p, int ip, int len) {
        int icmp = IpPacket.tooBig(p, ip, len, route.maxInner, scratch.bytes(), VirtioHeader.LENGTH);
        VirtioHeader.clear(scratch.bytes(), 0);
        out.toTun(scratch, 0, VirtioHeader.LENGTH + icmp);
        tunnel.counters().drop(Drop.TOO_BIG);
    }

    /** Where in the batch to put an inner packet of {@code length} bytes for {@code route}. */
    private int place(InstalledSa.Outbound route, int length) {
        if (end + route.sa.headerLength() + length + ESP_SLACK > batch.capacity()) {
            flush();
        }
        return end + route.sa.headerLength();
    }

    /** Seals the inner packet placed at {@code at} into an ESP packet at the batch's end, and adds it to the batch. */
    private void seal(InstalledSa.Outbound route, Tunnel tunnel, int at, int length) {
        int esp = at - route.sa.headerLength();
        int n = route.sa.seal(batch.bytes(), esp, length,
                IpPacket.version(batch.bytes(), at) == 4 ? EspPacket.NEXT_HEADER_IPV4 : EspPacket.NEXT_HEADER_IPV6);
        if (n < 0) {
            tunnel.counters().drop(Drop.ofSeal(n));
            return;
        }
        if (count > 0 && (route != batchRoute || n > segmentSize || closed || count == MAX_SEGMENTS || end + n - start > MAX_BATCH_BYTES)) {
            send();
        }
        if (count == 0) {
            batchRoute = route;
            segmentSize = n;
            closed = false;
        } else if (n < segmentSize) {
            closed = true;
        }
        count++;
        innerBytes += length;
        end += n;
    }

    /** Sends the batch [start, end) and starts the next one at its end. */
    private void send() {
        if (count > 0) {
            Counters counters = batchRoute.tunnel.counters();
            int sent = out.sendEsp(batchRoute, batch, start, end - start, segmentSize);
            if (sent == count) {
                counters.egress(innerBytes, count);
            } else {
                for (int i = Math.max(sent, 0); i < count; i++) {
                    counters.drop(Drop.SEND_FAILED);
                }
                if (sent > 0) {
                    counters.egress(innerBytes * sent / count, sent);
                }
            }
        }
        start = end;
        count = 0;
        innerBytes = 0;
    }
}
