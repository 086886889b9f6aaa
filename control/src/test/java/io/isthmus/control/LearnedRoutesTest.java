package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.linux.KernelRoute;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The learned-routes adapter fed route events as the monitor would give them, into a real
 * (I/O-less) data plane and a recording of the host routes: no root needed.
 */
class LearnedRoutesTest {
    static final InetAddress PEER_A = InetAddress.ofLiteral("169.254.21.2");
    static final InetAddress PEER_B = InetAddress.ofLiteral("169.254.22.2");
    static final Map<InetAddress, String> PEERS = Map.of(PEER_A, "to-a", PEER_B, "to-b");

    final Dataplane dataplane = Dataplane.withoutIo(new Dataplane.Settings("isthmus0", List.of(InetAddress.ofLiteral("10.0.0.1")), 4500,
            false, 1500, 1350, 1 << 20), null);
    final Recorded host = new Recorded();
    final AtomicInteger tablePublishes = new AtomicInteger();
    LearnedRoutes routes;

    /** The host routes as the adapter left them, and how many batches it took. */
    static final class Recorded implements LearnedRoutes.HostRoutes {
        final Set<String> routes = new TreeSet<>();
        int batches;
        int removedAll;
        /** Prefixes the "kernel" refuses (ip -force: the other lines still go in, the batch fails). */
        final Set<String> refusing = new TreeSet<>();

        @Override
        public synchronized void apply(List<String> add, List<String> remove) throws java.io.IOException {
            batches++;
            boolean failed = false;
            for (String p : remove) {
                failed |= !routes.remove(p);
            }
            for (String p : add) {
                if (refusing.contains(p)) {
                    failed = true;
                } else {
                    routes.add(p);
                }
            }
            if (failed) {
                throw new java.io.IOException("ip -force -batch: a line failed");
            }
        }

        @Override
        public synchronized List<String> installed() {
            return List.copyOf(routes);
        }

        @Override
        public synchronized void removeAll() {
            removedAll++;
            routes.clear();
        }
    }

    LearnedRoutes routes(LearnedRoutes.Settings settings, ProtectedDestinations protect, Set<AddressPrefix> configured) {
        dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-a", false, List.of("169.254.21.2/32", "10.1.0.0/16")),
                new Dataplane.TunnelSpec("to-b", false, List.of("169.254.22.2/32")), new Dataplane.TunnelSpec("to-c", false, List.of("10.3.0.0/16"))));
        routes = new LearnedRoutes(settings, PEERS, configured, protect, byTunnel -> {
            tablePublishes.incrementAndGet();
            dataplane.learnedRoutes(byTunnel);
        }, host);
        return routes;
    }

    LearnedRoutes routes() {
        return routes(LearnedRoutes.Settings.defaults(), ProtectedDestinations.none(), Set.of(AddressPrefix.parse("10.1.0.0/16")));
    }

    @AfterEach
    void close() {
        if (routes != null) {
            routes.close();
        }
    }

    static KernelRoute route(String prefix, int metric, InetAddress... gateways) {
        AddressPrefix p = AddressPrefix.parse(prefix);
        String[] parts = prefix.split("/");
        byte[] dst = InetAddress.ofLiteral(parts[0]).getAddress();
        List<KernelRoute.NextHop> hops = new ArrayList<>();
        for (InetAddress g : gateways) {
            hops.add(new KernelRoute.NextHop(g, 3));
        }
        return new KernelRoute(dst.length == 16, dst, p.length(), 201, KernelRoute.RTPROT_BIRD, KernelRoute.RTN_UNICAST, 0, metric, hops);
    }

    /** The learned part of the data plane's table, as "prefix -> tunnel". */
    List<String> learnedInTable() {
        return dataplane.tunnelRoutes().stream().filter(r -> r.learned()).map(r -> r.prefixText() + " -> " + r.tunnel().name()).sorted().toList();
    }

    @Test
    void aRouteFromAPeerGoesToItsConnectionAndAWithdrawalTakesItOut() {
        LearnedRoutes r = routes();
        KernelRoute learned = route("10.99.0.0/24", 32, PEER_A);
        r.added(learned, System.nanoTime());
        r.flush();
        assertEquals(List.of("10.99.0.0/24 -> to-a"), learnedInTable());
        assertEquals(Set.of("10.99.0.0/24"), host.routes);
        LearnedRoutes.Applied applied = r.lastApplied();
        assertNotNull(applied);
        assertTrue(applied.publishedNanos() >= applied.firstMessageNanos() && applied.hostRoutesNanos() >= applied.publishedNanos());
        assertEquals(1, applied.prefixes());

        r.removed(learned, System.nanoTime());
        r.flush();
        assertEquals(List.of(), learnedInTable());
        assertEquals(Set.of(), host.routes);
    }

    @Test
    void theSamePrefixConfiguredKeepsItsStaticRouteAndHostRoute() {
        LearnedRoutes r = routes();
        // 10.1.0.0/16 is to-a's configured prefix; learned from to-b it loses (same length: the configured one).
        r.added(route("10.1.0.0/16", 32, PEER_B), System.nanoTime());
        r.added(route("10.1.7.0/24", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(List.of("10.1.7.0/24 -> to-b"), learnedInTable(), "the /16 stays to-a's: the data plane leaves the learned one out");
        assertEquals(Set.of("10.1.7.0/24"), host.routes, "no host route made (nor later removed) for a configured prefix");
        r.removed(route("10.1.0.0/16", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(Set.of("10.1.7.0/24"), host.routes);
    }

    /**
     * The routes the gateway installs are its translated site prefixes and its peers' /32s: a
     * learned copy of one must neither replace it (proto 73) nor, withdrawn, delete it; and a
     * route into a NAT rule's external (translated) space is refused.
     */
    @Test
    void theConfiguredRoutesAreTheTranslatedOnesAndThePeersAndTranslatedSpaceIsRefused() throws Exception {
        GatewayConfig config = ConfigReader.parse(Path.of("gw.yaml"), """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw2
                  addressSpace: [10.200.0.0/16]
                  instances:
                    - name: gw1
                      publicIpAddress: 203.0.113.10
                  bgpSettings:
                    asn: 65515
                    bgpPeeringAddresses:
                      - instance: gw1
                        customBgpIpAddresses: [169.254.21.1]
                  natRules:
                    - {name: in, type: Static, mode: IngressSnat, internalMappings: [10.1.0.0/24], externalMappings: [100.64.1.0/24]}
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [10.2.0.0/24]
                    bgpSettings: {asn: 65010, bgpPeeringAddress: 169.254.21.2}
                  - name: depot
                    gatewayIpAddress: 198.51.100.8
                    addressPrefixes: [10.1.0.0/24]
                connections:
                  - name: to-a
                    localNetworkGateway: branch
                    sharedKey: k
                    enableBgp: true
                  - name: to-depot
                    localNetworkGateway: depot
                    sharedKey: k
                    ingressNatRules: [in]
                """, k -> null);
        Set<AddressPrefix> configured = LearnedRoutes.configuredPrefixes(config);
        assertEquals(Set.of(AddressPrefix.parse("10.2.0.0/24"), AddressPrefix.parse("100.64.1.0/24"), AddressPrefix.parse("169.254.21.2/32")),
                configured,
                "what HostRouting.configure routes, not the untranslated 10.1.0.0/24");
        LearnedRoutes r = routes(LearnedRoutes.Settings.defaults(), ProtectedDestinations.of(config, HostNetworkTest.host(), "isthmus0"), configured);
        r.added(route("169.254.21.2/32", 32, PEER_A), System.nanoTime());
        r.added(route("10.1.0.0/24", 32, PEER_A), System.nanoTime());
        r.added(route("100.64.1.0/24", 32, PEER_B), System.nanoTime());
        r.added(route("100.64.1.128/25", 32, PEER_B), System.nanoTime());
        r.added(route("100.64.0.0/10", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(Set.of("10.1.0.0/24", "100.64.0.0/10"), host.routes,
                "no proto-73 route over the peer's /32 nor into translated space; a supernet is harmless (the configured /24 is longer)");
        assertEquals(2, r.counts().refused(), "100.64.1.0/24 and 100.64.1.128/25 lie in NAT rule in's externalMapping");
        r.removed(route("169.254.21.2/32", 32, PEER_A), System.nanoTime());
        r.flush();
        assertEquals(Set.of("10.1.0.0/24", "100.64.0.0/10"), host.routes, "the withdrawal removes no configured route");
    }

    @Test
    void aGatewayThatIsNoPeerIsIgnoredAndCounted() {
        LearnedRoutes r = routes();
        r.added(route("10.77.0.0/16", 32, InetAddress.ofLiteral("169.254.99.9")), System.nanoTime());
        r.added(route("10.78.0.0/16", 32), System.nanoTime());
        r.flush();
        assertEquals(List.of(), learnedInTable());
        assertEquals(2, r.counts().unknownPeer());
        // A reload that makes it a connection's peer takes the route in.
        r.reconfigure(Map.of(InetAddress.ofLiteral("169.254.99.9"), "to-c"), Set.of(), ProtectedDestinations.none(),
                LearnedRoutes.Settings.AZURE_MAX_PREFIXES);
        r.flush();
        assertEquals(List.of("10.77.0.0/16 -> to-c"), learnedInTable());
    }

    @Test
    void anUnreachableRouteSteersNothing() {
        LearnedRoutes r = routes();
        r.added(route("10.80.0.0/16", 32, PEER_A), System.nanoTime());
        r.flush();
        assertEquals(List.of("10.80.0.0/16 -> to-a"), learnedInTable());
        KernelRoute u = route("10.80.0.0/16", 32);
        r.added(new KernelRoute(false, u.destination(), 16, 201, KernelRoute.RTPROT_BIRD, 7 /* RTN_UNREACHABLE */, 0, 32, List.of()),
                System.nanoTime());
        r.flush();
        assertEquals(List.of(), learnedInTable());
        assertEquals(0, r.counts().unknownPeer(), "not a route of an unknown peer");
    }

    @Test
    void lowestMetricWinsAndMultipathGoesToTheFirstConnectionByName() {
        LearnedRoutes r = routes();
        r.added(route("10.50.0.0/16", 100, PEER_A), System.nanoTime());
        r.added(route("10.50.0.0/16", 20, PEER_B), System.nanoTime());
        r.added(route("10.51.0.0/16", 32, PEER_B, PEER_A), System.nanoTime());
        r.flush();
        assertEquals(List.of("10.50.0.0/16 -> to-b", "10.51.0.0/16 -> to-a"), learnedInTable());
        // A replace that leaves one next hop of the multipath route.
        r.removed(route("10.51.0.0/16", 32, PEER_B, PEER_A), System.nanoTime());
        r.added(route("10.51.0.0/16", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(List.of("10.50.0.0/16 -> to-b", "10.51.0.0/16 -> to-b"), learnedInTable());
    }

    @Test
    void guards() throws Exception {
        GatewayConfig config = ConfigReader.parse(Path.of("gw.yaml"), """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [10.200.0.0/16]
                  instances:
                    - publicIpAddress: 203.0.113.10
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [10.1.0.0/16]
                connections:
                  - name: to-a
                    localNetworkGateway: branch
                    sharedKey: k
                """, k -> null);
        LearnedRoutes r = routes(LearnedRoutes.Settings.defaults(), ProtectedDestinations.of(config, HostNetworkTest.host(), "isthmus0"), Set.of());
        for (String p : List.of("0.0.0.0/0", "198.51.100.0/24", "203.0.113.0/24", "192.0.0.0/8", "10.200.5.0/24", "10.200.0.0/16",
                "10.99.1.0/24", "169.254.22.0/24", "10.0.0.0/8", "10.192.0.0/10", "10.88.0.0/16", "::/0", "fd00::/16", "192.168.77.0/24")) {
            r.added(route(p, 32, PEER_A), System.nanoTime());
        }
        r.flush();
        // 10.192.0.0/10 is a supernet of the address space (its own, longer routes win there) and holds no protected address.
        assertEquals(List.of("10.192.0.0/10 -> to-a", "10.88.0.0/16 -> to-a", "192.168.77.0/24 -> to-a"), learnedInTable(),
                "192.168.77.1 is on the tunnel device itself: not protected");
        assertEquals(11, r.counts().refused(), "the default routes, the IKE peer, the instance, the default route's next hop (192.0.2.1), "
                + "the address space twice, eth1's network, to-b's BGP peer, 10.0.0.0/8 (holds 10.99.0.1, the way to the peer), "
                + "fd00::/16 (holds fd00::1, the IPv6 default's next hop)");
    }

    @Test
    void moreThanTheLimitFromOnePeerIsRefusedTheEarliestKeepTheirPlace() {
        LearnedRoutes r = routes(new LearnedRoutes.Settings(201, 10, Duration.ofMillis(5)), ProtectedDestinations.none(), Set.of());
        for (int i = 0; i < 15; i++) {
            r.added(route("10.60." + i + ".0/24", 32, PEER_A), System.nanoTime());
        }
        r.added(route("10.61.0.0/24", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(11, learnedInTable().size());
        assertTrue(learnedInTable().contains("10.60.9.0/24 -> to-a"));
        assertTrue(!learnedInTable().contains("10.60.10.0/24 -> to-a"));
        assertTrue(learnedInTable().contains("10.61.0.0/24 -> to-b"), "the other peer's own limit");
        assertEquals(5, r.counts().overLimit());
        // Withdrawals make room.
        r.removed(route("10.60.0.0/24", 32, PEER_A), System.nanoTime());
        r.flush();
        assertTrue(learnedInTable().contains("10.60.10.0/24 -> to-a"));
        assertEquals(4, r.counts().overLimit());
    }

    @Test
    void aReloadChangesTheLimitAsItChangesBirdsReceiveLimit() {
        LearnedRoutes r = routes(new LearnedRoutes.Settings(201, 10, Duration.ofMillis(5)), ProtectedDestinations.none(), Set.of());
        for (int i = 0; i < 15; i++) {
            r.added(route("10.60." + i + ".0/24", 32, PEER_A), System.nanoTime());
        }
        r.flush();
        assertEquals(10, learnedInTable().size());
        r.reconfigure(PEERS, Set.of(), ProtectedDestinations.none(), 20);
        r.flush();
        assertEquals(15, learnedInTable().size(), "bgpSettings.maxPrefixes raised on reload");
        assertEquals(0, r.counts().overLimit());
        r.reconfigure(PEERS, Set.of(), ProtectedDestinations.none(), 3);
        r.flush();
        assertEquals(3, learnedInTable().size(), "and lowered");
        assertEquals(12, r.counts().overLimit());
    }

    @Test
    void aFailedHostRouteBatchIsRetriedOnATimerWithWhatTheKernelHolds() throws Exception {
        LearnedRoutes r = routes();
        host.refusing.add("10.98.0.0/24");
        r.added(route("10.97.0.0/24", 32, PEER_A), System.nanoTime());
        r.added(route("10.98.0.0/24", 32, PEER_A), System.nanoTime());
        r.flush();
        assertEquals(Set.of("10.97.0.0/24"), host.routes, "ip -force put in the line that did not fail");
        assertTrue(r.hostRouteFailures() >= 1);
        // The applies already scheduled by the route messages have run (and failed) by now: what follows is the timer's.
        Thread.sleep(300);
        assertEquals(Set.of("10.97.0.0/24"), host.routes);
        long batches = host.batches;
        // The kernel takes it now: the retry (with no new route message) puts it in.
        host.refusing.clear();
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        // Until the adapter has seen its batch through (it counts the failures off after the batch returns).
        while (System.nanoTime() < end && (!host.installed().contains("10.98.0.0/24") || r.hostRouteFailures() != 0)) {
            Thread.sleep(20);
        }
        assertEquals(Set.of("10.97.0.0/24", "10.98.0.0/24"), host.routes);
        assertTrue(host.batches > batches);
        assertEquals(0, r.hostRouteFailures());
        // A failed batch that had removed its routes is not retried as removals of what is gone (which would fail for ever).
        host.refusing.add("10.96.0.0/24");
        r.removed(route("10.97.0.0/24", 32, PEER_A), System.nanoTime());
        r.added(route("10.96.0.0/24", 32, PEER_A), System.nanoTime());
        r.flush();
        assertEquals(Set.of("10.98.0.0/24"), host.routes);
        Thread.sleep(300);
        host.refusing.clear();
        end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < end && r.hostRouteFailures() != 0) {
            Thread.sleep(20);
        }
        assertEquals(Set.of("10.96.0.0/24", "10.98.0.0/24"), host.routes);
        assertEquals(0, r.hostRouteFailures());
    }

    @Test
    void aFullTableArrivingIsAppliedInAFewTablesNotThousands() throws Exception {
        LearnedRoutes r = routes();
        int before = tablePublishes.get();
        List<KernelRoute> full = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            full.add(route("10." + (100 + i / 256) + "." + (i % 256) + ".0/24", 32, PEER_A));
        }
        long began = System.nanoTime();
        full.forEach(k -> r.added(k, System.nanoTime()));
        long streamMillis = (System.nanoTime() - began) / 1_000_000;
        // The host routes follow each table on the adapter's thread: wait for both, as long as a loaded machine needs.
        long end = System.nanoTime() + 30_000_000_000L;
        // The applier records what it applied after the host routes are in: wait for that too.
        while ((learnedInTable().size() < 4000 || host.installed().size() < 4000 || r.lastApplied() == null
                || r.lastApplied().prefixes() < 4000) && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertEquals(4000, learnedInTable().size());
        assertEquals(4000, host.installed().size());
        int publishes = tablePublishes.get() - before;
        // While routes stream in, about one table every MAX_HOLD (the first ones are not held back for long); the slack
        // is for a loaded machine, where the applier runs late: what matters is a few tables, not one per route.
        long bound = 10 + streamMillis / LearnedRoutes.MAX_HOLD.toMillis();
        assertTrue(publishes >= 1 && publishes <= bound, publishes + " tunnel tables for 4,000 routes streamed in " + streamMillis + " ms");
        assertTrue(host.batches <= bound, host.batches + " host route batches");
        assertEquals(4000, r.lastApplied().prefixes());
    }

    @Test
    void birdGoneTakesEverythingOutAndBackWhenItReturns() {
        LearnedRoutes r = routes();
        r.added(route("10.70.0.0/16", 32, PEER_A), System.nanoTime());
        r.added(route("10.71.0.0/16", 32, PEER_B), System.nanoTime());
        r.flush();
        assertEquals(2, learnedInTable().size());
        r.withdrawAll("BIRD exited");
        r.flush();
        assertEquals(List.of(), learnedInTable());
        assertEquals(Set.of(), host.routes);
        r.resume();
        r.flush();
        assertEquals(2, learnedInTable().size());
    }

    @Test
    void theStopTakesEveryLearnedRouteOut() {
        LearnedRoutes r = routes();
        r.added(route("10.70.0.0/16", 32, PEER_A), System.nanoTime());
        r.flush();
        r.close();
        routes = null;
        assertEquals(List.of(), learnedInTable());
        assertEquals(Set.of(), host.routes);
        assertEquals(1, host.removedAll);
        // Heard after the stop: nothing happens.
        r.added(route("10.72.0.0/16", 32, PEER_A), System.nanoTime());
        assertEquals(List.of(), learnedInTable());
    }
}
