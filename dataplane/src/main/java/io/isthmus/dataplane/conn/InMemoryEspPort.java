package io.isthmus.dataplane.conn;

import io.isthmus.dataplane.linux.PacketBuffer;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An {@link EspPort} over memory, for tests and a data plane without sockets: every endpoint is
 * there, what is sent is kept in {@link #sent()}, and what is {@link #deliver}ed is what the
 * receivers hand over, one datagram per receive. Thread-safe between any threads delivering and
 * sending and one thread receiving per lane.
 *
 * <p>With several lanes it spreads datagrams as the kernel's SO_REUSEPORT group does: those in
 * UDP by a hash of their addresses and ports (one peer's always to one lane), raw ones to lane 0.
 */
public final class InMemoryEspPort implements EspPort {
    /** One datagram, as it left or is to arrive. */
    public record Datagram(InetSocketAddress local, InetSocketAddress remote, boolean udp, byte[] bytes) {
    }

    /** An endpoint: the addresses, and whether in UDP. */
    public record PeerEndpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) implements Endpoint {
    }

    private final Queue<Datagram> sent = new ConcurrentLinkedQueue<>();
    private final QueueReceiver[] udp;
    private final QueueReceiver raw = new QueueReceiver(false);

    public InMemoryEspPort() {
        this(1);
    }

    /** A port for {@code lanes} packet threads. */
    public InMemoryEspPort(int lanes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("at least one lane, not " + lanes);
        }
        udp = new QueueReceiver[lanes];
        for (int i = 0; i < lanes; i++) {
            udp[i] = new QueueReceiver(true);
        }
    }

    public int lanes() {
        return udp.length;
    }

    /** The lane whose receiver gets {@code d}: as a reuseport group hashes a UDP 4-tuple; raw ESP to lane 0. */
    public int laneOf(Datagram d) {
        return d.udp() ? Math.floorMod(java.util.Objects.hash(d.local(), d.remote()), udp.length) : 0;
    }

    /** What left through this port, ESP and control datagrams, oldest first; take them with poll(). */
    public Queue<Datagram> sent() {
        return sent;
    }

    /** A datagram for the receivers to hand over: to the UDP one, or the raw one. */
    public void deliver(Datagram d) {
        deliver(d, laneOf(d));
    }

    /** As {@link #deliver(Datagram)}, to lane {@code lane}'s UDP receiver (raw ESP: lane 0's raw one whatever the lane). */
    public void deliver(Datagram d, int lane) {
        (d.udp() ? udp[lane] : raw).queue.add(d);
    }

    @Override
    public Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) {
        return new PeerEndpoint(local, remote, udp);
    }

    @Override
    public Sender sender(int lane) {
        java.util.Objects.checkIndex(lane, udp.length);
        return sender();
    }

    @Override
    public List<Receiver> receivers(int lane) {
        java.util.Objects.checkIndex(lane, udp.length);
        return lane == 0 ? List.of(udp[0], raw) : List.of(udp[lane]);
    }

    @Override
    public Sender sender() {
        return (to, buffer, offset, length, segmentSize) -> {
            PeerEndpoint e = (PeerEndpoint) to;
            int n = 0;
            for (int o = offset; o < offset + length; o += segmentSize, n++) {
                sent.add(new Datagram(e.local(), e.remote(), e.udp(), Arrays.copyOfRange(buffer.bytes(), o, Math.min(o + segmentSize, offset + length))));
            }
            return n;
        };
    }

    @Override
    public List<Receiver> receivers() {
        return receivers(0);
    }

    @Override
    public void sendControl(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        sent.add(new Datagram(local, remote, true, datagram.clone()));
    }

    @Override
    public void close() {
    }

    private static final class QueueReceiver implements Receiver {
        private final boolean udp;
        private final Queue<Datagram> queue = new ConcurrentLinkedQueue<>();
        private Datagram last;

        QueueReceiver(boolean udp) {
            this.udp = udp;
        }

        @Override
        public int receive(PacketBuffer buffer) {
            Datagram d = queue.poll();
            if (d == null) {
                return 0;
            }
            last = d;
            int n = Math.min(d.bytes().length, buffer.capacity());
            System.arraycopy(d.bytes(), 0, buffer.bytes(), 0, n);
            return n;
        }

        @Override
        public int offset() {
            return 0;
        }

        @Override
        public int segmentSize() {
            return last == null ? 0 : last.bytes().length;
        }

        @Override
        public boolean udp() {
            return udp;
        }

        @Override
        public InetSocketAddress localAddress() {
            return last == null ? null : last.local();
        }

        @Override
        public InetSocketAddress lastSource() {
            return last == null ? null : last.remote();
        }
    }
}
