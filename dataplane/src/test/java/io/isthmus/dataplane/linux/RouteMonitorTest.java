package io.isthmus.dataplane.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor against the kernel, in a network namespace of its own with a veth device, routes
 * put in with ip(8) as BIRD's kernel protocol would (table 201, proto bird). Needs root, as CI has.
 */
class RouteMonitorTest {
    private static final int TABLE = 201;
    private NetNamespace ns;

    @BeforeAll
    static void root() {
        String why = "root".equals(System.getProperty("user.name")) ? null : "network namespaces need root; CI runs as root";
        assertNull(why, why);
    }

    @BeforeEach
    void namespace() throws Exception {
        ns = new NetNamespace("mon");
        // A veth pair: the kernel here may lack the dummy driver (containers often do).
        ns.ip("link", "add", "d0", "type", "veth", "peer", "name", "d1");
        ns.ip("link", "set", "d0", "up");
    }

    @AfterEach
    void removeNamespace() throws Exception {
        ns.close();
    }

    /** What the listener has heard: the routes it was told are there, by prefix, and how often it was told anything. */
    static final class Heard implements RouteMonitor.Listener {
        final Map<String, KernelRoute> routes = new TreeMap<>();
        final List<String> log = new ArrayList<>();
        final AtomicInteger syncs = new AtomicInteger();
        volatile long slowFirstMillis;
        final CountDownLatch firstHeard = new CountDownLatch(1);

        @Override
        public synchronized void added(KernelRoute route, long receivedNanos) {
            slowDown();
            routes.put(route.key(), route);
            log.add("+" + route.prefix());
        }

        @Override
        public synchronized void removed(KernelRoute route, long receivedNanos) {
            slowDown();
            routes.remove(route.key());
            log.add("-" + route.prefix());
        }

        private void slowDown() {
            firstHeard.countDown();
            if (slowFirstMillis > 0) {
                long ms = slowFirstMillis;
                slowFirstMillis = 0;
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void synced(int routes, long receivedNanos) {
            syncs.incrementAndGet();
        }

        synchronized List<String> prefixes() {
            return routes.values().stream().map(KernelRoute::prefix).toList();
        }

        synchronized List<String> takeLog() {
            List<String> l = List.copyOf(log);
            log.clear();
            return l;
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    RouteMonitor start(Heard heard) throws Exception {
        return ns.inside(() -> RouteMonitor.start(TABLE, KernelRoute.RTPROT_BIRD, heard));
    }

    @Test
    void routesThereBeforeAndAddedAfterAndDeletedAndReplaced() throws Exception {
        ns.ip("route", "add", "10.98.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "bird");
        Heard heard = new Heard();
        try (RouteMonitor m = start(heard)) {
            await(() -> heard.syncs.get() == 1, "the first dump");
            assertEquals(List.of("10.98.0.0/24"), heard.prefixes(), "what the dump found");
            heard.takeLog();

            ns.ip("route", "add", "10.99.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "bird");
            // Not followed: another table, another protocol, the main table.
            ns.ip("route", "add", "10.97.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "202", "proto", "bird");
            ns.ip("route", "add", "10.96.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "static");
            ns.ip("route", "add", "10.95.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "proto", "bird");
            ns.ip("route", "add", "10.94.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "bird");
            await(() -> heard.prefixes().size() == 3, "the two new routes");
            assertEquals(List.of("10.94.0.0/24", "10.98.0.0/24", "10.99.0.0/24"), heard.prefixes());
            KernelRoute r = heard.routes.values().stream().filter(x -> x.prefix().equals("10.99.0.0/24")).findFirst().orElseThrow();
            assertEquals(InetAddress.ofLiteral("169.254.21.2"), r.nextHops().getFirst().gateway());
            assertEquals(TABLE, r.table());
            assertEquals(List.of("+10.99.0.0/24", "+10.94.0.0/24"), heard.takeLog());

            ns.ip("route", "del", "10.99.0.0/24", "table", "201");
            await(() -> heard.prefixes().size() == 2, "the deletion");
            assertEquals(List.of("-10.99.0.0/24"), heard.takeLog());

            // BIRD moving a prefix to another peer: a replace, heard as the old route gone and the new there.
            ns.ip("route", "replace", "10.98.0.0/24", "via", "169.254.22.2", "dev", "d0", "onlink", "table", "201", "proto", "bird");
            await(() -> heard.log.size() == 2, "the replace");
            assertEquals(List.of("-10.98.0.0/24", "+10.98.0.0/24"), heard.takeLog());
            assertEquals(InetAddress.ofLiteral("169.254.22.2"),
                    heard.routes.values().stream().filter(x -> x.prefix().equals("10.98.0.0/24")).findFirst().orElseThrow().nextHops().getFirst()
                            .gateway());

            // The same prefix replaced by another protocol's route is no longer BIRD's.
            ns.ip("route", "replace", "10.94.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "static");
            await(() -> heard.prefixes().size() == 1, "the route taken over by proto static");
            assertEquals(List.of("-10.94.0.0/24"), heard.takeLog());

            ns.ip("route", "add", "10.50.0.0/16", "table", "201", "proto", "bird", "nexthop", "via", "169.254.21.2", "dev", "d0", "onlink",
                    "nexthop", "via", "169.254.22.2", "dev", "d0", "onlink");
            await(() -> heard.prefixes().size() == 2, "the multipath route");
            KernelRoute mp = heard.routes.values().stream().filter(x -> x.prefix().equals("10.50.0.0/16")).findFirst().orElseThrow();
            assertEquals(List.of(InetAddress.ofLiteral("169.254.21.2"), InetAddress.ofLiteral("169.254.22.2")),
                    mp.nextHops().stream().map(KernelRoute.NextHop::gateway).toList());

            // A resync on request finds nothing new to say.
            heard.takeLog();
            m.resync();
            await(() -> heard.syncs.get() == 2, "the second dump");
            assertEquals(List.of(), heard.takeLog());
            assertEquals(0, m.counts().malformed());
            assertEquals(0, m.counts().forged());
        }
    }

    /* With strict checking (Linux 4.20 on) the dump holds the followed table only: the host's other tables never cross the socket. */
    /** A listener that does not return within close's wait: the socket stays open until the thread ends, then is closed by it. */
    @Test
    void aBusyListenerKeepsTheSocketUntilItsThreadEnds() throws Exception {
        Heard heard = new Heard();
        heard.slowFirstMillis = 3500;
        RouteMonitor m = start(heard);
        ns.ip("route", "add", "10.98.0.0/24", "via", "169.254.21.2", "dev", "d0", "onlink", "table", "201", "proto", "bird");
        assertTrue(heard.firstHeard.await(5, TimeUnit.SECONDS));
        m.close();
        assertTrue(m.socketOpen(), "the thread is still in the listener: its socket must not be closed under it");
        await(() -> !m.socketOpen(), "the socket closed by the thread as it ends");
    }

    @Test
    void theDumpAsksForTheFollowedTableOnly() throws Exception {
        List<String> elsewhere = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            elsewhere.add("route add 10.40." + i + ".0/24 via 169.254.21.2 dev d0 onlink table 202 proto bird");
            elsewhere.add("route add 10.41." + i + ".0/24 via 169.254.21.2 dev d0 onlink proto bird");
        }
        elsewhere.add("route add 10.42.0.0/24 via 169.254.21.2 dev d0 onlink table 201 proto bird");
        ns.batch(elsewhere);
        Heard heard = new Heard();
        try (RouteMonitor m = start(heard)) {
            await(() -> heard.syncs.get() == 1, "the first dump");
            assertEquals(List.of("10.42.0.0/24"), heard.prefixes());
            assertTrue(m.dumpsOneTable(), "this kernel filters dumps by table");
            assertEquals(0, m.counts().otherRoutes(), "no route of another table was sent: " + m.counts());
        }
    }

    /*
     * Any process may send a netlink message to the monitor's port id: a forged RTM_NEWROUTE
     * for table 201 and proto bird, well-formed, must be dropped because it is not the kernel's.
     */
    @Test
    void aRouteMessageFromAnotherProcessIsNotBelieved() throws Exception {
        Heard heard = new Heard();
        try (RouteMonitor m = start(heard)) {
            await(() -> heard.syncs.get() == 1, "the first dump");
            byte[] forged = new RouteMessagesTest.Writer().message(RouteMessages.RTM_NEWROUTE, 0, 1, 4242,
                    RouteMessagesTest.birdRoute("10.66.0.0", 16, "169.254.21.2", TABLE)).bytes();
            int sent = ns.inside(() -> {
                Libc.CallState s = new Libc.CallState();
                int fd = Libc.socket(s, Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
                assertTrue(fd >= 0, "a second netlink socket");
                try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                    java.lang.foreign.MemorySegment to = a.allocate(12, 8);
                    to.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_NETLINK);
                    to.set(java.lang.foreign.ValueLayout.JAVA_INT, 4, m.portId());
                    java.lang.foreign.MemorySegment msg = a.allocate(forged.length, 8);
                    java.lang.foreign.MemorySegment.copy(forged, 0, msg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, forged.length);
                    return Libc.sendto(s, fd, msg, forged.length, to, 12);
                } finally {
                    Libc.close(s, fd);
                }
            });
            assertEquals(forged.length, sent, "the kernel delivers it: only the monitor's check stands in the way");
            await(() -> m.counts().forged() == 1, "the forged message counted");
            assertEquals(List.of(), heard.prefixes());
        }
    }

    @Test
    void fourThousandRoutesAtOnceAndTheirWithdrawal() throws Exception {
        Heard heard = new Heard();
        try (RouteMonitor m = start(heard)) {
            await(() -> heard.syncs.get() == 1, "the first dump");
            ns.batch(routes("add", 4000));
            await(() -> heard.routes.size() == 4000, "4000 routes");
            assertEquals(0, m.counts().overruns());
            ns.batch(routes("del", 4000));
            await(() -> heard.routes.isEmpty(), "4000 withdrawals");
        }
    }

    /*
     * The listener stalls on the first route for a second while 4,000 arrive; the socket's queue
     * is made small, so the kernel drops messages and says so with ENOBUFS. The monitor dumps the
     * table again: the listener ends up with every route all the same.
     */
    @Test
    void anOverrunIsFollowedByAFreshDump() throws Exception {
        Heard heard = new Heard();
        try (RouteMonitor m = ns.inside(() -> RouteMonitor.start(TABLE, KernelRoute.RTPROT_BIRD, heard, 4096))) {
            await(() -> heard.syncs.get() == 1, "the first dump");
            heard.slowFirstMillis = 1000;
            ns.batch(routes("add", 4000));
            await(() -> heard.routes.size() == 4000, "4000 routes after the overrun");
            assertTrue(m.counts().overruns() >= 1, "the kernel dropped messages: " + m.counts());
            assertTrue(heard.syncs.get() >= 2, "a second dump");
            // The table as it is, even for a route deleted while messages were being lost.
            ns.batch(routes("del", 10));
            await(() -> heard.routes.size() == 3990, "10 withdrawals");
        }
    }

    static List<String> routes(String verb, int n) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prefix = "10." + (100 + i / 256) + "." + (i % 256) + ".0/24";
            lines.add("route " + verb + " " + prefix + (verb.equals("add") ? " via 169.254.21.2 dev d0 onlink proto bird" : "") + " table 201");
        }
        return lines;
    }
}
