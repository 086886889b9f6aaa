package io.isthmus.dataplane;

import io.isthmus.dataplane.linux.Poller;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.IdleStrategy;

/** What a packet thread does between duty cycles. */
final class PacketThreadIdle {
    private PacketThreadIdle() {
    }

    /**
     * An idle packet thread still wakes this often. Measured in the lab: a thread that slept
     * 100 ms at a time took 50 to 80 µs longer to answer a lone packet (ping, 10 ms apart) than
     * one that wakes every millisecond, which costs about 2% of a core while idle.
     */
    static final int WAKE_MILLIS = 1;

    /** A duty cycle reads a descriptor at most this many times before the others get their turn. */
    static final int BURST = 64;

    /**
     * Idle means: sleep in poll(2) until a descriptor is readable (or {@link #WAKE_MILLIS}
     * pass). Spinning instead was measured: with two gateways on two shared cores it starves the
     * very threads that would bring the next packet (pings took 12 ms, not 0.4).
     */
    record Poll(Poller poller) implements IdleStrategy {
        @Override
        public void idle(int workCount) {
            if (workCount == 0) {
                poller.await(WAKE_MILLIS);
            }
        }

        @Override
        public void idle() {
            poller.await(WAKE_MILLIS);
        }

        @Override
        public void reset() {
        }
    }

    /**
     * Busy polling ({@code tunnel.busyPoll}): after a duty cycle that did work, the thread keeps
     * running duty cycles (each one non-blocking reads that find nothing) for {@code spinNanos}
     * before it sleeps in {@code sleep}. The packet that answers the one just forwarded (the
     * reply to a ping, the ACK of a segment) usually comes within a few hundred microseconds and
     * then finds the thread awake instead of paying for a wake-up. Bounded, so an idle gateway
     * still sleeps; meant for machines with cores to spare (on the lab's two shared cores a
     * thread that spins takes the core from the threads that bring its next packet).
     */
    static final class BusyPoll implements IdleStrategy {
        private final IdleStrategy sleep;
        private final long spinNanos;
        private long lastWork;

        BusyPoll(IdleStrategy sleep, long spinNanos) {
            this.sleep = sleep;
            this.spinNanos = spinNanos;
            this.lastWork = System.nanoTime() - spinNanos - 1;
        }

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                lastWork = System.nanoTime();
                return;
            }
            if (System.nanoTime() - lastWork < spinNanos) {
                // Yield rather than spin in place: where another thread is ready to run on this
                // core (the one that brings the next packet, on a shared machine) it runs first.
                Thread.yield();
                return;
            }
            sleep.idle(0);
        }

        @Override
        public void idle() {
            idle(0);
        }

        @Override
        public void reset() {
            sleep.reset();
        }
    }

    /** Counts duty cycles (Agrona calls the idle strategy after each one) for {@link Graveyard}. */
    record Counting(IdleStrategy inner, AtomicLong cycles) implements IdleStrategy {
        @Override
        public void idle(int workCount) {
            cycles.set(cycles.get() + 1); // volatile: ordered after the cycle's reads of the tables
            inner.idle(workCount);
        }

        @Override
        public void idle() {
            cycles.set(cycles.get() + 1); // volatile: ordered after the cycle's reads of the tables
            inner.idle();
        }

        @Override
        public void reset() {
            inner.reset();
        }
    }
}
