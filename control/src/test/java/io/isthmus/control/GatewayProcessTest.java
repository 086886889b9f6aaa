package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.systemd.FakeNotifySocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code isthmus gateway run} as systemd runs it: a process in a network namespace of its own,
 * telling a notification socket (a real one, read by the test) that it is ready, how many tunnels
 * are up, that the watchdog may stay quiet; failing to start with one line; and stopping on
 * SIGTERM or SIGINT with its IKE SAs deleted, exit code 0, within 5 s, even when the peer
 * never answers the Delete.
 */
class GatewayProcessTest {
    /** What the issue promises a stop takes, signal to exit. */
    static final Duration STOP_BOUND = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    /** Gateway A of the demo (10.77.0.1, site B behind 10.77.0.2), mode 0600 so that it starts without a warning. */
    private Path configA() throws Exception {
        Path file = GatewayCommandTest.demoConfig(dir, "rw-------");
        return Files.move(file, dir.resolve("a.yaml"));
    }

    /** Its mirror: gateway B at 10.77.0.2 with site A behind 10.77.0.1. */
    private Path configB(Path a) throws IOException {
        String text = Files.readString(a);
        String[][] swaps = {{"10.77.0.1", "10.77.0.2"}, {"192.168.10.", "192.168.20."}, {"fd10::", "fd20::"}};
        for (String[] s : swaps) {
            text = text.replace(s[0], "@@").replace(s[1], s[0]).replace("@@", s[1]);
        }
        Path b = dir.resolve("b.yaml");
        Files.writeString(b, text);
        Files.setPosixFilePermissions(b, PosixFilePermissions.fromString("rw-------"));
        return b;
    }

    private ChildJvm gateway(String ns, Path config, String name, Map<String, String> environment) throws IOException {
        return ChildJvm.start(TestNamespaces.in(ns), environment, Isthmus.class, List.of("gateway", "run", "--config", config.toString(),
                "--control-socket", dir.resolve(name + ".sock").toString()), dir.resolve(name + ".log"));
    }

    @Test
    void anAddressNotOnTheHostStopsTheStartWithOneLine() throws Exception {
        try (TestNamespaces namespaces = new TestNamespaces(); FakeNotifySocket systemd = FakeNotifySocket.bind(dir.resolve("notify").toString())) {
            String ns = namespaces.add("no-address");
            Path config = configA();
            try (ChildJvm g = gateway(ns, config, "a", Map.of("NOTIFY_SOCKET", systemd.name()))) {
                Integer exit = g.awaitExit(Duration.ofSeconds(60));
                String why = config + ": virtualNetworkGateway.instances[0].publicIpAddress: 10.77.0.1 is not an address of this host (it has none but"
                        + " loopback and link-local ones); behind a cloud's 1:1 NAT, set privateIpAddress to the address the machine itself has";
                assertEquals("isthmus: " + why + "\n", g.output(), "one line, no stack trace, nothing logged before it");
                assertEquals(GatewayCommand.HOST_NOT_READY, exit, "a host not (yet) ready for the file: 3, which systemd restarts; not 2, a mistake in the file");
                assertEquals(List.of("STATUS=" + why + "\nERRNO=22"), systemd.drain(), "systemctl status shows the same line");
            }
            assertTrue(!Files.exists(dir.resolve("a.sock")), "nothing made on the host, the control socket included");
        }
    }

    @Test
    void sigtermAndSigintDeleteTheSasAndExitZeroWithinFiveSeconds() throws Exception {
        try (TestNamespaces namespaces = new TestNamespaces(); FakeNotifySocket systemd = FakeNotifySocket.bind(dir.resolve("notify").toString())) {
            String nsA = namespaces.add("gw-a");
            String nsB = namespaces.add("gw-b");
            namespaces.link(nsA, "wan", "10.77.0.1/24", nsB, "wan", "10.77.0.2/24");
            Path a = configA();
            Path b = configB(a);
            Map<String, String> service = Map.of("NOTIFY_SOCKET", systemd.name(), "WATCHDOG_USEC", "2000000");
            try (ChildJvm gwB = gateway(nsB, b, "b", Map.of())) {
                // SIGTERM, the peer answering.
                long started = System.nanoTime();
                List<String> said = new ArrayList<>();
                try (ChildJvm gwA = gateway(nsA, a, "a", service)) {
                    String ready = systemd.awaitMessage(m -> m.startsWith("READY=1"), Duration.ofSeconds(60), said);
                    assertNotNull(ready, () -> "no READY=1: " + said + "\n" + ReloadSignalTest.output(gwA));
                    long readyMillis = (System.nanoTime() - started) / 1_000_000;
                    assertTrue(ready.matches("READY=1\nSTATUS=[01] of 1 tunnels up\nMAINPID=" + gwA.pid()), ready);
                    assertNotNull(systemd.awaitMessage("STATUS=1 of 1 tunnels up"::equals, Duration.ofSeconds(60), said),
                            () -> "the tunnel never came up: " + said + "\n" + ReloadSignalTest.output(gwA) + "\n" + ReloadSignalTest.output(gwB));
                    long upMillis = (System.nanoTime() - started) / 1_000_000;
                    assertNotNull(systemd.awaitMessage("WATCHDOG=1"::equals, Duration.ofSeconds(30), said), () -> "no WATCHDOG=1: " + said);
                    System.out.printf("gateway A: READY=1 %d ms after its start, 1 of 1 tunnels up after %d ms%n", readyMillis, upMillis);

                    // A second gateway on the same host and configuration: its ports are taken, by whom is said, in one line each.
                    try (ChildJvm twin = gateway(nsA, a, "a-twin", Map.of())) {
                        assertEquals(GatewayCommand.HOST_NOT_READY, twin.awaitExit(Duration.ofSeconds(60)), () -> ReloadSignalTest.output(twin));
                        List<String> lines = twin.output().lines().toList();
                        String holder = "is taken by java (pid " + gwA.pid() + ")";
                        assertEquals(2, lines.size(), () -> "one line per port: " + lines);
                        assertEquals("isthmus: " + a + ": virtualNetworkGateway.tunnel.ikePort: UDP port 500 on 10.77.0.1 " + holder
                                + "; the gateway needs it for IKE", lines.get(0));
                        assertEquals(a + ": virtualNetworkGateway.tunnel.natTraversalPort: UDP port 4500 on 10.77.0.1 " + holder
                                + "; the gateway needs it for ESP in UDP, and IKE behind a NAT", lines.get(1));
                    }
                    assertTrue(gwA.alive(), "the twin changed nothing of the running gateway");

                    long signalled = System.nanoTime();
                    gwA.signal("TERM");
                    Integer exit = gwA.awaitExit(Duration.ofSeconds(30));
                    long stopMillis = (System.nanoTime() - signalled) / 1_000_000;
                    System.out.printf("SIGTERM, peer answering: exit %s after %d ms%n", exit, stopMillis);
                    assertEquals(0, exit, () -> ReloadSignalTest.output(gwA));
                    assertTrue(stopMillis < STOP_BOUND.toMillis(), "stopped in " + stopMillis + " ms");
                    assertTrue(gwA.output().contains("deleting IKE SA"), () -> ReloadSignalTest.output(gwA));
                    assertTrue(Pattern.compile("\\d+ IKE SA\\(s\\) deleted, the peers answered").matcher(gwA.output()).find(),
                            () -> ReloadSignalTest.output(gwA));
                    assertTrue(gwB.awaitOutput("peer deletes the IKE SA", Duration.ofSeconds(10)), () -> ReloadSignalTest.output(gwB));
                    List<String> last = systemd.drain();
                    assertTrue(last.contains("STOPPING=1\nSTATUS=stopping: deleting the IKE SAs (SIGTERM)"), last::toString);
                }

                // SIGINT, the peer frozen: its kernel still queues what A sends to its IKE socket, and nothing answers.
                said.clear();
                try (ChildJvm gwA = gateway(nsA, a, "a-again", service)) {
                    assertNotNull(systemd.awaitMessage("STATUS=1 of 1 tunnels up"::equals, Duration.ofSeconds(60), said),
                            () -> "the tunnel never came up again: " + said + "\n" + ReloadSignalTest.output(gwA));
                    gwB.signal("STOP");
                    try {
                        long queuedBefore = ikeBytesQueued(nsB);
                        long signalled = System.nanoTime();
                        gwA.signal("INT");
                        Integer exit = gwA.awaitExit(Duration.ofSeconds(30));
                        long stopMillis = (System.nanoTime() - signalled) / 1_000_000;
                        System.out.printf("SIGINT, peer frozen: exit %s after %d ms%n", exit, stopMillis);
                        assertEquals(0, exit, () -> ReloadSignalTest.output(gwA));
                        assertTrue(stopMillis < STOP_BOUND.toMillis(), "stopped in " + stopMillis + " ms");
                        assertTrue(gwA.output().contains("deleting IKE SA"), () -> ReloadSignalTest.output(gwA));
                        assertTrue(Pattern.compile("(\\d+) IKE SA\\(s\\) deleted, \\1 without the peer's answer in 2 s").matcher(gwA.output()).find(),
                                () -> ReloadSignalTest.output(gwA));
                        assertTrue(ikeBytesQueued(nsB) > queuedBefore, "the Delete reached the peer's IKE socket");
                    } finally {
                        gwB.signal("CONT");
                    }
                }
            }
        }
    }

    /** Bytes waiting in the receive queue of UDP port 500 in {@code ns} (ss's Recv-Q). */
    private static long ikeBytesQueued(String ns) throws IOException, InterruptedException {
        String line = TestNamespaces.exec(ns, "ss", "-H", "-u", "-a", "-n", "sport = :500").strip();
        String[] columns = line.split("\\s+");
        assertTrue(columns.length >= 4 && line.lines().count() == 1, () -> "one IKE socket in " + ns + ": " + line);
        return Long.parseLong(columns[1]);
    }
}
