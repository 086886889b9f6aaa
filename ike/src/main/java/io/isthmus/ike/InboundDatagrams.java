package io.isthmus.ike;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * IKE datagrams that arrived on another thread (the data plane's packet thread, which owns UDP
 * 4500) on their way to the engine's thread, in a bounded queue: when it is full the datagram
 * is dropped and counted, before it is even copied. Measured before this existed: each datagram
 * became a task on the event loop's unbounded queue, and a 10-second IKE_SA_INIT flood on 4500
 * grew the live heap from 15 to 213 MB while status requests and real IKE waited behind it.
 * Port 500 needs nothing of the kind: Netty reads it on the engine's thread, so the socket's
 * own receive buffer is the bound there.
 *
 * <p>The engine's thread takes at most {@link #BATCH} datagrams per turn and then lets other
 * tasks (timers, status requests, port 500) run before it takes more.
 */
public final class InboundDatagrams {
    /** Datagrams handled per task on the engine's thread before the others get a turn. */
    static final int BATCH = 32;

    /** What the engine's thread does with each datagram. */
    public interface Receiver {
        void receive(byte[] datagram, InetSocketAddress local, InetSocketAddress remote);
    }

    private record Datagram(byte[] bytes, InetSocketAddress local, InetSocketAddress remote) {
    }

    private final ArrayBlockingQueue<Datagram> queue;
    private final Executor engineThread;
    private final Receiver receiver;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();

    public InboundDatagrams(int capacity, Executor engineThread, Receiver receiver) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.engineThread = engineThread;
        this.receiver = receiver;
    }

    /**
     * From any thread: queues a copy of {@code length} bytes at {@code offset}, or drops them
     * when the queue is full. Never blocks.
     */
    public boolean offer(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        if (queue.remainingCapacity() == 0) {
            dropped.incrementAndGet();
            return false;
        }
        if (!queue.offer(new Datagram(Arrays.copyOfRange(buffer, offset, offset + length), local, remote))) {
            dropped.incrementAndGet();
            return false;
        }
        accepted.incrementAndGet();
        if (drainScheduled.compareAndSet(false, true)) {
            engineThread.execute(this::drain);
        }
        return true;
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
            Datagram d = queue.poll();
            if (d == null) {
                drainScheduled.set(false);
                // A producer may have queued after our poll and seen the flag still set.
                if (!queue.isEmpty() && drainScheduled.compareAndSet(false, true)) {
                    engineThread.execute(this::drain);
                }
                return;
            }
            receiver.receive(d.bytes, d.local, d.remote);
        }
        engineThread.execute(this::drain);
    }
}
