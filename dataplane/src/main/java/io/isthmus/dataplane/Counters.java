package io.isthmus.dataplane;

import io.isthmus.dataplane.tun.TunPort;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Traffic and drops of one tunnel (or of the data plane as a whole), written by the packet
 * threads and read by status at any time. Ingress is from the peer, egress towards it, as
 * Azure's TunnelIngress/EgressBytes count.
 */
public final class Counters {
    private static final int INGRESS_PACKETS = 0;
    private static final int INGRESS_BYTES = 1;
    private static final int EGRESS_PACKETS = 2;
    private static final int EGRESS_BYTES = 3;
    private static final int DROPS = 4;
    // Each counter on its own cache line: the two directions are written by different threads.
    private static final int STRIDE = 8;

    private final AtomicLongArray values = new AtomicLongArray(STRIDE * (DROPS + Drop.values().length));
    /** Packets the TUN device refused, counted here (made once: the inbound path hands it over with every packet). */
    final TunPort.Loss tunWriteLoss = packets -> values.getAndAdd(STRIDE * (DROPS + Drop.TUN_WRITE_FAILED.ordinal()), packets);

    void ingress(int bytes) {
        values.getAndIncrement(STRIDE * INGRESS_PACKETS);
        values.getAndAdd(STRIDE * INGRESS_BYTES, bytes);
    }

    void egress(int bytes) {
        values.getAndIncrement(STRIDE * EGRESS_PACKETS);
        values.getAndAdd(STRIDE * EGRESS_BYTES, bytes);
    }

    void egress(long bytes, int packets) {
        values.getAndAdd(STRIDE * EGRESS_PACKETS, packets);
        values.getAndAdd(STRIDE * EGRESS_BYTES, bytes);
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
        values.getAndIncrement(STRIDE * (DROPS + reason.ordinal()));
    }

    public long ingressPackets() {
        return values.get(STRIDE * INGRESS_PACKETS);
    }

    public long ingressBytes() {
        return values.get(STRIDE * INGRESS_BYTES);
    }

    public long egressPackets() {
        return values.get(STRIDE * EGRESS_PACKETS);
    }

    public long egressBytes() {
        return values.get(STRIDE * EGRESS_BYTES);
    }

    public long drops(Drop reason) {
        return values.get(STRIDE * (DROPS + reason.ordinal()));
    }

    public long drops() {
        long n = 0;
        for (Drop d : Drop.values()) {
            n += drops(d);
        }
        return n;
    }
}
