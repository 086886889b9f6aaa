package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows the routes of one kernel routing table put there by one protocol (BIRD's, into the
 * table the gateway gave it) over rtnetlink, as {@code ip monitor route} does, and tells a
 * {@link Listener} each one that appears, changes or goes.
 *
 * <p>How it stays right: a netlink socket bound to RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE
 * hears every change after it is bound, and a dump (RTM_GETROUTE) then gives what was there
 * before. Both arrive on the one socket in the order the kernel made them, so the dump is folded
 * together with the changes that cross it into a fresh table, which replaces the one known at
 * its NLMSG_DONE; the listener hears the difference. When the socket's queue overflows the
 * kernel drops messages and says so once, with ENOBUFS on the next receive: what is queued is
 * then thrown away (it predates the loss) and a new dump is made, as at start. A dump the
 * kernel marks NLM_F_DUMP_INTR (the table changed while it was written) is made again.
 *
 * <p>Anything on the socket is checked: only the kernel's messages (source port id 0) are
 * read, since another process may send to this socket too; malformed ones are dropped and
 * counted ({@link RouteMessages}). One daemon thread, sleeping in poll(2) with a short timeout
 * (so that {@link #close} and {@link #resync} are seen): the socket is non-blocking because the
 * receive is a critical downcall, which must never block.
 */
public final class RouteMonitor implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");
    /** RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE: the bits of RTNLGRP_IPV4_ROUTE (7) and RTNLGRP_IPV6_ROUTE (11). */
    private static final int ROUTE_GROUPS = 1 << (7 - 1) | 1 << (11 - 1);
    /** A full BGP table of a few thousand routes is a few hundred KB of messages; room to spare so a burst is not lost. */
    private static final int RECEIVE_BUFFER = 8 << 20;
    private static final int POLL_MILLIS = 200;
    private static final int SOL_NETLINK = 270;
    private static final int NETLINK_GET_STRICT_CHK = 12;
    private static final long RETRY_NANOS = 100_000_000L;

    /** Hears the followed routes change, on the monitor's thread: return soon. */
    public interface Listener {
        /** {@code route} is in the table now (new, or replacing one {@link #removed} just before); {@code receivedNanos} when its message was read. */
        void added(KernelRoute route, long receivedNanos);

        void removed(KernelRoute route, long receivedNanos);

        /** A dump is done: the listener has heard every followed route there is, {@code routes} of them. */
        default void synced(int routes, long receivedNanos) {
        }
    }

    /** What the monitor has read and dropped so far. */
    public record Counts(long messages, long malformed, long ignored, long forged, long overruns, long dumps, long otherRoutes) {
    }

    private final int table;
    private final int protocol;
    private final Listener listener;
    private final int fd;
    private final int portId;
    private final Libc.CallState state = new Libc.CallState();
    private final byte[] buffer = new byte[256 << 10];
    private final MemorySegment bufferSegment = MemorySegment.ofArray(buffer);
    private final MemorySegment dumpRequest = Arena.ofAuto().allocate(RouteMessages.HEADER + RouteMessages.RTMSG + 8, 8);
    /** Whether dumps ask the kernel for the one table only (see {@link RouteMessages#dumpRequest(int, int)}); off after one is refused. */
    private boolean tableDumps;
    private final MemorySegment kernel = Arena.ofAuto().allocate(12, 8);
    private final Poller poller;
    private final Thread thread;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicBoolean socketClosed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean resyncRequested;

    /** The followed routes as last told to the listener, by {@link KernelRoute#key()}. */
    private Map<String, KernelRoute> current = new HashMap<>();
    /** During a dump: the table it is building; null otherwise. */
    private Map<String, KernelRoute> building;
    private int seq = (int) (System.nanoTime() & 0x7FFF_0000);
    private int dumpSeq;
    private boolean dumpInterrupted;
    private long dumpRetryAt = -1;
    private long receivedNanos;

    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();
    private final AtomicLong forged = new AtomicLong();
    private final AtomicLong overruns = new AtomicLong();
    private final AtomicLong dumps = new AtomicLong();
    private final AtomicLong otherRoutes = new AtomicLong();
    private long lastMalformedLog;

    private RouteMonitor(int table, int protocol, Listener listener, int fd, int portId) {
        this.table = table;
        this.protocol = protocol;
        this.listener = listener;
        this.fd = fd;
        this.portId = portId;
        this.poller = new Poller(fd);
        kernel.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
        this.thread = new Thread(this::run, "route monitor (table " + Integer.toUnsignedString(table) + ")");
        thread.setDaemon(true);
    }

    /**
     * Opens the socket, subscribes to route changes and starts following the routes of
     * {@code table} whose protocol is {@code protocol}: the first thing the listener hears is
     * every such route there is now, then {@link Listener#synced}.
     */
    public static RouteMonitor start(int table, int protocol, Listener listener) throws IOException {
        return start(table, protocol, listener, RECEIVE_BUFFER);
    }

    /** With a receive queue of {@code receiveBuffer} bytes: a small one is how a test makes the kernel drop messages. */
    static RouteMonitor start(int table, int protocol, Listener listener, int receiveBuffer) throws IOException {
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.socket(s, Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, Libc.NETLINK_ROUTE);
        if (fd < 0) {
            throw new IOException("rtnetlink socket: " + Libc.describe(-fd));
        }
        if (Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, receiveBuffer) < 0) {
            Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, receiveBuffer);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment nl = a.allocate(12, 8);
            nl.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
            nl.set(ValueLayout.JAVA_INT, 8, ROUTE_GROUPS);
            int r = Libc.bind(s, fd, nl, 12);
            if (r < 0) {
                Libc.close(s, fd);
                throw new IOException("rtnetlink socket: bind to the route groups: " + Libc.describe(-r));
            }
            r = Libc.getsockname(s, fd, nl, 12);
            if (r < 0) {
                Libc.close(s, fd);
                throw new IOException("rtnetlink socket: getsockname: " + Libc.describe(-r));
            }
            RouteMonitor m = new RouteMonitor(table, protocol, listener, fd, nl.get(ValueLayout.JAVA_INT, 4));
            m.tableDumps = Libc.setsockopt(s, fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1) == 0;
            m.thread.start();
            return m;
        }
    }

    /** Makes a fresh dump and tells the listener the difference (from any thread; within {@value #POLL_MILLIS} ms). */
    public void resync() {
        resyncRequested = true;
    }

    /** The socket's netlink port id (what another process would send a forged message to). */
    int portId() {
        return portId;
    }

    /** Whether the kernel is asked for the followed table only when dumping. */
    boolean dumpsOneTable() {
        return tableDumps;
    }

    public Counts counts() {
        return new Counts(messages.get(), malformed.get(), ignored.get(), forged.get(), overruns.get(), dumps.get(), otherRoutes.get());
    }

    private void run() {
        try {
            follow();
        } finally {
            // The thread's last use of the socket is behind it: close() may have left the closing to it.
            if (closed) {
                closeSocket();
            }
        }
    }

    private void follow() {
        requestDump();
        while (!closed) {
            try {
                poller.await(POLL_MILLIS);
                if (resyncRequested) {
                    resyncRequested = false;
                    resynchronise();
                }
                if (dumpRetryAt >= 0 && System.nanoTime() - dumpRetryAt >= 0) {
                    requestDump();
                }
                receiveAll();
            } catch (RuntimeException | Error e) {
                // Nothing read from the kernel may stop the monitor: the routes it follows would freeze.
                LOG.log(System.Logger.Level.ERROR, "route monitor: " + e, e);
                sleepQuietly();
            }
        }
    }

    private void receiveAll() {
        while (!closed) {
            int n = Libc.recvfrom(state, fd, bufferSegment, buffer.length);
            if (n == -Libc.EAGAIN || n == -Libc.EINTR) {
                return;
            }
            if (n == -Libc.ENOBUFS) {
                overruns.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "route monitor: the kernel dropped route messages (ENOBUFS); reading the table {0} again",
                        Integer.toUnsignedString(table));
                resynchronise();
                continue;
            }
            if (n < 0) {
                LOG.log(System.Logger.Level.WARNING, "route monitor: receive: {0}", Libc.describe(-n));
                return;
            }
            receivedNanos = System.nanoTime();
            int sender = state.lastSource().get(ValueLayout.JAVA_INT, 4);
            if (sender != 0) {
                // Not the kernel: any process may send a netlink message to this port id.
                forged.incrementAndGet();
                continue;
            }
            RouteMessages.parse(buffer, 0, n, handler);
        }
    }

    /** Throws away what is queued (it may predate a loss) and dumps the table again. */
    private void resynchronise() {
        int discarded = 0;
        for (int n = Libc.recvfrom(state, fd, bufferSegment, buffer.length); n != -Libc.EAGAIN && discarded < 100_000;
             n = Libc.recvfrom(state, fd, bufferSegment, buffer.length)) {
            discarded++;
        }
        requestDump();
    }

    private void requestDump() {
        dumpRetryAt = -1;
        seq++;
        dumpSeq = seq;
        // Whatever the kernel sends back is filtered here all the same: the table filter only saves work.
        byte[] request = tableDumps ? RouteMessages.dumpRequest(dumpSeq, table) : RouteMessages.dumpRequest(dumpSeq);
        MemorySegment.copy(request, 0, dumpRequest, ValueLayout.JAVA_BYTE, 0, request.length);
        building = new HashMap<>();
        dumpInterrupted = false;
        dumps.incrementAndGet();
        int r = Libc.sendto(state, fd, dumpRequest, request.length, kernel, 12);
        if (r < 0) {
            LOG.log(System.Logger.Level.WARNING, "route monitor: dump request: {0}; trying again", Libc.describe(-r));
            building = null;
            dumpRetryAt = System.nanoTime() + RETRY_NANOS;
        }
    }

    private final RouteMessages.Handler handler = new RouteMessages.Handler() {
        @Override
        public void route(boolean added, int flags, int msgSeq, int pid, KernelRoute r) {
            messages.incrementAndGet();
            boolean fromDump = (flags & RouteMessages.NLM_F_MULTI) != 0 && pid == portId;
            if (fromDump && (building == null || msgSeq != dumpSeq)) {
                return; // the rest of a dump given up on
            }
            if (fromDump && (flags & RouteMessages.NLM_F_DUMP_INTR) != 0) {
                dumpInterrupted = true;
            }
            boolean followed = r.table() == table && r.protocol() == protocol;
            if (!followed) {
                otherRoutes.incrementAndGet();
            }
            if (building != null) {
                apply(building, added, flags, followed, r, false);
            } else {
                apply(current, added, flags, followed, r, true);
            }
        }

        @Override
        public void done(int flags, int msgSeq, int pid, int status) {
            messages.incrementAndGet();
            if (pid != portId || msgSeq != dumpSeq || building == null) {
                return;
            }
            if (status < 0 || dumpInterrupted || (flags & RouteMessages.NLM_F_DUMP_INTR) != 0) {
                tableDumps &= status >= 0;
                LOG.log(System.Logger.Level.INFO, "route monitor: the dump {0}; making it again",
                        status < 0 ? "failed: " + Libc.describe(-status) : "changed while it was written");
                requestDump();
                return;
            }
            Map<String, KernelRoute> next = building;
            building = null;
            for (Map.Entry<String, KernelRoute> e : current.entrySet()) {
                KernelRoute now = next.get(e.getKey());
                if (now == null || !now.equals(e.getValue())) {
                    tellRemoved(e.getValue());
                }
            }
            for (Map.Entry<String, KernelRoute> e : next.entrySet()) {
                KernelRoute was = current.get(e.getKey());
                if (was == null || !was.equals(e.getValue())) {
                    tellAdded(e.getValue());
                }
            }
            current = next;
            try {
                listener.synced(current.size(), receivedNanos);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "route monitor: listener: " + e, e);
            }
        }

        @Override
        public void error(int msgSeq, int pid, int errno) {
            messages.incrementAndGet();
            if (errno != 0 && msgSeq == dumpSeq && building != null) {
                // EBUSY: a dump given up on is still running on this socket. Its end, then ours.
                LOG.log(System.Logger.Level.INFO, "route monitor: the dump was refused: {0}; trying again{1}", Libc.describe(errno),
                        tableDumps && errno != 16 ? " without the table filter" : "");
                tableDumps &= errno == 16; // EBUSY is only a dump still running
                building = null;
                dumpRetryAt = System.nanoTime() + RETRY_NANOS;
            }
        }

        @Override
        public void ignored(String what) {
            ignored.incrementAndGet();
        }

        @Override
        public void malformed(String why) {
            malformed.incrementAndGet();
            long now = System.nanoTime();
            if (lastMalformedLog == 0 || now - lastMalformedLog > 10_000_000_000L) {
                lastMalformedLog = now;
                LOG.log(System.Logger.Level.WARNING, "route monitor: malformed message dropped ({0} so far): {1}", malformed.get(), why);
            }
        }
    };

    /** One route message applied to {@code table}; told to the listener if {@code tell} (not during a dump). */
    private void apply(Map<String, KernelRoute> routes, boolean added, int flags, boolean followed, KernelRoute r, boolean tell) {
        String key = r.key();
        if (added && followed && (flags & RouteMessages.NLM_F_REPLACE) != 0 && r.ipv6()) {
            // An IPv6 replace takes the place of every route of the prefix and metric, whichever their gateway.
            List<String> replaced = new ArrayList<>();
            routes.forEach((k, v) -> {
                if (!k.equals(key) && v.replacedKey().equals(r.replacedKey())) {
                    replaced.add(k);
                }
            });
            for (String k : replaced) {
                KernelRoute gone = routes.remove(k);
                if (tell) {
                    tellRemoved(gone);
                }
            }
        }
        if (added && followed) {
            KernelRoute was = routes.put(key, r);
            if (tell && !r.equals(was)) {
                if (was != null) {
                    tellRemoved(was);
                }
                tellAdded(r);
            }
        } else {
            // Deleted, or now another protocol's (replaced by one that is not followed).
            KernelRoute was = routes.remove(key);
            if (tell && was != null) {
                tellRemoved(was);
            }
        }
    }

    private void tellAdded(KernelRoute r) {
        try {
            listener.added(r, receivedNanos);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "route monitor: listener: " + e, e);
        }
    }

    private void tellRemoved(KernelRoute r) {
        try {
            listener.removed(r, receivedNanos);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "route monitor: listener: " + e, e);
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the thread and closes the socket; the listener hears nothing more. A thread still
     * running after the wait (a listener that does not return) closes the socket itself when it
     * ends: closed here, its number could be reused by another file the thread would then read.
     */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            closeSocket();
        } else {
            LOG.log(System.Logger.Level.WARNING, "route monitor: its thread did not end within 2 s (a listener still busy); it closes the socket when it does");
        }
    }

    /** Whether the socket is still open (for tests). */
    boolean socketOpen() {
        return !socketClosed.get();
    }

    private void closeSocket() {
        if (socketClosed.compareAndSet(false, true)) {
            Libc.close(new Libc.CallState(), fd);
        }
    }
}
