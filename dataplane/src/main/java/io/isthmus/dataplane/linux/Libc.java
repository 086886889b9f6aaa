package io.isthmus.dataplane.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the data plane needs, through FFM: no JNI, no C to build. Every call
 * returns its result or, on failure, minus errno, read from the {@link CallState} of the calling
 * thread. The calls on the packet path (read, write, sendto, recvfrom) are "critical" downcalls
 * that may take segments of Java arrays, so packets go between the kernel and the byte[] the ESP
 * engine works on without a copy; they are only made on non-blocking descriptors.
 */
public final class Libc {
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EMSGSIZE = 90;
    /** The kernel (or a sandbox's filter) has no such system call. */
    public static final int ENOSYS = 38;
    /** A netlink socket's receive queue overflowed: messages were lost (netlink(7)). */
    public static final int ENOBUFS = 105;
    /** Routing messages from the kernel (rtnetlink(7)). */
    public static final int AF_NETLINK = 16;
    public static final int NETLINK_ROUTE = 0;
    /** Unix domain sockets: systemd's notification socket is a datagram one. */
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int IPPROTO_IP = 0;
    /** Binding an address the host does not have (yet): ip(7), ipv6(7). */
    public static final int IP_FREEBIND = 15;
    public static final int IPV6_FREEBIND = 78;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_IPV6 = 41;
    public static final int IPPROTO_ESP = 50;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_SNDBUFFORCE = 32;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int IPV6_V6ONLY = 26;
    public static final int IP_MTU_DISCOVER = 10;
    public static final int IP_PMTUDISC_DONT = 0;
    public static final int POLLIN = 1;
    public static final int SOL_UDP = 17;
    /** Send: cut this datagram into segments of the given size in the kernel (GSO, Linux 4.18). */
    public static final int UDP_SEGMENT = 103;
    /** Receive: hand over back-to-back datagrams of one flow as one buffer (GRO, Linux 5.0). */
    public static final int UDP_GRO = 104;
    /** recvmmsg: the message was longer than its buffer, and cut (msg_flags). */
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_DONTWAIT = 0x40;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = handle("open", false, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle CLOSE = handle("close", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle IOCTL = handle("ioctl", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
            ValueLayout.ADDRESS);
    private static final MethodHandle SOCKET = handle("socket", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT);
    private static final MethodHandle BIND = handle("bind", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT);
    private static final MethodHandle GETSOCKNAME = handle("getsockname", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS);
    private static final MethodHandle SETSOCKOPT = handle("setsockopt", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle POLL = handle("poll", false, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT);
    private static final MethodHandle READ = handle("read", true, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG);
    private static final MethodHandle WRITE = handle("write", true, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG);
    private static final MethodHandle SENDTO = handle("sendto", true, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle RECVFROM = handle("recvfrom", true, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS);

    private static final MethodHandle SENDMSG = handle("sendmsg", false, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle RECVMSG = handle("recvmsg", false, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    // The vector is passed as a plain address, so a call for the messages from the k-th on needs no slice. Critical, as the
    // packet path's other calls (non-blocking sockets only), and without errno: capturing it slices the state segment on
    // every call, which C2 removes only when it inlines the whole call, and measured, it did not once other paths through
    // the socket had run first (40 bytes a call). The packet path needs no reason: a failed send is counted, a failed
    // receive is polled again. The probe at start, which logs the reason, captures it.
    private static final MethodHandle SENDMMSG = plain("sendmmsg", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle RECVMMSG = plain("recvmmsg", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG);
    private static final MethodHandle SENDMMSG_ERRNO = handle("sendmmsg", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle RECVMMSG_ERRNO = handle("recvmmsg", false, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG);

    private Libc() {
    }

    private static MethodHandle handle(String name, boolean critical, ValueLayout result, ValueLayout... args) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option state = Linker.Option.captureCallState("errno");
        return critical
                ? LINKER.downcallHandle(symbol, FunctionDescriptor.of(result, args), state, Linker.Option.critical(true))
                : LINKER.downcallHandle(symbol, FunctionDescriptor.of(result, args), state);
    }

    /** A critical downcall that leaves errno where it is: for calls whose failure needs no reason. */
    private static MethodHandle plain(String name, ValueLayout result, ValueLayout... args) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, FunctionDescriptor.of(result, args), Linker.Option.critical(false));
    }

    /** Where one thread's calls leave errno: each thread that calls in owns one. */
    public static final class CallState {
        final MemorySegment segment = Arena.ofAuto().allocate(STATE);
        /** For struct sockaddr out-parameters of recvfrom. */
        final MemorySegment from = Arena.ofAuto().allocate(28, 8);
        final MemorySegment fromLength = Arena.ofAuto().allocate(ValueLayout.JAVA_INT);

        int errno() {
            return (int) ERRNO.get(segment, 0L);
        }

        /** The address recvfrom last filled in. */
        public MemorySegment lastSource() {
            return from;
        }
    }

    private static IllegalStateException fault(String call, Throwable t) {
        return new IllegalStateException(call + ": " + t, t);
    }

    public static int open(CallState s, String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            int r = (int) OPEN.invokeExact(s.segment, a.allocateFrom(path), flags);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("open", t);
        }
    }

    public static int close(CallState s, int fd) {
        try {
            int r = (int) CLOSE.invokeExact(s.segment, fd);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("close", t);
        }
    }

    public static int ioctl(CallState s, int fd, long request, MemorySegment argument) {
        try {
            int r = (int) IOCTL.invokeExact(s.segment, fd, request, argument);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("ioctl", t);
        }
    }

    public static int socket(CallState s, int domain, int type, int protocol) {
        try {
            int r = (int) SOCKET.invokeExact(s.segment, domain, type, protocol);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("socket", t);
        }
    }

    public static int bind(CallState s, int fd, MemorySegment address, int length) {
        try {
            int r = (int) BIND.invokeExact(s.segment, fd, address, length);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("bind", t);
        }
    }

    /** getsockname(2) into {@code address}, at most {@code length} bytes: the length filled in, or minus errno. */
    public static int getsockname(CallState s, int fd, MemorySegment address, int length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment l = a.allocateFrom(ValueLayout.JAVA_INT, length);
            int r = (int) GETSOCKNAME.invokeExact(s.segment, fd, address, l);
            return r < 0 ? -s.errno() : l.get(ValueLayout.JAVA_INT, 0);
        } catch (Throwable t) {
            throw fault("getsockname", t);
        }
    }

    public static int setsockopt(CallState s, int fd, int level, int name, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_INT, value);
            int r = (int) SETSOCKOPT.invokeExact(s.segment, fd, level, name, v, 4);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("setsockopt", t);
        }
    }

    /** Waits until one of the descriptors in {@code pollfds} (struct pollfd[count]) is readable. */
    public static int poll(CallState s, MemorySegment pollfds, int count, int timeoutMillis) {
        try {
            int r = (int) POLL.invokeExact(s.segment, pollfds, (long) count, timeoutMillis);
            return r < 0 ? -s.errno() : r;
        } catch (Throwable t) {
            throw fault("poll", t);
        }
    }

    public static int read(CallState s, int fd, MemorySegment buffer, int length) {
        try {
            long r = (long) READ.invokeExact(s.segment, fd, buffer, (long) length);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("read", t);
        }
    }

    public static int write(CallState s, int fd, MemorySegment buffer, int length) {
        try {
            long r = (long) WRITE.invokeExact(s.segment, fd, buffer, (long) length);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("write", t);
        }
    }

    public static int sendto(CallState s, int fd, MemorySegment buffer, int length, MemorySegment address, int addressLength) {
        try {
            long r = (long) SENDTO.invokeExact(s.segment, fd, buffer, (long) length, 0, address, addressLength);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("sendto", t);
        }
    }

    /** Receives into {@code buffer}; the sender's address is left in {@link CallState#lastSource()}. */
    public static int recvfrom(CallState s, int fd, MemorySegment buffer, int length) {
        try {
            s.fromLength.set(ValueLayout.JAVA_INT, 0, (int) s.from.byteSize());
            long r = (long) RECVFROM.invokeExact(s.segment, fd, buffer, (long) length, 0, s.from, s.fromLength);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("recvfrom", t);
        }
    }

    /** sendmsg(2) of a struct msghdr in native memory (its buffers too: msghdr cannot point into the Java heap). */
    public static int sendmsg(CallState s, int fd, MemorySegment msghdr) {
        try {
            long r = (long) SENDMSG.invokeExact(s.segment, fd, msghdr, 0);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("sendmsg", t);
        }
    }

    /** recvmsg(2), as {@link #sendmsg}. */
    public static int recvmsg(CallState s, int fd, MemorySegment msghdr) {
        try {
            long r = (long) RECVMSG.invokeExact(s.segment, fd, msghdr, 0);
            return r < 0 ? -s.errno() : (int) r;
        } catch (Throwable t) {
            throw fault("recvmsg", t);
        }
    }

    /**
     * sendmmsg(2) of {@code count} struct mmsghdr at native address {@code vector}: the messages
     * sent (the first ones, in order), or -1 if the first failed (why is not kept: see above).
     */
    public static int sendmmsg(int fd, long vector, int count) {
        try {
            return (int) SENDMMSG.invokeExact(fd, vector, count, 0);
        } catch (Throwable t) {
            throw fault("sendmmsg", t);
        }
    }

    /**
     * recvmmsg(2) of up to {@code count} messages into the struct mmsghdr at native address
     * {@code vector}, without waiting: how many arrived, or -1 if none (none waits, or the call
     * failed: the caller polls again either way).
     */
    public static int recvmmsg(int fd, long vector, int count) {
        try {
            return (int) RECVMMSG.invokeExact(fd, vector, count, MSG_DONTWAIT, 0L);
        } catch (Throwable t) {
            throw fault("recvmmsg", t);
        }
    }

    /**
     * Whether sendmmsg and recvmmsg are there for {@code fd}: an empty call of each (no message
     * moves), 0, or minus the errno of the first that failed (ENOSYS, or EPERM from a seccomp
     * filter, say).
     */
    public static int probeMultipleMessages(CallState s, int fd, long vector) {
        try {
            if ((int) SENDMMSG_ERRNO.invokeExact(s.segment, fd, vector, 0, 0) < 0) {
                return -s.errno();
            }
            if ((int) RECVMMSG_ERRNO.invokeExact(s.segment, fd, vector, 0, MSG_DONTWAIT, 0L) < 0) {
                return -s.errno();
            }
            return 0;
        } catch (Throwable t) {
            throw fault("sendmmsg/recvmmsg", t);
        }
    }

    /** strerror, for messages at start-up: only the numbers the data plane meets. */
    public static String describe(int errno) {
        return switch (errno) {
            case 1 -> "EPERM (operation not permitted: run as root or with CAP_NET_ADMIN)";
            case 2 -> "ENOENT (no such file)";
            case 13 -> "EACCES (permission denied)";
            case 16 -> "EBUSY (device or resource busy)";
            case 19 -> "ENODEV (no such device)";
            case 22 -> "EINVAL (invalid argument)";
            case 5 -> "EIO (input/output error)";
            case ENOSYS -> "ENOSYS (no such system call here)";
            case 92 -> "ENOPROTOOPT (the kernel lacks this option)";
            case 93 -> "EPROTONOSUPPORT";
            case 98 -> "EADDRINUSE (address already in use)";
            case 99 -> "EADDRNOTAVAIL (address not available here)";
            case EAGAIN -> "EAGAIN";
            case EMSGSIZE -> "EMSGSIZE (message too long)";
            case ENOBUFS -> "ENOBUFS (receive queue overflowed: messages lost)";
            default -> "errno " + errno;
        };
    }
}
