package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.bench.Bench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code isthmus bench remote} pointed at two network namespaces as if they were two machines
 * (machine-a 10.97.0.1 and machine-b 10.97.0.2 on one veth link), run as a user runs it: the
 * command line in machine-a, gateway-b reached with the OpenSSH client through an sshd running in
 * machine-b (its own host key, an authorized key made for the test), or started by hand with a
 * token. One second per measurement: every path must produce every figure, and after each run,
 * however it ended, neither machine may keep anything the run started.
 */
class RemoteBenchTest {
    private static final String PREFIX = "realnic-" + ProcessHandle.current().pid() + "-";
    private static final String MA = PREFIX + "ma";
    private static final String MB = PREFIX + "mb";
    private static final String A = "10.97.0.1";
    private static final String B = "10.97.0.2";
    private static final int SSH_PORT = 2222;
    private static Path dir;
    private static boolean madeRunSshd;
    private static Set<String> workDirsBefore;
    private final List<Process> started = new ArrayList<>();
    private Process sshd;

    @BeforeAll
    static void machines() throws Exception {
        String why = !"root".equals(System.getProperty("user.name")) ? "the bench needs root (network namespaces); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/sbin/sshd")) ? "openssh-server is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/bin/ssh")) ? "openssh-client is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) ? "strongSwan is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/bin/wireguard-go")) ? "wireguard-go is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/bin/iperf3")) ? "iperf3 is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
        dir = Files.createTempDirectory(PREFIX);
        for (String ns : List.of(MA, MB)) {
            Lab.sh("ip", "netns", "add", ns);
            Lab.sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Lab.sh("ip", "link", "add", "wan", "netns", MA, "type", "veth", "peer", "name", "wan", "netns", MB);
        Lab.sh("ip", "-n", MA, "addr", "add", A + "/24", "dev", "wan");
        Lab.sh("ip", "-n", MB, "addr", "add", B + "/24", "dev", "wan");
        Lab.sh("ip", "-n", MA, "link", "set", "wan", "up");
        Lab.sh("ip", "-n", MB, "link", "set", "wan", "up");
        // New namespaces take this host's forwarding; a machine's is often off, and the bench must put it back so.
        for (String ns : List.of(MA, MB)) {
            Lab.sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
        }
        // sshd wants its privilege separation directory, which only its service unit makes.
        Path run = Path.of("/run/sshd");
        if (!Files.isDirectory(run)) {
            Files.createDirectories(run);
            madeRunSshd = true;
        }
        Lab.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host").toString());
        Lab.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("user").toString());
        Files.copy(dir.resolve("user.pub"), dir.resolve("authorized_keys"));
        workDirsBefore = workDirs();
    }

    @AfterAll
    static void removeMachines() throws Exception {
        for (String ns : List.of(MA, MB)) {
            for (String pid : Lab.sh("ip", "netns", "pids", ns).split("\\s+")) {
                if (!pid.isBlank()) {
                    new ProcessBuilder("kill", "-KILL", pid.strip()).start().waitFor();
                }
            }
            new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
        }
        if (madeRunSshd) {
            Files.deleteIfExists(Path.of("/run/sshd"));
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** Each test starts from machines with forwarding off, whatever the one before left. */
    @BeforeEach
    void forwardingOff() throws Exception {
        for (String ns : List.of(MA, MB)) {
            Lab.sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
        }
    }

    /** What the test started, stopped and waited for: the next test's runs must not meet it still cleaning up. */
    @AfterEach
    void stopWhatTheTestStarted() throws InterruptedException {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        started.clear();
        sshd = null;
    }

    @Test
    void overSshEachKindOfPathProducesEveryFigureAndBothMachinesAreLeftAsTheyWere() throws Exception {
        String forwardingA = forwarding(MA);
        String forwardingB = forwarding(MB);
        startSshd();
        Path json = dir.resolve("ssh.json");
        // The paths that differ across two machines (the baseline, Isthmus both ESP encapsulations, strongSwan's, wireguard-go's):
        // every path at once took 8 minutes of CI on a loaded machine; BenchTest runs the rest in namespaces.
        List<String> paths = List.of("plain-routing", "isthmus-aes128gcm", "isthmus-raw-esp", "strongswan-strongswan", "wireguard-go");
        Run run = driver("over-ssh", List.of("--ssh", "root@" + B, "--ssh-command", sshCommand(), "--json", json.toString(), "--paths",
                String.join(",", paths)));
        assertEquals(0, run.awaitExit(900), run.output());
        String output = run.output();
        System.out.println(output);
        JsonNode doc = Bench.JSON.readTree(Files.readString(json));
        assertEquals(0, doc.path("skipped").size(), "this machine has every program: nothing may be skipped\n" + output);
        assertEquals(paths.size(), doc.path("rows").size(), output);
        assertEquals(A, doc.path("gatewayA").path("address").asText());
        assertEquals(B, doc.path("gatewayB").path("address").asText());
        for (JsonNode r : doc.path("rows")) {
            String id = r.path("id").asText();
            assertTrue(r.path("error").isNull(), id + ": " + r);
            for (String figure : List.of("tcp1Gbps", "tcp4Gbps", "udp64Pps", "udp1400Pps", "pingMedianMs", "pingP99Ms")) {
                assertTrue(r.path(figure).asDouble() > 0, id + " " + figure + ": " + r);
            }
            // 20 sent; one lost on a loaded machine is no failure of the bench's.
            assertTrue(r.path("pings").asInt() >= 10 && r.path("pings").asInt() <= 20, id + ": " + r);
            if (!id.equals("plain-routing")) {
                // Both machines' gateways are counted: each path's daemons ran and used the CPU.
                assertTrue(r.path("gatewayCpuSeconds").asDouble() > 0 && r.path("peakRssKb").asLong() > 0, id + ": " + r);
            }
            assertTrue(output.contains("| " + r.path("path").asText() + " | "), "the table has " + id);
        }
        assertTrue(output.contains("of plain routing"), output);
        assertTrue(output.contains("times wireguard-go"), output);
        assertLeftAsTheyWere(forwardingA, forwardingB);
    }

    @Test
    void aGatewayBStartedByHandRefusesAWrongTokenThenServesTheRightOne() throws Exception {
        String forwardingA = forwarding(MA);
        String forwardingB = forwarding(MB);
        String token = "realnic-test-token-" + ProcessHandle.current().pid();
        Path agentLog = dir.resolve("agent.log");
        Process b = gatewayB(token, 7361, "agent.log");

        Run wrong = driver("wrong-token", List.of("--connect", B + ":7361", "--token", "not the token, but long enough", "--paths", "plain-routing"));
        assertNotEquals(0, wrong.awaitExit(120), wrong.output());
        assertTrue(wrong.output().contains("gateway-b refused the token"), wrong.output());
        assertTrue(b.isAlive(), "a wrong token does not end gateway-b's wait");

        Path json = dir.resolve("tcp.json");
        Run run = driver("by-hand", List.of("--connect", B + ":7361", "--token", token, "--paths", "plain-routing,isthmus-raw-esp",
                "--json", json.toString()));
        assertEquals(0, run.awaitExit(600), run.output());
        System.out.println(run.output());
        JsonNode doc = Bench.JSON.readTree(Files.readString(json));
        assertEquals(List.of("plain-routing", "isthmus-raw-esp"), ids(doc));
        for (JsonNode r : doc.path("rows")) {
            assertTrue(r.path("error").isNull() && r.path("tcp1Gbps").asDouble() > 0 && r.path("udp64Pps").asDouble() > 0, r.toString());
        }
        assertTrue(b.waitFor(60, TimeUnit.SECONDS), "gateway-b ends with the run");
        assertEquals(0, b.exitValue(), Files.readString(agentLog));
        assertTrue(Files.readString(agentLog).contains("refused"), Files.readString(agentLog));
        assertLeftAsTheyWere(forwardingA, forwardingB);
    }

    @Test
    void ctrlCOnGatewayAMidMeasurementStopsAndRemovesEverythingOnBothMachines() throws Exception {
        String forwardingA = forwarding(MA);
        String forwardingB = forwarding(MB);
        startSshd();
        Run run = driver("ctrl-c", List.of("--ssh", "root@" + B, "--ssh-command", sshCommand(), "--paths", "isthmus-aes128gcm",
                "--seconds", "120"));
        // Mid-run: both gateways up and iperf3 sending through them.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!iperfSending() || !isthmusRunsIn(MA) || !isthmusRunsIn(MB)) {
            assertTrue(System.nanoTime() < end && run.process.isAlive(), "the run did not get to measuring: " + run.output());
            Thread.sleep(500);
        }
        Thread.sleep(3000);
        // SIGINT, as Ctrl-C in a terminal sends it (to the driver alone here: the harder case, ssh is not signalled).
        new ProcessBuilder("kill", "-INT", Long.toString(run.process.pid())).start().waitFor();
        assertTrue(run.process.waitFor(90, TimeUnit.SECONDS), "the driver ends on Ctrl-C: " + run.output());
        assertLeftAsTheyWere(forwardingA, forwardingB);
    }

    @Test
    void gatewayBKilledOutrightEndsTheRunItsGatewayGoesWithItAndItsNextRunClearsTheRest() throws Exception {
        String forwardingA = forwarding(MA);
        String forwardingB = forwarding(MB);
        String token = "realnic-kill-token-" + ProcessHandle.current().pid();
        Process b = gatewayB(token, 7362, "killed-agent.log");
        Path json = dir.resolve("killed.json");
        Run run = driver("killed", List.of("--connect", B + ":7362", "--token", token, "--paths", "isthmus-aes128gcm,plain-routing",
                "--seconds", "120", "--json", json.toString()));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!iperfSending()) {
            assertTrue(System.nanoTime() < end && run.process.isAlive(), "the run did not get to measuring: " + run.output());
            Thread.sleep(500);
        }
        Thread.sleep(3000);
        new ProcessBuilder("kill", "-KILL", Long.toString(b.pid())).start().waitFor();
        // gateway-a sees the link end mid-measurement and stops at once, not when the 120 s iperf3 run would have.
        assertEquals(1, run.awaitExit(90), run.output());
        assertTrue(run.output().contains("gateway-b is gone"), run.output());
        JsonNode doc = Bench.JSON.readTree(Files.readString(json));
        assertTrue(doc.path("rows").get(0).path("error").asText().contains("gateway-b is gone"), doc.toString());
        assertEquals("not run: gateway-b is gone", doc.path("skipped").get(0).path("reason").asText(), doc.toString());
        // gateway-b's Isthmus died with its agent (parent-death signal): no clean-up of the agent's own could run.
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (isthmusRunsIn(MB)) {
            assertTrue(System.nanoTime() < end, "gateway-b's Isthmus outlived its agent");
            Thread.sleep(500);
        }
        // Its site namespace, forwarding and work directory stay until gateway-b's next run, which clears them first.
        Process again = gatewayB(token, 7363, "next-agent.log");
        Run next = driver("after-kill", List.of("--connect", B + ":7363", "--token", token, "--paths", "plain-routing"));
        assertEquals(0, next.awaitExit(300), next.output());
        assertTrue(again.waitFor(60, TimeUnit.SECONDS));
        assertLeftAsTheyWere(forwardingA, forwardingB);
    }

    private Process gatewayB(String token, int port, String logName) throws Exception {
        Path log = dir.resolve(logName);
        List<String> agent = new ArrayList<>(List.of("ip", "netns", "exec", MB));
        agent.addAll(isthmus());
        agent.addAll(List.of("bench", "remote", "--role", "gateway-b", "--listen", B + ":" + port, "--token", token, "--wait", "300"));
        Process p = new ProcessBuilder(agent).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        awaitLine(log, "waiting for gateway-a", 60);
        return p;
    }

    // ------------------------------------------------------------------------------------------

    /** What a run may not leave: a process in either machine (but the test's sshd), a bench namespace, a work directory, forwarding changed. */
    private void assertLeftAsTheyWere(String forwardingA, String forwardingB) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<String> left = new ArrayList<>();
            for (String ns : List.of(MA, MB)) {
                for (String pid : Lab.sh("ip", "netns", "pids", ns).split("\\s+")) {
                    if (!pid.isBlank() && (sshd == null || Long.parseLong(pid.strip()) != sshd.pid())) {
                        left.add(ns + ": " + commandOf(pid.strip()));
                    }
                }
            }
            Lab.sh("ip", "netns", "list").lines().filter(l -> l.startsWith("isthmus-bench-")).forEach(l -> left.add("namespace " + l));
            Set<String> newDirs = workDirs();
            newDirs.removeAll(workDirsBefore);
            newDirs.forEach(d -> left.add("directory " + d));
            if (!forwarding(MA).equals(forwardingA) || !forwarding(MB).equals(forwardingB)) {
                left.add("ip_forward " + forwarding(MA) + "/" + forwarding(MB) + ", was " + forwardingA + "/" + forwardingB);
            }
            for (String ns : List.of(MA, MB)) {
                String links = Lab.sh("ip", "-n", ns, "-o", "link", "show");
                for (String dev : List.of("bench-site", "ibench0", "ipsec0", "wg-bench")) {
                    if (links.contains(dev)) {
                        left.add(ns + ": link " + dev);
                    }
                }
                String routes = Lab.sh("ip", "-n", ns, "route", "show", "table", "all");
                if (routes.contains("198.18.")) {
                    left.add(ns + ": routes " + routes.lines().filter(l -> l.contains("198.18.")).toList());
                }
            }
            if (left.isEmpty()) {
                return;
            }
            // sshd's session processes and the gateways' last steps take a moment after the driver has exited.
            assertTrue(System.nanoTime() < end, "left behind: " + left);
            Thread.sleep(500);
        }
    }

    private static String commandOf(String pid) {
        try {
            return pid + " " + Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ').strip();
        } catch (IOException e) {
            return pid;
        }
    }

    private static boolean isthmusRunsIn(String ns) throws Exception {
        for (String pid : Lab.sh("ip", "netns", "pids", ns).split("\\s+")) {
            if (!pid.isBlank() && commandOf(pid.strip()).contains("gateway run")) {
                return true;
            }
        }
        return false;
    }

    /** Whether an iperf3 client sends to site B's host: the run is measuring. */
    private static boolean iperfSending() throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).anyMatch(p -> {
                try {
                    return Files.readString(p.resolve("cmdline")).startsWith(String.join("\u0000", "iperf3", "-c", "198.18.2.10", ""));
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    private static Set<String> workDirs() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("/tmp"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("isthmus-bench-remote")).collect(Collectors.toSet());
        }
    }

    private static String forwarding(String ns) throws Exception {
        return Lab.sh("ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_forward").strip();
    }

    private static List<String> ids(JsonNode doc) {
        List<String> ids = new ArrayList<>();
        doc.path("rows").forEach(r -> ids.add(r.path("id").asText()));
        return ids;
    }

    private void startSshd() throws Exception {
        Path log = dir.resolve("sshd.log");
        sshd = new ProcessBuilder("ip", "netns", "exec", MB, "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-p", Integer.toString(SSH_PORT),
                "-h", dir.resolve("host").toString(), "-o", "ListenAddress=" + B, "-o", "AuthorizedKeysFile=" + dir.resolve("authorized_keys"),
                "-o", "PermitRootLogin=prohibit-password", "-o", "StrictModes=no", "-o", "PidFile=none")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(sshd);
        awaitLine(log, "Server listening", 30);
    }

    private String sshCommand() {
        return "ssh -o BatchMode=yes -p " + SSH_PORT + " -i " + dir.resolve("user") + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                + "-o LogLevel=ERROR";
    }

    private static void awaitLine(Path log, String text, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!Files.exists(log) || !Files.readString(log).contains(text)) {
            assertTrue(System.nanoTime() < end, text + " not in " + log + ": " + (Files.exists(log) ? Files.readString(log) : ""));
            Thread.sleep(200);
        }
    }

    /** This build's isthmus command line, as deploy/isthmus would run it. */
    private static List<String> isthmus() {
        List<String> c = new ArrayList<>(LabGateways.javaCommand());
        c.add(IsthmusLab.class.getName());
        return c;
    }

    private record Run(Process process, Path log) {
        int awaitExit(int seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroy();
                process.waitFor(60, TimeUnit.SECONDS);
                throw new AssertionError("the run took more than " + seconds + " s: " + output());
            }
            return process.exitValue();
        }

        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no output)";
            }
        }
    }

    /** {@code isthmus bench remote} in machine-a, one second per measurement, 20 pings. */
    private Run driver(String name, List<String> args) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", MA));
        c.addAll(isthmus());
        c.addAll(List.of("bench", "remote", "--peer", B, "--pings", "20"));
        c.addAll(args);
        if (!args.contains("--seconds")) {
            c.addAll(List.of("--seconds", "1"));
        }
        if (!args.contains("--json")) {
            c.addAll(List.of("--json", dir.resolve(name + ".json").toString()));
        }
        Path log = dir.resolve(name + ".out");
        Process p = new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return new Run(p, log);
    }
}
