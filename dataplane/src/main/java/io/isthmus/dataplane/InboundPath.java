package io.isthmus.dataplane;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.UdpEncapsulation;

/**
 * ESP to TUN, owned by one thread:
 *
 * <pre>
 * UDP 4500 / raw ESP read (one datagram, or with UDP GRO a run of them)
 *   -> for each datagram: keepalive? IKE (non-ESP marker)? -> SA by SPI -> open in place
 *      -> inner packet within the SA's selectors? -> clamp MSS
 *   -> TUN write (tun/ merges the segments of a flow into one super-packet, written at flush)
 * </pre>
 *
 * The ESP header of each datagram is the headroom the TUN port needs before its inner packet.
 */
final class InboundPath {
    private final Dataplane dataplane;
    private final Emitter out;
    private final TunPort tun;

    InboundPath(Dataplane dataplane, Emitter out, TunPort tun) {
        this.dataplane = dataplane;
        this.out = out;
        this.tun = tun;
    }

    /**
     * What one receive returned at {@code buffer[off]}: datagrams of {@code segmentSize} bytes
     * back to back, the last possibly shorter ({@code segmentSize == length} for one). The ESP
     * header of each leaves room before its inner packet for the TUN device's virtio header.
     */
    void datagrams(PacketBuffer buffer, int off, int length, int segmentSize, boolean udp) {
        ForwardingSnapshot snapshot = dataplane.snapshot();
        int size = segmentSize <= 0 ? length : segmentSize;
        for (int o = off; o < off + length; o += size) {
            datagram(snapshot, buffer, o, Math.min(size, off + length - o), udp);
        }
    }

    /** One datagram at {@code buffer[off]}: ESP (or, from UDP, possibly IKE or a keepalive). */
    private void datagram(ForwardingSnapshot snapshot, PacketBuffer buffer, int off, int length, boolean udp) {
        byte[] p = buffer.bytes();
        if (udp) {
            UdpEncapsulation.Kind kind = UdpEncapsulation.classify(p, off, length);
            if (kind == UdpEncapsulation.Kind.KEEPALIVE) {
                return;
            }
            if (kind == UdpEncapsulation.Kind.IKE) {
                out.toIke(p, off + UdpEncapsulation.MARKER_LENGTH, length - UdpEncapsulation.MARKER_LENGTH);
                return;
            }
        }
        if (length < 8) {
            dataplane.counters().drop(Drop.ESP_TOO_SHORT);
            return;
        }
        int spi = (int) IpPacket.u32(p, off);
        InstalledSa.Inbound route = snapshot.inbound(spi);
        if (route == null) {
            dataplane.counters().drop(Drop.UNKNOWN_SPI);
            return;
        }
        Counters counters = route.tunnel.counters();
        int n = route.sa.open(p, off, length);
        if (n < 0) {
            counters.drop(Drop.of(DropReason.fromCode(n)));
            return;
        }
        int inner = off + route.sa.headerLength();
        if (!IpPacket.isValid(p, inner, n)) {
            counters.drop(Drop.MALFORMED_INNER);
            return;
        }
        int len = IpPacket.totalLength(p, inner);
        if (!route.fits(p, inner, len)) {
            counters.drop(Drop.TS_MISMATCH);
            return;
        }
        IpPacket.clampMss(p, inner, len, dataplane.mss());
        counters.ingress(len);
        tun.write(buffer, inner, len, counters.tunWriteLoss);
    }
}
