package io.isthmus.dataplane;

import io.isthmus.dataplane.tun.TunPort;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Traffic and drops of one tunnel (or of the data plane as a whole), written by the packet
 * threads and read by status at any time. Ingress is from the peer, egress towards it, as
 * Azure's TunnelIngress/EgressBytes count.
 */
public final class Counters {
    // The two directions are counted by different threads, each at every packet: their counters a
    // cache line (8 longs) apart, so neither thread's writes take the other's line away. Drops
    // are rare (a flood of them is dropped work anyway) and packed after them: one counter per
    // cache line, as before, made every tunnel's counters 2.7 KB, 27 MB at 10,000 tunnels.
    private static final int LINE = 8;
    private static final int INGRESS_PACKETS = 0;
    private static final int INGRESS_BYTES = 1;
    private static final int EGRESS_PACKETS = LINE;
    private static final int EGRESS_BYTES = LINE + 1;
    private static final int DROPS = 2 * LINE;

    private final AtomicLongArray values = new AtomicLongArray(DROPS + Drop.values().length);
    /** Packets the TUN device refused, counted here (made once: the inbound path hands it over with every packet). */
    final TunPort.Loss tunWriteLoss = packets -> values.getAndAdd(DROPS + Drop.TUN_WRITE_FAILED.ordinal(), packets);

    void ingress(int bytes) {
        values.getAndIncrement(INGRESS_PACKETS);
        values.getAndAdd(INGRESS_BYTES, bytes);
    }

    void egress(int bytes) {
        values.getAndIncrement(EGRESS_PACKETS);
        values.getAndAdd(EGRESS_BYTES, bytes);
    }

    void egress(long bytes, int packets) {
        values.getAndAdd(EGRESS_PACKETS, packets);
        values.getAndAdd(EGRESS_BYTES, bytes);
    }

    /**
     * Batches sent out of turn: a lane waited {@link OutboundPath#TURN_PATIENCE_NANOS} for the
     * lanes holding lower sequence numbers of the SA and sent anyway (one descheduled meanwhile).
     */
    private final java.util.concurrent.atomic.AtomicLong outOfTurnSends = new java.util.concurrent.atomic.AtomicLong();

    void outOfTurn() {
        outOfTurnSends.incrementAndGet();
    }

    public long outOfTurnSends() {
        return outOfTurnSends.get();
    }

    void drop(Drop reason) {
        values.getAndIncrement(DROPS + reason.ordinal());
    }

    public long ingressPackets() {
        return values.get(INGRESS_PACKETS);
    }

    public long ingressBytes() {
        return values.get(INGRESS_BYTES);
    }

    public long egressPackets() {
        return values.get(EGRESS_PACKETS);
    }

    public long egressBytes() {
        return values.get(EGRESS_BYTES);
    }

    public long drops(Drop reason) {
        return values.get(DROPS + reason.ordinal());
    }

    public long drops() {
        long n = 0;
        for (Drop d : Drop.values()) {
            n += drops(d);
        }
        return n;
    }
}
