package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN device opened through /dev/net/tun: IFF_TUN | IFF_NO_PI, so every read and write is
 * one bare IPv4 or IPv6 packet. The descriptor is non-blocking; waiting is the {@link Poller}'s
 * job. Addresses, MTU and routes are the daemon's to set (with ip(8), as an operator would).
 */
public final class TunDevice implements AutoCloseable {
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    private static final int IFNAMSIZ = 16;

    private final String name;
    private final int fd;
    private final Libc.CallState setup = new Libc.CallState();

    private TunDevice(String name, int fd) {
        this.name = name;
        this.fd = fd;
    }

    /** Creates (or attaches to) the TUN device {@code name}. */
    public static TunDevice open(String name) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= IFNAMSIZ) {
            throw new IOException("TUN device name '" + name + "' must be 1 to 15 characters");
        }
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.open(s, "/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open /dev/net/tun: " + Libc.describe(-fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifreq = a.allocate(40, 8);
            MemorySegment.copy(n, 0, ifreq, ValueLayout.JAVA_BYTE, 0, n.length);
            ifreq.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI));
            int r = Libc.ioctl(s, fd, TUNSETIFF, ifreq);
            if (r < 0) {
                Libc.close(s, fd);
                throw new IOException("TUNSETIFF " + name + ": " + Libc.describe(-r));
            }
        }
        return new TunDevice(name, fd);
    }

    public String name() {
        return name;
    }

    public int fd() {
        return fd;
    }

    /** One packet into {@code buffer} at {@code offset}: its length, 0 if none is waiting, or minus errno. */
    public int read(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
        int r = Libc.read(s, fd, buffer.at(offset), maxLength);
        return r == -Libc.EAGAIN ? 0 : r;
    }

    /** One packet out of {@code buffer}: bytes written, or minus errno. */
    public int write(Libc.CallState s, PacketBuffer buffer, int offset, int length) {
        return Libc.write(s, fd, buffer.at(offset), length);
    }

    @Override
    public void close() {
        Libc.close(setup, fd);
    }

    @Override
    public String toString() {
        return "TUN " + name;
    }
}
