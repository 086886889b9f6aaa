package io.isthmus.dataplane;

import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.EspPacket;

/**
 * The two packet paths, one packet at a time, in the buffer the packet arrived in. What leaves
 * goes to an {@link Emitter}: the sockets and TUN device in the gateway, fakes in tests.
 *
 * <pre>
 * outbound: TUN -> check -> tunnel by destination (LPM) -> SA -> too big? ICMP back : clamp MSS
 *           -> seal in place -> UDP 4500 or raw ESP
 * inbound:  UDP 4500 / raw ESP -> keepalive? IKE (non-ESP marker)? -> SA by SPI -> open in place
 *           -> inner packet within the SA's selectors? -> clamp MSS -> TUN
 * </pre>
 */
final class Forwarding {
    /** Room before the inner packet for the ESP header and IV (at most 8 + 16 bytes). */
    static final int HEADROOM = 64;

    /** The sinks of the two paths. */
    interface Emitter {
        /** Sends the ESP packet by the route's socket; bytes sent or minus errno. */
        int sendEsp(Routes.Outbound route, PacketBuffer buffer, int offset, int length);

        /** Writes an inner packet to the TUN device; bytes written or minus errno. */
        int toTun(PacketBuffer buffer, int offset, int length);

        /** An IKE message that came in on port 4500 (marker already skipped); the receiver copies it. */
        void toIke(byte[] message, int offset, int length);
    }

    private final Dataplane dataplane;

    Forwarding(Dataplane dataplane) {
        this.dataplane = dataplane;
    }

    /**
     * An inner packet read from the TUN device at {@code buffer[HEADROOM]}; {@code scratch} is
     * for the ICMP error if the packet is too big.
     */
    void outbound(PacketBuffer buffer, int length, PacketBuffer scratch, Emitter out) {
        byte[] p = buffer.bytes();
        int off = HEADROOM;
        if (!IpPacket.isValid(p, off, length)) {
            dataplane.counters().drop(Drop.MALFORMED_INNER);
            return;
        }
        int len = IpPacket.totalLength(p, off);
        Tunnel tunnel = dataplane.table().lookup(p, off);
        if (tunnel == null) {
            dataplane.counters().drop(Drop.NO_ROUTE);
            return;
        }
        Routes.Outbound route = tunnel.choose(p, off, len);
        if (route == null) {
            tunnel.counters().drop(Drop.NO_SA);
            return;
        }
        if (len > route.maxInner && IpPacket.dontFragment(p, off)) {
            int icmp = IpPacket.tooBig(p, off, len, route.maxInner, scratch.bytes(), 0);
            out.toTun(scratch, 0, icmp);
            tunnel.counters().drop(Drop.TOO_BIG);
            return;
        }
        IpPacket.clampMss(p, off, len, dataplane.mss());
        int espOffset = off - route.sa.headerLength();
        int n = route.sa.seal(p, espOffset, len, IpPacket.version(p, off) == 4 ? EspPacket.NEXT_HEADER_IPV4 : EspPacket.NEXT_HEADER_IPV6);
        if (n < 0) {
            tunnel.counters().drop(Drop.SEAL_FAILED);
            return;
        }
        if (out.sendEsp(route, buffer, espOffset, n) < 0) {
            tunnel.counters().drop(Drop.SEND_FAILED);
            return;
        }
        tunnel.counters().egress(len);
    }

    /** A datagram at {@code buffer[off]}: ESP (or, from UDP, possibly IKE or a keepalive). */
    void inbound(PacketBuffer buffer, int off, int length, boolean udp, Emitter out) {
        byte[] p = buffer.bytes();
        if (udp) {
            if (length == 1 && p[off] == (byte) 0xFF) {
                return; // NAT keepalive (RFC 3948 §2.3)
            }
            if (length >= 4 && p[off] == 0 && p[off + 1] == 0 && p[off + 2] == 0 && p[off + 3] == 0) {
                out.toIke(p, off + 4, length - 4); // non-ESP marker (RFC 3948 §2.2)
                return;
            }
        }
        if (length < 8) {
            dataplane.counters().drop(Drop.ESP_TOO_SHORT);
            return;
        }
        int spi = ((p[off] & 0xFF) << 24) | ((p[off + 1] & 0xFF) << 16) | ((p[off + 2] & 0xFF) << 8) | (p[off + 3] & 0xFF);
        Routes.Inbound route = dataplane.inbound(spi);
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
        if (out.toTun(buffer, inner, len) < 0) {
            counters.drop(Drop.TUN_WRITE_FAILED);
            return;
        }
        counters.ingress(len);
    }
}
