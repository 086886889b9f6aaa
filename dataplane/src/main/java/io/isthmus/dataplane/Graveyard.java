package io.isthmus.dataplane;

import io.isthmus.esp.SecurityAssociation;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * SAs taken out of the forwarding snapshot, waiting until no packet thread can still hold one
 * before their keys are wiped. A packet thread reads the snapshot ({@link Forwarding}, one
 * volatile field) during a duty cycle, never across cycles, and counts its cycles in a volatile
 * counter when each ends. The control thread publishes the snapshot without the SAs (the one
 * volatile write of {@link Forwarding#publish}), then reads every counter (volatile reads): a
 * counter at n then, the cycle that ends at n + 1 may have read the old snapshot, but the one
 * after began after our read of n, which in the synchronization order follows our publication,
 * so it sees the new one. At n + 2 the thread holds none of the buried SAs. (Before this, an SA retired by the peer's Delete was destroyed
 * at once and a packet thread sealing with it lost the packet: 1 to 4 per three minutes of
 * 15 s child lifetimes.) Control thread only, under the data plane's lock.
 */
final class Graveyard {
    /** How long {@link #bury} waits for the packet threads before leaving the rest to {@link #reclaim}: they wake every ms. */
    private static final long PATIENCE_NANOS = 5_000_000L;

    private record Grave(List<? extends SecurityAssociation> sas, long[] seen) {
    }

    private final List<AtomicLong> dutyCycles;
    private final ArrayDeque<Grave> graves = new ArrayDeque<>();

    /** {@code dutyCycles}: one counter per packet thread (none when the data plane runs without threads, in tests). */
    Graveyard(List<AtomicLong> dutyCycles) {
        this.dutyCycles = dutyCycles;
    }

    /** Buries SAs already out of the tables; wipes them as soon as the packet threads let go, waiting a few ms for that. */
    void bury(List<? extends SecurityAssociation> sas) {
        long[] seen = new long[dutyCycles.size()];
        for (int i = 0; i < seen.length; i++) {
            seen[i] = dutyCycles.get(i).get();
        }
        graves.add(new Grave(sas, seen));
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (reclaim() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(100_000);
        }
    }

    /** Wipes what no packet thread can hold any more; returns how many graves are left. */
    int reclaim() {
        while (!graves.isEmpty() && released(graves.peek().seen())) {
            graves.poll().sas().forEach(SecurityAssociation::destroy);
        }
        return graves.size();
    }

    /** Once the packet threads have stopped: everything. */
    void destroyAll() {
        graves.forEach(g -> g.sas().forEach(SecurityAssociation::destroy));
        graves.clear();
    }

    private boolean released(long[] seen) {
        for (int i = 0; i < seen.length; i++) {
            if (dutyCycles.get(i).get() < seen[i] + 2) {
                return false;
            }
        }
        return true;
    }
}
