package io.isthmus.dataplane.conn;

import io.isthmus.dataplane.linux.PacketBuffer;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The sockets towards the peers, ESP in UDP on the NAT-traversal port (RFC 3948, shared with
 * IKE) and raw ESP, as the data plane uses them; after wireguard-go's {@code conn.Bind}. An
 * {@link Endpoint} is made once per SA, on the control thread; each packet thread (lane) sends
 * through its own {@link Sender} and reads its own sockets through {@link Receiver}s; IKE
 * messages and NAT keepalives leave by {@link #sendControl} from any thread. Nothing on the
 * packet threads' side allocates per packet.
 */
public interface EspPort extends AutoCloseable {
    /** Where an outbound SA's packets go: a peer's address, and the socket they leave by. */
    interface Endpoint {
    }

    /** The outbound thread's side. */
    interface Sender {
        /**
         * ESP packets back to back at {@code buffer[offset .. offset + length)}, each
         * {@code segmentSize} bytes but the last, which may be shorter, all to {@code to}: with
         * UDP GSO (or, raw, sendmmsg) one system call. How many were sent, or minus errno if none was.
         */
        int send(Endpoint to, PacketBuffer buffer, int offset, int length, int segmentSize);
    }

    /** One socket as the inbound thread reads it. */
    interface Receiver {
        /**
         * One receive into {@code buffer} at 0: the bytes received, 0 if none is waiting (or
         * the socket failed: it is polled again), the datagrams from {@link #offset()} on.
         */
        int receive(PacketBuffer buffer);

        /**
         * Where the datagrams start in what {@link #receive} returned (after the IPv4 header a raw
         * IPv4 socket hands over); or, for a datagram that is to be dropped and counted unopened,
         * {@link #MALFORMED_OUTER} or {@link #TRUNCATED}.
         */
        int offset();

        /**
         * {@link #offset()} of a raw datagram whose outer IPv4 header is not one ESP is taken from:
         * cut short, lengths that do not add up, a fragment, another protocol or another
         * destination than the socket's address. (The kernel checks and reassembles before a raw
         * socket sees a packet; this is the check that does not rely on it.)
         */
        int MALFORMED_OUTER = -1;

        /** {@link #offset()} of a datagram longer than the receive could take, so cut: not what the peer sent. */
        int TRUNCATED = -2;

        /** The size of each datagram in what {@link #receive} returned: with UDP GRO a run of them, the last possibly shorter. */
        int segmentSize();

        /** Whether ESP arrives here in UDP (on the NAT-traversal port, shared with IKE and keepalives), or raw. */
        boolean udp();

        InetSocketAddress localAddress();

        /** Who sent what {@link #receive} returned last. Allocates: for IKE messages only. */
        InetSocketAddress lastSource();
    }

    /**
     * The endpoint for an SA from {@code local} to {@code remote}, in UDP (from the NAT-traversal
     * port, to the peer's port) or as raw ESP; null if this port has no socket for it.
     */
    Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp);

    /** A sender of its own for the one thread that calls it. */
    Sender sender();

    /** One receiver per socket, for the one thread that reads them. */
    List<Receiver> receivers();

    /**
     * The sender of packet thread {@code lane} (0 to {@code lanes - 1} of a port opened for
     * several): it sends through that lane's own sockets, whose per-socket state (the UDP GSO
     * segment size) only that thread changes. One lane: {@link #sender()}.
     */
    default Sender sender(int lane) {
        if (lane != 0) {
            throw new IllegalArgumentException("this port has one lane, not " + (lane + 1));
        }
        return sender();
    }

    /**
     * What packet thread {@code lane} reads: its own sockets of each SO_REUSEPORT group (the
     * kernel gives each peer's datagrams to one of them), and, on lane 0 only, the raw ESP
     * sockets (a raw socket gets a copy of every packet, so one reader per address). One lane:
     * {@link #receivers()}.
     */
    default List<Receiver> receivers(int lane) {
        if (lane != 0) {
            throw new IllegalArgumentException("this port has one lane, not " + (lane + 1));
        }
        return receivers();
    }

    /**
     * A datagram of the control plane's (an IKE message already framed, a keepalive) from
     * {@code local}'s UDP socket, never cut into segments; failures are logged, as IKE
     * retransmits.
     */
    void sendControl(byte[] datagram, InetSocketAddress local, InetSocketAddress remote);

    @Override
    void close();
}
