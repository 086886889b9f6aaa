package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * A non-blocking datagram socket of the data plane: UDP (ESP in UDP on 4500, RFC 3948, shared
 * with IKE) or raw IP protocol 50 (plain ESP). A raw IPv4 socket hands over the IP header with
 * each packet; {@link #payloadOffset} finds what follows it.
 */
public final class DatagramSocket implements AutoCloseable {
    private final int fd;
    private final boolean raw;
    private final boolean ipv6;
    private final InetSocketAddress local;
    private final Libc.CallState setup = new Libc.CallState();

    private DatagramSocket(int fd, boolean raw, boolean ipv6, InetSocketAddress local) {
        this.fd = fd;
        this.raw = raw;
        this.ipv6 = ipv6;
        this.local = local;
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
            throw new IOException(what + ": bind: " + Libc.describe(-r));
        }
        return new DatagramSocket(fd, raw, v6, local);
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

    /** One datagram into {@code buffer} at {@code offset}: its length, 0 if none is waiting, or minus errno. */
    public int receive(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
        int r = Libc.recvfrom(s, fd, buffer.at(offset), maxLength);
        return r == -Libc.EAGAIN ? 0 : r;
    }

    /** Where the payload starts in what {@link #receive} returned: after the IPv4 header on a raw IPv4 socket. */
    public int payloadOffset(byte[] packet, int offset) {
        return raw && !ipv6 ? offset + ((packet[offset] & 0x0F) << 2) : offset;
    }

    public int send(Libc.CallState s, PacketBuffer buffer, int offset, int length, MemorySegment to, int toLength) {
        return Libc.sendto(s, fd, buffer.at(offset), length, to, toLength);
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
