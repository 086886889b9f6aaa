package io.isthmus.control.systemd;

import io.isthmus.dataplane.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * systemd's notification socket, {@code $NOTIFY_SOCKET}, spoken without libsystemd: every
 * message is one datagram of {@code VARIABLE=value} lines on an AF_UNIX SOCK_DGRAM socket
 * (sd_notify(3)). The socket is a file system path, or an abstract name when the variable starts
 * with '@'. The sender needs no address of its own: systemd learns who sent a message from the
 * credentials the kernel attaches, which is how {@code NotifyAccess=main} tells our messages
 * from others'.
 *
 * <p>The JDK's DatagramChannel has no AF_UNIX (only SocketChannel has, for streams), so the
 * datagram goes out through FFM, by the data plane's {@link Libc}: socket, sendto, close.
 */
public final class NotifySocket implements AutoCloseable {
    /** sizeof(struct sockaddr_un): sa_family_t, then sun_path[108]. */
    static final int SOCKADDR_UN_SIZE = 110;
    private static final int SUN_PATH_OFFSET = 2;
    private static final int SUN_PATH_SIZE = 108;

    private final String name;
    private final MemorySegment address;
    private final int addressLength;
    private final Libc.CallState state = new Libc.CallState();
    private int fd;

    private NotifySocket(String name, MemorySegment address, int addressLength, int fd) {
        this.name = name;
        this.address = address;
        this.addressLength = addressLength;
        this.fd = fd;
    }

    /**
     * A socket to send to {@code name} ($NOTIFY_SOCKET's value). Throws IllegalArgumentException
     * for a name that is neither an absolute path nor '@' and a name (such as systemd's newer
     * "vsock:" form, for virtual machines), or one too long for a sockaddr_un.
     */
    public static NotifySocket open(String name) throws IOException {
        MemorySegment address = Arena.ofAuto().allocate(SOCKADDR_UN_SIZE, 8);
        int length = address(name, address);
        Libc.CallState s = new Libc.CallState();
        // Non-blocking: a send is a "critical" FFM call, which must not wait; a full queue at systemd's end loses one message.
        int fd = Libc.socket(s, Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0) {
            throw new IOException("cannot make a socket for $NOTIFY_SOCKET: " + Libc.describe(-fd));
        }
        return new NotifySocket(name, address, length, fd);
    }

    /**
     * Writes the struct sockaddr_un for {@code name} into {@code into} (at least
     * {@link #SOCKADDR_UN_SIZE} bytes) and returns its length as bind and sendto take it: the
     * family, then the path and its NUL; or for an abstract name, a NUL and the name, no NUL after.
     */
    static int address(String name, MemorySegment into) {
        boolean abstractName = name.startsWith("@");
        if (!abstractName && !name.startsWith("/")) {
            throw new IllegalArgumentException("'" + printable(name) + "' is neither an absolute path nor an abstract socket name (@name)");
        }
        byte[] path = (abstractName ? name.substring(1) : name).getBytes(StandardCharsets.UTF_8);
        if (path.length + 1 > SUN_PATH_SIZE || (abstractName && path.length == 0)) {
            throw new IllegalArgumentException("'" + printable(name) + "' does not fit a Unix socket address (1 to 107 bytes)");
        }
        for (byte b : path) {
            if (b == 0) {
                throw new IllegalArgumentException("'" + printable(name) + "' holds a NUL byte");
            }
        }
        into.asSlice(0, SOCKADDR_UN_SIZE).fill((byte) 0);
        into.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(path, 0, into, ValueLayout.JAVA_BYTE, SUN_PATH_OFFSET + (abstractName ? 1 : 0), path.length);
        return SUN_PATH_OFFSET + 1 + path.length;
    }

    /** Sends one message, e.g. "READY=1\nSTATUS=up". */
    public synchronized void send(String message) throws IOException {
        if (fd < 0) {
            throw new IOException("the notification socket is closed");
        }
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        int r = Libc.sendto(state, fd, MemorySegment.ofArray(bytes), bytes.length, address, addressLength);
        if (r < 0) {
            throw new IOException("cannot send to $NOTIFY_SOCKET " + printable(name) + ": " + describe(-r));
        }
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Libc.close(state, fd);
            fd = -1;
        }
    }

    @Override
    public String toString() {
        return "$NOTIFY_SOCKET " + printable(name);
    }

    private static String describe(int errno) {
        return switch (errno) {
            case 111 -> "ECONNREFUSED (nothing listens there: the service manager is gone?)";
            case 2 -> "ENOENT (no such socket)";
            default -> Libc.describe(errno);
        };
    }

    /** The environment is not ours to trust: one line, whatever it holds. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(200).forEach(c -> b.append(c < 0x20 || c == 0x7F ? "\\x%02x".formatted(c) : Character.toString(c)));
        return b.toString();
    }
}
