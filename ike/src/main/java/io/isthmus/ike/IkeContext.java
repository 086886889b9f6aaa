package io.isthmus.ike;

import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import java.util.function.LongPredicate;
import java.util.random.RandomGenerator;

/**
 * What every IKE SA of one engine and its exchanges share: the transport, the clock, the
 * listener that child SAs are announced to, the rate-limited log for lines caused by
 * unauthenticated packets, the inbound ESP SPIs reserved ({@link InboundSpi}), and the source
 * of randomness (after Android's IKE library, injectable: {@link java.security.SecureRandom} in
 * production, a seeded or scripted one in tests that need to know which nonce is the lowest).
 * Made by the engine ({@code io.isthmus.ike.engine.IkeEngine}); not something the daemon uses.
 */
public final class IkeContext {
    /** Our nonces: 256 bits, well above RFC 7296 §2.10's minimum of 128 and half the PRF key size. */
    public static final int NONCE_LENGTH = 32;

    private final Transport transport;
    private final Scheduler scheduler;
    private final ChildSaListener listener;
    private final RateLimitedLog floodLog;
    private final RandomGenerator random;
    private final LongPredicate ikeSpiInUse;
    private final IntSupplier natTraversalPort;
    private final Exchanges exchanges;
    private final IkeSaTable sas;
    private final IkeCounters.ByConnection counters = new IkeCounters.ByConnection();
    /** Added and removed from other threads (API clients come and go), called on the IKE thread. */
    private final List<IkeEvent.Listener> eventListeners = new CopyOnWriteArrayList<>();
    /** The values of every {@link InboundSpi} not yet released. */
    private final Set<Integer> inboundSpis = new HashSet<>();
    private IkeSaObserver observer;
    private int keyShareUses = 1;
    private KeyExchange reusedKeyShare;
    private int reusedKeyShareUsed;
    /** SAs whose record changed (true) or that went (false) since the observer was last told, in order. */
    private final Map<IkeSa, Boolean> unobserved = new LinkedHashMap<>();

    /** Made by the engine, which holds the SA table and knows which exchanges there are. */
    public IkeContext(Transport transport, Scheduler scheduler, ChildSaListener listener, RateLimitedLog floodLog, RandomGenerator random,
                      LongPredicate ikeSpiInUse, IntSupplier natTraversalPort, Exchanges exchanges, IkeSaTable sas) {
        this.transport = transport;
        this.scheduler = scheduler;
        this.listener = listener;
        this.floodLog = floodLog;
        this.random = random;
        this.ikeSpiInUse = ikeSpiInUse;
        this.natTraversalPort = natTraversalPort;
        this.exchanges = exchanges;
        this.sas = sas;
    }

    /** The engine's other IKE SAs. */
    public IkeSaTable sas() {
        return sas;
    }

    /** What was counted for each connection, for metrics. */
    public IkeCounters.ByConnection counters() {
        return counters;
    }

    /** The counters of {@code sa}'s connection (a responder's first candidate until IKE_AUTH picks one). */
    public IkeCounters counters(IkeSa sa) {
        return counters.of(sa.connection().name());
    }

    public void addEventListener(IkeEvent.Listener l) {
        eventListeners.add(l);
    }

    public void removeEventListener(IkeEvent.Listener l) {
        eventListeners.remove(l);
    }

    /** Tells every listener; one that throws does not keep the others from hearing, nor the engine from going on. */
    public void emit(IkeEvent.Kind kind, IkeSa sa, ChildSaDescription child, String detail) {
        if (eventListeners.isEmpty()) {
            return;
        }
        HexFormat hex = HexFormat.of();
        IkeEvent e = new IkeEvent(scheduler.now(), kind, sa.connection().name(), sa.spis(),
                child == null ? null : hex.toHexDigits(child.inbound().spi()) + "_i " + hex.toHexDigits(child.outbound().spi()) + "_o", detail);
        for (IkeEvent.Listener l : eventListeners) {
            try {
                l.event(e);
            } catch (RuntimeException ex) {
                System.getLogger("io.isthmus.ike").log(System.Logger.Level.WARNING, "an event listener failed: " + ex, ex);
            }
        }
    }

    /** A connection's attempt failed: kept as its last failure (status) and announced. */
    public void failed(IkeSa sa, IkeEvent.Kind kind, String why) {
        counters(sa).failed(why, scheduler.now());
        emit(kind, sa, null, why);
    }

    /** The exchanges IKE SAs start and answer with. */
    public Exchanges exchanges() {
        return exchanges;
    }

    public Transport transport() {
        return transport;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public ChildSaListener listener() {
        return listener;
    }

    /** Lines about unauthenticated packets go through here, so a flood cannot flood the log. */
    public RateLimitedLog floodLog() {
        return floodLog;
    }

    /** The port IKE moves to when a NAT is detected (4500 unless a test says otherwise). */
    public int natTraversalPort() {
        return natTraversalPort.getAsInt();
    }

    /** A fresh nonce for an exchange of ours. */
    public byte[] nonce() {
        return randomBytes(NONCE_LENGTH);
    }

    /**
     * The key pair for an IKE_SA_INIT request of ours: a fresh one each time, unless
     * {@link #reuseInitiatorKeyShares} said otherwise.
     */
    public KeyExchange initiatorKeyShare(KeyExchangeMethod method) {
        if (keyShareUses <= 1) {
            return method.generate();
        }
        if (reusedKeyShare == null || reusedKeyShare.method() != method || reusedKeyShareUsed >= keyShareUses) {
            reusedKeyShare = method.generate();
            reusedKeyShareUsed = 0;
        }
        reusedKeyShareUsed++;
        return reusedKeyShare;
    }

    /**
     * One key pair serves {@code uses} IKE_SA_INIT requests of ours before a new one is made
     * (1, the default: each has its own). RFC 7296 §2.12 allows reusing a Diffie-Hellman
     * exponential; what it costs is forward secrecy between the SAs that share it, so the
     * gateway never does. The project's load generator does, to spend less per IKE SA than
     * the responders it measures (half the key exchange's work).
     */
    public void reuseInitiatorKeyShares(int uses) {
        if (uses < 1) {
            throw new IllegalArgumentException("a key pair serves at least one exchange, not " + uses);
        }
        this.keyShareUses = uses;
        this.reusedKeyShare = null;
    }

    public byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Uniform in [0, 1): rekey jitter and retry delays. */
    public double randomFraction() {
        return random.nextDouble();
    }

    /** A fresh IKE SPI of ours: never 0, never one in use. */
    public long newIkeSpi() {
        long spi;
        do {
            spi = random.nextLong();
        } while (spi == 0 || ikeSpiInUse.test(spi));
        return spi;
    }

    /**
     * A fresh inbound ESP SPI, never 0-255 (RFC 4303 §2.1), never one reserved: {@code reservedBy}
     * holds it, and gives it back when it ends unless a child SA made with it takes it over.
     */
    public InboundSpi reserveInboundSpi(Exchange reservedBy) {
        int spi;
        do {
            spi = random.nextInt();
        } while (Integer.compareUnsigned(spi, 256) < 0 || !inboundSpis.add(spi));
        return new InboundSpi(this, spi, reservedBy);
    }

    /**
     * An inbound SPI a child SA of an adopted IKE SA already has (the peer sends to it): held by
     * no exchange, installed with the child SA at once; null when a child SA here has it.
     */
    InboundSpi claimInboundSpi(int spi) {
        if (Integer.compareUnsigned(spi, 256) < 0 || !inboundSpis.add(spi)) {
            return null;
        }
        return new InboundSpi(this, spi, null);
    }

    /** Whether a child SA (or an exchange) of this engine holds this inbound SPI. */
    public boolean inboundSpiInUse(int spi) {
        return inboundSpis.contains(spi);
    }

    // ------------------------------------------------------------------------------------------
    // The observer (active-active): told of each change before the next datagram leaves
    // ------------------------------------------------------------------------------------------

    public void observer(IkeSaObserver o) {
        this.observer = o;
    }

    /**
     * What a record of {@code sa} holds may have changed (or its state did): noted, and told to
     * the observer at {@link #flushObservations()}. Without an observer, one comparison.
     */
    void touched(IkeSa sa) {
        if (observer == null) {
            return;
        }
        if (sa.released()) {
            unobserved.remove(sa);
        } else if (sa.isUp()) {
            unobserved.put(sa, Boolean.TRUE);
        } else if (sa.observed()) {
            unobserved.put(sa, Boolean.FALSE);
        } else {
            unobserved.remove(sa);
        }
    }

    /**
     * Tells the observer what changed since it was last told, oldest first. The engine calls it
     * before every datagram it hands to the transport and after each event it handled (a
     * datagram, a timer, a call of the daemon), so nothing visible ever precedes it.
     */
    public void flushObservations() {
        if (observer == null || unobserved.isEmpty()) {
            return;
        }
        List<Map.Entry<IkeSa, Boolean>> pending = List.copyOf(unobserved.entrySet());
        unobserved.clear();
        for (Map.Entry<IkeSa, Boolean> e : pending) {
            IkeSa sa = e.getKey();
            if (e.getValue()) {
                sa.observed(true);
                observer.changed(sa);
            } else if (sa.observed()) {
                sa.observed(false);
                observer.removed(sa);
            }
        }
    }

    /** Only through {@link InboundSpi}, once: the SPI may be handed out again. */
    void free(int spi) {
        inboundSpis.remove(spi);
    }

    /**
     * Inbound ESP SPIs reserved now: one per child SA of every IKE SA, plus one per exchange of
     * ours under way that offers one. More than that is a leak (each SPI stays out of use for the
     * engine's life), which is what the tests of their release count.
     */
    public int reservedInboundSpis() {
        return inboundSpis.size();
    }
}
