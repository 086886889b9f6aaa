package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways in namespaces of their own, each the other's site, with enableBgp: each puts its
 * APIPA BGP address on its TUN device and starts BIRD, whose session goes through the ESP tunnel
 * (the peer's host route into the TUN device and the tunnel table); each learns the other's
 * addressSpace and advertisedPrefixes into kernel table 201 with the peer as gateway, never into
 * the main table; {@code isthmus status} says what {@code birdc show protocols} says. Then a stop
 * takes BIRD and its routes with it. Needs root, BIRD 2 and the TUN driver, as CI has.
 */
class BgpGatewayTest {
    @TempDir
    Path dir;

    /** The sample gateway A with BGP: 169.254.21.1 in AS 65001 to site B's 169.254.21.2 in AS 65002. */
    private Path configA() throws Exception {
        String text = Files.readString(GatewayCommandTest.demoConfig(dir, "rw-------"));
        text = text.replace("localNetworkGateways:\n", """
                  bgpSettings:
                    asn: 65001
                    bgpPeeringAddresses:
                      - customBgpIpAddresses: [169.254.21.1]
                    advertisedPrefixes: [10.61.0.0/16]
                localNetworkGateways:
                """).replace("    addressPrefixes: [192.168.20.0/24, fd20::/64]\n", """
                    addressPrefixes: [192.168.20.0/24, fd20::/64]
                    bgpSettings: {asn: 65002, bgpPeeringAddress: 169.254.21.2}
                """).replace("    localNetworkGateway: site-b\n", "    localNetworkGateway: site-b\n    enableBgp: true\n");
        return write("a.yaml", text);
    }

    /** Its mirror, B. */
    private Path configB(String a) throws Exception {
        String[][] swaps = {{"10.77.0.1", "10.77.0.2"}, {"192.168.10.", "192.168.20."}, {"fd10::", "fd20::"}, {"169.254.21.1", "169.254.21.2"},
                {"65001", "65002"}, {"10.61.", "10.62."}};
        for (String[] s : swaps) {
            a = a.replace(s[0], "@@").replace(s[1], s[0]).replace("@@", s[1]);
        }
        return write("b.yaml", a);
    }

    private Path write(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private ChildJvm gateway(String ns, Path config, String name) throws Exception {
        Path run = Files.createDirectories(dir.resolve(name + "-run"));
        return ChildJvm.start(TestNamespaces.in(ns), Map.of("RUNTIME_DIRECTORY", run.toString()), Isthmus.class, List.of("gateway", "run",
                "--config", config.toString(), "--control-socket", dir.resolve(name + ".sock").toString()), dir.resolve(name + ".log"));
    }

    @Test
    void bgpThroughTheTunnelStatusAgreesWithBirdc() throws Exception {
        try (TestNamespaces namespaces = new TestNamespaces()) {
            String nsA = namespaces.add("bgpcfg-a");
            String nsB = namespaces.add("bgpcfg-b");
            namespaces.link(nsA, "wan", "10.77.0.1/24", nsB, "wan", "10.77.0.2/24");
            Path a = configA();
            Path b = configB(Files.readString(a));
            ChildJvm gwA = gateway(nsA, a, "a");
            ChildJvm gwB = gateway(nsB, b, "b");
            try {
                String sockA = dir.resolve("a.sock").toString();
                String status = await(() -> LogLevelRequestTest.isthmus("status", "--control-socket", sockA).out(),
                        s -> s.contains("BGP Connected") && s.contains("2 routes received"), gwA, gwB);
                assertTrue(status.contains("  BGP Connected with 169.254.21.2 AS 65002 from 169.254.21.1 for "), status);
                // B's addressSpace (IPv4 part) and advertisedPrefixes; A's own go the other way.
                assertTrue(status.contains("2 routes received (0 filtered), 2 advertised"), status);

                Path birdSocket = dir.resolve("a-run").resolve("demo-gw-a-demo-gw-a-0.bird.ctl");
                String birdc = TestNamespaces.run("birdc", "-s", birdSocket.toString(), "show", "protocols");
                String line = birdc.lines().filter(l -> l.startsWith("c_a_to_b ")).findFirst().orElseThrow(() -> new AssertionError(birdc));
                assertTrue(line.contains(" up ") && line.contains("Established"), line);
                assertTrue(status.contains("(BIRD c_a_to_b: Established)"), status);

                String table = TestNamespaces.exec(nsA, "ip", "-4", "route", "show", "table", "201") + "\n--- BIRD:\n"
                        + TestNamespaces.run("birdc", "-s", birdSocket.toString(), "show", "route", "all") + "\n"
                        + TestNamespaces.run("birdc", "-s", birdSocket.toString(), "show", "protocols", "all", "isthmus_kernel4")
                        + ReloadSignalTest.output(gwA).lines().filter(l -> l.contains("bird")).toList();
                assertTrue(table.contains("192.168.20.0/24 via 169.254.21.2 dev isthmus0 proto bird"), table);
                assertTrue(table.contains("10.62.0.0/16 via 169.254.21.2 dev isthmus0 proto bird"), table);
                String main = TestNamespaces.exec(nsA, "ip", "-4", "route", "show");
                assertTrue(main.contains("169.254.21.2 dev isthmus0"), "the peer's host route into the tunnel: " + main);
                // BIRD writes table 201 only; the gateway follows it and routes what only BGP gives into the tunnel itself (protocol 73).
                assertTrue(main.contains("10.62.0.0/16 dev isthmus0 proto 73"), "the learned route, installed by the gateway: " + main);
                assertFalse(main.contains("proto bird"), "BIRD itself writes nothing into the main table: " + main);
                assertTrue(TestNamespaces.exec(nsA, "ip", "-4", "addr", "show", "dev", "isthmus0").contains("169.254.21.1/32"));

                String json = LogLevelRequestTest.isthmus("status", "--control-socket", sockA, "--json").out();
                var bgp = ControlSocket.JSON.readTree(json).path("connections").get(0).path("bgp");
                assertEquals("Connected", bgp.path("state").asText(), json);
                assertEquals(2, bgp.path("routesReceived").asLong(), json);
                assertEquals(65002, bgp.path("asn").asLong(), json);

                // A reload: A advertises one prefix more; BIRD takes it without dropping the session, and B learns it.
                Files.writeString(a, Files.readString(a).replace("[10.61.0.0/16]", "[10.61.0.0/16, 10.63.0.0/16]"));
                var reload = LogLevelRequestTest.isthmus("reload", "--control-socket", sockA);
                assertEquals(0, reload.code(), reload.out() + reload.err());
                assertTrue(reload.out().contains("BGP: BIRD Reconfigured"), reload.out());
                await(() -> TestNamespaces.exec(nsB, "ip", "-4", "route", "show", "table", "201"),
                        t -> t.contains("10.63.0.0/16 via 169.254.21.1 dev isthmus0 proto bird"), gwA, gwB);
                assertTrue(LogLevelRequestTest.isthmus("status", "--control-socket", sockA).out().contains("3 advertised"));

                gwA.signal("TERM");
                assertEquals(0, gwA.awaitExit(java.time.Duration.ofSeconds(10)), () -> ReloadSignalTest.output(gwA));
                assertEquals("", TestNamespaces.exec(nsA, "ip", "-4", "route", "show", "table", "201").strip(), "BIRD stopped with the gateway");
                assertFalse(TestNamespaces.exec(nsA, "ip", "-4", "route", "show").contains("10.62.0.0"), "the learned route leaves with the gateway");
                assertFalse(TestNamespaces.run("ps", "-eo", "args").contains(birdSocket.toString()), "no BIRD left running");
            } finally {
                stop(gwA);
                stop(gwB);
            }
        }
    }

    /**
     * SIGTERM, so that the gateway stops its BIRD (ChildJvm's close is a SIGKILL, which would leave
     * BIRD running); then whatever BIRD is still named in this test's pid files, by its pid.
     */
    private void stop(ChildJvm g) throws Exception {
        if (g.alive()) {
            g.signal("TERM");
            g.awaitExit(java.time.Duration.ofSeconds(10));
        }
        g.close();
        for (String run : List.of("a-run", "b-run")) {
            try (var files = Files.list(dir.resolve(run))) {
                for (Path pid : files.filter(f -> f.toString().endsWith(".bird.pid")).toList()) {
                    ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).filter(h -> h.info().command().orElse("").endsWith("bird"))
                            .ifPresent(ProcessHandle::destroy);
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // nothing started there
            }
        }
    }

    private static <T> T await(Callable<T> what, Predicate<T> done, ChildJvm... gateways) throws Exception {
        long end = System.nanoTime() + 90_000_000_000L;
        T last = null;
        while (System.nanoTime() < end) {
            last = what.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        StringBuilder logs = new StringBuilder();
        for (ChildJvm g : gateways) {
            logs.append("\n---\n").append(ReloadSignalTest.output(g));
        }
        throw new AssertionError("not within 90 s; last: " + last + logs);
    }
}
