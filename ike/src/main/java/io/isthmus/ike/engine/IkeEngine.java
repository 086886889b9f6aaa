package io.isthmus.ike.engine;

import io.isthmus.ike.Authentication;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeContext;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaObserver;
import io.isthmus.ike.IkeSaRecord;
import io.isthmus.ike.IkeSaRecords;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IkeSaTable;
import io.isthmus.ike.RateLimitedLog;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.exchange.IkeDelete;
import io.isthmus.ike.exchange.IkeSaInit;
import io.isthmus.ike.exchange.Ikev2Exchanges;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The IKEv2 engine: connections, IKE SAs by SPI, the datagrams in between, and who may open a new
 * IKE SA (cookies, half-open limits). It makes each {@link IkeSa} with the exchanges of
 * {@code io.isthmus.ike.exchange}, which sit between it and the SAs. Single-threaded: every method
 * is called on the thread the {@link Scheduler} runs tasks on.
 */
public final class IkeEngine implements Transport.Receiver {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");
    public static final int IKE_PORT = 500;
    public static final int NAT_T_PORT = 4500;
    /** How long a responder keeps an IKE SA that had its IKE_SA_INIT but no IKE_AUTH yet. */
    static final Duration HALF_OPEN_TIMEOUT = Duration.ofSeconds(30);

    private final Transport transport;
    private final Scheduler scheduler;
    private final IkeContext context;
    private final ConfiguredConnections connections = new ConfiguredConnections();
    /** The IKE SAs by our SPI, by connection, by connection and peer identity. */
    private final IkeSaIndex sas = new IkeSaIndex();
    /** Responder SAs between IKE_SA_INIT and IKE_AUTH. */
    private final HalfOpenSas halfOpen = new HalfOpenSas();
    /** IKE_SA_INIT requests with a valid cookie one address may make a second. */
    public static final int COOKIE_ANSWERS_PER_PEER = 10;
    private final Cookies cookieJar;
    private int cookieThreshold = 10;
    private CostlyInitRequests costlyInits = new CostlyInitRequests(DEFAULT_COOKIE_RATE);
    /** The configured sites' costly IKE_SA_INIT requests, apart from the clients' ({@link #receiveInitRequest}: why). */
    private CostlyInitRequests siteInits = new CostlyInitRequests(DEFAULT_COOKIE_RATE);
    private int natTraversalPort = NAT_T_PORT;
    private int halfOpenPerPeer = 5;
    /** Half-open IKE SAs in all by default ({@link HalfOpenSas#LIMIT}: why so many). */
    public static final int HALF_OPEN_LIMIT = HalfOpenSas.LIMIT;
    private long initsDroppedFull;
    private int halfOpenLimit = HALF_OPEN_LIMIT;
    /** Whether cookies are asked for at all (strongSwan asks for none with {@code dos_protection = no}). */
    private boolean cookies = true;
    private final RateLimitedLog floodLog;

    /**
     * IKE_SA_INIT requests per second that make us work (a key check, a key pair, a reply) above
     * which every new one must bring a cookie. Cookies cost a legitimate initiator one round
     * trip; without this limit a flood whose requests never become half-open SAs (a bad KE
     * value, a group we do not offer) never engaged them: 2,011 P-256 key pairs a second.
     */
    public static final int DEFAULT_COOKIE_RATE = 50;

    public IkeEngine(Transport transport, Scheduler scheduler, ChildSaListener listener) {
        this(transport, scheduler, listener, new SecureRandom());
    }

    /**
     * With the source of every random number the engine uses: nonces, SPIs, cookie secret, NAT
     * detection's faked hash, rekey jitter and retry delays (key pairs come from the JDK's own).
     * Anything but a {@link SecureRandom} is for tests: a seeded one makes a run repeatable, a
     * scripted one decides which of two exchanges holds the lowest nonce.
     */
    public IkeEngine(Transport transport, Scheduler scheduler, ChildSaListener listener, RandomGenerator random) {
        this.transport = observed(transport);
        this.scheduler = observed(scheduler);
        this.floodLog = new RateLimitedLog(LOG, scheduler, 5, Duration.ofSeconds(10));
        this.context = new IkeContext(this.transport, this.scheduler, listener, floodLog, random, sas::contains,
                () -> natTraversalPort, new Ikev2Exchanges(), new Table());
        this.cookieJar = new Cookies(context.randomBytes(32), COOKIE_ANSWERS_PER_PEER);
    }

    /**
     * The transport every datagram leaves through: the observer hears of every change first
     * ({@link IkeSaObserver}), so no datagram ever shows the peer a state it has not seen.
     */
    private Transport observed(Transport t) {
        return new Transport() {
            @Override
            public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
                context.flushObservations();
                t.send(datagram, local, remote);
            }

            @Override
            public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
                context.flushObservations();
                t.sendNatKeepalive(local, remote);
            }
        };
    }

    /** Timers: what one changed without sending anything (a child SA expired, the SA given up) is told when it ends. */
    private Scheduler observed(Scheduler s) {
        return new Scheduler() {
            @Override
            public Instant now() {
                return s.now();
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                return s.schedule(delay, () -> {
                    try {
                        task.run();
                    } finally {
                        context.flushObservations();
                    }
                });
            }
        };
    }

    /**
     * Who keeps a copy of the established IKE SAs (the pair partner's sync): told of each change
     * before any datagram leaves, on this thread; null for none, which costs nothing.
     */
    public void observer(IkeSaObserver observer) {
        context.observer(observer);
    }

    /**
     * Carries on the IKE SA of {@code record} here, taken from another instance (active-active
     * takeover): ESTABLISHED under its SPIs with its keys, message window (the peer's last request
     * answered again with the recorded bytes) and child SAs, timers running for what is left of
     * its lifetimes, nothing sent and no child SA announced to the listener (the daemon installs
     * them with the keys it synced). {@code record} stays the caller's, to wipe.
     *
     * @throws IllegalArgumentException when no connection has the record's name
     * @throws IllegalStateException when an IKE SA here has its SPI or a child SA here one of its inbound SPIs
     */
    public IkeSa adopt(IkeSaRecord record) {
        Connection c = connection(record.connection())
                .orElseThrow(() -> new IllegalArgumentException("no connection " + record.connection() + " to adopt " + record + " with"));
        if (sas.contains(record.ourSpi())) {
            throw new IllegalStateException("an IKE SA with SPI " + Long.toHexString(record.ourSpi()) + " is already here: not adopting " + record);
        }
        IkeSa sa = IkeSaRecords.adopt(context, c, record);
        context.flushObservations();
        return sa;
    }

    /**
     * Hands {@code sa} away to another instance ({@link IkeSaRecords#release}): forgotten here without
     * a datagram, a word to the listener or to the observer.
     */
    public void release(IkeSa sa) {
        IkeSaRecords.release(sa);
    }

    /** {@link #release(IkeSa)} by the SPI we chose; false when there is no such IKE SA. */
    public boolean release(long ourSpi) {
        IkeSa sa = sas.get(ourSpi);
        if (sa == null) {
            return false;
        }
        IkeSaRecords.release(sa);
        return true;
    }

    public void addConnection(Connection connection) {
        connections.add(connection);
    }

    /** The connection of this name, if there is one. */
    public Optional<Connection> connection(String name) {
        return Optional.ofNullable(connections.get(name));
    }

    /**
     * Puts {@code next} in place of the connection of the same name (a reload that changed it):
     * new IKE SAs are made with it, and the existing ones follow it from their next exchange on
     * ({@link IkeSa#reconfigure}): a changed policy takes effect at the next rekey; a changed key
     * (or certificate, or identities) at the next IKE rekey too, which is then a reauthentication:
     * a new IKE SA with IKE_AUTH, make-before-break ({@link IkeSa#rekey}), since a CREATE_CHILD_SA
     * rekey authenticates nothing. Nothing negotiated changes, except that when {@code next} has other
     * traffic selectors, the child SAs negotiated with the old ones are replaced, make-before-break
     * ({@link io.isthmus.ike.ChildSas#renewSelectors}). The old connection's key is not wiped here: the
     * configuration it came from owns it (and may still share it with {@code next}).
     */
    public void replaceConnection(Connection next) {
        replaceConnections(List.of(next));
    }

    /**
     * {@link #replaceConnection} for each of {@code next} (a reload that keeps them all), in one
     * pass over each one's IKE SAs: a reload of 10,000 connections is then linear, where one call
     * each scanned every IKE SA 10,000 times.
     *
     * @throws IllegalArgumentException for a name no connection has (those before it are replaced)
     */
    public void replaceConnections(Collection<Connection> next) {
        for (Connection n : next) {
            Connection old = connections.replace(n);
            if (old == null) {
                throw new IllegalArgumentException("no connection " + n.name());
            }
            boolean newSelectors = !Set.copyOf(old.localSelectors()).equals(Set.copyOf(n.localSelectors()))
                    || !Set.copyOf(old.remoteSelectors()).equals(Set.copyOf(n.remoteSelectors()));
            for (IkeSa sa : sas.mayBeOf(n.name())) {
                if (sa.state() == IkeSaState.DESTROYED) {
                    continue;
                }
                sa.reconfigure(n);
                if (newSelectors && sa.connection() == n) {
                    sa.children().renewSelectors();
                }
            }
        }
    }

    /** The IKE SAs filed under connection {@code name} (not destroyed yet); any thread may not: the engine's only. */
    public List<IkeSa> ikeSas(String connectionName) {
        return List.copyOf(sas.of(connectionName));
    }

    /**
     * Forgets a connection (a reload that drops it): its IKE SAs are deleted, the peers told, and
     * its pre-shared key is wiped. A half-open SA that would still pick it fails authentication.
     */
    public void removeConnection(String name) {
        Connection c = connections.remove(name);
        if (c == null) {
            return;
        }
        ikeSas(name).stream().filter(sa -> sa.connection() == c).forEach(IkeSa::delete);
        if (c.authentication() instanceof Authentication.PreSharedKey psk) {
            psk.destroy();
        }
    }

    /** Half-open IKE SAs above which IKE_SA_INIT requests must carry a cookie (RFC 7296 §2.6). */
    public void cookieThreshold(int halfOpenSas) {
        this.cookieThreshold = halfOpenSas;
    }

    /**
     * Half-open IKE SAs one address may hold. Past that, its IKE_SA_INIT requests must carry a
     * cookie, and each admitted one replaces the address's oldest half-open SA: a flooder answering
     * cookies from its own address holds no more than this, and a spoofer that filled the real
     * peer's share cannot keep the peer out (it cannot answer the cookie; the peer can). A peer
     * starts one IKE SA at a time; strongSwan's block_threshold is 5 too.
     */
    public void halfOpenPerPeer(int limit) {
        this.halfOpenPerPeer = limit;
    }

    /**
     * Whether IKE_SA_INIT requests are ever asked for a cookie (on by default). Off, the
     * thresholds ask for none and an address over its share of half-open SAs simply has its
     * oldest replaced: for measuring what cookies cost, or a gateway behind a front that
     * checks return routability itself.
     */
    public void cookies(boolean on) {
        this.cookies = on;
    }

    /**
     * Half-open IKE SAs in all, whoever they come from ({@link #HALF_OPEN_LIMIT} by default):
     * past it, each new one replaces the oldest once that is old enough, as it was waiting for an
     * IKE_AUTH that may never come; a configured site's replaces the oldest client's at once.
     */
    public void halfOpenLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the half-open limit must be at least 1, not " + limit);
        }
        this.halfOpenLimit = limit;
    }

    /** See {@link IkeContext#reuseInitiatorKeyShares}: for the load generator, never the gateway. */
    public void reuseInitiatorKeyShares(int uses) {
        context.reuseInitiatorKeyShares(uses);
    }

    /** IKE_SA_INIT requests that cost work per second above which cookies are asked for too. */
    public void cookieRate(int perSecond) {
        this.costlyInits = new CostlyInitRequests(perSecond);
        this.siteInits = new CostlyInitRequests(perSecond);
    }

    /** The port IKE moves to when a NAT is detected, if not 4500 (the transport must listen there too). */
    public void natTraversalPort(int port) {
        this.natTraversalPort = port;
    }

    public Collection<IkeSa> ikeSas() {
        return sas.all();
    }

    /** Starts an IKE SA for {@code connectionName} from {@code local} to {@code remote}. */
    public IkeSa initiate(String connectionName, InetSocketAddress local, InetSocketAddress remote) {
        Connection c = connection(connectionName).orElseThrow(() -> new IllegalArgumentException("no connection " + connectionName));
        if (c.mode() == Connection.Mode.RESPONDER_ONLY) {
            throw new IllegalStateException("connection " + connectionName + " only responds");
        }
        IkeSa sa = new IkeSa(context, true, List.of(c), context.newIkeSpi(), 0, local, remote);
        sas.file(sa.initiatorSpi(), sa);
        LOG.log(System.Logger.Level.INFO, "{0}: initiating IKE SA to {1}", c.name(), remote);
        IkeSaInit.initiate(sa);
        return sa;
    }

    /** The IKE SA that owns the child SA with this inbound SPI, if any. */
    private IkeSa ownerOfChild(int inboundSpi) {
        for (IkeSa sa : sas.values()) {
            if (sa.children().byInboundSpi(inboundSpi) != null) {
                return sa;
            }
        }
        return null;
    }

    /**
     * The data plane reports a soft lifetime (bytes or packets) of the child SA with this inbound
     * SPI: rekey it now. Unknown SPIs are ignored, the SA may just have gone.
     */
    public void rekeyChild(int inboundSpi) {
        IkeSa sa = ownerOfChild(inboundSpi);
        if (sa != null) {
            sa.rekeyChild(inboundSpi);
            context.flushObservations();
        }
    }

    /** A hard lifetime: the child SA must go now, rekeyed or not. */
    public void expireChild(int inboundSpi) {
        IkeSa sa = ownerOfChild(inboundSpi);
        if (sa != null) {
            sa.children().delete(sa.children().byInboundSpi(inboundSpi), "hard lifetime reached");
            context.flushObservations();
        }
    }

    /** A datagram from the transport, without the non-ESP marker. Never throws. */
    @Override
    public void receive(byte[] datagram, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        IkeMessage message;
        try {
            message = IkeMessage.decode(datagram, offset, length);
        } catch (IkeProtocolException e) {
            // Nothing to answer with before an SA exists, and nothing unauthenticated deserves an answer after.
            floodLog.log("malformed", System.Logger.Level.DEBUG, "dropping malformed IKE message from {0}: {1}", remote, e.getMessage());
            return;
        } catch (RuntimeException e) {
            floodLog.log("decode-bug", System.Logger.Level.WARNING, "dropping IKE message from " + remote + ": " + e, e);
            return;
        }
        IkeHeader h = message.header();
        try {
            if (h.exchangeType() == ExchangeType.IKE_SA_INIT && !h.isResponse() && h.responderSpi() == 0) {
                receiveInitRequest(message, local, remote);
                return;
            }
            long ourSpi = h.fromInitiator() ? h.responderSpi() : h.initiatorSpi();
            IkeSa sa = sas.get(ourSpi);
            if (sa == null) {
                floodLog.log("no-sa", System.Logger.Level.DEBUG, "no IKE SA for {0} from {1}", h, remote);
                return;
            }
            sa.receive(message, remote, local);
        } catch (RuntimeException e) {
            floodLog.log("handling-bug", System.Logger.Level.WARNING, "error handling " + h + " from " + remote + ": " + e, e);
        } finally {
            context.flushObservations();
        }
    }

    private void receiveInitRequest(IkeMessage message, InetSocketAddress local, InetSocketAddress remote) {
        IkeHeader h = message.header();
        String key = HalfOpenSas.key(h.initiatorSpi(), remote);
        IkeSa existing = halfOpen.get(key);
        if (existing != null) {
            existing.receive(message, remote, local);
            return;
        }
        if (halfOpen.answered(key) != null) {
            floodLog.log("init-copy", System.Logger.Level.DEBUG, "a copy of the IKE_SA_INIT of {0}, which went on to IKE_AUTH: dropped", remote);
            return;
        }
        List<Connection> candidates = connections.candidates(local.getAddress(), remote.getAddress());
        if (candidates.isEmpty()) {
            floodLog.log("no-connection", System.Logger.Level.INFO, "no connection for IKE_SA_INIT from {0} to {1}", remote, local);
            return;
        }
        Instant now = scheduler.now();
        int fromThere = halfOpen.from(remote.getAddress());
        // A configured site (a connection to this one address; a client may be any address, or a range's) coming back
        // after a reboot or a DPD must not wait out a flood of clients, or its tunnel stays down as long: it takes a
        // client's half-open slot (HalfOpenSas.toGiveWay), its costly requests counted apart (a flood spoofing its address
        // still meets cookies by rate). Cookies when due (a spoofer cannot answer) and its address's share still apply.
        boolean site = candidates.stream().anyMatch(Connection::hasOnePeer);
        CostlyInitRequests rate = site ? siteInits : costlyInits;
        // An address that holds its share of half-open SAs must prove it is where it says (a spoofer of
        // the peer's address cannot), so that whoever holds the slots cannot lock the real peer out.
        boolean cookieRequired = cookies && (halfOpen.size() >= cookieThreshold || costlyInits.overLimit(now) || rate.overLimit(now)
                || fromThere >= halfOpenPerPeer);
        boolean cookied = cookieRequired && cookieJar.valid(message, remote);
        if (cookieRequired && !cookied) {
            byte[] answer = cookieJar.ask(message, remote);
            if (answer == null) {
                return;
            }
            transport.send(answer, local, remote);
            floodLog.log("cookie", System.Logger.Level.INFO, "{0} half-open IKE SAs, {1} costly IKE_SA_INIT in the last second: asking {2} for a cookie",
                    halfOpen.size(), costlyInits.lastSecond(now), remote);
            return;
        }
        // Cookies prove an address, not good intent: one that answers them still gets only so much work
        // a second, and only its share of half-open SAs, its oldest giving way to its newest.
        if (cookied && !cookieJar.answerAllowed(remote.getAddress(), now)) {
            floodLog.log("cookie-answers", System.Logger.Level.WARNING, "{0} answers cookies faster than {1} a second: dropping its IKE_SA_INIT",
                    remote.getAddress().getHostAddress(), COOKIE_ANSWERS_PER_PEER);
            return;
        }
        // Who gives way does so once the new SA is made: a request that makes none (a bad KE value) displaces no one.
        String way = null;
        String why = null;
        if (fromThere >= halfOpenPerPeer) {
            way = halfOpen.oldestFrom(remote.getAddress());
            why = "a newer IKE_SA_INIT from the same address came (at most " + halfOpenPerPeer + " each)";
        } else if (halfOpen.size() >= halfOpenLimit) {
            way = halfOpen.toGiveWay(site, now);
            if (way == null) {
                initsDroppedFull++;
                floodLog.log("half-open-full", System.Logger.Level.WARNING, "{0} half-open IKE SAs, none that may give way {1} s old: dropping "
                        + "the IKE_SA_INIT of {2} (it will be sent again)", halfOpen.size(), HalfOpenSas.MIN_AGE.toSeconds(), remote);
                return;
            }
            why = halfOpenLimit + " half-open IKE SAs in all" + (site ? ", and a configured site's IKE_SA_INIT came" : "");
        }
        // From here on every request costs work (a key check, maybe a key pair and a reply), refused or not.
        rate.record(now);
        IkeSa sa = new IkeSa(context, false, candidates, h.initiatorSpi(), context.newIkeSpi(), local, remote);
        IkeSaInit.respond(sa, message, cookieJar.of(message, remote));
        if (sa.state() == IkeSaState.CONNECTING) {
            if (way != null) {
                giveWay(way, why);
            }
            sas.file(sa.responderSpi(), sa);
            halfOpen.add(key, sa, site);
            // An SA that never completes IKE_AUTH must not hold its slot for ever.
            scheduler.schedule(HALF_OPEN_TIMEOUT, () -> {
                // By key and SA: a later SA may have the same initiator SPI and address (a replay).
                halfOpen.remove(key, sa);
                if (sa.state() == IkeSaState.CONNECTING) {
                    sa.destroy("IKE_AUTH never came");
                }
            });
        }
    }

    /** The oldest half-open SAs give way to newer ones; they were waiting for an IKE_AUTH that may never come. */
    private void giveWay(String key, String why) {
        IkeSa sa = halfOpen.remove(key);
        if (sa != null && sa.state() == IkeSaState.CONNECTING) {
            sa.destroy(why);
        }
    }

    /** Messages, rekeys, authentication failures and timeouts, per connection; readable from any thread. */
    public IkeCounters.ByConnection counters() {
        return context.counters();
    }

    /** Who hears of SAs going up, down, rekeyed, and of failures; from any thread. */
    public void addEventListener(IkeEvent.Listener l) {
        context.addEventListener(l);
    }

    public void removeEventListener(IkeEvent.Listener l) {
        context.removeEventListener(l);
    }

    /** Cookies this engine asked for, since it started. */
    public long cookiesSent() {
        return cookieJar.sentSoFar();
    }

    /** Inbound ESP SPIs reserved by this engine's IKE SAs and their exchanges ({@link IkeContext#reservedInboundSpis()}). */
    public int reservedInboundSpis() {
        return context.reservedInboundSpis();
    }

    /** IKE_SA_INIT requests dropped because the half-open table was full of SAs too young to give way. */
    public long initRequestsDroppedFull() {
        return initsDroppedFull;
    }

    /** IKE SAs waiting for IKE_AUTH, as responder. */
    public int halfOpenSas() {
        return halfOpen.size();
    }

    /** The SA table as the SAs and their exchanges see it: private, so the daemon never reaches it. */
    private final class Table implements IkeSaTable {
        @Override
        public void add(IkeSa sa) {
            sas.file(sa.ourSpi(), sa);
        }

        @Override
        public void remove(IkeSa sa) {
            sas.remove(sa);
            halfOpen.remove(sa);
        }

        @Override
        public void established(IkeSa sa) {
            halfOpen.established(sa);
            // IKE_AUTH settled which of its candidates a responder's SA is of, and proved the peer's identity.
            sas.refile(sa);
        }

        /**
         * INITIAL_CONTACT is sent only when no other SA exists (as strongSwan does): when both ends
         * of a Default-mode connection initiate at once, each would otherwise take the other's
         * INITIAL_CONTACT as a reason to drop its own SA, and the two ends could drop different ones.
         */
        @Override
        public boolean hasOther(IkeSa sa) {
            return sas.of(sa.connection().name()).stream().anyMatch(o -> o != sa && o.state() != IkeSaState.DESTROYED);
        }

        /**
         * The peer of {@code fresh} holds no other IKE SA with us, typically because it restarted.
         * Our older IKE SAs with the same authenticated identity are dead weight: their child SAs
         * would keep our outbound traffic on keys the peer has forgotten until dead peer detection
         * gives up. They go now.
         */
        @Override
        public void initialContact(IkeSa fresh) {
            // Among the peer's own: a connection with peers from a range holds thousands of other devices' IKE SAs.
            List<IkeSa> older = sas.of(fresh.connection().name(), fresh.peerIdentity()).stream().filter(o -> o != fresh
                    && o.state() != IkeSaState.DESTROYED && o.state() != IkeSaState.CONNECTING).toList();
            if (!older.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "{0}: INITIAL_CONTACT: the peer holds no other IKE SA with us; dropping {1} older one(s)",
                        fresh, older.size());
            }
            for (IkeSa o : older) {
                IkeDelete.abandon(o, "replaced after the peer's INITIAL_CONTACT on " + fresh);
            }
        }

        /**
         * Make-before-break reauthentication (RFC 7296 §2.8.3, strongSwan's make_before_break):
         * a new IKE SA from our own address to the peer's, as {@link #initiate} makes one, with
         * the connection's current credentials. Its IKE_AUTH carries no INITIAL_CONTACT, since
         * {@code old} still exists ({@link #hasOther}): the peer must keep {@code old} and its
         * child SAs until ours are up, and it is told to delete them then.
         */
        @Override
        public IkeSa reauthenticate(IkeSa old) {
            if (hasReauthenticated(old)) {
                LOG.log(System.Logger.Level.INFO, "{0}: the peer already made an IKE SA with the new credentials; not reauthenticating", old);
                return null;
            }
            Connection c = old.connection();
            IkeSa sa = new IkeSa(context, true, List.of(c), context.newIkeSpi(), 0,
                    new InetSocketAddress(old.localAddress().getAddress(), IKE_PORT), new InetSocketAddress(old.remoteAddress().getAddress(), IKE_PORT));
            sas.file(sa.initiatorSpi(), sa);
            LOG.log(System.Logger.Level.INFO, "{0}: the connection''s key or identities changed since it was authenticated: reauthenticating "
                    + "with a new IKE SA (make-before-break) instead of rekeying", old);
            IkeSaInit.initiate(sa);
            return sa.state() == IkeSaState.DESTROYED ? null : sa;
        }

        @Override
        public boolean hasReauthenticated(IkeSa old) {
            return sas.of(old.connection().name()).stream().anyMatch(o -> o != old && o.state() == IkeSaState.ESTABLISHED
                    && o.connection().name().equals(old.connection().name()) && o.authenticatedAs(old.connection()));
        }
    }

    /** Where a connection listens by default. */
    public static InetSocketAddress ikeAddress(InetAddress address) {
        return new InetSocketAddress(address, IKE_PORT);
    }
}
