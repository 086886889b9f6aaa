package io.isthmus.dataplane;

import io.isthmus.dataplane.capture.PacketCapture;
import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.nat.TunnelNat;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.EspPacket;

/**
 * TUN to ESP, owned by one thread:
 *
 * <pre>
 * TUN read (tun/: a packet, or the segments of a TCP or UDP super-packet)
 *   -> tunnel by destination (LPM) -> SA -> too big? ICMP back
 *   -> for each packet: copied into the batch (tun/ cuts a segment on the way), clamp MSS,
 *      NAT (the tunnel's rules, {@link TunnelNat#outbound}), seal in place
 *   -> the batch: ESP packets of one SA back to back, sent as one UDP GSO call
 * </pre>
 *
 * A batch is sent when the next packet cannot join it (another SA, a longer packet, one after a
 * shorter one, 64 segments or 64 KB) and when the TUN device has nothing more to read
 * ({@link #flush}), so a lone packet never waits.
 *
 * <p><b>Sequence order with several lanes.</b> Each TUN read reserves its packets' sequence
 * numbers as one block ({@link io.isthmus.esp.OutboundSa#reserve}: one contended atomic per read,
 * not per packet), and a batch holds consecutive numbers only: a block that does not follow the
 * batch's last number sends the batch first. A batch leaves when every lower number of its SA
 * has left ({@link io.isthmus.esp.OutboundSa#released}), then releases its own: the SA's packets
 * go on the wire in sequence order whichever lanes sealed them, as wireguard-go keeps a peer's
 * packets in order behind its parallel encryption. Without it, lanes sealing one SA at once
 * sent numbers up to 1,700 (2 lanes) and 3,700 (4 lanes) behind the highest already sent
 * ({@code PacketLanesTest} on this loaded 2-core machine): beyond a 1024-packet replay window;
 * and with no thread descheduled at all, interleaved batches of 64 put numbers up to 64 behind,
 * which a peer with strongSwan's default window of 32 drops. No
 * deadlock: a lane waits only for lower numbers of the same SA, holding none of another SA (it
 * sends before reserving for another), so the lowest block's lane never waits. And if that lane
 * is descheduled, the others wait at most {@link #TURN_PATIENCE_NANOS}, then send anyway and
 * count it ({@link Counters#outOfTurnSends}): a stall bounded, never a hang.
 *
 * <p>NAT comes after the tunnel lookup (with IngressSnat, by the external destination) and the
 * too-big check (whose ICMP error goes back to the local sender, so it quotes the packet as the
 * sender sent it), and per packet, each segment of a super-packet being whole by then. The inner
 * tap of a capture sees the packet translated, as it travels in the tunnel (the inbound path's
 * tap sees it before translation: both show the tunnel's side).
 */
final class OutboundPath {
    /** The most segments one GSO send may carry (UDP_MAX_SEGMENTS is 64 before Linux 6.x). */
    static final int MAX_SEGMENTS = 64;
    /** A GSO send is one UDP datagram before the kernel cuts it: under 64 KB with its headers. */
    static final int MAX_BATCH_BYTES = 65_000;
    /** Room for the ESP header before, and padding, trailer and ICV after, an inner packet. */
    private static final int ESP_SLACK = 64 + 64;
    /**
     * Flow slots each duty cycle looks at per dynamic NAT rule: an idle thread runs a cycle a
     * millisecond, so a table of 65,536 is gone round in about two seconds.
     */
    static final int NAT_SWEEP = 32;
    /**
     * How long a lane waits for the lanes holding lower sequence numbers of an SA before it
     * sends its batch out of turn: a few scheduler ticks, longer than a lane that is merely
     * running takes for a batch (tens of µs), short enough that a descheduled lane holds up
     * the SA's traffic for no longer than the kernel would have kept it off its core.
     */
    static final long TURN_PATIENCE_NANOS = 2_000_000L;
    /** Spins before a waiting lane yields its core (to the lane it waits for, if they share one). */
    private static final int TURN_SPINS = 200;

    private final Forwarding forwarding;
    private final Counters global;
    private final int mss;
    private final TunPort tun;
    private final EspPort.Sender esp;
    private final CaptureSwitch capture;
    private final PacketBuffer batch = new PacketBuffer(2 * 65_536 + 2 * ESP_SLACK);
    private final PacketBuffer scratch = new PacketBuffer(2048);

    private final io.isthmus.esp.OutboundSa.SequenceBlock block = new io.isthmus.esp.OutboundSa.SequenceBlock();

    /** The SA whose sequence numbers this lane holds (and whose packets are batched), while {@link #holding}. */
    private InstalledSa.Outbound batchSa;
    /** Whether this lane holds reserved numbers of {@link #batchSa} not yet released. */
    private boolean holding;
    /** The first number held: the batch leaves once the SA has released everything below it. */
    private long heldFrom;
    /** The last number this lane is through with (sealed into the batch, or its packet dropped). */
    private long done;
    /** The last number reserved. */
    private long heldTo;
    private int start;
    private int end;
    private int count;
    private int segmentSize;
    private long innerBytes;
    /** The last packet was shorter than the first: nothing may follow it in this batch. */
    private boolean closed;

    /**
     * @param global drops no tunnel can be named for
     * @param mss what TCP SYNs are clamped to
     * @param tun where ICMP errors go back to the sender
     * @param esp where the ESP packets go
     */
    OutboundPath(Forwarding forwarding, Counters global, int mss, TunPort tun, EspPort.Sender esp, CaptureSwitch capture) {
        this.forwarding = forwarding;
        this.capture = capture;
        this.global = global;
        this.mss = mss;
        this.tun = tun;
        this.esp = esp;
    }

    /**
     * What one TUN read handed over: a packet, or the segments of a super-packet, all with the
     * same addresses, ports and protocol, so routed once.
     */
    void packets(TunBatch read) {
        int count = read.count();
        if (count == 0) {
            global.drop(Drop.MALFORMED_INNER);
            return;
        }
        ForwardingSnapshot snapshot = forwarding.current();
        byte[] p = read.bytes();
        int ip = read.ipOffset();
        Tunnel tunnel = snapshot.tunnel(p, ip);
        if (tunnel == null) {
            // The kernel's own link chatter on the device is not a packet the gateway failed to route: uncounted, so
            // NO_ROUTE means traffic for a prefix no tunnel has. Measured: with IPv6 forwarding on, bringing the device up
            // sends two MLDv2 reports (:: to ff02::16), even with addr_gen_mode 1 and multicast off; only disable_ipv6
            // stops them, and that would refuse the IPv6 routes a reload or BGP may add later.
            if (!IpPacket.linkScoped(p, ip)) {
                global.drop(Drop.NO_ROUTE);
            }
            return;
        }
        int largest = read.largest();
        InstalledSa.Outbound sa = snapshot.outbound(tunnel, p, ip, largest);
        if (sa == null) {
            // Told apart only here, off the forwarding path: no SA yet, or none whose selectors hold the packet.
            tunnel.counters().drop(snapshot.outbound(tunnel).length == 0 ? Drop.NO_SA : Drop.TS_MISMATCH_EGRESS);
            return;
        }
        // Segments of a super-packet are never fragmented: the sender asked for that size.
        if (largest > sa.maxInner && (read.segmented() || IpPacket.dontFragment(p, ip))) {
            tooBig(tunnel, sa, p, ip, largest);
            return;
        }
        // A gateway pair's SA is sealed under a lease with a deadline: the clock is read once per
        // TUN read (up to 64 segments), not per packet, and not at all for an SA without a lease.
        long now = sa.sa.isLeased() ? System.nanoTime() : 0;
        // Numbers of another SA are sent and released before this one's are reserved: a lane that
        // waits for one SA's turn never holds up another's.
        if (holding && sa != batchSa) {
            send();
        }
        int granted = sa.sa.reserve(block, count, now);
        if (granted < 0) {
            for (int i = 0; i < count; i++) {
                tunnel.counters().drop(Drop.ofSeal(granted));
            }
            return;
        }
        if (holding && block.first() != heldTo + 1) {
            send(); // another lane reserved in between: the batch goes before this block, its turn coming first
        }
        if (!holding) {
            holding = true;
            batchSa = sa;
            heldFrom = block.first();
            done = heldFrom - 1;
        }
        heldTo = block.last();
        PacketCapture cap = capture.current;
        TunnelNat nat = snapshot.nat(tunnel);
        long seq = block.first();
        for (int i = 0; i < count; i++, seq++) {
            if (i >= granted) {
                tunnel.counters().drop(Drop.ofSeal(sa.sa.shortfall()));
                continue;
            }
            int len = read.length(i);
            int at = place(sa, len);
            byte[] b = batch.bytes();
            read.copy(i, b, at);
            if (!read.segmented()) {
                IpPacket.clampMss(b, at, len, mss);
            }
            if (nat != TunnelNat.NONE) {
                int verdict = nat.outbound(b, at, len);
                if (verdict != TunnelNat.PASS) {
                    // Nothing was added to the batch: the next packet takes its place; its number is a gap.
                    tunnel.counters().drop(Drop.ofNat(verdict, true));
                    done = seq;
                    continue;
                }
            }
            if (cap != null) {
                cap.inner(false, tunnel.name(), b, at, len);
            }
            seal(sa, tunnel, at, len, seq, cap);
            done = seq;
        }
    }

    /** Once a duty cycle: expired NAT flows this thread made are freed, a few per table (see {@link TunnelNat#sweep}). */
    void sweepNat() {
        for (TunnelNat n : forwarding.current().natWithFlows()) {
            n.sweep(true, NAT_SWEEP);
        }
    }

    /** Sends what is batched: called when the TUN device has nothing more to read. */
    void flush() {
        send();
        start = 0;
        end = 0;
    }

    private void tooBig(Tunnel tunnel, InstalledSa.Outbound sa, byte[] p, int ip, int len) {
        int icmp = IpPacket.tooBig(p, ip, len, sa.maxInner, scratch.bytes(), TunPort.HEADROOM);
        tun.write(scratch, TunPort.HEADROOM, icmp, TunPort.Loss.NONE);
        tunnel.counters().drop(Drop.TOO_BIG);
    }

    /** Where in the batch to put an inner packet of {@code length} bytes for {@code sa}. */
    private int place(InstalledSa.Outbound sa, int length) {
        if (end + sa.sa.headerLength() + length + ESP_SLACK > batch.capacity()) {
            flush();
        }
        return end + sa.sa.headerLength();
    }

    /** Seals the inner packet placed at {@code at} with sequence number {@code seq} into an ESP packet at the batch's end, and adds it to the batch. */
    private void seal(InstalledSa.Outbound sa, Tunnel tunnel, int at, int length, long seq, PacketCapture cap) {
        int esp = at - sa.sa.headerLength();
        int n = sa.sa.sealReserved(batch.bytes(), esp, length,
                IpPacket.version(batch.bytes(), at) == 4 ? EspPacket.NEXT_HEADER_IPV4 : EspPacket.NEXT_HEADER_IPV6, seq);
        if (n < 0) {
            tunnel.counters().drop(Drop.ofSeal(n));
            return;
        }
        if (cap != null) {
            cap.esp(false, tunnel.name(), batch.bytes(), esp, n, sa.pair.local(), sa.pair.remote(), sa.pair.udpEncapsulation());
        }
        if (count > 0 && (n > segmentSize || closed || count == MAX_SEGMENTS || end + n - start > MAX_BATCH_BYTES)) {
            send(); // releases the numbers up to the last one batched: this one and those after it stay held
        }
        if (count == 0) {
            segmentSize = n;
            closed = false;
        } else if (n < segmentSize) {
            closed = true;
        }
        count++;
        innerBytes += length;
        end += n;
    }

    /**
     * Sends the batch [start, end) once it is its SA's turn, releases the numbers this lane is
     * through with, and starts the next batch at its end.
     */
    private void send() {
        if (holding) {
            awaitTurn(batchSa);
        }
        if (count > 0) {
            Counters counters = batchSa.tunnel.counters();
            int sent = esp.send(batchSa.endpoint, batch, start, end - start, segmentSize);
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
        if (holding) {
            batchSa.sa.release(done);
            heldFrom = done + 1;
            holding = done != heldTo;
        }
    }

    /**
     * Returns once every number of {@code sa} below {@link #heldFrom} has left, or after
     * {@link #TURN_PATIENCE_NANOS} (counted): at once when this lane is the only one sealing
     * for the SA, which is every batch with one lane.
     */
    private void awaitTurn(InstalledSa.Outbound sa) {
        long before = heldFrom - 1;
        if (Long.compareUnsigned(sa.sa.released(), before) >= 0) {
            return;
        }
        long deadline = 0;
        for (int spins = 0; Long.compareUnsigned(sa.sa.released(), before) < 0; spins++) {
            if (spins < TURN_SPINS) {
                Thread.onSpinWait();
                continue;
            }
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + TURN_PATIENCE_NANOS;
            } else if (now - deadline > 0) {
                sa.tunnel.counters().outOfTurn();
                return;
            }
            Thread.yield();
        }
    }
}
