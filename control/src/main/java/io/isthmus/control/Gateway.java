package io.isthmus.control;

import io.isthmus.control.bgp.BgpPeerStatus;
import io.isthmus.control.bgp.BirdDaemon;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.metrics.GatewayMetrics;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.UdpTransport;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One gateway instance running, start to stop: the IKE engine on its Netty event loop and the
 * data plane, joined by a {@link ChildSaBridge} and nowhere else; the host's routes
 * ({@link HostRouting}, after {@link HostNetwork}'s check); connections from the configuration
 * ({@link IkeConnections}) kept up ({@link KeepUp}); and status. IKE owns port 500; the data
 * plane owns 4500, where ESP in UDP and IKE share the socket, and passes IKE messages over.
 */
public final class Gateway implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final System.Logger CONFIG_LOG = System.getLogger("io.isthmus.config");

    private final GatewayConfig config;
    private final Instance instance;
    private final Instant startedAt = Instant.now();
    private final PacketTimes packetTimes = new PacketTimes();
    private Path captureDirectory;
    private volatile Captures captures;
    private UdpTransport ikeSockets;
    private Dataplane dataplane;
    /** The vpnClientConfiguration's clients, pools and RADIUS client; null without one. */
    private volatile PointToSite pointToSite;
    private IkeEngine engine;
    /** IKE from port 4500, on its way from the inbound packet thread to the IKE thread. */
    private InboundDatagrams ikeFromDataplane;
    /**
     * How many IKE datagrams from port 4500 may wait for the IKE thread. A peer retransmits
     * what is lost; a flood beyond this is dropped on the packet thread, before it is copied.
     */
    private static final int IKE_QUEUE = 256;
    private KeepUp keepUp;
    /** How long a stop waits for the peers to answer our Deletes: a round trip takes far less; a peer that is gone never answers. */
    static final Duration DELETE_WAIT = Duration.ofSeconds(2);
    /**
     * How long a stop waits for a reload or reset in progress to finish before it closes
     * anything: with the Deletes' wait and the IKE thread's, within {@link StopSignal#LIMIT}.
     */
    static final Duration CHANGE_WAIT = Duration.ofSeconds(1);
    /** How long a stop waits for the partner to acknowledge a handover: a round trip on the pair's own link takes a millisecond. */
    static final Duration HANDOVER_WAIT = Duration.ofMillis(500);
    /** Connections the start logs one by one at INFO. */
    static final int LOGGED_CONNECTIONS = 50;
    /** The connections as reloads and resets change them, once the gateway runs. */
    private volatile RunningConnections running;
    private Reload reload;
    /** This instance's half of an active-active pair with floating addresses; null otherwise. */
    private GatewayPair pair;
    /** The routes learned over BGP, once {@link #followLearnedRoutes} was called; null before. */
    private volatile LearnedRoutes.Following learned;
    private java.util.function.Function<GatewayConfig, java.util.Map<InetAddress, String>> bgpPeersOf;
    /** BIRD, when the gateway has bgpSettings; null otherwise. */
    private volatile BirdDaemon bird;

    private Gateway(GatewayConfig config, Instance instance) {
        this.config = config;
        this.instance = instance;
    }

    /** Starts instance {@code instanceName} (null: the first) of the configured gateway. */
    public static Gateway start(GatewayConfig config, String instanceName) throws Exception {
        return start(config, instanceName, Captures.defaultDirectory());
    }

    /** As {@link #start(GatewayConfig, String)}, its packet captures written into {@code captureDirectory}. */
    public static Gateway start(GatewayConfig config, String instanceName, Path captureDirectory) throws Exception {
        Gateway g = new Gateway(config, config.instance(instanceName));
        g.captureDirectory = captureDirectory;
        try {
            g.startAll();
        } catch (Exception | Error e) {
            g.close();
            throw e;
        }
        return g;
    }

    /** The configuration it runs with: the one it started with, or the last reload's. */
    public GatewayConfig config() {
        RunningConnections r = running;
        return r != null ? r.config() : config;
    }

    public Instance instance() {
        return instance;
    }

    private void startAll() throws Exception {
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        InetAddress bind = instance.bindAddress();
        GatewayConfig.Sku sku = config.gateway().sku();
        LOG.log(System.Logger.Level.INFO, "gateway {0} instance {1} starting on {2} ({3}, SKU {4}: up to {5} tunnels, {6})",
                config.gateway().name(), instance.name(), bind.getHostAddress(), config.gateway().vpnType(), sku.azureName(), sku.maxTunnels(),
                sku.megabitsPerSecond() == 0 ? "no throughput rating" : sku.megabitsPerSecond() + " Mbit/s as Azure rates it");
        config.warnings().forEach(w -> CONFIG_LOG.log(System.Logger.Level.WARNING, w));
        // Before anything is bound or made: a route that would cut this host off stops the start here.
        HostNetwork.read(config).refuseRoutesThatCutTheHostOff(config, t.device());
        List<InetAddress> floating = config.pair() == null ? List.of()
                : config.gateway().instances().stream().map(Instance::floatingIpAddress).toList();
        ikeSockets = UdpTransport.bindIkePortOnly(List.of(bind), floating, t.ikePort(), t.natTraversalPort());
        // The engine exists before the data plane reads port 4500, whose IKE it is handed.
        ikeFromDataplane = new InboundDatagrams(IKE_QUEUE, ikeSockets::execute, (d, local, remote) -> {
            captureIke(true, d, 0, d.length, local, remote);
            engine.receive(d, 0, d.length, local, remote);
        });
        ChildSaBridge bridge = new ChildSaBridge(ikeSockets::execute, ikeSockets, ikeFromDataplane);
        Transport transport = new GatewayTransport();
        if (config.pair() != null) {
            pair = GatewayPair.prepare(config, instance, ikeSockets::execute, ikeSockets);
            transport = pair.transport(transport);
            bridge.replicateTo(pair.children());
        }
        engine = new IkeEngine(transport, ikeSockets, bridge);
        engine.natTraversalPort(t.natTraversalPort());
        RunningConnections.defend(engine, config.gateway().ikeDefense());
        dataplane = Dataplane.start(new Dataplane.Settings(t.device(), List.of(bind), t.natTraversalPort(), t.rawEsp(), t.pathMtu(),
                t.tcpMssClamp(), 4 << 20, t.offloads(), config.gateway().packetThreads(), floating, t.busyPollMicros()), bridge);
        bridge.connect(engine, dataplane);
        EsnTestHook.apply(System.getenv(EsnTestHook.VARIABLE), dataplane, config.pair() != null);
        if (pair != null) {
            pair.attach(engine, dataplane);
        }
        HostRouting.configure(config);
        if (config.gateway().bgpSettings() != null) {
            // Its addresses first: BIRD binds its sessions to them. Started even with no enableBgp yet, so a reload can add sessions.
            HostRouting.addBgpAddresses(config, instance);
            bird = BirdDaemon.start(config, instance, bgpDirectory(), List.of());
        }
        List<Connection> connections = new ArrayList<>();
        for (GatewayConfig.Connection c : config.connections()) {
            connections.add(IkeConnections.of(config, instance, c));
        }
        pointToSite = PointToSite.start(config, instance, bind);
        if (pointToSite != null) {
            connections.add(pointToSite.connection());
            bridge.remoteAccess(java.util.Set.of(pointToSite.connection().name()));
        }
        dataplane.tunnels(RunningConnections.tunnels(config, instance));
        if (bird != null) {
            GatewayConfig.BgpSettings bgp = config.gateway().bgpSettings();
            followLearnedRoutes(new LearnedRoutes.Settings(bgp.routeTable(), bgp.maxPrefixes(), LearnedRoutes.Settings.defaults().coalesce()),
                    c -> bgpPeerAddresses(c, instance));
        }
        captures = new Captures(captureDirectory, config.gateway().name() + "-" + instance.name(), dataplane, this::keysForExport, connectionsByPeer(config),
                t.natTraversalPort());
        ikeSockets.attach((d, offset, length, local, remote) -> {
            captureIke(true, d, offset, length, local, remote);
            engine.receive(d, offset, length, local, remote);
        });
        onLoop(() -> {
            connections.forEach(engine::addConnection);
            return null;
        });
        keepUp = new KeepUp(config, instance, engine, ikeSockets, () -> {
            dataplane.reclaim();
            packetTimes.observe(dataplane.status(), Instant.now());
        });
        if (pair != null) {
            keepUp.carriedHere(pair::mayInitiate);
        }
        keepUp.start(Duration.ofMillis(ThreadLocalRandom.current().nextLong(2000)));
        running = new RunningConnections(config, instance, connections, engine, this::onLoop, dataplane, keepUp, HostRouting.into(t.device()));
        reload = new Reload(running, ConfigReader::read, StartupChecks::forReload, LogOutput.process()::apply);
        // Each connection at INFO while few; past that at DEBUG, with a count: 10,000 lines would bury the start's own.
        for (int i = 0; i < connections.size(); i++) {
            Connection c = connections.get(i);
            LOG.log(i < LOGGED_CONNECTIONS ? System.Logger.Level.INFO : System.Logger.Level.DEBUG, "{0}, mode {1}, IKE {2}, ESP {3}", c, c.mode(),
                    c.ikeProposals(), c.childProposals());
        }
        if (connections.size() > LOGGED_CONNECTIONS) {
            LOG.log(System.Logger.Level.INFO, "and {0} connections more (each at debug level; isthmus gateway check lists them)",
                    Integer.toString(connections.size() - LOGGED_CONNECTIONS));
        }
        if (pair != null) {
            pair.started();
        }
    }

    <T> T onLoop(Callable<T> task) throws Exception {
        return onLoop(task, Duration.ofSeconds(10));
    }

    private <T> T onLoop(Callable<T> task, Duration timeout) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        ikeSockets.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The IKE thread, for work beside the engine: liveness probes, the service's tunnel count. */
    Executor ikeThread() {
        return ikeSockets::execute;
    }

    /** The IKE thread's clock and timers. */
    Scheduler ikeScheduler() {
        return ikeSockets;
    }

    Dataplane dataplane() {
        return dataplane;
    }

    /** How many configured connections are up: an IKE SA up with a child SA. IKE thread only. */
    int tunnelsUp() {
        return (int) engine.ikeSas().stream().filter(s -> s.isUp() && !s.childSas().isEmpty()).map(s -> s.connection().name()).distinct().count();
    }

    /** Reads the configuration file again and applies what changed, or refuses it and changes nothing (see {@link Reload}). */
    public Reload.Outcome reload() {
        Reload.Outcome o = reload.run();
        captures.connections(connectionsByPeer(config()));
        LearnedRoutes.Following l = learned;
        if (l != null && o.applied()) {
            try {
                GatewayConfig now = config();
                String device = now.gateway().tunnel().device();
                l.routes().reconfigure(bgpPeersOf.apply(now), LearnedRoutes.configuredPrefixes(now),
                        ProtectedDestinations.of(now, HostNetwork.read(now), device), 
                        now.gateway().bgpSettings() == null ? LearnedRoutes.Settings.AZURE_MAX_PREFIXES : now.gateway().bgpSettings().maxPrefixes());
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "learned routes keep the peers and guards of before the reload: {0}", e.toString());
            }
        }
        BirdDaemon b = bird;
        if (b == null || o.result() == Reload.Result.REFUSED || o.result() == Reload.Result.BUSY) {
            return o;
        }
        // What the gateway runs with now, applied or partly: BIRD follows it (sessions whose settings are the same stay up).
        List<String> lines = new ArrayList<>(o.lines());
        try {
            // One at a time, each with the configuration running when it writes: two reloads racing here leave BIRD with the last.
            synchronized (b) {
                lines.add("BGP: BIRD " + b.reconfigure(config(), instance));
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "reload: BIRD was not reconfigured: {0}", e.getMessage());
            lines.add("BGP: BIRD was not reconfigured and runs with the sessions it had: " + e.getMessage());
        }
        return new Reload.Outcome(o.applied(), lines, o.result());
    }

    /**
     * Where BIRD's configuration, socket and pid file go: the service's runtime directory
     * ({@code RuntimeDirectory=isthmus} sets {@code $RUNTIME_DIRECTORY}), else /run/isthmus.
     */
    static Path bgpDirectory() {
        String dir = System.getenv("RUNTIME_DIRECTORY");
        return Path.of(dir == null || dir.isBlank() ? "/run/isthmus" : dir.split(":")[0]);
    }

    /** BIRD's view of each BGP connection's session; Unknown with why when BIRD does not answer. Off the IKE thread: it may wait. */
    java.util.Map<String, BgpPeerStatus> bgpPeers() {
        BirdDaemon b = bird;
        return b == null ? java.util.Map.of() : b.peers();
    }

    /**
     * Steers the routes BIRD learned over BGP and exported into kernel table
     * {@code settings.table()} (protocol bird) into the connections whose BGP peer is each
     * route's gateway, until the gateway stops ({@link LearnedRoutes}). Called once, when BGP
     * runs; {@code bgpPeersOf}: each BGP-enabled connection's peer BGP address and name in a
     * configuration, asked again after each reload.
     */
    public synchronized LearnedRoutes followLearnedRoutes(LearnedRoutes.Settings settings,
                                                          java.util.function.Function<GatewayConfig, java.util.Map<InetAddress, String>> bgpPeersOf)
            throws java.io.IOException, InterruptedException {
        if (learned != null) {
            throw new IllegalStateException("learned routes are followed already");
        }
        GatewayConfig now = config();
        this.bgpPeersOf = bgpPeersOf;
        learned = LearnedRoutes.start(settings, now, HostNetwork.read(now), dataplane, bgpPeersOf.apply(now));
        LearnedRoutes routes = learned.routes();
        BirdDaemon b = bird;
        if (b != null) {
            // A BIRD that died (killed, crashed) left its routes in the table with nobody keeping them right: not steered by
            // until the BIRD started again answers and has pruned the table (BirdDaemon.Lifecycle says why not graceful restart).
            b.onLifecycle(new BirdDaemon.Lifecycle() {
                @Override
                public void exited(String why) {
                    routes.withdrawAll(why);
                }

                @Override
                public void answering() {
                    routes.resume();
                }
            });
        }
        return routes;
    }

    /**
     * Each peer address (a learned route's gateway in BIRD's table) of the BGP sessions instance
     * {@code self} runs, and the connection's name: in a pair two connections may lead to one
     * site's BGP address, one per instance, and this instance's routes go into its own tunnel.
     */
    static java.util.Map<InetAddress, String> bgpPeerAddresses(GatewayConfig config, GatewayConfig.Instance self) {
        java.util.Map<InetAddress, String> out = new java.util.LinkedHashMap<>();
        for (GatewayConfig.Connection c : config.bgpConnections(self)) {
            GatewayConfig.LocalBgpSettings b = config.localNetworkGateway(c.localNetworkGateway()).bgpSettings();
            if (b != null) {
                out.put(b.bgpPeeringAddress(), c.name());
            }
        }
        return out;
    }

    /** The routes learned over BGP (null when BGP is not followed): BIRD's side tells it when BIRD or a session goes down. */
    public LearnedRoutes learnedRoutes() {
        LearnedRoutes.Following l = learned;
        return l == null ? null : l.routes();
    }

    /** Deletes connection {@code name}'s SAs and makes them anew (see {@link RunningConnections#reset}); never beside a reload or the stop. */
    public Reload.Outcome reset(String name) throws Exception {
        return reload.exclusively(() -> {
            String line = running.reset(name);
            LOG.log(System.Logger.Level.INFO, "reset: {0}", line);
            return new Reload.Outcome(true, List.of(line));
        });
    }

    /** Brings connection {@code name} up now and waits for its child SA (see {@link RunningConnections#initiate}); beside a reload, not under it: the wait may be long. */
    public Reload.Outcome initiate(String name) throws Exception {
        return running.initiate(name);
    }

    /** Deletes connection {@code name}'s SAs and keeps it down; never beside a reload or the stop. */
    public Reload.Outcome terminate(String name) throws Exception {
        return reload.exclusively(() -> running.terminate(name));
    }

    /** {@code isthmus p2s disconnect CLIENT} (see {@link PointToSite#disconnect}). */
    public Reload.Outcome disconnectClient(String client) throws Exception {
        PointToSite p = pointToSite;
        if (p == null) {
            return new Reload.Outcome(false, List.of("this gateway has no vpnClientConfiguration: no point-to-site clients"));
        }
        return onLoop(() -> p.disconnect(engine.ikeSas(), client));
    }

    /** Rekeys connection {@code name}'s IKE SA or child SAs now and waits for it (see {@link RunningConnections#rekey}). */
    public Reload.Outcome rekey(String name, boolean child) throws Exception {
        return running.rekey(name, child);
    }

    /** {@code l} hears of every IKE SA and child SA going up, down, rekeyed, or failing; from any thread. */
    public void addEventListener(io.isthmus.ike.IkeEvent.Listener l) {
        engine.addEventListener(l);
    }

    /** {@code isthmus ha handover}: every group this instance carries goes to the partner with its exact numbers. */
    public Reload.Outcome handover() throws Exception {
        if (pair == null) {
            return new Reload.Outcome(false, List.of("this gateway is not one of a pair with floating addresses: nothing to hand over"));
        }
        return reload.exclusively(() -> {
            List<String> handed = pair.handOver(HANDOVER_WAIT);
            if (handed.isEmpty()) {
                return new Reload.Outcome(false, List.of("nothing handed over: this instance carries no group now, or the partner does not "
                        + "answer on the sync link (isthmus status shows which)"));
            }
            String line = "groups " + handed + " handed over to the partner with their exact numbers; keepalived moves their addresses; "
                    + "isthmus ha resume to take them back";
            LOG.log(System.Logger.Level.INFO, "handover: {0}", line);
            return new Reload.Outcome(true, List.of(line));
        });
    }

    /** {@code isthmus ha resume}: after a handover, keepalived may give this instance its groups again. */
    public Reload.Outcome resume() throws Exception {
        if (pair == null) {
            return new Reload.Outcome(false, List.of("this gateway is not one of a pair with floating addresses: nothing to resume"));
        }
        pair.resume();
        String line = "this instance may carry its groups again: keepalived gives them back after its preemption delay";
        LOG.log(System.Logger.Level.INFO, "resume: {0}", line);
        return new Reload.Outcome(true, List.of(line));
    }

    /** The packet captures of this gateway (one at a time). */
    Captures captures() {
        return captures;
    }

    /** The names of the connections it runs now. */
    List<String> connectionNames() {
        return config().connections().stream().map(GatewayConfig.Connection::name).toList();
    }

    private void captureIke(boolean ingress, byte[] d, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        Captures c = captures;
        if (c != null) {
            c.ike(ingress, d, offset, length, local, remote);
        }
    }

    /** Which connection's peer an address is, as {@code config} has them (see {@link ConnectionsByPeer}). */
    private static java.util.function.Function<InetAddress, String> connectionsByPeer(GatewayConfig config) {
        return new ConnectionsByPeer(config);
    }

    /**
     * Copies of the keys of {@code connection}'s (null: every) ESP SAs and IKE SAs, for a capture
     * that Wireshark is to decrypt ({@link KeyExport} writes and wipes them). The IKE SAs are read
     * on the IKE thread.
     */
    private KeyExport.Keys keysForExport(String connection) throws Exception {
        List<Dataplane.ExportedKeys> esp = dataplane.keysForExport(connection);
        List<KeyExport.IkeKeys> ike = onLoop(() -> {
            List<KeyExport.IkeKeys> out = new ArrayList<>();
            for (IkeSa sa : engine.ikeSas()) {
                if (!sa.isUp() || connection != null && !sa.connection().name().equals(connection)) {
                    continue;
                }
                io.isthmus.ike.IkeSaRecord r = sa.record();
                try {
                    var k = r.keys();
                    out.add(new KeyExport.IkeKeys(r.initiatorSpi(), r.responderSpi(), r.proposal().cipher(), k.skEi().clone(), k.skEr().clone(),
                            k.skAi().clone(), k.skAr().clone()));
                } finally {
                    r.destroy();
                }
            }
            return out;
        });
        return new KeyExport.Keys(esp, ike);
    }

    /** A snapshot of everything, for status. */
    public GatewayStatus status() throws Exception {
        // Asked before the IKE thread is: BIRD may take up to its timeout to answer.
        java.util.Map<String, BgpPeerStatus> bgp = bgpPeers();
        List<Dataplane.TunnelStatus> tunnels = dataplane.status();
        packetTimes.observe(tunnels, Instant.now());
        return onLoop(() -> GatewayStatus.of(config(), instance, packetTimes, engine.ikeSas(), tunnels, dataplane.globalCounters(), startedAt,
                new GatewayStatus.Defense(engine.cookiesSent(), engine.halfOpenSas(), ikeFromDataplane.accepted(), ikeFromDataplane.dropped(),
                        io.isthmus.ike.crypto.KeyExchangeMethod.keyPairsGenerated()), pair == null ? null : pair.status(), engine.counters(), bgp)
                .withPointToSite(pointToSite == null ? null : pointToSite.status(engine.ikeSas(), tunnels)));
    }

    /** What a metrics scrape reads: the status snapshot, and the IKE engine's counters (readable from any thread). */
    public GatewayMetrics.Scrape scrape() throws Exception {
        return new GatewayMetrics.Scrape(status(), engine.counters());
    }

    /** Deletes every IKE SA (telling the peers), then stops and wipes the shared keys. */
    @Override
    public void close() {
        long began = System.nanoTime();
        if (captures != null) {
            captures.close(); // its file closed whole, before the packet threads stop
        }
        if (reload != null && !reload.stop(CHANGE_WAIT)) {
            LOG.log(System.Logger.Level.WARNING, "a reload or reset still runs after {0} s; stopping all the same", CHANGE_WAIT.toSeconds());
        }
        if (keepUp != null) {
            keepUp.stop();
        }
        if (bird != null) {
            // While the tunnels are still up: BIRD's Cease reaches the peers, and its routes leave the kernel table.
            bird.close();
        }
        if (pair != null) {
            try {
                List<String> handed = pair.handOver(HANDOVER_WAIT);
                if (!handed.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "groups {0} handed over to the partner in {1} ms", handed,
                            (System.nanoTime() - began) / 1_000_000);
                    // The data plane carries what still arrives here until keepalived has moved the addresses.
                    pair.awaitDrained();
                }
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "the handover to the partner did not finish ({0}); it takes the SAs over with jumped numbers",
                        e.toString());
            }
        }
        if (engine != null) {
            try {
                // Short waits on the IKE thread: a stop (SIGTERM) is over within 5 s even when that thread is stuck.
                Set<IkeSa> deleted = new HashSet<>();
                // From the stop's start: time spent waiting for a reload is taken from the Deletes' wait, so the stop's bound holds.
                long end = began + DELETE_WAIT.toNanos();
                int left = onLoop(() -> deleteAll(deleted), Duration.ofSeconds(1));
                while (left > 0 && System.nanoTime() < end) {
                    Thread.sleep(50);
                    left = onLoop(() -> deleteAll(deleted), Duration.ofSeconds(1));
                }
                if (!deleted.isEmpty()) {
                    LOG.log(left == 0 ? System.Logger.Level.INFO : System.Logger.Level.WARNING, left == 0
                            ? "{0} IKE SA(s) deleted, the peers answered" : "{0} IKE SA(s) deleted, {1} without the peer''s answer in {2} s",
                            deleted.size(), left, DELETE_WAIT.toSeconds());
                }
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "while deleting the IKE SAs: {0}", e.toString());
            }
        }
        if (pair != null) {
            pair.close();
        }
        LearnedRoutes.Following l = learned;
        if (l != null) {
            l.close(); // the host routes into the device go before the device does
        }
        if (dataplane != null) {
            dataplane.close();
        }
        if (ikeSockets != null) {
            ikeSockets.close();
        }
        if (pointToSite != null) {
            pointToSite.close();
        }
        config().destroySecrets();
        LOG.log(System.Logger.Level.INFO, "gateway {0} instance {1} stopped", config.gateway().name(), instance.name());
    }

    /**
     * Deletes every IKE SA not being deleted yet (telling its peer), also those that came up
     * since the last call: a peer's IKE_SA_INIT crossing our stop is still answered, and its SA
     * would outlive us on the peer's side. A half-open one just goes. Returns how many are left.
     * IKE thread only.
     */
    private int deleteAll(Set<IkeSa> deleted) {
        for (IkeSa sa : List.copyOf(engine.ikeSas())) {
            if (pair != null && pair.floatingAddresses().contains(sa.localAddress().getAddress())) {
                // The partner carries these on when keepalived sees this process go: deleting them would end the tunnel.
                continue;
            }
            if (sa.state() != IkeSaState.CONNECTING) {
                deleted.add(sa);
            }
            sa.delete();
        }
        return (int) engine.ikeSas().stream().filter(sa -> pair == null || !pair.floatingAddresses().contains(sa.localAddress().getAddress())).count();
    }

    // ------------------------------------------------------------------------------------------

    /** IKE out: port 500 through Netty, port 4500 through the data plane's socket. */
    private final class GatewayTransport implements Transport {
        @Override
        public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
            captureIke(false, datagram, 0, datagram.length, local, remote);
            if (local.getPort() == config.gateway().tunnel().natTraversalPort()) {
                dataplane.sendIke(datagram, local, remote);
            } else {
                ikeSockets.send(datagram, local, remote);
            }
        }

        @Override
        public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
            dataplane.sendNatKeepalive(local, remote);
        }
    }
}
