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
 * The {@link EspPort} over the kernel's sockets ({@link DatagramSocket}, FFM): UDP sockets on
 * the NAT-traversal port per local address, one per packet thread (lane) in an SO_REUSEPORT
 * group when there are several, and one raw ESP socket per address if asked for. Sends and
 * receives take the Java heap buffers directly; UDP GSO and GRO where the kernel has them.
 *
 * <p>Lane {@code i} sends and receives UDP through the {@code i}-th socket of each group: the
 * socket's GSO segment size is changed by its lane only, and the kernel's reuseport hash keeps
 * each peer's datagrams on one socket, so one lane opens a given peer's packets, in order. Raw
 * ESP has no such spreading (every raw socket gets a copy of every packet): lane 0 reads it, any
 * lane may send through it (sendto on a raw socket keeps no state between calls).
 */
public final class LinuxEspPort implements EspPort {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");

    /** Lane 0's UDP socket per address: IKE's messages leave by it. */
    private final Map<InetAddress, DatagramSocket> udpSockets = new LinkedHashMap<>();
    /** Every lane's UDP socket per address, lane by lane. */
    private final Map<InetAddress, DatagramSocket[]> udpGroups = new LinkedHashMap<>();
    private final Map<InetAddress, DatagramSocket> rawSockets = new LinkedHashMap<>();
    private final Libc.CallState controlState = new Libc.CallState();

    private final int lanes;

    private LinuxEspPort(int lanes) {
        this.lanes = lanes;
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
        return open(locals, floating, port, rawEsp, bufferBytes, offloads, 1);
    }

    /** As {@link #open(List, List, int, boolean, int, boolean)}, with a UDP socket per address for each of {@code lanes} packet threads. */
    public static LinuxEspPort open(List<InetAddress> locals, List<InetAddress> floating, int port, boolean rawEsp, int bufferBytes,
                                    boolean offloads, int lanes) throws IOException {
        if (lanes < 1) {
            throw new IllegalArgumentException("at least one lane, not " + lanes);
        }
        LinuxEspPort p = new LinuxEspPort(lanes);
        try {
            List<InetAddress> all = new ArrayList<>(locals);
            all.addAll(floating);
            for (InetAddress a : all) {
                boolean free = floating.contains(a);
                InetSocketAddress at = new InetSocketAddress(a, port);
                DatagramSocket[] group = new DatagramSocket[lanes];
                p.udpGroups.put(a, group);
                for (int i = 0; i < lanes; i++) {
                    group[i] = lanes == 1 ? DatagramSocket.udp(at, bufferBytes, offloads, free)
                            : DatagramSocket.udpGroupMember(at, bufferBytes, offloads, free);
                }
                p.udpSockets.put(a, group[0]);
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

    /** What lane {@code lane} reads: its UDP socket of each group, and on lane 0 the raw ones. */
    private List<DatagramSocket> sockets(int lane) {
        List<DatagramSocket> all = new ArrayList<>();
        for (DatagramSocket[] group : udpGroups.values()) {
            all.add(group[lane]);
        }
        if (lane == 0) {
            all.addAll(rawSockets.values());
        }
        return all;
    }

    /** The descriptors of {@link #receivers()}, in that order: for the inbound thread's poll(2). */
    public int[] fds() {
        return fds(0);
    }

    /** The descriptors of {@link #receivers(int)}, in that order: for that lane's poll(2). */
    public int[] fds(int lane) {
        return sockets(lane).stream().mapToInt(DatagramSocket::fd).toArray();
    }

    public int lanes() {
        return lanes;
    }

    /**
     * Where the endpoint's packets go, as the kernel takes it: a native sockaddr made once, and
     * the socket each lane sends by (for raw ESP the same one for all).
     */
    private record LinuxEndpoint(DatagramSocket[] sockets, MemorySegment address, int length) implements Endpoint {
    }

    @Override
    public Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) {
        DatagramSocket[] sockets;
        if (udp) {
            sockets = udpGroups.get(local.getAddress());
        } else {
            DatagramSocket raw = rawSockets.get(local.getAddress());
            sockets = raw == null ? null : java.util.Collections.nCopies(lanes, raw).toArray(DatagramSocket[]::new);
        }
        if (sockets == null) {
            return null;
        }
        // A raw socket's sockaddr carries no port.
        return new LinuxEndpoint(sockets, SocketAddresses.of(udp ? remote : new InetSocketAddress(remote.getAddress(), 0)),
                SocketAddresses.length(remote));
    }

    @Override
    public Sender sender() {
        return sender(0);
    }

    @Override
    public Sender sender(int lane) {
        java.util.Objects.checkIndex(lane, lanes);
        Libc.CallState state = new Libc.CallState();
        return (to, buffer, offset, length, segmentSize) -> {
            LinuxEndpoint e = (LinuxEndpoint) to;
            return e.sockets[lane].sendSegments(state, buffer, offset, length, segmentSize, e.address, e.length);
        };
    }

    @Override
    public List<Receiver> receivers() {
        return receivers(0);
    }

    @Override
    public List<Receiver> receivers(int lane) {
        java.util.Objects.checkIndex(lane, lanes);
        return sockets(lane).stream().<Receiver>map(SocketReceiver::new).toList();
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
        udpGroups.values().forEach(g -> java.util.Arrays.stream(g).filter(java.util.Objects::nonNull).forEach(DatagramSocket::close));
        rawSockets.values().forEach(DatagramSocket::close);
    }

    /** The sockets and their offloads, for the log. */
    public String offloads() {
        return java.util.stream.Stream.concat(udpSockets.values().stream(), rawSockets.values().stream()).map(s -> s + ": " + s.offloads())
                .collect(Collectors.joining("; ")) + (lanes > 1 ? "; " + lanes + " UDP sockets per address (SO_REUSEPORT)" : "");
    }

    @Override
    public String toString() {
        return udpSockets.values() + (rawSockets.isEmpty() ? "" : " and " + rawSockets.values());
    }
}
