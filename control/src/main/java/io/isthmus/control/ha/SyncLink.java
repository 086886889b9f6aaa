package io.isthmus.control.ha;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The pair's sync link: an ordered, authenticated, encrypted stream of opaque state between the
 * two instances of one gateway (see {@link SyncSettings} for who dials, {@link PairTls} for the
 * TLS, {@link FrameCodec} for the wire, {@link Intake} for what the receiver does).
 *
 * <p>The daemon calls {@link #put}, {@link #remove}, {@link #whenAcked} and {@link #takeOver} on
 * its own thread, the one given as {@code deliver}: the link relies on that for the order of the
 * full sync against later updates (both are made on that thread) and for a fence taking effect
 * between two of the daemon's calls, never in the middle of one.
 *
 * <p>Sequence numbers: one counter per link, for every update the daemon makes, sent or not.
 * While the link is down nothing is sent and nothing is waited for; the full sync of the next
 * connection carries the state instead, so an unacknowledged update is never replayed.
 */
public final class SyncLink implements AutoCloseable {
    static final System.Logger LOG = System.getLogger("io.isthmus.control.ha");
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    static final long BACKOFF_FIRST_MS = 100;
    static final long BACKOFF_MAX_MS = 2000;
    /** Connections in their TLS handshake the listener holds at once; more are closed at once (a flood). */
    static final int MAX_HANDSHAKING = 16;
    static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * What may wait unsent on one connection (the channel's outbound buffer, which counts the TLS
     * handler's plaintext as well as the ciphertext not yet taken by the socket), beyond what the
     * last full sync left there, before the partner counts as fallen behind and the connection is
     * closed. The full sync itself is exempt while it is written ({@link SyncConnection#fullSync}):
     * it is written at once and is the most that waits legitimately, and a sync larger than any
     * fixed bound would close every connection it is sent on. Measured with the engine's records,
     * an IKE SA is 600 to 900 octets (PSK) and up to 2,940 as a responder that keeps its IKE_AUTH
     * answer with a certificate and an intermediate, its child SA's keys 250, and with the frames'
     * own octets (about 45 each) and the child's LEASE, REPLAY_TOP and TRAFFIC entries one SA with
     * one child is 1.5 to 3.5 KB: 10,000 of them 15 to 35 MB. 64 MiB more is room for rekeys under
     * way, and is what a partner that stopped reading can cost this instance beyond that.
     */
    static final int MAX_UNSENT_BYTES = 64 << 20;
    enum Counter {
        SENT, APPLIED, FULL_SYNCS_SENT, FULL_SYNCS_RECEIVED, RECONNECTS, REFUSED, FENCED, SLOW_PARTNER_CLOSES,
        UNACKNOWLEDGED_CLOSES, READ_PAUSES
    }

    final SyncSettings settings;
    final PairTls tls;
    final SyncBounds bounds;
    final int maxUnsentBytes;
    /** The most any connection had handed to the daemon unapplied (tests read it). */
    private final AtomicLong peakUnapplied = new AtomicLong();
    private final SyncListener listener;
    private final Executor deliver;
    private final EpochStore epochs;
    private final Intake intake;
    private final EventLoopGroup loop;
    private final boolean epoll;
    private final Channel server;
    private final RateLimitedLog warnings = new RateLimitedLog(LOG, LOG_INTERVAL_NANOS);
    private final Map<Counter, AtomicLong> counters = new EnumMap<>(Counter.class);
    private final AtomicInteger handshaking = new AtomicInteger();
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    // Guarded by this: what is sent, on which connection, and who waits for its acknowledgement.
    private long nextSequence = 1;
    private long acked;
    private long readyFrom;
    private volatile SyncConnection ready;
    private Instant connectedSince;
    private boolean everReady;
    private long backoffMs = BACKOFF_FIRST_MS;
    private final Map<String, Long> owned = new TreeMap<>();
    private final NavigableMap<Long, List<Runnable>> waiting = new TreeMap<>();

    private SyncLink(SyncSettings settings, SyncListener listener, Executor deliver, SyncBounds bounds) throws IOException {
        this.settings = settings;
        this.bounds = bounds;
        this.maxUnsentBytes = bounds.maxUnsentBytes();
        this.listener = listener;
        this.deliver = deliver;
        this.tls = PairTls.load(settings);
        this.epochs = EpochStore.open(settings.epochFile(), settings.takesOddEpochs());
        this.intake = new Intake(this, listener, epochs);
        for (Counter c : Counter.values()) {
            counters.put(c, new AtomicLong());
        }
        this.epoll = Epoll.isAvailable();
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("isthmus-sync-" + settings.instance(), true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            this.server = settings.dials() ? null : listen();
        } catch (IOException | RuntimeException e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
    }

    /**
     * Starts the link: the listener binds its sync address now (a failure is thrown here), the
     * dialer starts dialing in the background. Listener calls run on {@code deliver}.
     */
    public static SyncLink start(SyncSettings settings, SyncListener listener, Executor deliver) throws IOException {
        return start(settings, listener, deliver, SyncBounds.DEFAULT);
    }

    /** With other bounds (tests: small ones are reached quickly). */
    static SyncLink start(SyncSettings settings, SyncListener listener, Executor deliver, SyncBounds bounds) throws IOException {
        SyncLink link = new SyncLink(settings, listener, deliver, bounds);
        LOG.log(Level.INFO, "sync link {0} <-> {1}: {2} {3}, Netty {4}", settings.instance(), settings.partner(),
                settings.dials() ? "dialing" : "listening on", settings.dials() ? settings.partnerAddress() : link.localAddress(),
                link.epoll ? "epoll" : "NIO");
        if (settings.dials()) {
            link.dial();
        }
        return link;
    }

    /** Queues a put of the group's entry to the partner; its sequence number, for {@link #whenAcked}. */
    public long put(String group, byte kind, byte[] key, byte[] value) {
        return update(group, (seq, epoch) -> new Frame.Put(seq, group, epoch, kind, key, value));
    }

    public long remove(String group, byte kind, byte[] key) {
        return update(group, (seq, epoch) -> new Frame.Remove(seq, group, epoch, kind, key));
    }

    /**
     * Runs {@code then} on the daemon's thread once the partner applied the update of this
     * sequence number, or at once if the link is down or the update was made while it was down
     * (nobody to wait for). A disconnect releases everyone waiting, after the listener's
     * {@code disconnected()}.
     */
    public void whenAcked(long sequence, Runnable then) {
        synchronized (this) {
            if (sequence <= 0 || sequence >= nextSequence) {
                throw new IllegalArgumentException("no update has sequence number " + sequence);
            }
            if (ready != null && sequence > acked && sequence >= readyFrom) {
                waiting.computeIfAbsent(sequence, s -> new ArrayList<>(1)).add(then);
                return;
            }
        }
        deliver(then);
    }

    /**
     * Takes the group over: a new epoch above every one seen, on disk before this returns and
     * before the partner hears it (OWNERSHIP now if connected, else in the next HELLO). From then
     * on this instance's updates of the group carry that epoch.
     */
    public long takeOver(String group) throws IOException {
        long epoch = epochs.takeOver(group);
        synchronized (this) {
            owned.put(group, epoch);
            if (ready != null) {
                ready.send(new Frame.Ownership(group, epoch, settings.instance()));
            }
        }
        LOG.log(Level.INFO, "sync link: {0} takes group {1} at epoch {2}", settings.instance(), group, epoch);
        return epoch;
    }

    /**
     * Whether the partner acknowledged the update of this sequence number, rather than the wait
     * being given up because the link went down. An update made while the link was down counts
     * once a later acknowledgement covers it: the full sync at the reconnection, sent before any
     * later update, carried the state it was part of.
     */
    public synchronized boolean acknowledged(long sequence) {
        return sequence <= acked;
    }

    /** The groups this instance owns and their epochs. */
    public synchronized Map<String, Long> owned() {
        return Map.copyOf(owned);
    }

    public boolean connected() {
        return ready != null;
    }

    /** Sent on this connection and not acknowledged yet. */
    public synchronized long lagUpdates() {
        return ready == null ? 0 : nextSequence - Math.max(acked + 1, readyFrom);
    }

    public synchronized SyncStatus status() {
        SyncConnection conn = ready;
        Duration heard = conn == null ? null : Duration.ofNanos(System.nanoTime() - conn.lastHeardNanos());
        return new SyncStatus(conn != null, connectedSince, heard, lagUpdates(), count(Counter.SENT), count(Counter.APPLIED),
                count(Counter.FULL_SYNCS_SENT), count(Counter.FULL_SYNCS_RECEIVED), count(Counter.RECONNECTS),
                count(Counter.REFUSED), count(Counter.FENCED), count(Counter.SLOW_PARTNER_CLOSES),
                count(Counter.UNACKNOWLEDGED_CLOSES), count(Counter.READ_PAUSES), conn == null ? 0 : conn.unappliedBytes());
    }

    /** The most one connection had handed to the daemon and not yet applied, in frame octets, since the start. */
    long peakUnappliedBytes() {
        return peakUnapplied.get();
    }

    /** The address the listener is bound to (its port when 0 was asked for); null for the dialer. */
    public InetSocketAddress localAddress() {
        return server == null ? null : (InetSocketAddress) server.localAddress();
    }

    /** Stops: sockets closed, the event loop's thread ended when this returns. */
    @Override
    public void close() {
        closed = true;
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        // Closed one by one before the loop stops: TLS says close_notify and the partner sees the end
        // at once, instead of waiting for its heartbeats to run out.
        for (Channel ch : open) {
            ch.close().awaitUninterruptibly(HANDSHAKE_TIMEOUT.toMillis());
        }
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private long update(String group, UpdateFrame make) {
        synchronized (this) {
            Long epoch = owned.get(group);
            if (epoch == null) {
                throw new IllegalStateException(settings.instance() + " does not own group " + group
                        + " (never taken over, or fenced by the partner)");
            }
            long sequence = nextSequence;
            ByteBuf encoded = encode(make.frame(sequence, epoch));
            nextSequence++;
            if (ready != null) {
                ready.send(encoded);
                counted(Counter.SENT);
            } else {
                encoded.release();
            }
            return sequence;
        }
    }

    private interface UpdateFrame {
        Frame frame(long sequence, long epoch);
    }

    /** The frame with its length, or an IllegalArgumentException if the partner would refuse its size. */
    ByteBuf encode(Frame frame) {
        ByteBuf encoded = FrameCodec.encode(ByteBufAllocator.DEFAULT, frame);
        int size = encoded.readableBytes() - FrameCodec.LENGTH_FIELD;
        if (size > settings.maxFrameBytes()) {
            encoded.release();
            throw new IllegalArgumentException("a " + frame.getClass().getSimpleName() + " frame of " + size
                    + " octets is over the link's limit of " + settings.maxFrameBytes());
        }
        return encoded;
    }

    synchronized Frame.Hello hello() {
        return new Frame.Hello(FrameCodec.VERSION, settings.instance(), new LinkedHashMap<>(owned));
    }

    // ---- called by SyncConnection and Intake ----

    /** Deliver thread: the partner's HELLO came; this connection is the link from now on. */
    void becameReady(SyncConnection conn, Frame.Hello hello) {
        if (closed || !conn.isOpen()) {
            return;
        }
        SyncConnection old = ready;
        if (old != null) {
            old.close();
            lost(old);
        }
        synchronized (this) {
            ready = conn;
            readyFrom = nextSequence;
            connectedSince = Instant.now();
            backoffMs = BACKOFF_FIRST_MS;
            if (everReady) {
                counted(Counter.RECONNECTS);
            }
            everReady = true;
        }
        LOG.log(Level.INFO, "sync link {0} <-> {1}: connected", settings.instance(), settings.partner());
        listener.connected();
        hello.epochs().forEach((g, e) -> intake.announce(conn, g, e));
        sendFullSync(conn);
    }

    /** Deliver thread: everything this instance owns, between FULL_SYNC_BEGIN and FULL_SYNC_END. */
    private void sendFullSync(SyncConnection conn) {
        Map<String, Long> groups;
        synchronized (this) {
            groups = new LinkedHashMap<>(owned);
        }
        conn.fullSync(true);
        sequenced(conn, seq -> new Frame.FullSyncBegin(seq, groups));
        groups.forEach((g, epoch) -> listener.ownState(g,
                (kind, key, value) -> sequenced(conn, seq -> new Frame.Put(seq, g, epoch, kind, key, value))));
        sequenced(conn, seq -> new Frame.FullSyncEnd(seq, groups));
        conn.fullSync(false);
        counted(Counter.FULL_SYNCS_SENT);
    }

    private synchronized void sequenced(SyncConnection conn, LongFunction<Frame> make) {
        if (ready != conn) {
            return;
        }
        ByteBuf encoded = encode(make.apply(nextSequence));
        nextSequence++;
        conn.send(encoded);
        counted(Counter.SENT);
    }

    /** Deliver thread: the connection is gone; release whoever waited for an acknowledgement. */
    void lost(SyncConnection conn) {
        List<Runnable> released = new ArrayList<>();
        synchronized (this) {
            if (ready != conn) {
                return;
            }
            ready = null;
            connectedSince = null;
            waiting.values().forEach(released::addAll);
            waiting.clear();
        }
        LOG.log(Level.INFO, "sync link {0} <-> {1}: disconnected", settings.instance(), settings.partner());
        listener.disconnected();
        released.forEach(this::runGuarded);
    }

    /** Event loop: the partner applied everything up to this sequence number. Null, or what is wrong with it. */
    String acked(SyncConnection conn, long sequence) {
        List<Runnable> released = new ArrayList<>();
        synchronized (this) {
            if (ready != conn) {
                return null;
            }
            if (sequence >= nextSequence) {
                return "ACK of " + sequence + ", only " + (nextSequence - 1) + " sent";
            }
            acked = Math.max(acked, sequence);
            NavigableMap<Long, List<Runnable>> done = waiting.headMap(acked, true);
            done.values().forEach(released::addAll);
            done.clear();
        }
        released.forEach(this::deliver);
        return null;
    }

    /**
     * Event loop: the highest sequence number the partner acknowledged, while this connection is
     * the link and updates sent on it wait for an acknowledgement; -1 when nothing waits.
     */
    synchronized long ackAwaited(SyncConnection conn) {
        return ready == conn && lagUpdates() > 0 ? acked : -1;
    }

    void handedOver(long unapplied) {
        peakUnapplied.accumulateAndGet(unapplied, Math::max);
    }

    boolean isReady(SyncConnection conn) {
        return ready == conn;
    }

    /** The partner holds the group at this epoch (announced, or fenced us): if this instance held it lower, no longer. */
    synchronized void lostTo(String group, long epoch) {
        Long mine = owned.get(group);
        if (mine != null && mine <= epoch) {
            owned.remove(group);
            LOG.log(Level.WARNING, "sync link: {0} no longer owns group {1} (epoch {2}): the partner holds it at epoch {3}",
                    settings.instance(), group, mine, epoch);
        }
    }

    void counted(Counter c) {
        counters.get(c).incrementAndGet();
    }

    private long count(Counter c) {
        return counters.get(c).get();
    }

    void refused(String source, String why) {
        counted(Counter.REFUSED);
        warnings.log(Level.WARNING, source + ":refused", "sync link " + settings.instance() + ": refused a connection with "
                + source + ": " + why);
    }

    void warn(String source, String message) {
        warnings.log(Level.WARNING, source, message);
    }

    /** Rate-limited like the warnings, at INFO: for what a legitimate partner may cause (a large full sync). */
    void note(String source, String message) {
        warnings.log(Level.INFO, source, message);
    }

    void handshakeSettled() {
        handshaking.decrementAndGet();
    }

    void deliver(Runnable task) {
        try {
            deliver.execute(() -> runGuarded(task));
        } catch (RejectedExecutionException e) {
            if (!closed) {
                LOG.log(Level.ERROR, "sync link: the daemon's executor refused a task: " + e.getMessage());
            }
        }
    }

    private void runGuarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "sync link: a daemon callback failed", e);
        }
    }

    // ---- sockets ----

    private Channel listen() throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(loop)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SyncConnection conn = pipeline(ch, false);
                        if (handshaking.incrementAndGet() > MAX_HANDSHAKING) {
                            handshaking.decrementAndGet();
                            refused(hostOf(ch), "more than " + MAX_HANDSHAKING + " connections in their handshake");
                            ch.close();
                            return;
                        }
                        conn.countPending();
                    }
                });
        ChannelFuture bound = b.bind(settings.listen()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("sync link: cannot listen on " + settings.listen() + ": " + bound.cause().getMessage(),
                    bound.cause());
        }
        return bound.channel();
    }

    private void dial() {
        if (closed) {
            return;
        }
        Bootstrap b = new Bootstrap().group(loop)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) BACKOFF_MAX_MS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        pipeline(ch, true);
                    }
                });
        try {
            b.connect(settings.partnerAddress(), new InetSocketAddress(settings.listen().getAddress(), 0)).addListener(
                    (ChannelFuture f) -> {
                        if (f.isSuccess()) {
                            f.channel().closeFuture().addListener(c -> redialLater());
                        } else {
                            warn(settings.partnerAddress() + ":dial", "sync link " + settings.instance() + ": cannot reach "
                                    + settings.partner() + " at " + settings.partnerAddress() + ": " + f.cause().getMessage());
                            redialLater();
                        }
                    });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void redialLater() {
        if (closed) {
            return;
        }
        long delay;
        synchronized (this) {
            delay = backoffMs;
            backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
        }
        try {
            loop.schedule(this::dial, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private SyncConnection pipeline(SocketChannel ch, boolean dialed) {
        SslHandler ssl = dialed
                ? tls.client().newHandler(ch.alloc(), settings.partnerAddress().getHostString(), settings.partnerAddress().getPort())
                : tls.server().newHandler(ch.alloc());
        ssl.setHandshakeTimeout(HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        SyncConnection conn = new SyncConnection(this, intake, dialed);
        open.add(ch);
        ch.closeFuture().addListener(f -> open.remove(ch));
        ch.pipeline().addLast(ssl,
                new LengthFieldBasedFrameDecoder(settings.maxFrameBytes() + FrameCodec.LENGTH_FIELD, 0,
                        FrameCodec.LENGTH_FIELD, 0, FrameCodec.LENGTH_FIELD),
                conn);
        return conn;
    }

    private static String hostOf(SocketChannel ch) {
        InetSocketAddress a = ch.remoteAddress();
        return a == null ? "?" : a.getAddress().getHostAddress();
    }
}
