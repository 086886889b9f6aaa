package io.isthmus.control;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.ConfigDiff;
import io.isthmus.control.config.ConfigDiff.Change;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.ConnectionMode;
import io.isthmus.control.config.TunnelRoutes;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.nat.NatRule;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.engine.IkeEngine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * A running gateway's connections, changed while it runs: by a reload ({@link #apply}, after
 * {@link Reload} has checked and compared the new configuration) and by {@code isthmus connection
 * reset} ({@link #reset}). It changes, in this order, the host's routes into the tunnel device
 * (new prefixes first, so no packet for them finds no route), then on the IKE thread the IKE
 * engine's connections, the data plane's tunnel table and keep-up, then removes the routes no
 * longer configured. A connection that stays keeps its IKE and child SAs; see
 * {@link ConfigDiff.Change} for what each kind of change does to it. One change at a time.
 */
final class RunningConnections {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    /** Runs a task on the IKE thread and waits for its result (the gateway's event loop; the test's own thread in tests). */
    interface IkeThread {
        <T> T call(Callable<T> task) throws Exception;
    }

    private final GatewayConfig.Instance instance;
    private final IkeEngine engine;
    private final IkeThread ike;
    private final Dataplane dataplane;
    private final KeepUp keepUp;
    private final SiteRoutes routes;
    private volatile GatewayConfig config;
    /** The IKE connections the engine was given, by name: what new keys and certificates are compared with. */
    private final Map<String, Connection> ikeConnections = new HashMap<>();

    RunningConnections(GatewayConfig config, GatewayConfig.Instance instance, List<Connection> ikeConnections, IkeEngine engine, IkeThread ike,
                       Dataplane dataplane, KeepUp keepUp, SiteRoutes routes) {
        this.config = config;
        this.instance = instance;
        ikeConnections.forEach(c -> this.ikeConnections.put(c.name(), c));
        this.engine = engine;
        this.ike = ike;
        this.dataplane = dataplane;
        this.keepUp = keepUp;
        this.routes = routes;
    }

    /** The configuration the gateway runs with now. */
    GatewayConfig config() {
        return config;
    }

    GatewayConfig.Instance instance() {
        return instance;
    }

    /**
     * The data plane's tunnels for {@code config}: one per connection, its site's prefixes leading
     * into it (translated by its IngressSnat rules: what the gateway's network addresses the site
     * as) and its BGP peer's host route. In a pair two connections may lead to one site, one on
     * each instance: where their prefixes are the same, the tunnel this instance carries itself
     * wins (the table's later route does), also while it carries its partner's as well after a
     * takeover, so traffic keeps to the instance's own tunnel and its own BGP session's routes.
     */
    static List<Dataplane.TunnelSpec> tunnels(GatewayConfig config, GatewayConfig.Instance instance) {
        List<Dataplane.TunnelSpec> tunnels = new ArrayList<>();
        List<GatewayConfig.Connection> ordered = new ArrayList<>(config.connections());
        ordered.sort(java.util.Comparator.comparing(c -> config.carrier(c) != null && config.carrier(c).name().equals(instance.name())));
        for (GatewayConfig.Connection c : ordered) {
            List<NatRule> nat = config.natRules(c, instance).stream().map(RunningConnections::natRule).toList();
            tunnels.add(new Dataplane.TunnelSpec(c.name(), c.usePolicyBasedTrafficSelectors(), config.tunnelPrefixes(c), nat));
        }
        return tunnels;
    }

    /** A rule of the configuration as the data plane applies it (checked when read: it cannot be refused here). */
    private static NatRule natRule(GatewayConfig.NatRule r) {
        return new NatRule(r.name(), r.mode() == GatewayConfig.NatRuleMode.INGRESS_SNAT ? NatRule.Mode.INGRESS_SNAT : NatRule.Mode.EGRESS_SNAT,
                r.type() == GatewayConfig.NatRuleType.STATIC ? NatRule.Type.STATIC : NatRule.Type.DYNAMIC,
                mapping(r.internalMapping()), mapping(r.externalMapping()), r.maxFlows());
    }

    private static NatRule.Mapping mapping(GatewayConfig.NatMapping m) {
        GatewayConfig.PortRange p = m.portRange();
        return new NatRule.Mapping(m.addressSpace().toString(), p == null ? null : new NatRule.PortRange(p.first(), p.last()));
    }

    /** Whether the running connection {@code name} authenticates as {@code built} does (the same key, the same certificates and key files' contents). */
    synchronized boolean sameAuthentication(String name, Connection built) {
        Connection running = ikeConnections.get(name);
        return running != null && running.authentication().equals(built.authentication());
    }

    /**
     * Applies {@code next}, compared with the running configuration as {@code diff} (not
     * refused), with {@code built} its IKE connections by name. Returns what it did, a line per
     * connection. Throws, with nothing changed, when a route for a new prefix cannot be added (the
     * routes added before it are taken out again). On success the running configuration's keys are
     * wiped: the engine holds {@code next}'s from now on.
     */
    synchronized List<String> apply(GatewayConfig next, ConfigDiff diff, Map<String, Connection> built) throws Exception {
        GatewayConfig old = config;
        Map<AddressPrefix, String> before = prefixes(old);
        Map<AddressPrefix, String> after = prefixes(next);
        List<String> addedRoutes = new ArrayList<>();
        after.forEach((p, text) -> {
            if (!before.containsKey(p)) {
                addedRoutes.add(text);
            }
        });
        addRoutes(addedRoutes);
        List<String> reestablished = diff.changed().entrySet().stream().filter(e -> e.getValue().contains(Change.PEER)).map(Map.Entry::getKey)
                .toList();
        try {
            ike.call(() -> changeConnections(next, diff, built, reestablished));
        } catch (Exception e) {
            // Some of it may have been done: the engine may hold connections of both. Both configurations' keys stay.
            // What the gateway runs with is next's from now on, as far as it went: the removed connections and prefixes go.
            config = next;
            diff.removed().forEach(ikeConnections::remove);
            ikeConnections.putAll(built);
            throw new PartlyApplied(e, removeRoutes(before, after));
        }
        config = next;
        ikeConnections.clear();
        ikeConnections.putAll(built);
        List<String> lines = new ArrayList<>(describe(next, diff));
        if (!old.gateway().ikeDefense().equals(next.gateway().ikeDefense())) {
            lines.add("ikeDefense: " + next.gateway().ikeDefense() + " applied to the IKE_SA_INIT requests from now on");
        }
        lines.addAll(removeRoutes(before, after));
        // Removed connections' keys went with them (IkeEngine.removeConnection); the others' old copies go now.
        old.destroySecrets();
        return lines;
    }

    /** On the IKE thread: the engine's connections, the tunnel table and keep-up, as {@code next} has them. */
    private Void changeConnections(GatewayConfig next, ConfigDiff diff, Map<String, Connection> built, List<String> reestablished) {
        for (String name : diff.removed()) {
            engine.removeConnection(name);
        }
        for (String name : reestablished) {
            engine.removeConnection(name);
        }
        // After the removals (their IKE Delete is on its way) and before the additions (whose SAs need their tunnel).
        dataplane.tunnels(tunnels(next, instance));
        // In one call: the engine goes through each connection's own IKE SAs once (one call each was quadratic at 10,000).
        List<Connection> replaced = new ArrayList<>();
        for (String name : diff.kept()) {
            replaced.add(built.get(name));
        }
        Set<String> renegotiated = Set.copyOf(reestablished);
        for (String name : diff.changed().keySet()) {
            if (!renegotiated.contains(name)) {
                replaced.add(built.get(name));
            }
        }
        engine.replaceConnections(replaced);
        for (String name : diff.added()) {
            engine.addConnection(built.get(name));
        }
        for (String name : reestablished) {
            engine.addConnection(built.get(name));
        }
        keepUp.configure(next);
        defend(engine, next.gateway().ikeDefense());
        // A removed connection's IKE counters go with it (its metrics series end); the others' go on counting.
        engine.counters().retainOnly(next.connections().stream().map(GatewayConfig.Connection::name).toList());
        return null;
    }

    /** The engine's answers to IKE_SA_INIT requests as {@code d} has them (at start, and at each reload); on the IKE thread. */
    static void defend(IkeEngine engine, GatewayConfig.IkeDefense d) {
        engine.cookies(d.cookies());
        engine.cookieThreshold(d.cookieThreshold());
        engine.cookieRate(d.cookieRate());
        engine.halfOpenPerPeer(d.halfOpenPerPeer());
        engine.halfOpenLimit(d.halfOpenLimit());
    }

    /** The routes of prefixes {@code before} has and {@code after} has not, removed; a line for each that could not be. */
    private List<String> removeRoutes(Map<AddressPrefix, String> before, Map<AddressPrefix, String> after) {
        List<String> gone = new ArrayList<>();
        before.forEach((p, text) -> {
            if (!after.containsKey(p)) {
                gone.add(text);
            }
        });
        // Applied all the same: a stale route into the tunnel device leads to no tunnel, and is dropped there.
        try {
            return routes.remove(gone).stream().map(why -> "a route could not be removed: " + why).toList();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return List.of("the routes for " + (gone.size() <= 16 ? gone : gone.size() + " prefixes") + " could not be removed: " + e.getMessage());
        }
    }

    /** A reload that failed on the IKE thread, after its routes were added: some of it may be in place. */
    static final class PartlyApplied extends Exception {
        private final List<String> lines;

        PartlyApplied(Exception cause, List<String> lines) {
            super("applied only partly (" + cause + "); check isthmus status, and restart the gateway if in doubt", cause);
            this.lines = List.copyOf(lines);
        }

        /** What else went wrong (routes that could not be removed). */
        List<String> lines() {
            return lines;
        }
    }

    /**
     * {@code isthmus connection reset NAME}: the connection's IKE SAs (and so its child SAs)
     * deleted, the peer told, and a new IKE SA initiated at once, with what the connection is
     * configured with now (a new policy or key included). A ResponderOnly connection waits for
     * its peer to come again.
     */
    synchronized String reset(String name) throws Exception {
        GatewayConfig.Connection c = configured(name);
        return ike.call(() -> {
            keepUp.release(name);
            List<IkeSa> sas = engine.ikeSas().stream().filter(s -> s.connection().name().equals(name) && s.state() != IkeSaState.DESTROYED)
                    .toList();
            sas.forEach(IkeSa::delete);
            String deleted = name + ": " + sas.size() + " IKE SA(s) deleted, the peer told";
            if (c.connectionMode() == ConnectionMode.RESPONDER_ONLY) {
                return deleted + "; ResponderOnly: the peer makes them again";
            }
            return deleted + (keepUp.initiate(name) ? "; a new IKE SA initiated" : "; the gateway is stopping: none made again");
        });
    }

    /** How long a rekey through the API waits for its outcome; an initiate waits {@link ConnectionCommand#INITIATE_WAIT}. */
    static final java.time.Duration OUTCOME_WAIT = java.time.Duration.ofSeconds(20);

    /**
     * {@code isthmus connection initiate NAME}: the connection kept up again (after a terminate)
     * and, unless it is up already, a new IKE SA initiated; waits for its child SA, or for why it
     * failed (the event says: no proposal chosen, authentication refused, no answer).
     */
    Reload.Outcome initiate(String name) throws Exception {
        GatewayConfig.Connection c = configured(name);
        if (c.connectionMode() == ConnectionMode.RESPONDER_ONLY) {
            return new Reload.Outcome(false, List.of(name + ": ResponderOnly: its peer initiates it (see isthmus status for why it is not up)"));
        }
        try (EventWait wait = new EventWait(engine, name, Set.of(io.isthmus.ike.IkeEvent.Kind.CHILD_UP), 1,
                Set.of(io.isthmus.ike.IkeEvent.Kind.AUTHENTICATION_FAILED, io.isthmus.ike.IkeEvent.Kind.FAILED, io.isthmus.ike.IkeEvent.Kind.DPD_TIMEOUT))) {
            String started = ike.call(() -> {
                boolean wasHeld = keepUp.release(name);
                IkeSa up = engine.ikeSas().stream().filter(s -> s.connection().name().equals(name) && s.isUp() && !s.childSas().isEmpty())
                        .findFirst().orElse(null);
                if (up != null) {
                    return name + ": up already (IKE SA " + up.spis() + ")" + (wasHeld ? "; kept up again from now on" : "");
                }
                boolean underWay = engine.ikeSas().stream().anyMatch(s -> s.connection().name().equals(name) && s.state() != IkeSaState.DESTROYED);
                if (underWay) {
                    return null; // keep-up's attempt (or the peer's) is under way: a second IKE SA would only be settled away
                }
                return keepUp.initiate(name) ? null : name + ": the gateway is stopping: not initiated";
            });
            if (started != null) {
                return new Reload.Outcome(!started.contains("stopping"), List.of(started));
            }
            io.isthmus.ike.IkeEvent e = wait.await(ConnectionCommand.INITIATE_WAIT);
            if (e == null) {
                return new Reload.Outcome(false, List.of(name + ": initiated, not up within " + ConnectionCommand.INITIATE_WAIT.toSeconds()
                        + " s; the gateway keeps trying (isthmus monitor follows it, isthmus status says why)"));
            }
            return new Reload.Outcome(wait.succeeded(e), List.of(name + ": " + (wait.succeeded(e)
                    ? "up: child SA " + e.childSa() + " of IKE SA " + e.ikeSa() : "failed: " + e.detail())));
        }
    }

    /**
     * {@code isthmus connection terminate NAME}: its IKE SAs deleted (the peer told) and the
     * connection kept down until an initiate or a reset; status says why it is down.
     */
    synchronized Reload.Outcome terminate(String name) throws Exception {
        configured(name);
        String line = ike.call(() -> {
            keepUp.hold(name);
            List<IkeSa> sas = engine.ikeSas().stream().filter(s -> s.connection().name().equals(name) && s.state() != IkeSaState.DESTROYED)
                    .toList();
            sas.forEach(IkeSa::delete);
            engine.counters().of(name).failed("terminated by the operator; isthmus connection initiate " + name + " brings it back",
                    java.time.Instant.now());
            return name + ": " + sas.size() + " IKE SA(s) deleted, the peer told; kept down until isthmus connection initiate " + name;
        });
        return new Reload.Outcome(true, List.of(line));
    }

    /**
     * {@code isthmus connection rekey NAME [--child]}: its established IKE SA rekeyed (CREATE_CHILD_SA;
     * a reauthentication if its credentials changed), or each of its child SAs; waits for the
     * rekeys to finish, or for why one failed.
     */
    Reload.Outcome rekey(String name, boolean child) throws Exception {
        configured(name);
        try (EventWait wait = new EventWait(engine, name,
                Set.of(child ? io.isthmus.ike.IkeEvent.Kind.CHILD_REKEYED : io.isthmus.ike.IkeEvent.Kind.IKE_REKEYED), 1,
                Set.of(io.isthmus.ike.IkeEvent.Kind.FAILED, io.isthmus.ike.IkeEvent.Kind.DPD_TIMEOUT, io.isthmus.ike.IkeEvent.Kind.IKE_DOWN))) {
            String refused = ike.call(() -> {
                IkeSa sa = engine.ikeSas().stream().filter(s -> s.connection().name().equals(name) && s.state() == IkeSaState.ESTABLISHED)
                        .findFirst().orElse(null);
                if (sa == null) {
                    return name + ": no established IKE SA to rekey (isthmus status shows its state)";
                }
                if (!child) {
                    sa.rekey();
                    return null;
                }
                if (sa.childSas().isEmpty()) {
                    return name + ": IKE SA " + sa.spis() + " has no child SA to rekey";
                }
                wait.successes(sa.childSas().size());
                sa.childSas().forEach(d -> sa.rekeyChild(d.inbound().spi()));
                return null;
            });
            if (refused != null) {
                return new Reload.Outcome(false, List.of(refused));
            }
            io.isthmus.ike.IkeEvent e = wait.await(OUTCOME_WAIT);
            if (e == null) {
                return new Reload.Outcome(false, List.of(name + ": rekey started, not finished within " + OUTCOME_WAIT.toSeconds()
                        + " s (isthmus monitor follows it)"));
            }
            return new Reload.Outcome(wait.succeeded(e), List.of(name + ": " + (wait.succeeded(e)
                    ? (child ? "child SAs rekeyed, the last now " + e.childSa() : "IKE SA rekeyed: " + e.detail()) : "rekey failed: " + e.detail())));
        }
    }

    private GatewayConfig.Connection configured(String name) {
        GatewayConfig.Connection c = config.connection(name);
        if (c == null) {
            // The first few names: a gateway of 10,000 connections would answer a typo with 150 KB of them.
            List<String> names = config.connections().stream().map(GatewayConfig.Connection::name).limit(20).toList();
            int more = config.connections().size() - names.size();
            throw new ControlRequests.NoSuchConnection("no connection '" + name + "'; this gateway has: " + String.join(", ", names)
                    + (more > 0 ? " and " + more + " more (isthmus status lists them)" : ""));
        }
        return c;
    }

    // ------------------------------------------------------------------------------------------

    /** Every route into the tunnel of {@code config} (site prefixes, translated by IngressSnat rules) as a network, with its text (what ip(8) is given). */
    private static Map<AddressPrefix, String> prefixes(GatewayConfig config) {
        Map<AddressPrefix, String> out = new LinkedHashMap<>();
        for (TunnelRoutes.SiteRoute route : TunnelRoutes.of(config)) {
            out.putIfAbsent(route.prefix(), route.prefix().toString());
        }
        return out;
    }

    /** Adds them all or none: on a failure, the ones added are taken out again and the failure thrown. */
    private void addRoutes(List<String> prefixes) throws IOException, InterruptedException {
        routes.add(prefixes);
    }

    /** Unchanged connections a reload's answer names one by one; past this, it counts them. */
    static final int LISTED_UNCHANGED = 50;

    private static List<String> describe(GatewayConfig next, ConfigDiff diff) {
        List<String> lines = new ArrayList<>();
        lines.add("reloaded " + next.source() + ": " + diff.kept().size() + " unchanged, " + diff.changed().size() + " changed, "
                + diff.added().size() + " added, " + diff.removed().size() + " removed");
        if (diff.kept().size() <= LISTED_UNCHANGED) {
            for (String name : diff.kept()) {
                lines.add(name + ": unchanged, its SAs kept");
            }
        } else {
            // A line each would bury what changed under thousands of lines, in the answer and the log.
            lines.add(diff.kept().size() + " connections unchanged, their SAs kept (not listed one by one past " + LISTED_UNCHANGED + ")");
        }
        diff.changed().forEach((name, how) -> lines.add(name + ": " + changed(next, name, how)));
        for (String name : diff.added()) {
            boolean waits = connection(next, name).connectionMode() == ConnectionMode.RESPONDER_ONLY;
            lines.add(name + ": added; " + (waits ? "ResponderOnly: it comes up when the peer initiates" : "it comes up now"));
        }
        for (String name : diff.removed()) {
            lines.add(name + ": removed; its SAs deleted (the peer told), its tunnel and routes gone");
        }
        return lines;
    }

    private static String changed(GatewayConfig next, String name, Set<Change> how) {
        if (how.contains(Change.PEER)) {
            return "another peer or kind of tunnel: re-established (its SAs deleted, the peer told, new ones made)";
        }
        List<String> parts = new ArrayList<>();
        if (how.contains(Change.PREFIXES)) {
            parts.add("prefixes: routes and tunnel table updated" + (connection(next, name).usePolicyBasedTrafficSelectors()
                    ? ", its child SAs replaced by ones with the new selectors" : "; its SAs kept (route-based: any to any)"));
        }
        if (how.contains(Change.NAT)) {
            parts.add("NAT rules: its translations replaced now (flows of a changed Dynamic rule start over)"
                    + (how.contains(Change.PREFIXES) ? "" : "; its SAs kept (route-based: any to any)"));
        }
        if (how.contains(Change.POLICY)) {
            parts.add("policy: the next rekey uses it" + (how.contains(Change.KEY) ? "" : " (isthmus connection reset " + name + " applies it now)"));
        }
        if (how.contains(Change.OTHER)) {
            parts.add("mode, DPD or encapsulation: applies from its next use");
        }
        if (how.contains(Change.BGP)) {
            parts.add("BGP: BIRD reconfigured" + (connection(next, name).enableBgp() ? " (its session restarts if the peer's ASN or address changed)"
                    : ", its session ended") + "; its SAs kept");
        }
        if (how.contains(Change.KEY)) {
            // Only IKE_AUTH uses the key: the next IKE rekey reauthenticates (a new IKE SA, make-before-break) instead of CREATE_CHILD_SA.
            parts.add("new key used at the next IKE rekey (reauthentication), or at once with isthmus connection reset " + name);
        }
        return String.join("; ", parts);
    }

    private static GatewayConfig.Connection connection(GatewayConfig config, String name) {
        return java.util.Objects.requireNonNull(config.connection(name), name);
    }
}
