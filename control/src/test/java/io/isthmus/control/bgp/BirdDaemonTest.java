package io.isthmus.control.bgp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.BgpSectionTest;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real BIRD 2 with the configuration Isthmus writes: accepted by {@code bird -p}; run by
 * {@link BirdDaemon} in a namespace of this test's, with a second BIRD as the site's speaker in
 * another namespace (a veth pair stands for the tunnel): the session comes up, the site's route
 * lands in kernel table 201 with the peer's BGP address as its gateway, the routes the import
 * filter must refuse are refused, and what status reads agrees with birdc. Then a reload, BIRD
 * killed and started again, and the stop. Needs root, as CI runs it; fails (never skips) without.
 */
class BirdDaemonTest {
    private static final String PREFIX = "bgpcfg-" + ProcessHandle.current().pid() + "-";
    private static final String GW_NS = PREFIX + "gw";
    private static final String SITE_NS = PREFIX + "site";

    /** BgpSectionTest's file, its TUN device the veth of this test's, and BIRD's kernel table per run. */
    static final String CONFIG = BgpSectionTest.BGP.replace("  instances:\n", "  tunnel: {device: bgpcfg0}\n  instances:\n");

    @TempDir
    Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private Process siteBird;

    @BeforeEach
    void namespaces() throws Exception {
        assertEquals("0", run("id", "-u").strip(), "this test runs BIRD in network namespaces: it needs root, as CI has");
        for (String ns : List.of(GW_NS, SITE_NS)) {
            run("ip", "netns", "add", ns);
            namespaces.add(ns);
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        // The veth stands for the tunnel: each side's BGP address on it, the other's as a host route into it.
        run("ip", "link", "add", "name", "bgpcfg0", "netns", GW_NS, "type", "veth", "peer", "name", "bgpcfg1", "netns", SITE_NS);
        run("ip", "-n", GW_NS, "link", "set", "bgpcfg0", "up");
        run("ip", "-n", SITE_NS, "link", "set", "bgpcfg1", "up");
        for (String a : List.of("169.254.21.1/32", "10.1.255.30/32")) {
            run("ip", "-n", GW_NS, "addr", "add", a, "dev", "bgpcfg0");
        }
        run("ip", "-n", GW_NS, "route", "add", "169.254.21.2/32", "dev", "bgpcfg0");
        run("ip", "-n", SITE_NS, "addr", "add", "169.254.21.2/32", "dev", "bgpcfg1");
        run("ip", "-n", SITE_NS, "route", "add", "169.254.21.1/32", "dev", "bgpcfg1");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (siteBird != null) {
            siteBird.destroy();
            siteBird.waitFor(5, TimeUnit.SECONDS);
        }
        for (String ns : namespaces) {
            run("ip", "netns", "del", ns);
        }
    }

    private GatewayConfig config(String text) throws IOException {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, text);
        return ConfigReader.parse(file, text, name -> null);
    }

    @Test
    void birdAcceptsWhatIsthmusWrites() throws Exception {
        // Names BIRD's symbols cannot hold, a quote in the description: all still BIRD's syntax.
        GatewayConfig c = config(CONFIG.replace("name: to-branch", "name: 'to \"branch\" {1}'").replace("name: to-depot", "name: 2-depot"));
        assertEquals(Map.of("to \"branch\" {1}", "c_to__branch___1_", "2-depot", "c_2_depot"), BirdConfig.protocolNames(c, c.instance(null)));
        Path file = dir.resolve("bird.conf");
        Files.writeString(file, BirdConfig.text(c, c.instance("gw1")));
        BirdDaemon.check(file);
        Files.writeString(file, BirdConfig.text(c, c.instance("gw1")) + "protocol bgp {\n");
        IOException refused = assertThrows(IOException.class, () -> BirdDaemon.check(file));
        assertTrue(refused.getMessage().contains("BIRD refuses"), refused.getMessage());
    }

    @Test
    void aSessionThroughTheTunnelItsRoutesInTable201AndStatusAgreesWithBirdc() throws Exception {
        startSiteBird();
        GatewayConfig c = config(CONFIG);
        Path run = dir.resolve("run");
        try (BirdDaemon bird = BirdDaemon.start(c, c.instance("gw1"), run, List.of("ip", "netns", "exec", GW_NS))) {
            assertEquals(run.resolve("gw-west-gw1.bird.ctl"), bird.socket());
            // The depot's speaker is not there: that session is configured and keeps trying.
            Map<String, BgpPeerStatus> peers = await(() -> bird.peers(), p -> p.get("to-branch").state().equals(BgpPeerStatus.CONNECTED)
                    && p.get("to-branch").routesReceived() != null && p.get("to-branch").routesReceived() == 1);
            BgpPeerStatus branch = peers.get("to-branch");
            assertEquals("169.254.21.2", branch.neighbor());
            assertEquals(65010L, branch.asn());
            assertEquals("169.254.21.1", branch.localAddress());
            // The site sends 192.168.40.0/24 (taken), a default route and 10.1.7.0/24 inside our addressSpace (both refused).
            assertEquals(2L, branch.routesFiltered());
            // 10.1.0.0/16 (addressSpace) and 10.50.0.0/16 (advertisedPrefixes).
            assertEquals(2L, branch.routesAdvertised());
            BgpPeerStatus depot = peers.get("to-depot");
            assertTrue(List.of(BgpPeerStatus.CONNECTING, BgpPeerStatus.IDLE).contains(depot.state()), depot.toString());
            assertEquals("192.168.30.254", depot.neighbor());

            String table = run("ip", "-n", GW_NS, "-4", "route", "show", "table", "201");
            assertTrue(table.contains("192.168.40.0/24 via 169.254.21.2 dev bgpcfg0 proto bird"), table);
            assertFalse(table.contains("default") || table.contains("10.1.7.0"), table);
            assertFalse(run("ip", "-n", GW_NS, "-4", "route", "show", "table", "main").contains("192.168.40.0"), "never the main table");
            String site = run("ip", "netns", "exec", SITE_NS, "birdc", "-s", dir.resolve("site.ctl").toString(), "show", "route", "protocol", "to_gw");
            assertTrue(site.contains("10.1.0.0/16") && site.contains("10.50.0.0/16") && !site.contains("192.168.40.0"), site);

            // birdc and the status say the same of each session.
            String birdc = run("birdc", "-s", bird.socket().toString(), "show", "protocols");
            assertTrue(birdc.lines().anyMatch(l -> l.startsWith("c_to_branch ") && l.contains(" up ") && l.contains("Established")), birdc);
            String depotLine = birdc.lines().filter(l -> l.startsWith("c_to_depot ")).findFirst().orElseThrow();
            assertTrue(depotLine.contains(" start ") && depotLine.contains(bird.peers().get("to-depot").birdState()), depotLine);

            // A reload: the branch's peer gets another ASN; BIRD takes it, and says the session is refused by the site now.
            GatewayConfig next = config(CONFIG.replace("{asn: 65010,", "{asn: 65011,"));
            assertTrue(bird.reconfigure(next, next.instance("gw1")).contains("Reconfigur"));
            Map<String, BgpPeerStatus> after = await(() -> bird.peers(), p -> p.get("to-branch").asn() == 65011L
                    && !p.get("to-branch").state().equals(BgpPeerStatus.CONNECTED));
            assertNotEquals(BgpPeerStatus.CONNECTED, after.get("to-branch").state());
            // The routes of a session that went down leave the kernel table.
            await(() -> run("ip", "-n", GW_NS, "-4", "route", "show", "table", "201"), t -> !t.contains("192.168.40.0"));
            bird.reconfigure(c, c.instance("gw1"));
            await(() -> bird.peers(), p -> p.get("to-branch").state().equals(BgpPeerStatus.CONNECTED));

            // BIRD killed: the gateway starts it again, the session comes back.
            long pid = bird.pid();
            run("kill", "-9", Long.toString(pid));
            await(() -> bird.restarts(), n -> n == 1);
            assertNotEquals(pid, bird.pid());
            await(() -> bird.peers(), p -> p.get("to-branch").state().equals(BgpPeerStatus.CONNECTED));
            await(() -> run("ip", "-n", GW_NS, "-4", "route", "show", "table", "201"), t -> t.contains("192.168.40.0/24 via 169.254.21.2"));
        }
        // Stopped with the gateway: its routes are gone with it.
        assertEquals("", run("ip", "-n", GW_NS, "-4", "route", "show", "table", "201").strip());
    }

    @Test
    void aSiteSendingMoreThanMaxPrefixesHasItsSessionRestartedAndItsRoutesGone() throws Exception {
        startSiteBird();
        // The site sends 3 routes (2 of them refused, which count too): over a limit of 2.
        GatewayConfig c = config(CONFIG.replace("    advertisedPrefixes: [10.50.0.0/16]\n", "    advertisedPrefixes: [10.50.0.0/16]\n    maxPrefixes: 2\n"));
        assertEquals(2, c.gateway().bgpSettings().maxPrefixes());
        try (BirdDaemon bird = BirdDaemon.start(c, c.instance("gw1"), dir.resolve("run"), List.of("ip", "netns", "exec", GW_NS))) {
            Map<String, BgpPeerStatus> peers = await(() -> bird.peers(), p -> p.get("to-branch").lastError() != null
                    && p.get("to-branch").lastError().toLowerCase(java.util.Locale.ROOT).contains("limit"));
            assertNotEquals(BgpPeerStatus.CONNECTED, peers.get("to-branch").state(), peers.toString());
            assertEquals("", table201(), "nothing of the site's in the kernel");
        }
    }

    /** BIRD killed outright: the gateway hears it die (to stop steering by its stale routes) and hears the new one answer. */
    @Test
    void aKilledBirdIsReportedDeadThenAnsweringAgain() throws Exception {
        GatewayConfig c = config(CONFIG);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        try (BirdDaemon bird = BirdDaemon.start(c, c.instance("gw1"), dir.resolve("run"), List.of("ip", "netns", "exec", GW_NS))) {
            bird.onLifecycle(new BirdDaemon.Lifecycle() {
                @Override
                public void exited(String why) {
                    events.add("exited");
                }

                @Override
                public void answering() {
                    events.add("answering");
                }
            });
            long first = bird.pid();
            run("kill", "-KILL", Long.toString(first));
            await(() -> List.copyOf(events), e -> e.equals(List.of("exited", "answering")));
            assertEquals(1, bird.restarts());
            assertTrue(bird.pid() > 0 && bird.pid() != first);
        }
        assertEquals(List.of("exited", "answering"), events, "a stop is no death to report");
    }

    /** A reload BIRD does not take (here: it is not there to answer) leaves the file it runs with as it was. */
    @Test
    void aReconfigurationNotTakenLeavesTheFileAsItWas() throws Exception {
        GatewayConfig c = config(CONFIG);
        BirdDaemon bird = BirdDaemon.start(c, c.instance("gw1"), dir.resolve("run"), List.of("ip", "netns", "exec", GW_NS));
        bird.close();
        String before = Files.readString(bird.configFile());
        GatewayConfig next = config(CONFIG.replace("advertisedPrefixes: [10.50.0.0/16]", "advertisedPrefixes: [10.50.0.0/16, 10.60.0.0/16]"));
        assertThrows(IOException.class, () -> bird.reconfigure(next, next.instance("gw1")));
        assertEquals(before, Files.readString(bird.configFile()));
        assertTrue(!Files.exists(bird.configFile().resolveSibling(bird.configFile().getFileName() + ".tmp")), "the candidate removed");
    }

    /** A start interrupted while it waits for BIRD's socket stops the BIRD it launched. */
    @Test
    void anInterruptedStartLeavesNoBirdRunning() throws Exception {
        GatewayConfig c = config(CONFIG);
        Path run = dir.resolve("run");
        // BIRD's socket answers only after 3 s: the interrupt comes while start() waits for it.
        List<String> slow = List.of("sh", "-c", "sleep 3; exec \"$@\"", "fixbgp-slow", "ip", "netns", "exec", GW_NS);
        java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                BirdDaemon.start(c, c.instance("gw1"), run, slow).close();
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        Thread.sleep(1000);
        assertEquals(1, birdsOf(run), "the launched BIRD (still in its sleep)");
        t.interrupt();
        Throwable e = outcome.get(10, TimeUnit.SECONDS);
        assertTrue(e instanceof InterruptedException, String.valueOf(e));
        Thread.sleep(4000);
        assertEquals(0, birdsOf(run), "no BIRD left running with nobody to stop it");
    }

    private static long birdsOf(Path run) {
        return ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").contains(run.toString())).count();
    }

    @Test
    void withoutBirdStatusSaysUnknownAndWhy() throws Exception {
        GatewayConfig c = config(CONFIG);
        BirdDaemon bird = BirdDaemon.start(c, c.instance("gw1"), dir.resolve("run"), List.of("ip", "netns", "exec", GW_NS));
        bird.close();
        Map<String, BgpPeerStatus> peers = bird.peers();
        assertEquals(BgpPeerStatus.UNKNOWN, peers.get("to-branch").state());
        assertTrue(peers.get("to-branch").lastError().startsWith("BIRD: "), peers.get("to-branch").lastError());
        assertEquals(-1, bird.pid());
    }

    private void startSiteBird() throws Exception {
        Path conf = dir.resolve("site.conf");
        Files.writeString(conf, """
                router id 169.254.21.2;
                protocol device {}
                ipv4 table igp4;
                protocol static peers { ipv4 { table igp4; }; route 169.254.21.1/32 via "bgpcfg1"; }
                protocol static site { ipv4; route 192.168.40.0/24 blackhole; route 0.0.0.0/0 blackhole; route 10.1.7.0/24 blackhole; }
                protocol bgp to_gw {
                  local 169.254.21.2 as 65010;
                  neighbor 169.254.21.1 as 65515;
                  multihop;
                  ipv4 { igp table igp4; import all; export where proto = "site"; next hop self; };
                }
                """);
        siteBird = new ProcessBuilder("ip", "netns", "exec", SITE_NS, "bird", "-f", "-c", conf.toString(), "-s", dir.resolve("site.ctl").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("site.log").toFile()).start();
    }

    /** Polls {@code what} every 100 ms until {@code done} holds, 30 s at most. */
    private static <T> T await(java.util.concurrent.Callable<T> what, java.util.function.Predicate<T> done) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        T last = null;
        while (System.nanoTime() < end) {
            last = what.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not within 30 s; last: " + last);
    }

    /** Kernel table 201 in the gateway's namespace; empty also when it was never made (no route ever went in). */
    private static String table201() throws Exception {
        try {
            return run("ip", "-n", GW_NS, "-4", "route", "show", "table", "201").strip();
        } catch (IOException e) {
            if (e.getMessage().contains("FIB table does not exist")) {
                return "";
            }
            throw e;
        }
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }
}
