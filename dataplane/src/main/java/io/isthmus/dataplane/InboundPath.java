package io.isthmus.dataplane;

import io.isthmus.dataplane.capture.PacketCapture;
import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.nat.TunnelNat;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.UdpEncapsulation;

/**
 * ESP to TUN, owned by one thread:
 *
 * <pre>
 * UDP 4500 / raw ESP read (one datagram, or with UDP GRO a run of them)
 *   -> for each datagram: keepalive? IKE (non-ESP marker)? -> SA by SPI -> open in place
 *      -> inner packet within the SA's selectors? -> clamp MSS -> NAT ({@link TunnelNat#inbound})
 *   -> TUN write (tun/ merges the segments of a flow into one super-packet, written at flush)
 * </pre>
 *
 * The ESP header of each datagram is the headroom the TUN port needs before its inner packet.
 * The selectors are checked on the packet as it came through the tunnel, before NAT (they were
 * negotiated with the peer, which knows nothing of our translation); the inner tap of a capture
 * sees it then too, as the outbound tap sees its packets after NAT.
 */
final class InboundPath {
    private final Forwarding forwarding;
    private final Counters global;
    private final int mss;
    private final TunPort tun;
    private final Dataplane.Events events;
    private final CaptureSwitch capture;

    /**
     * @param global drops no tunnel can be named for
     * @param mss what TCP SYNs are clamped to
     * @param tun where the inner packets go
     * @param events where IKE messages that came in on port 4500 go
     */
    InboundPath(Forwarding forwarding, Counters global, int mss, TunPort tun, Dataplane.Events events, CaptureSwitch capture) {
        this.forwarding = forwarding;
        this.capture = capture;
        this.global = global;
        this.mss = mss;
        this.tun = tun;
        this.events = events;
    }

    /**
     * What one receive from {@code from} returned at {@code buffer[off]}: datagrams of
     * {@code segmentSize} bytes back to back, the last possibly shorter ({@code segmentSize ==
     * length} for one).
     */
    void datagrams(PacketBuffer buffer, int off, int length, int segmentSize, EspPort.Receiver from) {
        ForwardingSnapshot snapshot = forwarding.current();
        PacketCapture cap = capture.current;
        int size = segmentSize <= 0 ? length : segmentSize;
        for (int o = off; o < off + length; o += size) {
            datagram(snapshot, buffer, o, Math.min(size, off + length - o), from, cap);
        }
    }

    /** Once a duty cycle: expired NAT flows this thread made are freed, a few per table (see {@link TunnelNat#sweep}). */
    void sweepNat() {
        for (TunnelNat n : forwarding.current().natWithFlows()) {
            n.sweep(false, OutboundPath.NAT_SWEEP);
        }
    }

    /** One datagram at {@code buffer[off]}: ESP (or, from UDP, possibly IKE or a keepalive). */
    private void datagram(ForwardingSnapshot snapshot, PacketBuffer buffer, int off, int length, EspPort.Receiver from, PacketCapture cap) {
        byte[] p = buffer.bytes();
        if (from.udp()) {
            UdpEncapsulation.Kind kind = UdpEncapsulation.classify(p, off, length);
            if (kind == UdpEncapsulation.Kind.KEEPALIVE) {
                return;
            }
            if (kind == UdpEncapsulation.Kind.IKE) {
                events.ikeMessage(p, off + UdpEncapsulation.MARKER_LENGTH, length - UdpEncapsulation.MARKER_LENGTH, from.localAddress(),
                        from.lastSource());
                return;
            }
        }
        if (length < 8) {
            global.drop(Drop.ESP_TOO_SHORT);
            return;
        }
        int spi = (int) IpPacket.u32(p, off);
        InstalledSa.Inbound in = snapshot.inbound(spi);
        if (in == null) {
            if (cap != null) {
                cap.esp(true, null, p, off, length, from.localAddress(), from.lastSource(), from.udp());
            }
            global.drop(Drop.UNKNOWN_SPI);
            return;
        }
        if (cap != null) {
            // Before it is opened in place; with the SA's addresses, which the exported keys name.
            cap.esp(true, in.tunnel.name(), p, off, length, in.pair.local(), in.pair.remote(), from.udp());
        }
        Counters counters = in.tunnel.counters();
        int n = in.sa.open(p, off, length);
        if (n < 0) {
            counters.drop(Drop.of(DropReason.fromCode(n)));
            return;
        }
        int inner = off + in.sa.headerLength();
        if (!IpPacket.isValid(p, inner, n)) {
            counters.drop(Drop.MALFORMED_INNER);
            return;
        }
        int len = IpPacket.totalLength(p, inner);
        if (!in.fits(p, inner, len)) {
            counters.drop(Drop.TS_MISMATCH);
            return;
        }
        IpPacket.clampMss(p, inner, len, mss);
        if (cap != null) {
            cap.inner(true, in.tunnel.name(), p, inner, len);
        }
        TunnelNat nat = snapshot.nat(in.tunnel);
        if (nat != TunnelNat.NONE) {
            int verdict = nat.inbound(p, inner, len);
            if (verdict != TunnelNat.PASS) {
                counters.drop(Drop.ofNat(verdict, false));
                return;
            }
        }
        counters.ingress(len);
        tun.write(buffer, inner, len, counters.tunWriteLoss);
    }
}
