package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * A non-blocking datagram socket of the data plane: UDP (ESP in UDP on 4500, RFC 3948, shared
 * with IKE) or raw IP protocol 50 (plain ESP). A raw IPv4 socket hands over the IP header with
 * each packet; {@link #payloadOffset} finds what follows it.
 *
 * <p>A UDP socket uses the kernel's UDP offloads where it has them: GSO ({@code UDP_SEGMENT})
 * sends a run of equal-sized ESP packets as one buffer in one call, GRO ({@code UDP_GRO}) hands
 * over a run of them as one buffer, with the segment size in a control message. Over veth the
 * run stays one socket buffer end to end, so the per-packet cost of the kernel all but goes.
 *
 * <p>A raw socket has no such offload. It moves batches with sendmmsg and recvmmsg instead
 * ({@link MessageVector}): a run of ESP packets leaves in one call, and what waits arrives in
 * one call and is handed out a datagram at a time. Probed when the socket opens; where the
 * kernel or a sandbox refuses them, one call per datagram as before, and {@link #offloads()}
 * says why.
 */
public final class DatagramSocket implements AutoCloseable {
    /** ESP packets one sendmmsg takes: as many as one UDP GSO send carries. */
    public static final int SEND_VECTOR = 64;
    /** Bytes of those: a GSO-sized batch, with room for a lone packet as long as an IPv4 datagram may be. */
    public static final int SEND_VECTOR_BYTES = 65_536;
    /** Datagrams one recvmmsg takes: a packet thread's burst per socket. */
    public static final int RECEIVE_VECTOR = 64;
    /**
     * The longest raw ESP datagram a batched receive takes whole, IP header included: the
     * largest path MTU the configuration allows (jumbo frames), 590 KB of native memory for a
     * vector. A longer one arrives cut and {@link #lastTruncated()}, to be dropped and counted.
     */
    public static final int RECEIVE_SLOT = 9216;

    private final int fd;
    private final boolean raw;
    private final boolean ipv6;
    private final InetSocketAddress local;
    private final Libc.CallState setup = new Libc.CallState();
    private final boolean gso;
    private final boolean gro;
    /** The socket-wide UDP_SEGMENT now set; only the outbound thread changes it. */
    private int gsoSize;
    private Receiver receiver;
    private int lastSegmentSize;
    /** Raw: what one sendmmsg takes, and what one recvmmsg brought (null: one call per datagram). */
    private MessageVector sendVector;
    private MessageVector receiveVector;
    /** Raw: why there are no vectors, for the log (null if there are, or none were asked for). */
    private String vectorRefusal;
    private int received;
    private int handedOut;
    private boolean lastTruncated;

    private DatagramSocket(int fd, boolean raw, boolean ipv6, InetSocketAddress local, boolean gso, boolean gro) {
        this.fd = fd;
        this.raw = raw;
        this.ipv6 = ipv6;
        this.local = local;
        this.gso = gso;
        this.gro = gro;
    }

    /** UDP, bound to {@code local}, with large buffers (the kernel may cap them). */
    public static DatagramSocket udp(InetSocketAddress local, int bufferBytes) throws IOException {
        return open(local, false, bufferBytes);
    }

    /** Raw ESP (protocol 50), bound to {@code local}'s address; needs root or CAP_NET_RAW. */
    public static DatagramSocket rawEsp(InetSocketAddress local, int bufferBytes) throws IOException {
        return open(new InetSocketAddress(local.getAddress(), 0), true, bufferBytes);
    }

    private static DatagramSocket open(InetSocketAddress local, boolean raw, int bufferBytes) throws IOException {
        return open(local, raw, bufferBytes, true);
    }

    /** UDP without GSO and GRO, as on a kernel that lacks them. */
    public static DatagramSocket udpWithoutOffloads(InetSocketAddress local, int bufferBytes) throws IOException {
        return open(local, false, bufferBytes, false, false, false);
    }

    /**
     * UDP with or without offloads; {@code freeBind}: bound even to an address the host does not
     * have (yet), as a pair's floating address (IP_FREEBIND).
     */
    public static DatagramSocket udp(InetSocketAddress local, int bufferBytes, boolean offloads, boolean freeBind) throws IOException {
        return open(local, false, bufferBytes, offloads, freeBind, false);
    }

    /**
     * As {@link #udp(InetSocketAddress, int, boolean, boolean)}, one of a group with
     * SO_REUSEPORT: every socket of the group binds the same address and port, and the kernel
     * gives each arriving datagram to one of them by a hash of its addresses and ports, so the
     * datagrams of one peer (one 4-tuple) always reach the same socket, in order.
     */
    public static DatagramSocket udpGroupMember(InetSocketAddress local, int bufferBytes, boolean offloads, boolean freeBind) throws IOException {
        return open(local, false, bufferBytes, offloads, freeBind, true);
    }

    /** Raw ESP, with IP_FREEBIND if {@code freeBind}. */
    public static DatagramSocket rawEsp(InetSocketAddress local, int bufferBytes, boolean freeBind) throws IOException {
        return rawEsp(local, bufferBytes, true, freeBind);
    }

    /** Raw ESP; {@code vectors}: batches with sendmmsg and recvmmsg where the kernel takes them, else a call per datagram. */
    public static DatagramSocket rawEsp(InetSocketAddress local, int bufferBytes, boolean vectors, boolean freeBind) throws IOException {
        return open(new InetSocketAddress(local.getAddress(), 0), true, bufferBytes, vectors, freeBind, false);
    }

    private static DatagramSocket open(InetSocketAddress local, boolean raw, int bufferBytes, boolean offloads) throws IOException {
        return open(local, raw, bufferBytes, offloads, false, false);
    }

    private static DatagramSocket open(InetSocketAddress local, boolean raw, int bufferBytes, boolean offloads, boolean freeBind,
                                       boolean reusePort) throws IOException {
        Libc.CallState s = new Libc.CallState();
        boolean v6 = local.getAddress() instanceof Inet6Address;
        int fd = Libc.socket(s, v6 ? Libc.AF_INET6 : Libc.AF_INET, (raw ? Libc.SOCK_RAW : Libc.SOCK_DGRAM) | Libc.SOCK_NONBLOCK
                | Libc.SOCK_CLOEXEC, raw ? Libc.IPPROTO_ESP : Libc.IPPROTO_UDP);
        String what = (raw ? "raw ESP socket on " : "UDP socket on ") + local;
        if (fd < 0) {
            throw new IOException(what + ": " + Libc.describe(-fd));
        }
        if (v6) {
            Libc.setsockopt(s, fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 1);
        }
        Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
        if (reusePort && Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1) < 0) {
            Libc.close(s, fd);
            throw new IOException(what + ": SO_REUSEPORT refused");
        }
        if (freeBind) {
            Libc.setsockopt(s, fd, v6 ? Libc.IPPROTO_IPV6 : Libc.IPPROTO_IP, v6 ? Libc.IPV6_FREEBIND : Libc.IP_FREEBIND, 1);
        }
        // FORCE lifts rmem_max/wmem_max as root; otherwise the plain option gets what it may.
        if (Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, bufferBytes) < 0) {
            Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, bufferBytes);
        }
        if (Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_SNDBUFFORCE, bufferBytes) < 0) {
            Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, bufferBytes);
        }
        MemorySegment address = SocketAddresses.of(local);
        int r = Libc.bind(s, fd, address, SocketAddresses.length(local));
        if (r < 0) {
            Libc.close(s, fd);
            throw bindFailure(local, raw, -r);
        }
        // Probed, not assumed: an older kernel says ENOPROTOOPT and the socket works without.
        boolean gso = offloads && !raw && Libc.setsockopt(s, fd, Libc.SOL_UDP, Libc.UDP_SEGMENT, 0) == 0;
        boolean gro = offloads && !raw && Libc.setsockopt(s, fd, Libc.SOL_UDP, Libc.UDP_GRO, 1) == 0;
        DatagramSocket socket = new DatagramSocket(fd, raw, v6, local, gso, gro);
        if (raw && offloads) {
            socket.vectors(s);
        }
        return socket;
    }

    /** Raw: sendmmsg and recvmmsg if an empty call of each goes through (a seccomp filter or an old sandbox may say ENOSYS or EPERM). */
    private void vectors(Libc.CallState s) {
        MessageVector send = MessageVector.forSending(SEND_VECTOR, SEND_VECTOR_BYTES);
        int r = send.probe(s, fd);
        if (r < 0) {
            vectorRefusal = "sendmmsg/recvmmsg refused: " + Libc.describe(-r);
            return;
        }
        sendVector = send;
        receiveVector = MessageVector.forReceiving(RECEIVE_VECTOR, RECEIVE_SLOT);
    }

    /** Whether this raw socket moves batches (sendmmsg, recvmmsg). */
    public boolean vectored() {
        return sendVector != null;
    }

    /**
     * One line for the operator: which address, why, and what to check (an address this host
     * does not have, or another IPsec daemon such as strongSwan's charon on port 4500).
     */
    static BindException bindFailure(InetSocketAddress local, boolean raw, int errno) {
        String host = local.getAddress() instanceof Inet6Address ? "[" + local.getAddress().getHostAddress() + "]" : local.getAddress().getHostAddress();
        String reason = switch (errno) {
            case 99 -> "Cannot assign requested address (is the address on this host?)";
            case 98 -> "Address already in use (is another IKE daemon, e.g. charon, using the port?)";
            case 13, 1 -> "Permission denied (" + (raw ? "raw sockets need root or CAP_NET_RAW" : "run as root") + ")";
            default -> Libc.describe(errno);
        };
        return new BindException("cannot bind " + (raw ? "raw ESP to " + host : "ESP in UDP to " + host + ":" + local.getPort()) + ": " + reason);
    }

    /** Whether sends of several segments at once (UDP GSO) are on. */
    public boolean gso() {
        return gso;
    }

    /** Whether receives of several segments at once (UDP GRO) are on. */
    public boolean gro() {
        return gro;
    }

    /** What this socket offloads, for the log. */
    public String offloads() {
        if (raw) {
            return sendVector != null ? "sendmmsg, recvmmsg (" + SEND_VECTOR + " datagrams a call)"
                    : vectorRefusal != null ? "none (raw; " + vectorRefusal + ")" : "none (raw)";
        }
        return gso || gro ? (gso ? "UDP GSO" : "") + (gso && gro ? ", " : "") + (gro ? "UDP GRO" : "") : "none";
    }

    public int fd() {
        return fd;
    }

    public boolean isRaw() {
        return raw;
    }

    public InetSocketAddress localAddress() {
        return local;
    }

    /**
     * One datagram into {@code buffer} at {@code offset} (with GRO, a run of datagrams of
     * {@link #lastSegmentSize()} bytes each, the last possibly shorter): its length, 0 if none
     * is waiting, or minus errno. The sender's address is left in {@link Libc.CallState#lastSource()}.
     */
    public int receive(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
        int r;
        if (receiveVector != null) {
            return receiveVectored(s, buffer, offset, maxLength);
        }
        if (gro) {
            if (receiver == null) {
                receiver = new Receiver();
            }
            r = receiver.receive(s, buffer, offset, maxLength);
        } else {
            r = Libc.recvfrom(s, fd, buffer.at(offset), maxLength);
            lastSegmentSize = r;
        }
        return r == -Libc.EAGAIN ? 0 : r;
    }

    /**
     * The next datagram of the last recvmmsg, or, when all are handed out, a new recvmmsg: a
     * system call per batch, a copy per datagram. Not more than one call per receive, so a
     * caller that stops at 0 sees the socket drained.
     */
    private int receiveVectored(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
        if (handedOut == received) {
            handedOut = 0;
            received = 0;
            int r = receiveVector.receive(fd);
            if (r == 0) {
                return 0;
            }
            received = r;
        }
        int i = handedOut++;
        int n = Math.min(receiveVector.length(i), maxLength);
        lastTruncated = receiveVector.truncated(i) || n < receiveVector.length(i);
        receiveVector.copy(i, buffer, offset, n);
        receiveVector.copySource(i, s.from);
        lastSegmentSize = n;
        return n;
    }

    /**
     * Whether what {@link #receive} last returned was cut because it was longer than the
     * receive could take ({@link #RECEIVE_SLOT}, or the caller's {@code maxLength}): then it is
     * not the datagram that was sent.
     */
    public boolean lastTruncated() {
        return lastTruncated;
    }

    /** The size of each datagram in what {@link #receive} last returned. */
    public int lastSegmentSize() {
        return lastSegmentSize;
    }

    /**
     * recvmsg(2) needs its buffers off the Java heap, so a run arrives in native memory and is
     * copied into the packet buffer: one memcpy of up to 64 KB per run, against one system call
     * per datagram without GRO.
     */
    private final class Receiver {
        private static final int SIZE = 65536;
        private final MemorySegment msghdr;
        private final MemorySegment data;
        private final MemorySegment control;
        private final MemorySegment name;

        Receiver() {
            Arena arena = Arena.ofAuto();
            msghdr = arena.allocate(56, 8);
            MemorySegment iov = arena.allocate(16, 8);
            data = arena.allocate(SIZE, 64);
            control = arena.allocate(64, 8);
            name = arena.allocate(28, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, SIZE);
            msghdr.set(ValueLayout.ADDRESS, 0, name);
            msghdr.set(ValueLayout.ADDRESS, 16, iov);
            msghdr.set(ValueLayout.JAVA_LONG, 24, 1);
            msghdr.set(ValueLayout.ADDRESS, 32, control);
        }

        int receive(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
            msghdr.set(ValueLayout.JAVA_INT, 8, (int) name.byteSize());
            msghdr.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
            int r = Libc.recvmsg(s, fd, msghdr);
            if (r <= 0) {
                return r;
            }
            int n = Math.min(r, maxLength);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buffer.bytes(), offset, n);
            MemorySegment.copy(name, 0, s.from, 0, name.byteSize());
            lastSegmentSize = n;
            long controlLength = msghdr.get(ValueLayout.JAVA_LONG, 40);
            for (long c = 0; c + 16 <= controlLength; ) {
                long length = control.get(ValueLayout.JAVA_LONG, c);
                if (length < 16) {
                    break;
                }
                if (control.get(ValueLayout.JAVA_INT, c + 8) == Libc.SOL_UDP && control.get(ValueLayout.JAVA_INT, c + 12) == Libc.UDP_GRO) {
                    int size = control.get(ValueLayout.JAVA_INT, c + 16);
                    if (size > 0) {
                        lastSegmentSize = size;
                    }
                }
                c += (length + 7) & ~7L;
            }
            return n;
        }
    }

    /** Where the payload starts in what {@link #receive} returned: after the IPv4 header on a raw IPv4 socket. */
    public int payloadOffset(byte[] packet, int offset) {
        return raw && !ipv6 ? offset + ((packet[offset] & 0x0F) << 2) : offset;
    }

    public int send(Libc.CallState s, PacketBuffer buffer, int offset, int length, MemorySegment to, int toLength) {
        if (gso && gsoSize != 0 && length > gsoSize) {
            // A socket-wide segment size cuts anything longer: a lone packet must not be cut.
            setSegmentSize(s, 0);
        }
        return Libc.sendto(s, fd, buffer.at(offset), length, to, toLength);
    }

    /**
     * Datagrams back to back in {@code buffer}, each {@code segmentSize} bytes but the last,
     * which may be shorter: with GSO (or, raw, sendmmsg) one call; without, one call each.
     * Returns the number of datagrams sent, or, if the first failed, minus errno (-1 from
     * sendmmsg, which does not keep the reason: see {@link Libc#sendmmsg}).
     *
     * <p>The segment size is set on the socket (UDP_SEGMENT as a socket option) rather than per
     * call in a control message, because sendmsg cannot take the packet from the Java heap and
     * sendto can; it changes only when the segment size does.
     */
    public int sendSegments(Libc.CallState s, PacketBuffer buffer, int offset, int length, int segmentSize, MemorySegment to, int toLength) {
        if (length <= segmentSize) {
            int r = send(s, buffer, offset, length, to, toLength);
            return r < 0 ? r : 1;
        }
        if (sendVector != null && length <= SEND_VECTOR_BYTES && (length + segmentSize - 1) / segmentSize <= SEND_VECTOR) {
            return sendVector.send(fd, buffer, offset, length, segmentSize, to, toLength);
        }
        if (gso) {
            if (gsoSize != segmentSize) {
                setSegmentSize(s, segmentSize);
            }
            int r = Libc.sendto(s, fd, buffer.at(offset), length, to, toLength);
            if (r >= 0) {
                return (length + segmentSize - 1) / segmentSize;
            }
            // EINVAL or EIO (a route whose MTU the segments do not fit): one by one instead.
        }
        int sent = 0;
        for (int o = offset; o < offset + length; o += segmentSize) {
            int r = send(s, buffer, o, Math.min(segmentSize, offset + length - o), to, toLength);
            if (r < 0) {
                return sent == 0 ? r : sent;
            }
            sent++;
        }
        return sent;
    }

    private void setSegmentSize(Libc.CallState s, int size) {
        if (Libc.setsockopt(s, fd, Libc.SOL_UDP, Libc.UDP_SEGMENT, size) == 0) {
            gsoSize = size;
        }
    }

    /**
     * A message from the control plane (IKE, keepalives), from any thread: sendmsg with a
     * segment size of 0 in a control message, which overrides the socket-wide one the packet
     * thread may have set, so an IKE message is never cut.
     */
    public int sendWhole(Libc.CallState s, byte[] bytes, InetSocketAddress to) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, bytes.length);
            MemorySegment name = SocketAddresses.of(to);
            MemorySegment msghdr = a.allocate(56, 8);
            msghdr.set(ValueLayout.ADDRESS, 0, name);
            msghdr.set(ValueLayout.JAVA_INT, 8, SocketAddresses.length(to));
            msghdr.set(ValueLayout.ADDRESS, 16, iov);
            msghdr.set(ValueLayout.JAVA_LONG, 24, 1);
            if (gso) {
                MemorySegment control = a.allocate(24, 8);
                control.set(ValueLayout.JAVA_LONG, 0, 18); // CMSG_LEN(sizeof(uint16_t))
                control.set(ValueLayout.JAVA_INT, 8, Libc.SOL_UDP);
                control.set(ValueLayout.JAVA_INT, 12, Libc.UDP_SEGMENT);
                control.set(ValueLayout.JAVA_SHORT, 16, (short) 0);
                msghdr.set(ValueLayout.ADDRESS, 32, control);
                msghdr.set(ValueLayout.JAVA_LONG, 40, 24);
            }
            return Libc.sendmsg(s, fd, msghdr);
        }
    }

    @Override
    public void close() {
        Libc.close(setup, fd);
    }

    @Override
    public String toString() {
        return (raw ? "raw ESP " : "UDP ") + local;
    }
}
