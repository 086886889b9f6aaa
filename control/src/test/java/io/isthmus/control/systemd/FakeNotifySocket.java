package io.isthmus.control.systemd;

import io.isthmus.dataplane.linux.Libc;
import io.isthmus.dataplane.linux.Poller;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * systemd's end of $NOTIFY_SOCKET, for tests: a real AF_UNIX datagram socket bound at a path (or
 * an abstract name), which the test reads. A datagram sent to it is in its queue when sendto
 * returns, so a test that has just made the gateway speak (or not) reads that without waiting.
 */
public final class FakeNotifySocket implements AutoCloseable {
    private final String name;
    private final int fd;
    private final Poller poller;
    private final Libc.CallState state = new Libc.CallState();
    private final byte[] buffer = new byte[65536];

    private FakeNotifySocket(String name, int fd) {
        this.name = name;
        this.fd = fd;
        this.poller = new Poller(fd);
    }

    /** Binds {@code name}: an absolute path, or '@' and an abstract name. */
    public static FakeNotifySocket bind(String name) throws IOException {
        MemorySegment address = Arena.ofAuto().allocate(NotifySocket.SOCKADDR_UN_SIZE, 8);
        int length = NotifySocket.address(name, address);
        int fd = Libc.socket(new Libc.CallState(), Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket: " + Libc.describe(-fd));
        }
        int r = Libc.bind(new Libc.CallState(), fd, address, length);
        if (r < 0) {
            Libc.close(new Libc.CallState(), fd);
            throw new IOException("bind " + name + ": " + Libc.describe(-r));
        }
        return new FakeNotifySocket(name, fd);
    }

    /** What $NOTIFY_SOCKET is set to for a process that should talk to this one. */
    public String name() {
        return name;
    }

    /** Every message already queued, oldest first, without waiting. */
    public synchronized List<String> drain() {
        List<String> out = new ArrayList<>();
        for (String m = next(); m != null; m = next()) {
            out.add(m);
        }
        return out;
    }

    /** The next message, waiting up to {@code within}; null if none came. */
    public synchronized String receive(Duration within) {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            String m = next();
            if (m != null) {
                return m;
            }
            long left = end - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            poller.await((int) Math.max(1, Math.min(100, left / 1_000_000)));
        }
    }

    /** Waits up to {@code within} for a message for which {@code wanted} holds, dropping others into {@code seen}; null if none came. */
    public String awaitMessage(java.util.function.Predicate<String> wanted, Duration within, List<String> seen) {
        long end = System.nanoTime() + within.toNanos();
        for (long left = within.toNanos(); left > 0; left = end - System.nanoTime()) {
            String m = receive(Duration.ofNanos(left));
            if (m == null) {
                return null;
            }
            seen.add(m);
            if (wanted.test(m)) {
                return m;
            }
        }
        return null;
    }

    private String next() {
        int n = Libc.recvfrom(state, fd, MemorySegment.ofArray(buffer), buffer.length);
        if (n == -Libc.EAGAIN) {
            return null;
        }
        if (n < 0) {
            throw new IllegalStateException("recvfrom: " + Libc.describe(-n));
        }
        return new String(buffer, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        Libc.close(state, fd);
    }
}
