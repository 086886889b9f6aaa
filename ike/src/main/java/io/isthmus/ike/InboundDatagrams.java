package io.isthmus.ike;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * IKE datagrams that arrived on another thread (the data plane's packet thread, which owns UDP
 * 4500) on their way to the engine's thread, in bounded queues: when one is full the datagram is
 * dropped and counted, before it is even copied. Measured before this existed: each datagram
 * became a task on the event loop's unbounded queue, and a 10-second IKE_SA_INIT flood on 4500
 * grew the live heap from 15 to 213 MB while status requests and real IKE waited behind it.
 * Port 500 needs nothing of the kind: Netty reads it on the engine's thread, so the socket's
 * own receive buffer is the bound there.
 *
 * <p>Two queues: messages for IKE SAs that exist (a responder SPI is set) and IKE_SA_INIT
 * requests (it is zero), the first served first. Anyone can send an IKE_SA_INIT, so a flood of
 * them must not crowd out the liveness checks and rekeys of the tunnels that are up; forging a
 * message for an existing SA takes its SPIs, and it is then dropped at the first integrity check.
 *
 * <p>The engine's thread takes at most {@link #BATCH} datagrams per turn and then lets other
 * tasks (timers, status requests, port 500) run before it takes more.
 */
public final class InboundDatagrams {
    /** Datagrams handled per task on the engine's thread before the others get a turn. */
    static final int BATCH = 32;
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    /** What the engine's thread does with each datagram. */
    public interface Receiver {
        void receive(byte[] datagram, InetSocketAddress local, InetSocketAddress remote);
    }

    private record Datagram(byte[] bytes, InetSocketAddress local, InetSocketAddress remote) {
    }

    private final ArrayBlockingQueue<Datagram> forExistingSas;
    private final ArrayBlockingQueue<Datagram> forNewSas;
    private final Executor engineThread;
    private final Receiver receiver;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private long failures;

    /** {@code capacity} datagrams may wait in each of the two queues. */
    public InboundDatagrams(int capacity, Executor engineThread, Receiver receiver) {
        this.forExistingSas = new ArrayBlockingQueue<>(capacity);
        this.forNewSas = new ArrayBlockingQueue<>(capacity);
        this.engineThread = engineThread;
        this.receiver = receiver;
    }

    /**
     * From any thread: queues a copy of {@code length} bytes at {@code offset}, or drops them
     * when their queue is full. Never blocks.
     */
    public boolean offer(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        ArrayBlockingQueue<Datagram> queue = hasResponderSpi(buffer, offset, length) ? forExistingSas : forNewSas;
        if (queue.remainingCapacity() == 0
                || !queue.offer(new Datagram(Arrays.copyOfRange(buffer, offset, offset + length), local, remote))) {
            dropped.incrementAndGet();
            return false;
        }
        accepted.incrementAndGet();
        if (drainScheduled.compareAndSet(false, true)) {
            engineThread.execute(this::drain);
        }
        return true;
    }

    /** Bytes 8 to 15 of the IKE header: the responder's SPI, zero only in an IKE_SA_INIT request. */
    private static boolean hasResponderSpi(byte[] b, int offset, int length) {
        if (length < 28) {
            return false;
        }
        for (int i = offset + 8; i < offset + 16; i++) {
            if (b[i] != 0) {
                return true;
            }
        }
        return false;
    }

    /** Datagrams dropped because the engine's thread was behind. */
    public long dropped() {
        return dropped.get();
    }

    /** Datagrams handed over. */
    public long accepted() {
        return accepted.get();
    }

    private void drain() {
        for (int i = 0; i < BATCH; i++) {
            Datagram d = forExistingSas.poll();
            if (d == null) {
                d = forNewSas.poll();
            }
            if (d == null) {
                drainScheduled.set(false);
                // A producer may have queued after our polls and seen the flag still set.
                if ((!forExistingSas.isEmpty() || !forNewSas.isEmpty()) && drainScheduled.compareAndSet(false, true)) {
                    engineThread.execute(this::drain);
                }
                return;
            }
            try {
                receiver.receive(d.bytes, d.local, d.remote);
            } catch (RuntimeException e) {
                // The engine never throws by contract; if it ever does, this queue must not stop for good.
                if (failures++ == 0) {
                    LOG.log(System.Logger.Level.ERROR, "IKE datagram from " + d.remote + " failed: " + e, e);
                }
            }
        }
        engineThread.execute(this::drain);
    }
}
