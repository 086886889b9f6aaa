package io.isthmus.control;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.dataplane.linux.KernelRoute;
import io.isthmus.dataplane.linux.RouteMonitor;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The routes the gateway learned over BGP (Azure's "learned routes"), as BIRD's kernel protocol
 * puts them into the gateway's own kernel table and {@link RouteMonitor} hears them: each route's
 * gateway is a connection's BGP peer address, so the route's prefix goes into that connection's
 * tunnel, in the data plane's tunnel table ({@code Dataplane.learnedRoutes}) and as a host route
 * into the TUN device. A withdrawal, or the BGP session going down (BIRD then deletes what it
 * learned over it), takes it out of both; so do {@link #withdrawAll} (BIRD gone) and
 * {@link #close} (the gateway stops).
 *
 * <p>Why through the kernel table rather than a socket of our own to BIRD: BIRD already keeps
 * that table exact (it is what it was built for), the operator can read it with {@code ip route
 * show table T}, and a restart of either side loses nothing: the monitor's first dump reads
 * what is there.
 *
 * <p>Changes are coalesced: the first one schedules an apply {@link Settings#coalesce} later, and
 * while messages keep arriving (a full table of 4,000 routes is read in a few ms) it waits a
 * little more, {@link #MAX_HOLD} at most; then one tunnel table is published and the host routes
 * change in one ip(8) batch. What is refused: a route whose gateway is no connection's BGP peer
 * (counted), prefixes beyond {@link Settings#maxPrefixesPerPeer} from one peer (Azure allows
 * 4,000), and anything {@link ProtectedDestinations} protects or that holds another connection's
 * BGP peer address (its session would be drawn into the wrong tunnel). Refusals are counted and
 * logged, at most {@link #LOG_BURST} lines every {@link #LOG_INTERVAL}.
 *
 * <p>Which connection a prefix goes to: of the routes for it, the lowest metric; a multipath
 * route (BIRD's {@code merge paths}) or equal routes from several peers leave several
 * connections, and the first by name takes it: the tunnel table sends one prefix into one
 * tunnel (no per-flow spreading across tunnels yet), and a stable choice does not flap.
 */
public final class LearnedRoutes implements RouteMonitor.Listener, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** Longest an apply waits for a stream of messages to end. */
    static final Duration MAX_HOLD = Duration.ofMillis(100);
    static final Duration LOG_INTERVAL = Duration.ofSeconds(10);
    static final int LOG_BURST = 10;
    /** rtm_protocol of the host routes made here (not one iproute2 names): how the ones a crashed run left are found. */
    static final int HOST_ROUTE_PROTOCOL = 73;

    /**
     * The table BIRD exports into and the limits; {@code coalesce}: how long the first change waits for others.
     * Two gateways on one host (isthmus@ units) need each its own bgpSettings.routeTable: on a shared
     * table each would follow the other's BIRD routes too (those via a peer of its own are few, but the
     * unknown-peer count and log would be the other's). Not checked at start: whether another BIRD
     * exports into a table cannot be told from the table alone; the host routes are kept apart by device.
     */
    public record Settings(int table, int maxPrefixesPerPeer, Duration coalesce) {
        public static final int AZURE_MAX_PREFIXES = 4000;

        public Settings {
            if (maxPrefixesPerPeer < 1) {
                throw new IllegalArgumentException("maxPrefixesPerPeer " + maxPrefixesPerPeer);
            }
        }

        public static Settings defaults() {
            return new Settings(201, AZURE_MAX_PREFIXES, Duration.ofMillis(5));
        }
    }

    /** The host's routes into the TUN device, changed many at a time. */
    interface HostRoutes {
        /** Routes {@code add} into the device (replacing what was there for them) and takes {@code remove} out. */
        void apply(List<String> add, List<String> remove) throws IOException, InterruptedException;

        /** Takes out every route made here, this run's and those a crashed one left. */
        void removeAll() throws IOException, InterruptedException;

        /** The routes made here that the kernel holds now: what a failed {@link #apply} left. */
        List<String> installed() throws IOException, InterruptedException;
    }

    /**
     * One apply: when its first and last route messages were read, when the new tunnel table was
     * published and when the host routes were in (System.nanoTime), and what changed.
     */
    public record Applied(long firstMessageNanos, long lastMessageNanos, long publishedNanos, long hostRoutesNanos, int prefixes, int added,
                   int removed) {
        /** From the first route message read to the new table the packet threads forward by. */
        public double publishedMillis() {
            return (publishedNanos - firstMessageNanos) / 1e6;
        }

        public double hostRoutesMillis() {
            return (hostRoutesNanos - firstMessageNanos) / 1e6;
        }
    }

    /** What was heard and refused; the refusals are as of the last apply. */
    public record Counts(long routeMessages, long unknownPeer, int refused, int overLimit, long applies, int learnedPrefixes) {
    }

    /** One kernel route as learned: its prefix, metric and gateways, in the order the messages came. */
    private record Learned(AddressPrefix prefix, int metric, List<InetAddress> gateways) {
    }

    /** Guarded by this: a reload may change the limit (BIRD's receive limit changes with it). */
    private Settings settings;
    private final Consumer<Map<String, List<String>>> tunnelTable;
    private final HostRoutes hostRoutes;
    private final ScheduledExecutorService applier;

    // Guarded by this: what the monitor said and what the configuration is.
    private final Map<String, Learned> routes = new LinkedHashMap<>();
    private Map<InetAddress, String> peers;
    private Set<AddressPrefix> configuredPrefixes;
    private ProtectedDestinations protectedDestinations;
    private boolean suspended;
    private boolean closed;
    private boolean scheduled;
    private long firstPendingNanos;
    private long lastPendingNanos;
    private long routeMessages;
    private long unknownPeer;
    private long lastUnknownLog;

    // The applier thread's own: what is in place.
    private Map<String, List<String>> appliedTable = Map.of();
    private Set<String> appliedHostRoutes = new HashSet<>();
    private final Map<String, String> refusedBefore = new HashMap<>();
    private long lastRefusalLog;
    private int heldRefusalLines;
    private volatile Counts counts = new Counts(0, 0, 0, 0, 0, 0);
    private volatile Applied lastApplied;
    private long applies;
    /** After a failed host-route batch: the next retry's pause, 0 while the host routes are as planned. */
    private Duration retryPause = Duration.ZERO;
    private long lastHostFailureLog;
    private long hostFailures;

    /**
     * @param peers              each BGP-enabled connection's peer BGP address, and the connection's name
     * @param configuredPrefixes the routes the gateway installs itself ({@link #configuredPrefixes(io.isthmus.control.config.GatewayConfig)}):
     *                           their host routes exist already, so none is made or removed here
     * @param tunnelTable        where the learned prefixes by connection go ({@code dataplane::learnedRoutes})
     */
    LearnedRoutes(Settings settings, Map<InetAddress, String> peers, Set<AddressPrefix> configuredPrefixes, ProtectedDestinations protectedDestinations,
                  Consumer<Map<String, List<String>>> tunnelTable, HostRoutes hostRoutes) {
        this.settings = settings;
        this.peers = Map.copyOf(peers);
        this.configuredPrefixes = Set.copyOf(configuredPrefixes);
        this.protectedDestinations = protectedDestinations;
        this.tunnelTable = tunnelTable;
        this.hostRoutes = hostRoutes;
        this.applier = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "learned routes");
            t.setDaemon(true);
            return t;
        });
    }

    /** A running follower: the monitor of BIRD's table and what it feeds. Closing it stops both and takes every learned route out. */
    record Following(LearnedRoutes routes, RouteMonitor monitor) implements AutoCloseable {
        @Override
        public void close() {
            monitor.close();
            routes.close();
        }
    }

    /**
     * Starts following {@code settings.table()} for a running gateway: the host routes a crashed
     * run left are taken out, then the monitor reads the table and follows it.
     *
     * @param bgpPeers each BGP-enabled connection's peer BGP address (its local network
     *                 gateway's bgpSettings.bgpPeeringAddress) and the connection's name
     */
    static Following start(Settings settings, io.isthmus.control.config.GatewayConfig config, HostNetwork host,
                           io.isthmus.dataplane.Dataplane dataplane, Map<InetAddress, String> bgpPeers) throws IOException {
        String device = config.gateway().tunnel().device();
        LearnedRoutes routes = new LearnedRoutes(settings, bgpPeers, configuredPrefixes(config), ProtectedDestinations.of(config, host, device),
                dataplane::learnedRoutes, HostRouting.learnedInto(device));
        routes.removeStaleHostRoutes();
        try {
            return new Following(routes, RouteMonitor.start(settings.table(), KernelRoute.RTPROT_BIRD, routes));
        } catch (IOException | RuntimeException e) {
            routes.close();
            throw e;
        }
    }

    /**
     * The routes the gateway itself installs into the device ({@link HostRouting#configure}): the
     * site prefixes as IngressSnat rules translate them and the BGP peers' host routes. Not the
     * sites' untranslated prefixes: a learned route equal to one of those installed must not be
     * replaced by a protocol-73 route, whose withdrawal would then delete the configured route.
     */
    static Set<AddressPrefix> configuredPrefixes(io.isthmus.control.config.GatewayConfig config) {
        Set<AddressPrefix> out = new HashSet<>();
        config.routedPrefixes().forEach(p -> out.add(AddressPrefix.parse(p)));
        return out;
    }

    /** Takes out the host routes a crashed run may have left: before the monitor starts. */
    void removeStaleHostRoutes() {
        try {
            hostRoutes.removeAll();
        } catch (IOException | InterruptedException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "learned routes: the host routes of an earlier run could not be removed: {0}", e.toString());
        }
    }

    // ------------------------------------------------------------------------------------------
    // From the route monitor's thread
    // ------------------------------------------------------------------------------------------

    @Override
    public synchronized void added(KernelRoute route, long receivedNanos) {
        routeMessages++;
        if (route.type() != KernelRoute.RTN_UNICAST) {
            // Unreachable, blackhole, prohibit: a prefix BIRD says leads nowhere steers nothing into a tunnel.
            if (routes.remove(route.key()) != null) {
                pending(receivedNanos);
            }
            return;
        }
        List<InetAddress> gateways = new ArrayList<>();
        route.nextHops().forEach(h -> {
            if (h.gateway() != null) {
                gateways.add(h.gateway());
            }
        });
        Learned l = new Learned(AddressPrefix.parse(route.prefix()), route.priority(), gateways);
        // Kept all the same: a reload may make its gateway a connection's peer.
        routes.put(route.key(), l);
        if (gateways.stream().noneMatch(peers::containsKey)) {
            noteUnknownPeer(l);
        }
        pending(receivedNanos);
    }

    @Override
    public synchronized void removed(KernelRoute route, long receivedNanos) {
        routeMessages++;
        if (routes.remove(route.key()) != null) {
            pending(receivedNanos);
        }
    }

    // ------------------------------------------------------------------------------------------
    // From the BGP side (part A: BIRD's status) and the reload
    // ------------------------------------------------------------------------------------------

    /**
     * BIRD is gone (it died: {@code BirdDaemon.Lifecycle#exited}, wired by the gateway): every learned prefix leaves
     * the tunnel table and the host now, whatever the kernel table still holds (BIRD killed
     * outright leaves its routes behind). The table is still followed, so {@link #resume} finds
     * what BIRD has put back by then.
     */
    public synchronized void withdrawAll(String why) {
        if (!suspended) {
            LOG.log(System.Logger.Level.WARNING, "learned routes: all withdrawn: {0}", why);
        }
        suspended = true;
        pending(System.nanoTime());
    }

    /**
     * BIRD is back and answers ({@code BirdDaemon.Lifecycle#answering}): the learned routes in its table count again.
     * (A session going down needs no call of its own: BIRD deletes that peer's routes from the table, which the monitor hears.)
     */
    public synchronized void resume() {
        suspended = false;
        pending(System.nanoTime());
    }

    /**
     * After a reload: the connections' BGP peers, the configured prefixes, what is protected and
     * the per-peer limit (bgpSettings.maxPrefixes, which BIRD's receive limit follows too), as they are now.
     */
    synchronized void reconfigure(Map<InetAddress, String> peers, Set<AddressPrefix> configuredPrefixes, ProtectedDestinations protectedDestinations,
                                  int maxPrefixesPerPeer) {
        this.settings = new Settings(settings.table(), maxPrefixesPerPeer, settings.coalesce());
        this.peers = Map.copyOf(peers);
        this.configuredPrefixes = Set.copyOf(configuredPrefixes);
        this.protectedDestinations = protectedDestinations;
        pending(System.nanoTime());
    }

    public Counts counts() {
        return counts;
    }

    /** The last apply's timing, null before the first. */
    public Applied lastApplied() {
        return lastApplied;
    }

    private void pending(long nanos) {
        if (closed) {
            return;
        }
        if (!scheduled) {
            scheduled = true;
            firstPendingNanos = nanos;
            applier.schedule(this::applyWhenQuiet, settings.coalesce().toNanos(), TimeUnit.NANOSECONDS);
        }
        lastPendingNanos = Math.max(lastPendingNanos, nanos);
    }

    // ------------------------------------------------------------------------------------------
    // The applier thread
    // ------------------------------------------------------------------------------------------

    /** What one apply puts in place, worked out under the lock from a consistent view. */
    private record Plan(Map<String, List<String>> table, Set<String> hostRoutes, Map<String, String> refused, int overLimit, long first,
                        long last) {
    }

    private void applyWhenQuiet() {
        Plan plan;
        synchronized (this) {
            long now = System.nanoTime();
            long quietFor = now - lastPendingNanos;
            // Messages still streaming in (a full table): wait for the end, within reason.
            if (quietFor < settings.coalesce().toNanos() / 2 && now - firstPendingNanos < MAX_HOLD.toNanos() && !closed) {
                applier.schedule(this::applyWhenQuiet, settings.coalesce().toNanos() / 2, TimeUnit.NANOSECONDS);
                return;
            }
            scheduled = false;
            if (closed) {
                return;
            }
            plan = plan();
        }
        try {
            apply(plan);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "learned routes: apply failed: " + e, e);
        }
    }

    private Plan plan() {
        Map<String, String> refused = new TreeMap<>();
        int overLimit = 0;
        // The best (lowest metric) routes per prefix, and the connections they lead to.
        Map<AddressPrefix, Integer> bestMetric = new HashMap<>();
        Map<AddressPrefix, Set<String>> connections = new LinkedHashMap<>();
        Map<String, Integer> perPeer = new HashMap<>();
        if (!suspended) {
            for (Learned l : routes.values()) {
                Set<String> via = new java.util.TreeSet<>();
                for (InetAddress g : l.gateways()) {
                    String c = peers.get(g);
                    if (c == null) {
                        continue;
                    }
                    // Azure's limit is per peer, in the order the routes came: the earliest keep their place.
                    if (perPeer.merge(c, 1, Integer::sum) > settings.maxPrefixesPerPeer()) {
                        overLimit++;
                        refused.put(l.prefix().toString(), "over the limit of " + settings.maxPrefixesPerPeer() + " prefixes from " + c);
                        continue;
                    }
                    via.add(c);
                }
                if (via.isEmpty()) {
                    continue;
                }
                Integer best = bestMetric.get(l.prefix());
                if (best == null || l.metric() < best) {
                    bestMetric.put(l.prefix(), l.metric());
                    connections.put(l.prefix(), via);
                } else if (l.metric() == best) {
                    connections.get(l.prefix()).addAll(via);
                }
            }
        }
        Map<String, List<String>> table = new TreeMap<>();
        Set<String> host = new HashSet<>();
        for (Map.Entry<AddressPrefix, Set<String>> e : connections.entrySet()) {
            AddressPrefix p = e.getKey();
            String connection = e.getValue().iterator().next();
            String why = protectedDestinations.refusal(p);
            if (why == null) {
                for (Map.Entry<InetAddress, String> peer : peers.entrySet()) {
                    if (!peer.getValue().equals(connection) && p.contains(peer.getKey())) {
                        why = "holds " + peer.getKey().getHostAddress() + ", the BGP peer of " + peer.getValue();
                        break;
                    }
                }
            }
            if (why != null) {
                refused.put(p.toString(), why);
                continue;
            }
            refused.remove(p.toString()); // over the limit from one peer, taken from another
            table.computeIfAbsent(connection, k -> new ArrayList<>()).add(p.toString());
            if (!configuredPrefixes.contains(p)) {
                host.add(p.toString());
            }
        }
        return new Plan(table, host, refused, overLimit, firstPendingNanos, lastPendingNanos);
    }

    /** Counted once per route message, logged once per {@link #LOG_INTERVAL}. */
    private void noteUnknownPeer(Learned l) {
        unknownPeer++;
        long now = System.nanoTime();
        if (lastUnknownLog == 0 || now - lastUnknownLog > LOG_INTERVAL.toNanos()) {
            lastUnknownLog = now;
            LOG.log(System.Logger.Level.WARNING, "learned routes: {0} via {1}: no connection has that BGP peer address; ignored ({2} so far)",
                    l.prefix(), l.gateways().isEmpty() ? "no gateway" : l.gateways(), unknownPeer);
        }
    }

    private void apply(Plan plan) {
        long published = plan.first();
        int prefixes = plan.table().values().stream().mapToInt(List::size).sum();
        int before = appliedTable.values().stream().mapToInt(List::size).sum();
        boolean tableChanged = !plan.table().equals(appliedTable);
        if (tableChanged) {
            tunnelTable.accept(plan.table());
            published = System.nanoTime();
            appliedTable = plan.table();
        }
        // New host routes after the table has the prefixes, so no packet into the device finds no tunnel.
        List<String> add = new ArrayList<>();
        for (String p : plan.hostRoutes()) {
            if (!appliedHostRoutes.contains(p)) {
                add.add(p);
            }
        }
        List<String> remove = new ArrayList<>();
        for (String p : appliedHostRoutes) {
            if (!plan.hostRoutes().contains(p)) {
                remove.add(p);
            }
        }
        if (!add.isEmpty() || !remove.isEmpty()) {
            try {
                hostRoutes.apply(add, remove);
                appliedHostRoutes = new HashSet<>(plan.hostRoutes());
                if (retryPause.isPositive()) {
                    LOG.log(System.Logger.Level.INFO, "learned routes: host routes as planned again after {0} failed batch(es)", hostFailures);
                }
                retryPause = Duration.ZERO;
                hostFailures = 0;
            } catch (IOException | InterruptedException | RuntimeException e) {
                hostRoutesFailed(plan, e);
            }
        }
        long hostDone = System.nanoTime();
        logRefusals(plan.refused());
        applies++;
        long messages;
        long unknown;
        synchronized (this) {
            messages = routeMessages;
            unknown = unknownPeer;
        }
        counts = new Counts(messages, unknown, plan.refused().size(), plan.overLimit(), applies, prefixes);
        if (tableChanged || !add.isEmpty() || !remove.isEmpty()) {
            Applied a = new Applied(plan.first(), plan.last(), published, hostDone, prefixes, add.size(), remove.size());
            lastApplied = a;
            LOG.log(System.Logger.Level.INFO, "learned routes: {0} prefixes (was {1}) over {2} connection(s), host routes +{3} -{4}; "
                            + "tunnel table published {5} ms after the first route message, host routes in after {6} ms",
                    prefixes, before, plan.table().size(), add.size(), remove.size(), String.format("%.2f", a.publishedMillis()),
                    String.format("%.2f", a.hostRoutesMillis()));
        }
    }

    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration LONGEST_RETRY = Duration.ofSeconds(60);

    /**
     * A batch failed (ip -force ran the other lines, so part of it may be in): what is in place
     * is read back from the kernel, so the next apply's difference is what is really missing or
     * left, and an apply is scheduled after a pause doubling from {@link #FIRST_RETRY} to
     * {@link #LONGEST_RETRY} (a prefix the kernel always refuses is tried that often, not in a
     * loop). Logged once per {@link #LOG_INTERVAL}.
     */
    private void hostRoutesFailed(Plan plan, Exception e) {
        hostFailures++;
        Set<String> now;
        try {
            Map<AddressPrefix, String> known = new HashMap<>();
            appliedHostRoutes.forEach(p -> known.put(AddressPrefix.parse(p), p));
            plan.hostRoutes().forEach(p -> known.put(AddressPrefix.parse(p), p));
            now = new HashSet<>();
            for (String p : hostRoutes.installed()) {
                now.add(known.getOrDefault(AddressPrefix.parse(p), p));
            }
        } catch (IOException | InterruptedException | RuntimeException readFailed) {
            // Unknown: assume everything planned is missing and everything before still there; removes of absent routes fail again, and are retried.
            now = new HashSet<>(appliedHostRoutes);
        }
        appliedHostRoutes = now;
        retryPause = retryPause.isZero() ? FIRST_RETRY : retryPause.multipliedBy(2).compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : retryPause.multipliedBy(2);
        long t = System.nanoTime();
        if (lastHostFailureLog == 0 || t - lastHostFailureLog > LOG_INTERVAL.toNanos()) {
            lastHostFailureLog = t;
            LOG.log(System.Logger.Level.WARNING, "learned routes: host routes failed ({0} time(s) in a row), tried again in {1} s: {2}", hostFailures,
                    retryPause.toSeconds(), e.getMessage());
        }
        try {
            applier.schedule(() -> {
                synchronized (this) {
                    pending(System.nanoTime());
                }
            }, retryPause.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the gateway stops: close() removes them all
        }
    }

    /** How many host-route batches failed in a row (0: the host routes are as planned). */
    long hostRouteFailures() {
        return hostFailures;
    }

    /** New refusals, {@link #LOG_BURST} lines at most per {@link #LOG_INTERVAL}, the rest counted into the next line. */
    private void logRefusals(Map<String, String> refused) {
        List<String> fresh = new ArrayList<>();
        refused.forEach((p, why) -> {
            if (!why.equals(refusedBefore.get(p))) {
                fresh.add(p + " " + why);
            }
        });
        refusedBefore.clear();
        refusedBefore.putAll(refused);
        if (fresh.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        if (lastRefusalLog != 0 && now - lastRefusalLog < LOG_INTERVAL.toNanos()) {
            heldRefusalLines += fresh.size();
            return;
        }
        lastRefusalLog = now;
        int shown = Math.min(LOG_BURST, fresh.size());
        for (int i = 0; i < shown; i++) {
            LOG.log(System.Logger.Level.WARNING, "learned route refused: {0}", fresh.get(i));
        }
        int more = fresh.size() - shown + heldRefusalLines;
        heldRefusalLines = 0;
        if (more > 0) {
            LOG.log(System.Logger.Level.WARNING, "learned routes: {0} more refused and not logged ({1} refused now)", more, refused.size());
        }
    }

    /** Applies what is pending now, without waiting for the coalescing: for tests and for the stop. */
    void flush() {
        synchronized (this) {
            if (!scheduled) {
                // Measured from now: nothing was pending (a withdrawal of everything, the stop).
                firstPendingNanos = System.nanoTime();
                lastPendingNanos = firstPendingNanos;
            }
        }
        try {
            applier.submit(() -> {
                Plan plan;
                synchronized (this) {
                    plan = plan();
                }
                apply(plan);
            }).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("learned routes: flush: " + e, e);
        }
    }

    /** The gateway stops: every learned prefix leaves the tunnel table, and every host route made here goes. */
    @Override
    public void close() {
        synchronized (this) {
            suspended = true;
        }
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "learned routes: {0}", e.getMessage());
        }
        synchronized (this) {
            closed = true;
        }
        applier.shutdownNow();
        try {
            hostRoutes.removeAll();
        } catch (IOException | InterruptedException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "learned routes: host routes left behind: {0}", e.toString());
        }
    }
}
