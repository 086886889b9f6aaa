package io.isthmus.control.ha;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection of the link, last handler of its pipeline (TLS, then the length-field
 * framer, then this). On its event loop: the pinned-certificate check, HELLO, heartbeats and the
 * silence timeout, the sequence check of incoming updates, and ACKs. What changes the daemon's
 * state (applying updates, epochs, ownership) goes to the daemon's thread through {@link Intake}.
 *
 * <p>Writes from other threads are handed to the event loop as tasks, in the order they were made
 * (the link makes them under its lock), and flushed once per burst: a burst of 10,000 puts is
 * then a few TLS records, not 10,000. What waits unsent is bounded ({@link SyncLink#MAX_UNSENT_BYTES}):
 * a partner that stays connected but stops reading is closed rather than buffered for.
 *
 * <p>Both ways the partner's daemon may fall behind are bounded too: updates sent here and not
 * acknowledged for longer than {@link SyncBounds#ACK_DEADLINE} close the connection (the partner
 * reads but does not apply), and updates handed to this instance's daemon and not applied yet
 * stop the reading above {@link SyncBounds#MAX_UNAPPLIED_BYTES} (the partner writes faster than
 * this daemon applies).
 */
final class SyncConnection extends ChannelInboundHandlerAdapter {
    private final SyncLink link;
    private final Intake intake;
    private final boolean dialed;
    private volatile Channel channel;
    private ScheduledFuture<?> ticks;
    private long openedNanos;
    private volatile long lastHeardNanos;
    private boolean authenticated;
    private boolean helloSeen;
    private boolean refused;
    private boolean pendingCounted;
    private long lastSequenceIn;
    private boolean flushScheduled;
    /** Event loop only: a full sync is being written (see {@link #fullSync}). */
    private boolean fullSync;
    /** Event loop only: what may wait unsent before the partner counts as fallen behind. */
    private long unsentAllowance;
    /** Event loop only: closing because the partner fell behind; what is still sent is dropped. */
    private boolean behind;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicBoolean ackScheduled = new AtomicBoolean();
    /** Frame octets of the partner's updates handed to the daemon and not applied yet (loop adds, daemon takes away). */
    private final AtomicLong unapplied = new AtomicLong();
    /** Reading stopped for the daemon to catch up: set on the loop, read by the daemon (volatile, see {@link #drained}). */
    private volatile boolean readPaused;
    /** Event loop only: the acknowledgement deadline's state, see {@link #checkAcknowledged}. */
    private long lastTickNanos;
    private long ackSeen = -1;
    private long unacknowledgedNanos;

    /** Deliver thread only: FENCED answers already given on this connection, and the groups of a full sync under way. */
    final Set<String> fencedSent = new HashSet<>();
    Set<String> syncing;

    SyncConnection(SyncLink link, Intake intake, boolean dialed) {
        this.link = link;
        this.intake = intake;
        this.dialed = dialed;
    }

    /** Counts against the listener's limit of connections still in their handshake. */
    void countPending() {
        pendingCounted = true;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        unsentAllowance = link.maxUnsentBytes;
        openedNanos = System.nanoTime();
        lastHeardNanos = openedNanos;
        long every = link.settings.heartbeatInterval().toNanos();
        ticks = ctx.executor().scheduleAtFixedRate(this::tick, every, every, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (!(event instanceof SslHandshakeCompletionEvent done)) {
            ctx.fireUserEventTriggered(event);
            return;
        }
        if (!done.isSuccess()) {
            refuse(describe(done.cause()));
            return;
        }
        String wrong = link.tls.checkPartner(ctx.pipeline().get(SslHandler.class).engine().getSession());
        if (wrong != null) {
            refuse(wrong);
            return;
        }
        authenticated = true;
        settlePending();
        sendNow(link.hello());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            lastHeardNanos = System.nanoTime();
            int octets = frame.readableBytes();
            handle(FrameCodec.decode(frame), octets);
        } catch (MalformedFrameException e) {
            fail("malformed frame: " + e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void handle(Frame frame, int octets) {
        if (!helloSeen && !(frame instanceof Frame.Hello)) {
            fail("a " + frame.getClass().getSimpleName() + " frame before HELLO");
            return;
        }
        switch (frame) {
            case Frame.Hello h -> {
                if (helloSeen) {
                    fail("a second HELLO");
                } else if (h.version() != FrameCodec.VERSION) {
                    fail("protocol version " + h.version() + ", this instance speaks " + FrameCodec.VERSION);
                } else if (!h.instance().equals(link.settings.partner())) {
                    fail("HELLO from an instance named " + h.instance() + ", the partner is " + link.settings.partner());
                } else {
                    helloSeen = true;
                    link.deliver(() -> link.becameReady(this, h));
                }
            }
            case Frame.Put p -> sequenced(p.sequence(), p, octets);
            case Frame.Remove r -> sequenced(r.sequence(), r, octets);
            case Frame.FullSyncBegin b -> sequenced(b.sequence(), b, octets);
            case Frame.FullSyncEnd e -> sequenced(e.sequence(), e, octets);
            case Frame.Ack a -> {
                String wrong = link.acked(this, a.sequence());
                if (wrong != null) {
                    fail(wrong);
                }
            }
            case Frame.Heartbeat ignored -> {
            }
            case Frame.Ownership o -> {
                if (!o.owner().equals(link.settings.partner())) {
                    fail("OWNERSHIP of " + o.group() + " for " + o.owner() + ", the partner is " + link.settings.partner());
                } else {
                    link.deliver(() -> intake.announce(this, o.group(), o.epoch()));
                }
            }
            case Frame.Fenced f -> link.deliver(() -> intake.fenced(f.group(), f.epoch()));
        }
    }

    private void sequenced(long sequence, Frame frame, int octets) {
        if (sequence <= lastSequenceIn) {
            fail("update " + sequence + " after " + lastSequenceIn + ": sequence numbers must rise");
            return;
        }
        lastSequenceIn = sequence;
        long waiting = unapplied.addAndGet(octets);
        link.handedOver(waiting);
        link.deliver(() -> {
            try {
                intake.update(this, frame);
            } finally {
                drained(octets);
            }
        });
        if (waiting > link.bounds.maxUnappliedBytes() && !readPaused) {
            pauseReading(waiting);
        }
    }

    /**
     * Event loop: the daemon has more of the partner's updates than the bound to apply. Reading
     * stops (the frames of the read under way still come); TCP's window closes on the partner,
     * which then holds what it writes, up to its unsent bound.
     */
    private void pauseReading(long waiting) {
        readPaused = true;
        channel.config().setAutoRead(false);
        link.counted(SyncLink.Counter.READ_PAUSES);
        link.note(remoteHost() + ":paused", "sync link " + (dialed ? "to " : "from ") + link.settings.partner() + ": "
                + waiting + " octets of the partner's updates wait to be applied (over " + link.bounds.maxUnappliedBytes()
                + "); reading paused until under " + link.bounds.resumeBelowBytes() + " (a large full sync, or a partner "
                + "writing faster than this daemon applies)");
        // The daemon may have drained below the mark between the count above and readPaused: it saw
        // readPaused false and scheduled nothing, so look again (each side writes, then reads the other's).
        if (unapplied.get() <= link.bounds.resumeBelowBytes()) {
            resumeReading();
        }
    }

    /** Deliver thread: an update is applied (or dropped); below the low mark, reading starts again. */
    private void drained(int octets) {
        long left = unapplied.addAndGet(-octets);
        if (readPaused && left <= link.bounds.resumeBelowBytes()) {
            onLoop(this::resumeReading);
        }
    }

    private void resumeReading() {
        if (readPaused && unapplied.get() <= link.bounds.resumeBelowBytes()) {
            readPaused = false;
            channel.config().setAutoRead(true);
        }
    }

    long unappliedBytes() {
        return unapplied.get();
    }

    /** Deliver thread: the update is applied (or refused as fenced); acknowledge it, one ACK per burst. */
    void applied(long sequence) {
        applied.set(sequence);
        if (ackScheduled.compareAndSet(false, true)) {
            onLoop(() -> {
                ackScheduled.set(false);
                sendNow(new Frame.Ack(applied.get()));
            });
        }
    }

    /** Any thread: encodes here (so a frame too large fails its caller) and writes on the loop. */
    void send(Frame frame) {
        send(link.encode(frame));
    }

    void send(ByteBuf encoded) {
        if (!onLoop(() -> write(encoded))) {
            encoded.release();
        }
    }

    private void sendNow(Frame frame) {
        write(link.encode(frame));
    }

    /**
     * Any thread, in order with the sends around it: a full sync starts or ends. It is written at
     * once, so it may exceed the unsent bound on its own (many child SAs a site); held to the bound
     * it would close every connection it is sent on, for ever. So the bound does not apply while it
     * is written, and afterwards it counts above what the full sync left unsent.
     */
    void fullSync(boolean writing) {
        onLoop(() -> {
            fullSync = writing;
            if (!writing) {
                unsentAllowance = Math.max(link.maxUnsentBytes, unsent(channel) + link.maxUnsentBytes);
            }
        });
    }

    /** What waits to be written to the partner: the TLS handler's plaintext and the socket's queue. */
    private static long unsent(Channel ch) {
        var out = ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    private void write(ByteBuf encoded) {
        Channel ch = channel;
        if (!ch.isOpen() || behind) {
            // Closed, or closing because the partner fell behind: the next connection's full sync carries it.
            encoded.release();
            return;
        }
        ch.write(encoded, ch.voidPromise());
        if (!fullSync && unsent(ch) > unsentAllowance) {
            fellBehind();
            return;
        }
        if (!flushScheduled) {
            flushScheduled = true;
            ch.eventLoop().execute(() -> {
                flushScheduled = false;
                ch.flush();
            });
        }
    }

    private boolean onLoop(Runnable task) {
        Channel ch = channel;
        if (ch == null) {
            return false;
        }
        try {
            ch.eventLoop().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void tick() {
        long now = System.nanoTime();
        if (!helloSeen) {
            if (now - openedNanos > SyncLink.HANDSHAKE_TIMEOUT.toNanos()) {
                fail("no HELLO within " + SyncLink.HANDSHAKE_TIMEOUT.toSeconds() + " s");
            }
            return;
        }
        long interval = link.settings.heartbeatInterval().toNanos();
        long sinceTick = lastTickNanos == 0 ? interval : now - lastTickNanos;
        lastTickNanos = now;
        if (readPaused) {
            // This side stopped reading: the partner's heartbeats and acknowledgements wait unread in
            // the socket, which says nothing about the partner. Its silence counts from the resumption.
            lastHeardNanos = now;
            ackSeen = -1;
            unacknowledgedNanos = 0;
        }
        long limit = interval * link.settings.missedHeartbeats();
        if (now - lastHeardNanos > limit) {
            fail("partner silent for " + (now - lastHeardNanos) / 1_000_000 + " ms (" + link.settings.missedHeartbeats()
                    + " heartbeats missed)");
            return;
        }
        if (checkAcknowledged(Math.min(sinceTick, 2 * interval))) {
            return;
        }
        sendNow(new Frame.Heartbeat());
    }

    /**
     * Event loop, each tick: the acknowledgement deadline ({@link SyncBounds#ACK_DEADLINE}, why that
     * long is said there). Time adds up while updates wait and the partner's acknowledgement does
     * not rise; any rise, or nothing waiting, starts it again. A tick adds at most two heartbeat
     * intervals however late it runs, so a pause of this process (its event loop did not run, the
     * partner's ACKs may wait unread in the socket) is not counted against the partner.
     * Whether the connection was closed.
     */
    private boolean checkAcknowledged(long elapsed) {
        long acked = link.ackAwaited(this);
        if (acked < 0 || acked != ackSeen) {
            ackSeen = acked;
            unacknowledgedNanos = 0;
            return false;
        }
        unacknowledgedNanos += elapsed;
        if (unacknowledgedNanos <= link.bounds.ackDeadline().toNanos()) {
            return false;
        }
        unacknowledged();
        return true;
    }

    long lastHeardNanos() {
        return lastHeardNanos;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!authenticated) {
            refuse(describe(cause));
        } else if (cause instanceof TooLongFrameException) {
            fail("frame over the limit of " + link.settings.maxFrameBytes() + " octets (" + cause.getMessage() + ")");
        } else {
            fail(describe(cause));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ticks != null) {
            ticks.cancel(false);
        }
        settlePending();
        if (helloSeen) {
            link.deliver(() -> link.lost(this));
        }
        ctx.fireChannelInactive();
    }

    private void settlePending() {
        if (pendingCounted) {
            pendingCounted = false;
            link.handshakeSettled();
        }
    }

    /** Before authentication: a connection that is not the partner. Counted, logged rate-limited, closed. */
    private void refuse(String why) {
        if (!refused) {
            refused = true;
            link.refused(remoteHost(), why);
        }
        close();
    }

    /** After authentication: the partner broke the protocol or the connection failed. */
    private void fail(String why) {
        warnClosing("fail", why);
        close();
    }

    /**
     * Over the bound of what may wait unsent ({@link SyncLink#MAX_UNSENT_BYTES}): the partner
     * stays connected but reads too slowly or not at all, and waiting longer would only grow the
     * buffer. Closed like a link that went down (whoever waits for an acknowledgement is released),
     * so the next connection's full sync brings the partner level rather than the backlog.
     */
    private void fellBehind() {
        Channel ch = channel;
        if (!ch.isOpen() || behind) {
            return;
        }
        behind = true;
        link.counted(SyncLink.Counter.SLOW_PARTNER_CLOSES);
        warnClosing("slow", "the partner fell behind: more than " + link.maxUnsentBytes + " octets wait unsent (it reads too "
                + "slowly or not at all); the backlog is dropped and the next connection brings it level with a full sync");
        closeBeneathTls(ch);
    }

    /**
     * Past the acknowledgement deadline: the partner's connection lives (it was heard) but it
     * applies nothing, and this instance's IKE datagrams wait for its acknowledgement
     * ({@link HeldTransport}). Closed like a link that went down: the waiters are released, the
     * datagrams leave unacknowledged, and the next connection's full sync brings the partner level.
     */
    private void unacknowledged() {
        Channel ch = channel;
        if (!ch.isOpen()) {
            return;
        }
        link.counted(SyncLink.Counter.UNACKNOWLEDGED_CLOSES);
        warnClosing("unacknowledged", "the partner acknowledged nothing for " + unacknowledgedNanos / 1_000_000 + " ms (deadline "
                + link.bounds.ackDeadline().toMillis() + " ms) while " + link.lagUpdates() + " updates wait: it reads but does not "
                + "apply (its daemon stuck); what waited for it is released and the next connection brings it level with a full sync");
        closeBeneathTls(ch);
    }

    /**
     * Closed beneath TLS: a close_notify would queue behind what the partner does not read or
     * answer, and SslHandler would hold the connection (and the released waiters) for its flush
     * timeout.
     */
    private static void closeBeneathTls(Channel ch) {
        ChannelHandlerContext tls = ch.pipeline().context(SslHandler.class);
        if (tls != null) {
            tls.close();
        } else {
            ch.close();
        }
    }

    private void warnClosing(String reason, String why) {
        if (channel != null && channel.isOpen()) {
            link.warn(remoteHost() + ":" + reason, "sync link " + (dialed ? "to " : "from ") + link.settings.partner() + " at "
                    + channel.remoteAddress() + ": " + why + "; closing");
        }
    }

    void close() {
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isOpen();
    }

    private String remoteHost() {
        Channel ch = channel;
        SocketAddress a = ch == null ? null : ch.remoteAddress();
        return a instanceof InetSocketAddress i ? i.getAddress().getHostAddress() : String.valueOf(a);
    }

    private static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? "" : ": " + root.getMessage();
        // Some messages quote what arrived (a hex dump of the garbage): enough to recognise it, no more.
        return root.getClass().getSimpleName() + (message.length() > 120 ? message.substring(0, 120) + "..." : message);
    }
}
