package io.isthmus.dataplane.conn;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.DatagramSocket;
import io.isthmus.dataplane.linux.Libc;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.linux.SocketAddresses;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The {@link EspPort} over the kernel's sockets ({@link DatagramSocket}, FFM): one UDP socket on
 * the NAT-traversal port per local address, and one raw ESP socket per address if asked for.
 * Sends and receives take the Java heap buffers directly; UDP GSO and GRO where the kernel has
 * them.
 */
public final class LinuxEspPort implements EspPort {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");

    private final Map<InetAddress, DatagramSocket> udpSockets = new LinkedHashMap<>();
    private final Map<InetAddress, DatagramSocket> rawSockets = new LinkedHashMap<>();
    private final Libc.CallState controlState = new Libc.CallState();

    private LinuxEspPort() {
    }

    /**
     * Opens the sockets: UDP on {@code port} at each of {@code locals} (with GSO and GRO if
     * {@code offloads}), and raw ESP there too if {@code rawEsp}. All or none.
     */
    public static LinuxEspPort open(List<InetAddress> locals, int port, boolean rawEsp, int bufferBytes, boolean offloads) throws IOException {
        return open(locals, List.of(), port, rawEsp, bufferBytes, offloads);
    }

    /** As {@link #open(List, int, boolean, int, boolean)}, and on {@code floating} addresses the host may not have yet (IP_FREEBIND). */
    public static LinuxEspPort open(List<InetAddress> locals, List<InetAddress> floating, int port, boolean rawEsp, int bufferBytes,
                                    boolean offloads) throws IOException {
        LinuxEspPort p = new LinuxEspPort();
        try {
            List<InetAddress> all = new ArrayList<>(locals);
            all.addAll(floating);
            for (InetAddress a : all) {
                boolean free = floating.contains(a);
                InetSocketAddress at = new InetSocketAddress(a, port);
                p.udpSockets.put(a, DatagramSocket.udp(at, bufferBytes, offloads, free));
                if (rawEsp) {
                    DatagramSocket raw = DatagramSocket.rawEsp(new InetSocketAddress(a, 0), bufferBytes, offloads, free);
                    p.rawSockets.put(a, raw);
                    if (offloads && !raw.vectored()) {
                        LOG.log(System.Logger.Level.WARNING, "{0}: one system call per packet: {1}", raw, raw.offloads());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    private List<DatagramSocket> sockets() {
        List<DatagramSocket> all = new ArrayList<>(udpSockets.values());
        all.addAll(rawSockets.values());
        return all;
    }

    /** The descriptors of {@link #receivers()}, in that order: for the inbound thread's poll(2). */
    public int[] fds() {
        return sockets().stream().mapToInt(DatagramSocket::fd).toArray();
    }

    /** Where the endpoint's packets go, as the kernel takes it: a native sockaddr made once. */
    private record LinuxEndpoint(DatagramSocket socket, MemorySegment address, int length) implements Endpoint {
    }

    @Override
    public Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) {
        DatagramSocket socket = (udp ? udpSockets : rawSockets).get(local.getAddress());
        if (socket == null) {
            return null;
        }
        // A raw socket's sockaddr carries no port.
        return new LinuxEndpoint(socket, SocketAddresses.of(udp ? remote : new InetSocketAddress(remote.getAddress(), 0)),
                SocketAddresses.length(remote));
    }

    @Override
    public Sender sender() {
        Libc.CallState state = new Libc.CallState();
        return (to, buffer, offset, length, segmentSize) -> {
            LinuxEndpoint e = (LinuxEndpoint) to;
            return e.socket.sendSegments(state, buffer, offset, length, segmentSize, e.address, e.length);
        };
    }

    @Override
    public List<Receiver> receivers() {
        return sockets().stream().<Receiver>map(SocketReceiver::new).toList();
    }

    /** One socket read by one thread. */
    private static final class SocketReceiver implements Receiver {
        private final DatagramSocket socket;
        private final Libc.CallState state = new Libc.CallState();
        /** A raw IPv4 socket's address, as the outer header's destination must read. */
        private final int destination;
        private final boolean outerIpv4;
        private int received;
        private int offset;

        SocketReceiver(DatagramSocket socket) {
            this.socket = socket;
            byte[] a = socket.localAddress().getAddress().getAddress();
            this.outerIpv4 = socket.isRaw() && a.length == 4;
            this.destination = a.length == 4 ? (int) IpPacket.u32(a, 0) : 0;
        }

        @Override
        public int receive(PacketBuffer buffer) {
            received = Math.max(0, socket.receive(state, buffer, 0, buffer.capacity()));
            if (received == 0) {
                offset = 0;
            } else if (socket.lastTruncated()) {
                offset = TRUNCATED;
            } else {
                offset = outerIpv4 ? OuterIpv4Header.espOffset(buffer.bytes(), received, destination) : 0;
            }
            return received;
        }

        @Override
        public int offset() {
            return offset;
        }

        @Override
        public int segmentSize() {
            return socket.isRaw() ? received - offset : socket.lastSegmentSize();
        }

        @Override
        public boolean udp() {
            return !socket.isRaw();
        }

        @Override
        public InetSocketAddress localAddress() {
            return socket.localAddress();
        }

        @Override
        public InetSocketAddress lastSource() {
            return SocketAddresses.read(state.lastSource());
        }
    }

    @Override
    public synchronized void sendControl(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        DatagramSocket s = udpSockets.get(local.getAddress());
        if (s == null) {
            LOG.log(System.Logger.Level.WARNING, "no UDP socket on {0} to send to {1}", local, remote);
            return;
        }
        int r = s.sendWhole(controlState, datagram, remote);
        if (r < 0) {
            LOG.log(System.Logger.Level.WARNING, "sending {0} bytes from {1} to {2}: {3}", datagram.length, local, remote, Libc.describe(-r));
        }
    }

    @Override
    public void close() {
        udpSockets.values().forEach(DatagramSocket::close);
        rawSockets.values().forEach(DatagramSocket::close);
    }

    /** The sockets and their offloads, for the log. */
    public String offloads() {
        return sockets().stream().map(s -> s + ": " + s.offloads()).collect(Collectors.joining("; "));
    }

    @Override
    public String toString() {
        return udpSockets.values() + (rawSockets.isEmpty() ? "" : " and " + rawSockets.values());
    }
}
