package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloads of a gateway wired as the daemon wires it, without root (as {@link ChildSaBridgeTest}):
 * IKE engines over an in-memory network on a manual clock, each with its whole data plane over
 * memory behind a {@link ChildSaBridge}, keep-up on the same clock, and a {@link Reload} reading
 * real configuration files. Gateway A has connections to B and C; a reload keeps A-B as it is
 * (same SPIs, every packet through), deletes A-C on both ends and brings up a new A-D; changed
 * prefixes move routes and renegotiate a policy-based child SA, make-before-break; a new key waits
 * for a reset; a file that does not check changes nothing.
 */
class ReloadWiringTest {
    static final String KEY_B = "the key between a and b";
    static final String KEY_C = "the key between a and c";
    static final String KEY_D = "the key between a and d";

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final List<Gw> gateways = new ArrayList<>();
    /** IKE datagrams sent by anyone so far. */
    final java.util.concurrent.atomic.AtomicInteger ikeDatagrams = new java.util.concurrent.atomic.AtomicInteger();

    ReloadWiringTest() {
        network.dropWhen(d -> {
            ikeDatagrams.incrementAndGet();
            return false;
        });
    }

    @TempDir
    Path dir;

    /** A site's gateway entry in another gateway's file. */
    static String site(String name, String address, String prefixes) {
        return """
                  - name: %s
                    gatewayIpAddress: %s
                    addressPrefixes: [%s]
                """.formatted(name, address, prefixes);
    }

    static String connection(String name, String site, String key, String more) {
        return """
                  - name: %s
                    localNetworkGateway: %s
                    sharedKey: "%s"
                %s""".formatted(name, site, key, more.isEmpty() ? "" : "    " + more.strip().replace("\n", "\n    ") + "\n");
    }

    static String gateway(String name, String address, String addressSpace, String sites, String connections) {
        return """
                virtualNetworkGateway:
                  name: %s
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [%s]
                  instances:
                    - name: %s-0
                      publicIpAddress: %s
                localNetworkGateways:
                %sconnections:
                %s""".formatted(name, addressSpace, name, address, sites, connections);
    }

    /** A answers only for B, C and D: A alone initiates, so which IKE SA is whose is never in doubt. */
    /** B as a peer of A that initiates too (Default mode), so both run duplicate settling. */
    static String peerOfADefault(String key) {
        return gateway("gw-b", "10.0.0.2", "192.168.20.0/24", site("site-a", "10.0.0.1", "192.168.10.0/24"), connection("to-a", "site-a", key, ""));
    }

    static String peerOfA(String name, String address, String addressSpace, String key, String more) {
        return gateway(name, address, addressSpace, site("site-a", "10.0.0.1", "192.168.10.0/24"),
                connection("to-a", "site-a", key, "connectionMode: ResponderOnly\n" + more));
    }

    static final String A_WITH_B_AND_C = gateway("gw-a", "10.0.0.1", "192.168.10.0/24",
            site("site-b", "10.0.0.2", "192.168.20.0/24") + site("site-c", "10.0.0.3", "192.168.30.0/24"),
            connection("to-b", "site-b", KEY_B, "") + connection("to-c", "site-c", KEY_C, ""));

    /** One gateway: the daemon's parts, with the host's routes as a set and the file it reloads. */
    final class Gw {
        final InetAddress address;
        final Path file;
        final IkeEngine engine;
        final ChildSaBridge bridge;
        final Dataplane dataplane;
        final InMemoryEspPort esp = new InMemoryEspPort();
        final List<byte[]> delivered = new ArrayList<>();
        final InMemoryTun tun = new InMemoryTun(false, false, (b, o, l) -> delivered.add(Arrays.copyOfRange(b, o, o + l)));
        final Set<String> routes = new LinkedHashSet<>();
        final KeepUp keepUp;
        final RunningConnections running;
        final Reload reload;
        /** The configuration each reload read (to see that a refused one's keys are wiped). */
        final AtomicReference<GatewayConfig> lastRead = new AtomicReference<>();
        /** The logging settings each applied reload handed on. */
        final List<io.isthmus.control.log.LoggingSettings> logging = new ArrayList<>();
        /** A prefix whose route the host refuses to add (ip route failing). */
        String failingRoute;
        /** When set, reading the file waits for it (a FIFO, a slow disk). */
        volatile java.util.concurrent.CountDownLatch readGate;
        /** When set, handing on the logging settings throws it (a failure after the connections are applied). */
        RuntimeException loggingFails;
        /** When set, the IKE thread runs the reload's task and then fails with it (a timeout, say). */
        Exception ikeFails;

        Gw(String name, String address, String yaml) throws IOException {
            this(name, address, yaml, next -> { });
        }

        Gw(String name, String address, String yaml, Reload.HostCheck hostCheck) throws IOException {
            this.address = InetAddress.ofLiteral(address);
            file = Files.writeString(dir.resolve(name + ".yaml"), yaml);
            GatewayConfig config = ConfigReader.read(file);
            GatewayConfig.Instance instance = config.instance(null);
            InboundDatagrams port4500 = new InboundDatagrams(16, Runnable::run, (d, l, r) -> { });
            bridge = new ChildSaBridge(Runnable::run, clock, port4500);
            engine = new IkeEngine(network.transport(), clock, bridge);
            dataplane = Dataplane.overMemory(new Dataplane.Settings("test0", List.of(this.address), 4500, true, 1500, 1350, 1 << 20), bridge, tun,
                    esp);
            bridge.connect(engine, dataplane);
            dataplane.tunnels(RunningConnections.tunnels(config, instance));
            List<Connection> ike = new ArrayList<>();
            for (GatewayConfig.Connection c : config.connections()) {
                ike.add(IkeConnections.of(config, instance, c));
            }
            ike.forEach(engine::addConnection);
            io.isthmus.control.config.TunnelRoutes.of(config).forEach(r -> routes.add(r.prefix().toString()));
            keepUp = new KeepUp(config, instance, engine, clock, dataplane::reclaim);
            SiteRoutes hostRoutes = new SiteRoutes() {
                @Override
                public void add(List<String> prefixes) throws IOException {
                    if (prefixes.contains(failingRoute)) {
                        throw new IOException("ip route replace " + failingRoute + " dev test0 failed: RTNETLINK answers: File exists");
                    }
                    routes.addAll(prefixes);
                }

                @Override
                public List<String> remove(List<String> prefixes) {
                    routes.removeAll(prefixes);
                    return List.of();
                }
            };
            RunningConnections.IkeThread ikeThread = new RunningConnections.IkeThread() {
                @Override
                public <T> T call(Callable<T> task) throws Exception {
                    T t = task.call();
                    if (ikeFails != null) {
                        throw ikeFails;
                    }
                    return t;
                }
            };
            running = new RunningConnections(config, instance, ike, engine, ikeThread, dataplane, keepUp, hostRoutes);
            Function<Path, GatewayConfig> reader = path -> {
                java.util.concurrent.CountDownLatch gate = readGate;
                if (gate != null) {
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                GatewayConfig c = ConfigReader.read(path);
                lastRead.set(c);
                return c;
            };
            reload = new Reload(running, reader, hostCheck, settings -> {
                logging.add(settings);
                if (loggingFails != null) {
                    throw loggingFails;
                }
            }, Duration.ofMillis(200));
            network.attach(this.address, engine);
            gateways.add(this);
        }

        Reload.Outcome reload(String yaml) throws IOException {
            Files.writeString(file, yaml);
            Reload.Outcome outcome = reload.run();
            network.deliverAll(clock);
            return outcome;
        }

        List<IkeSa> ikeSas(String connection) {
            return engine.ikeSas().stream().filter(s -> s.connection().name().equals(connection) && s.state() != IkeSaState.DESTROYED).toList();
        }

        IkeSa ikeSa(String connection) {
            List<IkeSa> sas = ikeSas(connection);
            assertEquals(1, sas.size(), connection + ": " + sas);
            return sas.getFirst();
        }

        /** Inbound SPIs of the child SAs IKE holds for {@code connection}. */
        List<Integer> childSpis(String connection) {
            return ikeSas(connection).stream().flatMap(s -> s.childSas().stream()).map(c -> c.inbound().spi()).toList();
        }

        /** The data plane's tunnel, or null. */
        Dataplane.TunnelStatus tunnel(String name) {
            return dataplane.status().stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
        }

        void drain() {
            while (dataplane.runDutyCycle() > 0) {
                // a burst per port each cycle
            }
        }

        /** A packet from this side's network into its TUN device: the ESP datagrams it became, each carried to the gateway it is for. */
        void send(byte[] packet) {
            tun.offer(packet);
            drain();
            for (InMemoryEspPort.Datagram d; (d = esp.sent().poll()) != null; ) {
                InetAddress to = d.remote().getAddress();
                Gw there = gateways.stream().filter(g -> g.address.equals(to)).findFirst().orElseThrow();
                there.esp.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), d.udp(), d.bytes()));
                there.drain();
            }
        }
    }

    static <T> T onThisThread(Callable<T> task) throws Exception {
        return task.call();
    }

    /** Keep-up rounds (every 5 s) and the network, for {@code seconds} of virtual time. */
    void run(int seconds) {
        network.run(clock, Duration.ofSeconds(seconds), Duration.ofSeconds(1));
    }

    static boolean wiped(byte[] key) {
        return Arrays.equals(key, new byte[key.length]);
    }

    static byte[] key(GatewayConfig config, String connection) {
        return config.connections().stream().filter(c -> c.name().equals(connection)).findFirst().orElseThrow().sharedKey();
    }

    @Test
    void theUnchangedConnectionKeepsItsSasTheRemovedOneIsDeletedOnBothEndsTheAddedOneComesUp() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        Gw c = new Gw("c", "10.0.0.3", peerOfA("gw-c", "10.0.0.3", "192.168.30.0/24", KEY_C, ""));
        Gw d = new Gw("d", "10.0.0.4", peerOfA("gw-d", "10.0.0.4", "192.168.40.0/24", KEY_D, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        IkeSa ab = a.ikeSa("to-b");
        long spiI = ab.initiatorSpi();
        long spiR = ab.responderSpi();
        List<Integer> childrenAb = a.childSpis("to-b");
        List<Integer> childrenBa = b.childSpis("to-a");
        assertEquals(1, childrenAb.size());
        assertEquals(1, c.childSpis("to-a").size(), "A-C is up");
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 1));
        GatewayConfig before = a.running.config();

        Reload.Outcome outcome = a.reload(gateway("gw-a", "10.0.0.1", "192.168.10.0/24",
                site("site-d", "10.0.0.4", "192.168.40.0/24") + site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-d", "site-d", KEY_D, "") + connection("to-b", "site-b", KEY_B, "")));
        assertTrue(outcome.applied(), outcome.lines().toString());
        assertTrue(outcome.lines().containsAll(List.of("to-b: unchanged, its SAs kept", "to-d: added; it comes up now",
                "to-c: removed; its SAs deleted (the peer told), its tunnel and routes gone")), outcome.lines().toString());
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 2));

        // A-C: A told C; both ends hold nothing of it any more, its route and tunnel gone.
        assertTrue(c.ikeSas("to-a").isEmpty(), "C was told: " + c.engine.ikeSas());
        assertTrue(a.ikeSas("to-c").isEmpty());
        assertEquals(null, a.tunnel("to-c"));
        clock.advance(ChildSaBridge.INBOUND_GRACE.plusSeconds(1));
        assertTrue(c.tunnel("to-a").sas().isEmpty(), "C's data plane let its SAs go: " + c.tunnel("to-a").sas());
        assertEquals(Set.of("192.168.20.0/24", "192.168.40.0/24"), a.routes);

        // A-D: the next keep-up round brings it up.
        run(KeepUp.PERIOD.toSecondsPart() + 1);
        assertEquals(1, a.childSpis("to-d").size(), "A-D is up: " + a.engine.ikeSas());
        assertEquals(1, d.tunnel("to-a").sas().size());
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.40.9", 3));
        assertEquals(3, d.delivered.getLast()[28]);

        // A-B: the same IKE SA and child SAs at both ends, and every packet through.
        assertSame(ab, a.ikeSa("to-b"));
        assertEquals(spiI, b.ikeSa("to-a").initiatorSpi());
        assertEquals(spiR, b.ikeSa("to-a").responderSpi());
        assertEquals(childrenAb, a.childSpis("to-b"));
        assertEquals(childrenBa, b.childSpis("to-a"));
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 4));
        assertEquals(List.of(1, 2, 4), b.delivered.stream().map(p -> (int) p[28]).toList(), "no packet lost");

        // Its key now lives in the new configuration only: the old copy is wiped, the new one works.
        assertTrue(wiped(key(before, "to-b")), "the replaced configuration's key is wiped");
        assertTrue(wiped(key(before, "to-c")), "and the removed connection's");
        assertFalse(wiped(key(a.running.config(), "to-b")));
        a.running.reset("to-b");
        network.deliverAll(clock);
        IkeSa again = a.ikeSa("to-b");
        assertNotEquals(spiI, again.initiatorSpi(), "reset: a new IKE SA, authenticated with the key of the new configuration");
        assertEquals(IkeSaState.ESTABLISHED, again.state());
        assertEquals(again.initiatorSpi(), b.ikeSa("to-a").initiatorSpi(), "and B has dropped the old one");
    }

    @Test
    void newPrefixesMoveRoutesAndRenewAPolicyBasedChildSaMakeBeforeBreak() throws Exception {
        String policyBased = "usePolicyBasedTrafficSelectors: true";
        Gw a = new Gw("a", "10.0.0.1", gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, policyBased)));
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, policyBased));
        a.keepUp.start(Duration.ZERO);
        run(1);
        long spiI = a.ikeSa("to-b").initiatorSpi();
        List<Integer> old = a.childSpis("to-b");

        // B first: it asks for its wider side; A, not reloaded yet, narrows it to what it has.
        assertTrue(b.reload(peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24, 192.168.21.0/24", KEY_B, policyBased)).applied());
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 1));
        Reload.Outcome outcome = a.reload(gateway("gw-a", "10.0.0.1", "192.168.10.0/24",
                site("site-b", "10.0.0.2", "192.168.20.0/24, 192.168.21.0/24"), connection("to-b", "site-b", KEY_B, policyBased)));
        assertTrue(outcome.lines().contains("to-b: prefixes: routes and tunnel table updated, its child SAs replaced by ones with the new selectors"),
                outcome.lines().toString());
        assertEquals(Set.of("192.168.20.0/24", "192.168.21.0/24"), a.routes);
        assertEquals(spiI, a.ikeSa("to-b").initiatorSpi(), "the IKE SA stays");
        List<Integer> now = a.childSpis("to-b");
        assertEquals(1, now.size(), "one child SA, with both prefixes: " + a.ikeSa("to-b").childSas());
        assertFalse(old.contains(now.getFirst()));
        assertEquals(List.of("192.168.20.0/24", "192.168.21.0/24"),
                a.ikeSa("to-b").childSas().getFirst().remoteSelectors().stream().map(Object::toString).toList());

        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 2));
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.21.7", 3));
        assertEquals(List.of(1, 2, 3), b.delivered.stream().map(p -> (int) p[28]).toList(), "the old prefix throughout, the new one now");
    }

    /**
     * An IngressSnat rule added by a reload: the host's route and the tunnel table move from the
     * site's real prefix to the rule's external mapping, and the SAs stay (route-based, any to any).
     * (Translating the packets themselves is the data plane's NAT, not wired here.)
     */
    @Test
    void anIngressRuleAddedMovesTheRoutesToItsExternalMappingAndKeepsTheSas() throws Exception {
        String natRule = """
                  natRules:
                    - {name: b-in, mode: IngressSnat, internalMappings: [192.168.20.0/24], externalMappings: [100.64.20.0/24]}
                """;
        String plain = gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, "")).replace("sku: VpnGw1", "sku: VpnGw2");
        Gw a = new Gw("a", "10.0.0.1", plain);
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        IkeSa ab = a.ikeSa("to-b");
        List<Integer> children = a.childSpis("to-b");
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 1));
        assertEquals(Set.of("192.168.20.0/24"), a.routes);

        String translated = plain.replace("localNetworkGateways:", natRule + "localNetworkGateways:")
                .replace("sharedKey: \"" + KEY_B + "\"", "sharedKey: \"" + KEY_B + "\"\n    ingressNatRules: [b-in]");
        Reload.Outcome outcome = a.reload(translated);
        assertTrue(outcome.applied(), outcome.lines().toString());
        assertTrue(outcome.lines().contains("to-b: prefixes: routes and tunnel table updated; its SAs kept (route-based: any to any);"
                + " NAT rules: its translations replaced now (flows of a changed Dynamic rule start over)"), outcome.lines().toString());
        // As Azure: a NAT connection proposes any to any; the tunnel table, not the selectors, decides what goes in.
        Connection built = IkeConnections.of(a.running.config(), a.running.instance(), a.running.config().connections().getFirst());
        assertEquals(List.of("0.0.0.0/0", "::/0"), built.localSelectors().stream().map(Object::toString).toList());
        assertEquals(List.of("0.0.0.0/0", "::/0"), built.remoteSelectors().stream().map(Object::toString).toList());
        assertEquals(Set.of("100.64.20.0/24"), a.routes, "the real prefix's route gone, the external mapping's added");
        assertSame(ab, a.ikeSa("to-b"));
        assertEquals(children, a.childSpis("to-b"));

        // The tunnel table follows: the external mapping leads into to-b, the site's real prefix no longer does.
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "100.64.20.7", 2));
        a.send(ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 3));
        assertEquals(List.of(1, 2), b.delivered.stream().map(p -> (int) p[28]).toList());
    }

    @Test
    void aNewKeyIsUsedAtOnceByTheNewIkeSaAResetMakes() throws Exception {
        String newKey = "a new key between a and b";
        Gw a = new Gw("a", "10.0.0.1", gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, "")));
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        long spiI = a.ikeSa("to-b").initiatorSpi();
        Reload.Outcome atB = b.reload(peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", newKey, ""));
        Reload.Outcome atA = a.reload(gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", newKey, "")));
        assertTrue(atA.lines().contains("to-b: new key used at the next IKE rekey (reauthentication), or at once with isthmus connection reset to-b"),
                atA.lines().toString());
        assertTrue(atB.applied());
        assertTrue(atA.lines().stream().noneMatch(l -> l.contains(newKey)), "the key is never told");
        assertEquals(spiI, a.ikeSa("to-b").initiatorSpi(), "the running IKE SA stays");

        String reset = a.running.reset("to-b");
        network.deliverAll(clock);
        assertEquals("to-b: 1 IKE SA(s) deleted, the peer told; a new IKE SA initiated", reset);
        assertNotEquals(spiI, a.ikeSa("to-b").initiatorSpi());
        assertEquals(IkeSaState.ESTABLISHED, a.ikeSa("to-b").state(), "both ends authenticated with the new key");
        assertEquals(a.ikeSa("to-b").initiatorSpi(), b.ikeSa("to-a").initiatorSpi());
    }

    /** A reload wipes the replaced configuration's key: a connection reloaded with the same key is rekeyed, not reauthenticated. */
    @Test
    void theSameKeyReloadedIsRekeyedWithCreateChildSaNotReauthenticated() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, "")));
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        IkeSa old = a.ikeSa("to-b");
        assertTrue(b.reload(peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24, 192.168.21.0/24", KEY_B, "")).applied());
        assertTrue(a.reload(gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24, 192.168.21.0/24"),
                connection("to-b", "site-b", KEY_B, ""))).applied());
        assertNotSame(old.authenticatedWith(), old.connection(), "the connection was replaced");
        assertFalse(old.credentialsChanged(), "the same key, though the old configuration's copy is wiped");
        run(28_800);
        assertEquals(IkeSaState.DESTROYED, old.state());
        assertNotNull(old.replacement(), "rekeyed with CREATE_CHILD_SA");
        assertEquals(old.replacement().current(), a.ikeSa("to-b"));
    }

    /*
     * B's IKE_SA_INIT to A, after a reload of A that asks every request for a cookie: answered with
     * one, B answers it and gets its SAs; after a reload that switches cookies off, B's next is not.
     */
    @Test
    void aReloadAppliesTheIkeDefenseToTheRequestsAfterIt() throws Exception {
        String plain = gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, "connectionMode: ResponderOnly"));
        Gw a = new Gw("a", "10.0.0.1", plain);
        Gw b = new Gw("b", "10.0.0.2", peerOfADefault(KEY_B));
        Reload.Outcome always = a.reload(plain.replace("  instances:", "  ikeDefense: {cookieThreshold: 0}\n  instances:"));
        assertTrue(always.applied(), always.lines().toString());
        assertTrue(always.lines().stream().anyMatch(l -> l.startsWith("ikeDefense: cookies on (0 half-open")), always.lines().toString());
        b.keepUp.start(Duration.ZERO);
        run(1);
        assertEquals(1, a.engine.cookiesSent(), "B's request was asked for a cookie");
        assertEquals(IkeSaState.ESTABLISHED, a.ikeSa("to-b").state());
        assertTrue(a.reload(plain.replace("  instances:", "  ikeDefense: {cookies: false, cookieThreshold: 0}\n  instances:")).applied());
        b.ikeSa("to-a").delete();
        run(11);
        assertEquals(IkeSaState.ESTABLISHED, a.ikeSa("to-b").state(), "B made a new one");
        assertEquals(1, a.engine.cookiesSent(), "and was asked for no cookie");
    }

    /** Both gateways keep each other up (KeepUp's duplicate settling included) through the reauthentication at the IKE rekey. */
    @Test
    void aNewKeyOnBothEndsIsUsedAtTheNextIkeRekeyWithoutATunnelGap() throws Exception {
        String newKey = "a new key between a and b";
        Gw a = new Gw("a", "10.0.0.1", gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", KEY_B, "")));
        Gw b = new Gw("b", "10.0.0.2", peerOfADefault(KEY_B));
        a.keepUp.start(Duration.ZERO);
        b.keepUp.start(Duration.ZERO);
        run(60); // both ends initiated: their duplicate IKE SAs settled
        IkeSa old = a.ikeSa("to-b");
        assertTrue(b.reload(peerOfADefault(newKey)).applied());
        assertTrue(a.reload(gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
                connection("to-b", "site-b", newKey, ""))).applied());
        for (int s = 0; s < 28_800; s++) {
            run(1);
            assertFalse(a.childSpis("to-b").isEmpty(), "a has no child SA at " + clock.now());
            assertFalse(b.childSpis("to-a").isEmpty(), "b has no child SA at " + clock.now());
        }
        assertEquals(IkeSaState.DESTROYED, old.state());
        IkeSa fresh = a.ikeSa("to-b");
        assertEquals(IkeSaState.ESTABLISHED, fresh.state());
        assertFalse(fresh.credentialsChanged(), "authenticated with the new key");
        assertEquals(fresh.initiatorSpi(), b.ikeSa("to-a").initiatorSpi());
        assertEquals(fresh.responderSpi(), b.ikeSa("to-a").responderSpi());
    }

    @Test
    void aConfigurationThatDoesNotCheckChangesNothingAndItsKeysAreWiped() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C, next -> {
            if (next.localNetworkGateways().stream().anyMatch(s -> s.addressPrefixes().contains("192.168.99.0/24"))) {
                throw new ConfigException(next.source(), "localNetworkGateways[0].addressPrefixes[1]",
                        "192.168.99.0/24 overlaps 192.168.99.0/24, a network this host is on (dev mgmt)");
            }
        });
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        new Gw("c", "10.0.0.3", peerOfA("gw-c", "10.0.0.3", "192.168.30.0/24", KEY_C, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        GatewayConfig running = a.running.config();
        List<Integer> children = a.childSpis("to-b");
        Set<String> routes = Set.copyOf(a.routes);
        int sent = ikeDatagrams.get();

        Map<String, String> refusals = Map.of(
                "a field the reader refuses", A_WITH_B_AND_C.replace("sku: VpnGw1", "sku: VpnGw9"),
                "a change that needs a restart", A_WITH_B_AND_C.replace("  instances:", "  tunnel: {device: isthmus1}\n  instances:"),
                "the host's check", A_WITH_B_AND_C.replace("[192.168.20.0/24]", "[192.168.20.0/24, 192.168.99.0/24]"),
                "a route the host refuses", A_WITH_B_AND_C.replace("[192.168.20.0/24]", "[192.168.20.0/24, 192.168.98.0/24]")
                        .replace("[192.168.30.0/24]", "[192.168.30.0/24, 192.168.97.0/24]"));
        Map<String, String> reasons = Map.of(
                "a field the reader refuses", a.file + ": virtualNetworkGateway.sku: 'VpnGw9' is not allowed",
                "a change that needs a restart", a.file + ": virtualNetworkGateway.tunnel.device: isthmus0 -> isthmus1 cannot change while the gateway"
                        + " runs; restart it to apply",
                "the host's check", a.file + ": localNetworkGateways[0].addressPrefixes[1]: 192.168.99.0/24 overlaps",
                "a route the host refuses", a.file + ": ip route replace 192.168.97.0/24 dev test0 failed");
        a.failingRoute = "192.168.97.0/24";
        for (var refusal : refusals.entrySet()) {
            a.lastRead.set(null);
            Reload.Outcome outcome = a.reload(refusal.getValue());
            assertFalse(outcome.applied(), refusal.getKey());
            assertEquals("reload refused, the running configuration stays:", outcome.lines().getFirst());
            assertTrue(outcome.lines().get(1).startsWith(reasons.get(refusal.getKey())), refusal.getKey() + ": " + outcome.lines());
            assertSame(running, a.running.config(), refusal.getKey());
            assertEquals(routes, a.routes, refusal.getKey() + ": the routes it added are gone again");
            assertEquals(children, a.childSpis("to-b"), refusal.getKey());
            assertEquals(sent, ikeDatagrams.get(), refusal.getKey() + ": nothing said to a peer");
            GatewayConfig read = a.lastRead.get();
            if (read != null) {
                assertTrue(wiped(key(read, "to-b")) && wiped(key(read, "to-c")), refusal.getKey() + ": the refused file's keys are wiped");
            }
            assertFalse(wiped(key(running, "to-b")), refusal.getKey() + ": the running ones are not");
        }
        assertEquals(List.of("to-b", "to-c"), a.dataplane.status().stream().map(Dataplane.TunnelStatus::name).toList());
        Files.delete(a.file);
        Reload.Outcome gone = a.reload.run();
        assertFalse(gone.applied());
        assertTrue(gone.lines().get(1).startsWith(a.file + ": no such file"), gone.lines().toString());
        assertSame(running, a.running.config());
        IllegalArgumentException unknown = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> a.running.reset("to-x"));
        assertEquals("no connection 'to-x'; this gateway has: to-b, to-c", unknown.getMessage());
        assertTrue(a.logging.isEmpty(), "a refused file's logging settings are not applied");
        assertTrue(a.reload(A_WITH_B_AND_C).applied(), "the same file as at start goes in");
        assertEquals(List.of(io.isthmus.control.log.LoggingSettings.DEFAULT), a.logging, "and its logging settings (run-time levels undone)");
        Reload.Outcome louder = a.reload(A_WITH_B_AND_C + "logging:\n  levels:\n    ike: debug\n");
        assertEquals("logging: the file's new format and levels applied", louder.lines().getLast());
        assertEquals(io.isthmus.control.log.LogLevel.DEBUG, a.logging.getLast().level(io.isthmus.control.log.Subsystem.IKE));
        assertEquals(children, a.childSpis("to-b"));
        assertEquals(1, b.childSpis("to-a").size());
    }

    /** A self-signed ECDSA certificate for {@code subject} and its key, written as PEM files (the key for its owner alone). */
    static void certificate(String subject, Path certFile, Path keyFile) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair keys = g.generateKeyPair();
        org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name(subject);
        java.util.Date from = java.util.Date.from(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        java.util.Date to = java.util.Date.from(java.time.Instant.parse("2036-01-01T00:00:00Z"));
        var holder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.valueOf(System.nanoTime()), from, to,
                name, keys.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
        try (var w = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(Files.newBufferedWriter(certFile))) {
            w.writeObject(holder);
        }
        // PKCS#8, as openssl genpkey writes it.
        Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(keys.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    /*
     * The same settings, the files under them rewritten (a renewed certificate, as certbot or an
     * operator's copy leaves it): compared by their contents, it is a new key.
     */
    @Test
    void aCertificateRewrittenUnderTheSameNameIsANewKey() throws Exception {
        Path cert = dir.resolve("gw-a.pem");
        Path key = dir.resolve("gw-a.key");
        Path ca = dir.resolve("ca.pem");
        certificate("CN=gw-a", cert, key);
        certificate("CN=ca", ca, dir.resolve("ca.key"));
        String yaml = gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"), """
                  - name: to-b
                    localNetworkGateway: site-b
                    certificateAuthentication:
                      outboundAuthCertificate: %s
                      privateKey: %s
                      inboundAuthCertificateChain: [%s]
                """.formatted(cert, key, ca));
        Gw a = new Gw("a", "10.0.0.1", yaml);
        assertEquals(List.of("to-b: unchanged, its SAs kept"), a.reload(yaml).lines().subList(1, 2));
        certificate("CN=gw-a", cert, key);
        Reload.Outcome renewed = a.reload(yaml);
        assertEquals(List.of("to-b: new key used at the next IKE rekey (reauthentication), or at once with isthmus connection reset to-b"), renewed.lines().subList(1, 2));
        assertEquals(List.of("to-b: unchanged, its SAs kept"), a.reload(yaml).lines().subList(1, 2), "and now it is the running one");
        Files.writeString(key, "not a key");
        Reload.Outcome broken = a.reload(yaml);
        assertFalse(broken.applied(), "a key file that does not load is refused: " + broken.lines());
        assertTrue(broken.lines().get(1).startsWith(a.file + ": "), broken.lines().toString());
    }

    /** A with B alone, and its file's key inline; the file readable by others (a warning, not a refusal). */
    static final String A_WITH_B = gateway("gw-a", "10.0.0.1", "192.168.10.0/24", site("site-b", "10.0.0.2", "192.168.20.0/24"),
            connection("to-b", "site-b", KEY_B, ""));

    /* Anything that fails once the connections are applied (the logging settings) is told, and neither refuses nor wipes. */
    @Test
    void aFailureAfterTheConnectionsAreAppliedNeverRefusesThemNorWipesTheirKeys() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        a.loggingFails = new IllegalStateException("the log output broke");
        Reload.Outcome outcome = a.reload(A_WITH_B);
        assertTrue(outcome.applied(), outcome.lines().toString());
        assertEquals(Reload.Result.APPLIED, outcome.result());
        assertTrue(outcome.lines().stream().anyMatch(l -> l.startsWith("logging: the file's logging settings could not be applied")),
                outcome.lines().toString());
        assertTrue(outcome.lines().contains("to-c: removed; its SAs deleted (the peer told), its tunnel and routes gone"), outcome.lines().toString());
        assertFalse(wiped(key(a.running.config(), "to-b")), "the engine's key stays");
        assertSame(a.lastRead.get(), a.running.config());
        a.running.reset("to-b");
        network.deliverAll(clock);
        assertEquals(IkeSaState.ESTABLISHED, a.ikeSa("to-b").state(), "the running key still authenticates");
        assertEquals(a.ikeSa("to-b").initiatorSpi(), b.ikeSa("to-a").initiatorSpi());
    }

    /* The new file's warnings are told, as at start; a file naming a systemd credential gets the note that a rotated one needs a restart. */
    @Test
    void theNewFilesWarningsAreInTheAnswer() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B);
        Files.setPosixFilePermissions(a.file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Reload.Outcome outcome = a.reload(A_WITH_B);
        assertTrue(outcome.applied());
        assertEquals(a.running.config().warnings(), outcome.lines().stream().filter(l -> l.contains("chmod 600")).toList());
        assertFalse(a.running.config().warnings().isEmpty());
        assertFalse(outcome.lines().contains(Reload.CREDENTIALS_NOTE));
        Path withCredential = dir.resolve("cred.yaml");
        Files.writeString(withCredential, A_WITH_B.replace("sharedKey: \"" + KEY_B + "\"", "sharedKeyCredential: psk-b"));
        Path credentials = Files.createDirectories(dir.resolve("credentials"));
        Files.writeString(credentials.resolve("psk-b"), KEY_B);
        Files.setPosixFilePermissions(credentials.resolve("psk-b"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        GatewayConfig credentialConfig = ConfigReader.read(withCredential, Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get);
        assertTrue(credentialConfig.usesCredentials());
        credentialConfig.destroySecrets();
        assertFalse(a.running.config().usesCredentials());
    }

    /* A reload failing on the IKE thread: its own result, and the running state as far as it went (removed connections, routes). */
    @Test
    void aPartlyAppliedReloadSaysSoAndForgetsWhatItRemoved() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        GatewayConfig before = a.running.config();
        Connection toC = IkeConnections.of(before, before.instance(null), before.connections().get(1));
        assertTrue(a.running.sameAuthentication("to-c", toC));
        a.ikeFails = new java.util.concurrent.TimeoutException("the IKE thread did not answer in 10 s");
        Reload.Outcome outcome = a.reload(A_WITH_B);
        assertFalse(outcome.applied());
        assertEquals(Reload.Result.PARTLY_APPLIED, outcome.result(), outcome.lines().toString());
        assertTrue(outcome.lines().getFirst().contains("applied only partly"), outcome.lines().toString());
        assertFalse(a.running.sameAuthentication("to-c", toC), "the removed connection is gone from what keys are compared with");
        assertEquals(Set.of("192.168.20.0/24"), a.routes, "the removed site's route went");
        assertFalse(wiped(key(before, "to-b")), "both configurations' keys stay");
    }

    /* Resets and reloads wait for one running a short while, then say so: nothing hangs, nothing applies later unseen. */
    @Test
    void aReloadWhileAnotherRunsIsBusyAndChangesNothing() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        GatewayConfig running = a.running.config();
        a.readGate = new java.util.concurrent.CountDownLatch(1);
        var first = java.util.concurrent.CompletableFuture.supplyAsync(a.reload::run, ReloadWiringTest::ownThread);
        Thread.sleep(100);
        Reload.Outcome second = a.reload.run();
        assertEquals(Reload.Result.BUSY, second.result(), second.lines().toString());
        assertEquals(List.of(Reload.BUSY), second.lines());
        assertFalse(second.applied());
        a.readGate.countDown();
        assertTrue(first.get(5, java.util.concurrent.TimeUnit.SECONDS).applied());
        assertSame(running.source(), a.running.config().source());
    }

    /* A stop: it waits for a reload in progress (bounded), refuses those that come later, and a reset during it makes no new IKE SA. */
    @Test
    void aStopWaitsForTheReloadInProgressAndRefusesLaterOnes() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        Gw b = new Gw("b", "10.0.0.2", peerOfA("gw-b", "10.0.0.2", "192.168.20.0/24", KEY_B, ""));
        a.keepUp.start(Duration.ZERO);
        run(1);
        a.readGate = new java.util.concurrent.CountDownLatch(1);
        var inProgress = java.util.concurrent.CompletableFuture.supplyAsync(a.reload::run, ReloadWiringTest::ownThread);
        Thread.sleep(50);
        assertFalse(a.reload.stop(Duration.ofMillis(100)), "bounded: the stop goes on without a reload stuck reading");
        a.readGate.countDown();
        Reload.Outcome late = inProgress.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(List.of(Reload.STOPPING), late.lines(), "a reload that read its file after the stop began applies nothing");
        assertTrue(wiped(key(a.lastRead.get(), "to-b")), "and its keys are wiped");
        assertFalse(wiped(key(a.running.config(), "to-b")));

        a.lastRead.set(null);
        Reload.Outcome after = a.reload.run();
        assertEquals(Reload.Result.REFUSED, after.result());
        assertEquals(List.of(Reload.STOPPING), after.lines());
        assertEquals(null, a.lastRead.get(), "not even read");
        Reload.Outcome reset = a.reload.exclusively(() -> new Reload.Outcome(true, List.of(a.running.reset("to-b"))));
        assertEquals(List.of(Reload.STOPPING), reset.lines());

        // KeepUp stopped (the stop's next step): a reset that got in before makes no new IKE SA.
        a.keepUp.stop();
        assertEquals("to-b: 1 IKE SA(s) deleted, the peer told; the gateway is stopping: none made again", a.running.reset("to-b"));
        network.deliverAll(clock);
        assertTrue(a.ikeSas("to-b").isEmpty(), a.engine.ikeSas().toString());
        assertTrue(b.ikeSas("to-a").isEmpty());
    }

    /* A reload in progress when the stop begins ends before the stop goes on (applying nothing, if it was still reading). */
    @Test
    void aStopWaitsForAReloadInProgress() throws Exception {
        Gw a = new Gw("a", "10.0.0.1", A_WITH_B_AND_C);
        var gate = new java.util.concurrent.CountDownLatch(1);
        a.readGate = gate;
        var inProgress = java.util.concurrent.CompletableFuture.supplyAsync(a.reload::run, ReloadWiringTest::ownThread);
        Thread.sleep(100);
        var stop = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.reload.stop(Duration.ofSeconds(5)), ReloadWiringTest::ownThread);
        Thread.sleep(100);
        assertFalse(stop.isDone(), "the stop waits for it");
        gate.countDown();
        assertTrue(stop.get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(List.of(Reload.STOPPING), inProgress.get().lines());
        assertTrue(wiped(key(a.lastRead.get(), "to-b")));
    }

    /** Each task on a thread of its own (the common pool may have one thread on two cores, and these tasks block). */
    static void ownThread(Runnable task) {
        Thread.ofPlatform().daemon().start(task);
    }
}
