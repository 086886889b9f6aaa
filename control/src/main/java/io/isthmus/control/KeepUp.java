package io.isthmus.control;

import io.isthmus.control.config.GatewayConfig.ConnectionMode;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

/**
 * Azure's tunnels are always on. Every few seconds, on the IKE thread: a connection that may
 * initiate and has no IKE SA gets one; duplicate IKE SAs of a connection are settled
 * ({@link DuplicateIkeSas}); an IKE SA that has been without a child SA for a while gets a new
 * one. On the engine's scheduler and its clock, so that tests drive it by hand.
 */
final class KeepUp {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final Duration PERIOD = Duration.ofSeconds(5);
    /** An IKE SA this long without a child SA (its creation refused, or the child deleted) gets a new one. */
    static final Duration CHILDLESS = Duration.ofSeconds(10);

    /**
     * The established IKE SAs of one connection that duplicate settling may choose among. An SA
     * authenticated with credentials the connection no longer has (a reload changed the key) is
     * left out when an SA authenticated with the current ones exists: that is a reauthentication
     * (RFC 7296 §2.8.3) between its two steps, the new SA up and the old one about to be deleted
     * by whichever end started it (or reauthenticated at its own rekey, or gone at its lifetime's
     * end). Compared as duplicates, the lowest SPIs could pick the old one, and this end would
     * delete the new SA while the other deletes the old: both gone. A responder cannot tell a
     * reauthentication from a second initiation otherwise (no INITIAL_CONTACT is sent on it).
     */
    static List<IkeSa> duplicateCandidates(List<IkeSa> sas) {
        List<IkeSa> established = sas.stream().filter(s -> s.state() == IkeSaState.ESTABLISHED).toList();
        List<IkeSa> current = established.stream().filter(s -> !s.credentialsChanged()).toList();
        return current.isEmpty() ? established : current;
    }

    /** The configuration it keeps up: replaced by a reload, on the IKE thread. */
    private GatewayConfig config;
    private final GatewayConfig.Instance instance;
    private final IkeEngine engine;
    private final Scheduler scheduler;
    private final Runnable alsoEachRound;
    private final DuplicateIkeSas duplicates = new DuplicateIkeSas();
    private volatile boolean stopped;
    /** Connections an operator terminated: not initiated again until initiated or reset (IKE thread only). */
    private final java.util.Set<String> held = new java.util.HashSet<>();
    /** In a pair: whether this instance carries a connection's floating address now (keepalived says so); alone, always. */
    private Predicate<GatewayConfig.Connection> carriedHere = c -> true;

    /** {@code alsoEachRound}: housekeeping that goes with each round (the data plane's reclaiming). */
    KeepUp(GatewayConfig config, GatewayConfig.Instance instance, IkeEngine engine, Scheduler scheduler, Runnable alsoEachRound) {
        this.config = config;
        this.instance = instance;
        this.engine = engine;
        this.scheduler = scheduler;
        this.alsoEachRound = alsoEachRound;
    }

    /** The first round after {@code delay} (a little randomness, so two gateways started together do not both initiate at once). */
    void start(Duration delay) {
        scheduler.schedule(delay, this::round);
    }

    /** In a pair, rounds keep up only the connections this instance carries now; the partner keeps up the others. */
    void carriedHere(Predicate<GatewayConfig.Connection> carried) {
        this.carriedHere = carried;
    }

    void stop() {
        stopped = true;
    }

    /** From the next round on, the connections of {@code next} (a reload); on the IKE thread. */
    void configure(GatewayConfig next) {
        this.config = next;
        // A connection removed is no longer held: added again later, it comes up as a reload says it does.
        held.retainAll(next.connections().stream().map(GatewayConfig.Connection::name).toList());
    }

    /**
     * Initiates an IKE SA for connection {@code name} now, as a round does for one without any; on
     * the IKE thread. Returns false, doing nothing, once stopped: a stop deletes the SAs, and none
     * may be made behind it.
     */
    boolean initiate(String name) {
        if (stopped) {
            return false;
        }
        GatewayConfig.Connection c = config.connection(name);
        if (c == null) {
            throw new IllegalArgumentException("no connection " + name);
        }
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
        engine.initiate(c.name(), new InetSocketAddress(config.localAddress(instance, c), t.ikePort()),
                new InetSocketAddress(site.gatewayIpAddress(), t.ikePort()));
        return true;
    }

    /** {@code isthmus connection terminate}: rounds leave {@code name} down; on the IKE thread. */
    void hold(String name) {
        held.add(name);
    }

    /** An initiate or reset: rounds keep {@code name} up again; whether it was held. On the IKE thread. */
    boolean release(String name) {
        return held.remove(name);
    }

    void round() {
        if (stopped) {
            return;
        }
        Instant now = scheduler.now();
        for (GatewayConfig.Connection c : config.connections()) {
            if (c.connectionMode() == ConnectionMode.RESPONDER_ONLY || !carriedHere.test(c) || held.contains(c.name())) {
                continue;
            }
            // Its own SAs only, from the engine's index: a pass over every IKE SA per connection made a round quadratic.
            List<IkeSa> sas = engine.ikeSas(c.name()).stream().filter(s -> s.state() != IkeSaState.DESTROYED).toList();
            if (sas.isEmpty()) {
                try {
                    initiate(c.name());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: cannot initiate: {1}", c.name(), e.getMessage());
                }
                continue;
            }
            duplicates.settle(c.name(), duplicateCandidates(sas).stream().map(Duplicate::new).toList(), now, c.dpdTimeout());
            for (IkeSa sa : sas) {
                if (sa.state() == IkeSaState.ESTABLISHED && sa.childSas().isEmpty() && sa.establishedAt() != null
                        && Duration.between(sa.establishedAt(), now).compareTo(CHILDLESS) > 0) {
                    LOG.log(System.Logger.Level.INFO, "{0}: no child SA, making one", sa);
                    sa.createChild();
                }
            }
        }
        scheduler.schedule(PERIOD, this::round);
        // A removed connection's Delete exchanges count after the reload forgot its counters: forgotten again here.
        engine.counters().retainOnly(config.connections().stream().map(GatewayConfig.Connection::name).toList());
        try {
            alsoEachRound.run();
        } catch (RuntimeException e) {
            // Housekeeping's failure must not end keep-up: the next round tries again.
            LOG.log(System.Logger.Level.WARNING, "keep-up housekeeping failed: {0}", e.toString());
        }
    }

    /** An IKE SA as the duplicate rule sees it. */
    private record Duplicate(IkeSa sa) implements DuplicateIkeSas.Candidate {
        @Override
        public long initiatorSpi() {
            return sa.initiatorSpi();
        }

        @Override
        public long responderSpi() {
            return sa.responderSpi();
        }

        @Override
        public Instant lastHeard() {
            return sa.lastHeard();
        }

        @Override
        public void probe() {
            sa.probe();
        }

        @Override
        public void delete(String why) {
            LOG.log(System.Logger.Level.INFO, "{0}: {1}, deleting it", sa, why);
            sa.delete();
        }

        @Override
        public String toString() {
            return sa.toString();
        }
    }
}
