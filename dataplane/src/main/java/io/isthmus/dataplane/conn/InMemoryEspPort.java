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
 * receivers hand over, one datagram per receive. Thread-safe between one thread delivering and
 * one receiving.
 */
public final class InMemoryEspPort implements EspPort {
    /** One datagram, as it left or is to arrive. */
    public record Datagram(InetSocketAddress local, InetSocketAddress remote, boolean udp, byte[] bytes) {
    }

    /** An endpoint: the addresses, and whether in UDP. */
    public record PeerEndpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) implements Endpoint {
    }

    private final Queue<Datagram> sent = new ConcurrentLinkedQueue<>();
    private final QueueReceiver udp = new QueueReceiver(true);
    private final QueueReceiver raw = new QueueReceiver(false);

    /** What left through this port, ESP and control datagrams, oldest first; take them with poll(). */
    public Queue<Datagram> sent() {
        return sent;
    }

    /** A datagram for the receivers to hand over: to the UDP one, or the raw one. */
    public void deliver(Datagram d) {
        (d.udp() ? udp : raw).queue.add(d);
    }

    @Override
    public Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) {
        return new PeerEndpoint(local, remote, udp);
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
        return List.of(udp, raw);
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
