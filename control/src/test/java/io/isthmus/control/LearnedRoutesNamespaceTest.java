package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.linux.KernelRoute;
import io.isthmus.dataplane.linux.NetNamespace;
import io.isthmus.dataplane.linux.RouteMonitor;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * BIRD's side played with ip(8) in a network namespace of this test ({@code bgprt-<pid>-gw}):
 * routes into table 201 with proto bird, as BIRD's kernel protocol exports them. The route
 * monitor's socket is opened inside (setns on the test's thread, then back), the adapter feeds a
 * data plane without I/O, and the host routes are made with the real ip(8) commands, run with
 * {@code -n} in the namespace: the test's host is never touched. Needs root, as CI has.
 */
class LearnedRoutesNamespaceTest {
    static final String DEVICE = "bgprt0";
    static final InetAddress PEER_A = InetAddress.ofLiteral("169.254.21.2");
    static final InetAddress PEER_B = InetAddress.ofLiteral("169.254.22.2");
    /** to-b's IPv6 BGP session: IPv6 prefixes come with an IPv6 next hop (this kernel has no IPv6 route through an IPv4 one). */
    static final InetAddress PEER_B6 = InetAddress.ofLiteral("fd99::2");

    private NetNamespace ns;
    private Dataplane dataplane;
    private LearnedRoutes.Following following;

    @BeforeAll
    static void root() {
        String why = "root".equals(System.getProperty("user.name")) ? null : "network namespaces need root; CI runs as root";
        assertNull(why, why);
    }

    @BeforeEach
    void namespace() throws Exception {
        ns = new NetNamespace("gw");
        // Stands in for the TUN device (a veth pair: this kernel may lack the dummy driver).
        ns.ip("link", "add", DEVICE, "type", "veth", "peer", "name", "bgprt1");
        ns.ip("link", "set", DEVICE, "up");
        ns.ip("link", "set", "bgprt1", "up");
        dataplane = Dataplane.withoutIo(new Dataplane.Settings(DEVICE, List.of(InetAddress.ofLiteral("10.0.0.1")), 4500, false, 1500, 1350,
                1 << 20), null);
        dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-a", false, List.of("169.254.21.2/32", "10.1.0.0/16")),
                new Dataplane.TunnelSpec("to-b", false, List.of("169.254.22.2/32"))));
    }

    @AfterEach
    void remove() throws Exception {
        if (following != null) {
            following.close();
        }
        ns.close();
    }

    LearnedRoutes.Following follow() throws Exception {
        LearnedRoutes routes = new LearnedRoutes(LearnedRoutes.Settings.defaults(), Map.of(PEER_A, "to-a", PEER_B, "to-b", PEER_B6, "to-b"),
                Set.of(AddressPrefix.parse("10.1.0.0/16")), ProtectedDestinations.none(), dataplane::learnedRoutes,
                HostRouting.learnedInto(DEVICE, List.of("ip", "-n", ns.name)));
        routes.removeStaleHostRoutes();
        RouteMonitor monitor = ns.inside(() -> RouteMonitor.start(201, KernelRoute.RTPROT_BIRD, routes));
        following = new LearnedRoutes.Following(routes, monitor);
        return following;
    }

    List<String> learnedInTable() {
        return dataplane.tunnelRoutes().stream().filter(r -> r.learned()).map(r -> r.prefixText() + " -> " + r.tunnel().name()).sorted().toList();
    }

    /** The namespace's host routes made for learned prefixes, as "prefix dev". */
    List<String> hostRoutes() throws Exception {
        List<String> out = new ArrayList<>();
        for (String family : List.of("-4", "-6")) {
            for (String line : ns.ip(family, "route", "show", "proto", Integer.toString(LearnedRoutes.HOST_ROUTE_PROTOCOL)).strip().split("\n")) {
                if (!line.isBlank()) {
                    out.add(line.strip());
                }
            }
        }
        return out.stream().sorted().toList();
    }

    @Test
    void birdRoutesSteerPrefixesIntoTheirConnectionsAndOutAgain() throws Exception {
        // There before the gateway starts: the first dump finds it. Also a stale host route of a crashed run.
        ns.ip("route", "add", "10.98.0.0/24", "via", "169.254.21.2", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        ns.ip("route", "add", "10.66.0.0/16", "dev", DEVICE, "proto", "73");
        follow();
        await(() -> learnedInTable().equals(List.of("10.98.0.0/24 -> to-a")), "the route there before");
        awaitHost(List.of("10.98.0.0/24 dev bgprt0 scope link"));

        // A BGP update: the delay from the route command to the new table, measured.
        long before = System.nanoTime();
        ns.ip("route", "add", "10.99.0.0/24", "via", "169.254.22.2", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        await(() -> learnedInTable().contains("10.99.0.0/24 -> to-b"), "the new route");
        long seen = System.nanoTime();
        LearnedRoutes.Applied applied = following.routes().lastApplied();
        System.out.printf("BGP update to tunnel table: %.2f ms from the route message read to the table published "
                        + "(%.2f ms to the host route), %.2f ms from starting ip(8) to the table seen here%n", applied.publishedMillis(),
                applied.hostRoutesMillis(), (seen - before) / 1e6);
        awaitHost(List.of("10.98.0.0/24 dev bgprt0 scope link", "10.99.0.0/24 dev bgprt0 scope link"));

        // Not followed: another table, another protocol; a gateway that is no peer.
        ns.ip("route", "add", "10.97.0.0/24", "via", "169.254.21.2", "dev", DEVICE, "onlink", "table", "202", "proto", "bird");
        ns.ip("route", "add", "10.96.0.0/24", "via", "169.254.21.2", "dev", DEVICE, "onlink", "table", "201", "proto", "static");
        ns.ip("route", "add", "10.95.0.0/24", "via", "169.254.99.9", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        await(() -> following.routes().counts().unknownPeer() == 1, "the unknown peer counted");
        following.routes().flush();
        assertEquals(List.of("10.98.0.0/24 -> to-a", "10.99.0.0/24 -> to-b"), learnedInTable());

        // The same prefix as a configured one: the configured one wins, and its host route is not the adapter's.
        ns.ip("route", "add", "10.1.0.0/16", "via", "169.254.22.2", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        following.routes().flush();
        Thread.sleep(50);
        following.routes().flush();
        assertEquals(List.of("10.98.0.0/24 -> to-a", "10.99.0.0/24 -> to-b"), learnedInTable());

        // IPv6.
        ns.ip("-6", "route", "add", "2001:db8:5::/48", "via", "fd99::2", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        await(() -> learnedInTable().contains("2001:db8:5:0:0:0:0:0/48 -> to-b"), "the IPv6 route");
        awaitHost(List.of("10.98.0.0/24 dev bgprt0 scope link", "10.99.0.0/24 dev bgprt0 scope link",
                "2001:db8:5::/48 dev bgprt0 metric 1024 pref medium"));
        ns.ip("-6", "route", "del", "2001:db8:5::/48", "table", "201");
        await(() -> !learnedInTable().contains("2001:db8:5:0:0:0:0:0/48 -> to-b"), "the IPv6 withdrawal");

        // BIRD moves a prefix to the other peer (a replace), then withdraws one.
        ns.ip("route", "replace", "10.98.0.0/24", "via", "169.254.22.2", "dev", DEVICE, "onlink", "table", "201", "proto", "bird");
        await(() -> learnedInTable().contains("10.98.0.0/24 -> to-b"), "the replace");
        ns.ip("route", "del", "10.99.0.0/24", "table", "201");
        await(() -> learnedInTable().equals(List.of("10.98.0.0/24 -> to-b")), "the withdrawal");
        awaitHost(List.of("10.98.0.0/24 dev bgprt0 scope link"));

        // The stop takes everything out.
        following.close();
        following = null;
        assertEquals(List.of(), learnedInTable());
        assertEquals(List.of(), hostRoutes());
    }

    /** Two gateways on one host (isthmus@ units): each takes out its own device's protocol-73 routes only, and reads back its own. */
    @Test
    void theHostRoutesOfAnotherDeviceAreNotTouched() throws Exception {
        LearnedRoutes.HostRoutes mine = HostRouting.learnedInto(DEVICE, List.of("ip", "-n", ns.name));
        ns.ip("route", "add", "10.66.0.0/16", "dev", DEVICE, "proto", "73");
        ns.ip("route", "add", "10.67.0.0/16", "dev", "bgprt1", "proto", "73");
        mine.apply(List.of("10.68.1.0/24", "10.68.2.3/32"), List.of());
        assertEquals(List.of("10.66.0.0/16", "10.68.1.0/24", "10.68.2.3/32"), mine.installed().stream().sorted().toList());
        mine.removeAll();
        assertEquals(List.of("10.67.0.0/16 dev bgprt1 scope link"), hostRoutes(), "the other gateway's learned route stays");
        assertEquals(List.of(), mine.installed());
    }

    @Test
    void aFullTableOf4000RoutesArrivesInAFewTableRebuildsAndLeavesAgain() throws Exception {
        follow();
        await(() -> following.monitor().counts().dumps() >= 1 && following.routes().counts().applies() >= 0, "the monitor");
        Thread.sleep(100);
        long rebuilds = dataplane.tunnelTableRebuilds();
        List<String> add = new ArrayList<>();
        List<String> del = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            String prefix = "10." + (100 + i / 256) + "." + (i % 256) + ".0/24";
            add.add("route add " + prefix + " via 169.254.21.2 dev " + DEVICE + " onlink table 201 proto bird");
            del.add("route del " + prefix + " table 201");
        }
        long began = System.nanoTime();
        ns.batch(add);
        await(() -> learnedInTable().size() == 4000, "4000 learned prefixes");
        long tableMillis = (System.nanoTime() - began) / 1_000_000;
        long rebuiltFor4000 = dataplane.tunnelTableRebuilds() - rebuilds;
        await(() -> hostRoutes().size() == 4000, "4000 host routes");
        long hostMillis = (System.nanoTime() - began) / 1_000_000;
        System.out.printf("4000 routes: %d tunnel table rebuilds, all in the table %d ms and in the host's routes %d ms after ip -batch began; "
                + "last apply %s%n", rebuiltFor4000, tableMillis, hostMillis, following.routes().lastApplied());
        assertTrue(rebuiltFor4000 >= 1 && rebuiltFor4000 <= 10 + tableMillis / LearnedRoutes.MAX_HOLD.toMillis(),
                rebuiltFor4000 + " rebuilds in " + tableMillis + " ms");

        rebuilds = dataplane.tunnelTableRebuilds();
        ns.batch(del);
        await(() -> learnedInTable().isEmpty(), "all withdrawn");
        await(() -> hostRoutes().isEmpty(), "no host route left");
        assertTrue(dataplane.tunnelTableRebuilds() - rebuilds <= 10 + tableMillis / LearnedRoutes.MAX_HOLD.toMillis());
    }

    // ------------------------------------------------------------------------------------------

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(Check c, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.ok()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(2);
        }
    }

    void awaitHost(List<String> expected) throws Exception {
        try {
            await(() -> hostRoutes().equals(expected), "host routes " + expected);
        } catch (AssertionError e) {
            assertEquals(expected, hostRoutes());
        }
    }

}
