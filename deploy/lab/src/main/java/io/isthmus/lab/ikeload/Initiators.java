package io.isthmus.lab.ikeload;

import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.Transport;
import io.isthmus.ike.UdpTransport;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One thread's initiators: an {@link IkeEngine} of its own on its own {@link UdpTransport}
 * (one Netty event loop, a socket on port 500 of each of its source addresses), starting IKE
 * SAs to the responder from each free address in turn, at most {@code window} at a time and at
 * most {@code rate} a second. An IKE SA counts when the engine installs its child SA: by then
 * the responder's AUTH has been verified (PSK or signature and certificate chain) and the keys
 * derived, exactly as the gateway does as initiator; the child SA's keys are wiped at once.
 * Every attempt ends in one {@link Outcome}: nothing is left uncounted. Everything but
 * {@link #start}, {@link #stop} and {@link #tally} runs on the event loop thread.
 */
final class Initiators implements ChildSaListener, IkeEvent.Listener, Transport.Receiver {
    /** How an attempt ended. */
    enum Outcome {
        /** IKE SA and its child SA up, the responder authenticated. */
        ESTABLISHED,
        /** IKE SA up, the child SA refused (the detail says with what). */
        NO_CHILD,
        /** Refused with a notify (NO_PROPOSAL_CHOSEN, AUTHENTICATION_FAILED, ...), or the responder's AUTH refused by us. */
        REFUSED,
        /** A request of ours never answered, retransmissions used up. */
        UNANSWERED,
        /** Gone for another reason (deleted by the responder before its child SA came, say). */
        GONE,
        /** Half-open on purpose ({@code abandon}): IKE_SA_INIT done, IKE_AUTH never sent. */
        ABANDONED,
        /** Still going when the run ended. */
        UNFINISHED
    }

    /** What this thread's attempts came to; filled on the event loop, read once it has stopped. */
    static final class Tally {
        final long[] outcomes = new long[Outcome.values().length];
        /** Outcomes of attempts that ended in the measured window. */
        final long[] inWindow = new long[Outcome.values().length];
        final Map<String, Long> refusals = new HashMap<>();
        long started;
        long cookied;
        long cookiedInWindow;
        long startedInWindow;
        /** Start to child SA, of the IKE SAs established in the window. */
        final List<Long> latencyNanos = new ArrayList<>();
        long retransmissions;
        long threadCpuNanos;
        /** Point-to-site: the virtual address each established client was given (null: given none), in the order they came. */
        final List<String> virtualAddresses = new ArrayList<>();
    }

    private static final class Attempt {
        final InetSocketAddress local;
        final long startNanos;
        IkeSa sa;
        boolean cookied;
        boolean ended;

        Attempt(InetSocketAddress local, long startNanos) {
            this.local = local;
            this.startNanos = startNanos;
        }
    }

    private final UdpTransport transport;
    private final IkeEngine engine;
    private final InetSocketAddress responder;
    private final int window;
    private final double ratePerNano;
    private final boolean abandon;
    private final boolean churn;
    /** Which connection starts an IKE SA from a source address: one for all, or each client's own. */
    private final java.util.function.Function<InetAddress, String> connectionOf;
    private final List<String> connectionNames = new ArrayList<>();
    private final ArrayDeque<InetSocketAddress> free = new ArrayDeque<>();
    /** By source address alone: IKE_AUTH may leave from port 4500 (NAT detected, or faked as strongSwan's kernel-libipsec does). */
    private final Map<InetAddress, Attempt> byAddress = new HashMap<>();
    private final Map<Long, Attempt> bySpi = new HashMap<>();
    private final Tally tally = new Tally();
    private volatile long windowStart = Long.MAX_VALUE;
    private volatile long windowEnd = Long.MAX_VALUE;
    private volatile boolean starting;
    private long maxAttempts;
    private long startNanos;
    private long threadId;
    private int outstanding;
    private volatile long startedCount;
    /** The IKE SAs established, in order, until the end's deletes take them. */
    private final ArrayDeque<IkeSa> up = new ArrayDeque<>();
    /** Deletes on their way (at most {@code window}), once the end's deleting began. */
    private final java.util.Set<IkeSa> deleting = new java.util.HashSet<>();
    private boolean deletingAll;
    private long deleted;

    /**
     * @param rate attempts a second this thread starts at most (0: as fast as answers come)
     * @param keyShareUses IKE_SA_INIT requests one key pair of ours serves (see {@link IkeEngine#reuseInitiatorKeyShares})
     * @param abandon never send IKE_AUTH: every IKE SA stays half-open at the responder (a flood that answers cookies)
     * @param churn delete each IKE SA as soon as it is counted, instead of keeping it until the end
     */
    Initiators(List<InetAddress> sources, InetSocketAddress responder, List<Connection> connections,
               java.util.function.Function<InetAddress, String> connectionOf, int window, double rate, int keyShareUses,
               boolean abandon, boolean churn) throws Exception {
        this.churn = churn;
        this.connectionOf = connectionOf;
        this.responder = responder;
        this.window = window;
        this.ratePerNano = rate / 1e9;
        this.abandon = abandon;
        // Port 4500 too: strongSwan with kernel-libipsec fakes a NAT to have ESP in UDP, and IKE_AUTH then moves there.
        this.transport = UdpTransport.bind(sources, responder.getPort(), IkeEngine.NAT_T_PORT);
        Transport out = abandon ? new AbandoningTransport() : transport;
        this.engine = new IkeEngine(out, transport, this);
        for (Connection c : connections) {
            engine.addConnection(c);
            connectionNames.add(c.name());
        }
        engine.reuseInitiatorKeyShares(keyShareUses);
        engine.addEventListener(this);
        transport.attach(this);
        sources.forEach(a -> free.add(new InetSocketAddress(a, responder.getPort())));
    }

    /** Starts attempts from now on; {@code maxAttempts} in all (0: no limit); the window's bounds in {@link System#nanoTime()}. */
    void start(long maxAttempts, long windowStart, long windowEnd) {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        transport.execute(() -> {
            this.maxAttempts = maxAttempts;
            threadId = Thread.currentThread().threadId();
            startNanos = System.nanoTime();
            starting = true;
            fill();
            tick();
        });
    }

    /** No more new attempts; those under way go on. */
    void stop() {
        transport.execute(() -> starting = false);
    }

    /**
     * After the run: deletes every IKE SA this thread made (the responder told, as a peer
     * leaving does), {@code window} at a time, so that the responder starts the next row
     * without them; {@link #undeleted} says when it is done.
     */
    void deleteAll() {
        transport.execute(() -> {
            starting = false;
            deletingAll = true;
            tick();
        });
    }

    private void deleteMore() {
        deleting.removeIf(sa -> {
            if (sa.state() == IkeSaState.DESTROYED) {
                deleted++;
                return true;
            }
            return false;
        });
        while (deleting.size() < window && !up.isEmpty()) {
            IkeSa sa = up.poll();
            if (sa.state() == IkeSaState.ESTABLISHED) {
                sa.delete();
                deleting.add(sa);
            }
        }
    }

    /** IKE SAs not deleted yet (the responder not answered yet, or not asked yet). */
    int undeleted() throws Exception {
        return onLoop(() -> up.size() + deleting.size());
    }

    /** IKE SAs deleted, the responder having answered (or given up on). */
    long deleted() throws Exception {
        return onLoop(() -> deleted);
    }

    /** Attempts still going. */
    int outstanding() throws Exception {
        return onLoop(() -> outstanding);
    }

    /** Attempts started so far (read from any thread: a count only grows). */
    long started() {
        return startedCount;
    }

    /** The event loop's thread (for its CPU time). */
    long threadId() {
        return threadId;
    }

    /** Ends what is still going as {@link Outcome#UNFINISHED}, and hands the tally over. */
    Tally tally() throws Exception {
        return onLoop(() -> {
            for (Attempt a : List.copyOf(byAddress.values())) {
                end(a, Outcome.UNFINISHED, null);
            }
            for (String name : connectionNames) {
                IkeCounters c = engine.counters().get(name);
                if (c != null) {
                    for (IkeCounters.Exchange e : IkeCounters.Exchange.values()) {
                        tally.retransmissions += c.messages(e, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION);
                    }
                }
            }
            return tally;
        });
    }

    void close() {
        transport.close();
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        transport.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(30, TimeUnit.SECONDS);
    }

    /** A paced run looks again every millisecond; an unpaced one starts the next attempt as each ends. */
    private void tick() {
        if (deletingAll) {
            deleteMore();
            if (!up.isEmpty() || !deleting.isEmpty()) {
                transport.schedule(Duration.ofMillis(20), this::tick);
            }
            return;
        }
        if (!starting) {
            return;
        }
        fill();
        // Ended attempts whose end no event told (an SA destroyed quietly) are found here.
        sweep();
        transport.schedule(Duration.ofMillis(ratePerNano > 0 ? 1 : 50), this::tick);
    }

    private long sweptAt;

    private void sweep() {
        long now = System.nanoTime();
        if (now - sweptAt < 100_000_000L) {
            return;
        }
        sweptAt = now;
        for (Attempt a : List.copyOf(byAddress.values())) {
            if (a.sa != null && a.sa.state() == IkeSaState.DESTROYED) {
                end(a, Outcome.GONE, "destroyed without a word");
            }
        }
    }

    private void fill() {
        long now = System.nanoTime();
        while (starting && outstanding < window && !free.isEmpty() && (maxAttempts <= 0 || tally.started < maxAttempts)
                && (ratePerNano <= 0 || tally.started < (now - startNanos) * ratePerNano + 1)) {
            startOne(free.poll(), now);
        }
    }

    private void startOne(InetSocketAddress local, long now) {
        Attempt a = new Attempt(local, now);
        byAddress.put(local.getAddress(), a);
        outstanding++;
        tally.started++;
        startedCount = tally.started;
        if (now >= windowStart && now < windowEnd) {
            tally.startedInWindow++;
        }
        try {
            a.sa = engine.initiate(connectionOf.apply(local.getAddress()), local, responder);
            bySpi.put(a.sa.initiatorSpi(), a);
        } catch (RuntimeException e) {
            end(a, Outcome.GONE, "initiate: " + e.getMessage());
        }
    }

    private void end(Attempt a, Outcome o, String detail) {
        if (a.ended) {
            return;
        }
        a.ended = true;
        long now = System.nanoTime();
        tally.outcomes[o.ordinal()]++;
        boolean inWindow = now >= windowStart && now < windowEnd;
        if (inWindow) {
            tally.inWindow[o.ordinal()]++;
            if (a.cookied) {
                tally.cookiedInWindow++;
            }
            if (o == Outcome.ESTABLISHED) {
                tally.latencyNanos.add(now - a.startNanos);
            }
        }
        if (a.cookied) {
            tally.cookied++;
        }
        if (detail != null && o != Outcome.ESTABLISHED && o != Outcome.UNFINISHED) {
            tally.refusals.merge(o + ": " + detail, 1L, Long::sum);
        }
        byAddress.remove(a.local.getAddress(), a);
        if (a.sa != null) {
            bySpi.remove(a.sa.initiatorSpi(), a);
        }
        outstanding--;
        free.add(a.local);
        if (o == Outcome.UNFINISHED) {
            return;
        }
        fill();
    }

    // ------------------------------------------------------------------------------------------
    // What the engine says
    // ------------------------------------------------------------------------------------------

    /** The child SA of an IKE_AUTH: the IKE SA is up and the responder authenticated. Its keys go at once. */
    @Override
    public void installed(ChildSaDescription sa, ChildSaKeys keys) {
        keys.inbound().destroy();
        keys.outbound().destroy();
        Attempt a = byAddress.get(sa.localAddress().getAddress());
        if (a != null) {
            if (a.sa != null && !a.sa.connection().virtualIps().isEmpty()) {
                List<InetAddress> given = a.sa.virtualAddresses().addresses();
                tally.virtualAddresses.add(given.isEmpty() ? null : given.getFirst().getHostAddress());
            }
            end(a, Outcome.ESTABLISHED, null);
            if (a.sa != null && churn) {
                // Counted, then deleted at once (strongSwan's load-tester: delete_after_established): the responder holds a window's worth.
                IkeSa made = a.sa;
                transport.execute(made::delete);
            } else if (a.sa != null) {
                up.add(a.sa);
            }
        }
    }

    @Override
    public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
        keys.inbound().destroy();
        keys.outbound().destroy();
    }

    @Override
    public void deleted(ChildSaDescription sa) {
    }

    @Override
    public void event(IkeEvent e) {
        if (e.kind() != IkeEvent.Kind.FAILED && e.kind() != IkeEvent.Kind.AUTHENTICATION_FAILED && e.kind() != IkeEvent.Kind.IKE_DOWN) {
            return;
        }
        Attempt a = bySpi.get(HexFormat.fromHexDigitsToLong(e.ikeSa().substring(0, 16)));
        if (a == null) {
            return;
        }
        String detail = e.detail() == null ? e.kind().name() : e.detail();
        Outcome o;
        if (detail.contains("did not answer")) {
            o = Outcome.UNANSWERED;
            detail = detail.replaceAll("peer \\S+ ", "").replaceAll(" request \\d+ in \\d+ s \\(\\d+ transmissions\\)", "");
        } else if (detail.contains("refused the child SA")) {
            o = Outcome.NO_CHILD;
        } else if (e.kind() == IkeEvent.Kind.IKE_DOWN) {
            o = Outcome.GONE;
        } else {
            o = Outcome.REFUSED;
        }
        end(a, o, detail.replaceAll("\\b[0-9a-f]{16}_[ir]\\b", "").replaceAll("\\d+\\.\\d+\\.\\d+\\.\\d+(:\\d+)?", "ADDR"));
    }

    /**
     * Every datagram from the responder: an IKE_SA_INIT answer that asks for a cookie (the first
     * payload a Notify of type COOKIE, RFC 7296 §2.6) marks its attempt as cookied.
     */
    @Override
    public void receive(byte[] d, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        if (length >= 36 && d[offset + 18] == ExchangeType.IKE_SA_INIT && (d[offset + 19] & 0x20) != 0 && d[offset + 16] == 41
                && (d[offset + 34] & 0xFF) == 0x40 && (d[offset + 35] & 0xFF) == 0x06) {
            Attempt a = byAddress.get(local.getAddress());
            if (a != null) {
                a.cookied = true;
            }
        }
        engine.receive(d, offset, length, local, remote);
    }

    /** CPU time of the event loop's thread so far. */
    long cpuNanos() {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        return threadId == 0 ? 0 : Math.max(0, t.getThreadCpuTime(threadId));
    }

    /**
     * The transport of a half-open flood: IKE_SA_INIT goes out (answering cookies too), IKE_AUTH
     * never does; the attempt ends there, and the SA with it, the responder left holding it.
     */
    private final class AbandoningTransport implements Transport {
        @Override
        public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
            if (datagram.length > 18 && datagram[18] == ExchangeType.IKE_AUTH) {
                Attempt a = byAddress.get(local.getAddress());
                if (a != null) {
                    transport.execute(() -> {
                        end(a, Outcome.ABANDONED, null);
                        if (a.sa != null) {
                            a.sa.destroy("abandoned after IKE_SA_INIT (half-open flood)");
                        }
                    });
                }
                return;
            }
            transport.send(datagram, local, remote);
        }
    }
}
