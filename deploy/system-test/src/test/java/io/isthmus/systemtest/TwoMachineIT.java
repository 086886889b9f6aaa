package io.isthmus.systemtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Network.Ipam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.Network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two machines, as a user has them: two Debian 12 containers booting systemd, joined by an internal Docker
 * network (the wide-area link, no way out), each with a host behind it (a network namespace on a veth, the
 * site's LAN). The .deb this build made goes into each with {@code apt install ./isthmus_*.deb} (no mirror
 * to reach: its Depends must already be there), /etc/isthmus/gw.yaml is written, and
 * {@code systemctl start isthmus@gw} runs the unit as the package ships it.
 *
 * <pre>
 *  host-a 192.168.10.10      gw-a 10.199.0.11 ==== red (IKEv2 + ESP) ===== 10.199.0.12 gw-b      host-b 192.168.20.10
 *         192.168.11.10                      ==== blue (another key) ====                              192.168.21.10
 * </pre>
 *
 * Two connections between the same two gateways (told apart by their keys), so that a change to one of them
 * can be seen to leave the other alone. The steps run in order on the same machines; each says what it needs
 * from the ones before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoMachineIT {
    private static final Duration UP = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path REPORTS = Path.of("target", "system-test");

    private final String prefix = "isthmus-systest-" + ProcessHandle.current().pid();
    private final Map<String, String> measured = new LinkedHashMap<>();
    private Network wan;
    private Machine a;
    private Machine b;
    private DebianPackage deb;

    @BeforeAll
    void machines() throws Exception {
        assertTrue(DockerClientFactory.instance().isDockerAvailable(),
                "no Docker engine answers (DOCKER_HOST=" + System.getenv("DOCKER_HOST") + "): deploy/test.sh starts one");
        deb = DebianPackage.underTest();
        String image = BaseImage.name();
        wan = Network.builder().createNetworkCmdModifier(cmd -> cmd.withName(prefix + "-wan").withInternal(true)
                .withIpam(new Ipam().withConfig(new Ipam.Config().withSubnet("10.199.0.0/24")))).build();
        a = new Machine(prefix, "gw-a", image, wan, "10.199.0.11");
        b = new Machine(prefix, "gw-b", image, wan, "10.199.0.12");
        for (Machine m : List.of(a, b)) {
            m.boot();
        }
        measured.put("package", deb.file().getFileName() + ", " + deb.size() / 1024 + " KiB");
        site(a, "192.168.10", "192.168.11");
        site(b, "192.168.20", "192.168.21");
    }

    /** The host behind the gateway: namespace "host" on a veth, one address in each of the site's two LANs. */
    private static void site(Machine m, String red, String blue) {
        m.sh("ip netns add host && ip link add lan0 type veth peer name eth0 netns host"
                + " && ip addr add " + red + ".1/24 dev lan0 && ip addr add " + blue + ".1/24 dev lan0 && ip link set lan0 up"
                + " && ip -n host link set lo up && ip -n host addr add " + red + ".10/24 dev eth0"
                + " && ip -n host addr add " + blue + ".10/24 dev eth0 && ip -n host link set eth0 up"
                + " && ip -n host route add default via " + red + ".1");
    }

    @AfterAll
    void down() throws IOException {
        Files.createDirectories(REPORTS);
        StringBuilder report = new StringBuilder();
        measured.forEach((k, v) -> report.append("system test: ").append(k).append(": ").append(v).append('\n'));
        Files.writeString(REPORTS.resolve("measurements.txt"), report);
        System.out.print(report);
        for (Machine m : new Machine[] {a, b}) {
            if (m != null) {
                m.saveJournal(REPORTS);
                m.close();
            }
        }
        if (wan != null) {
            wan.close();
        }
    }

    @Test
    @Order(1)
    void thePackageInstallsWithAptAndNothingElse() {
        for (Machine m : List.of(a, b)) {
            m.copy(deb.file(), "/root/" + deb.file().getFileName());
            long t0 = System.nanoTime();
            m.sh("cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./" + deb.file().getFileName()
                    + " </dev/null >/root/apt.log 2>&1 || { cat /root/apt.log; exit 1; }");
            measured.put("apt install on " + m.name(), (System.nanoTime() - t0) / 1_000_000 + " ms");
            // Its own runtime: no JDK on the machine, the command on PATH, the unit in systemd's view.
            assertEquals("", m.exec("command -v java").getStdout().strip(), "a java on PATH: the test would not show the package's own");
            assertTrue(m.sh("isthmus --version").contains(versionOf(deb)), "isthmus --version names the package's version");
            m.sh("systemctl cat isthmus@gw.service >/dev/null");
        }
        measured.put("installed size", a.sh("dpkg-query -W -f '${Installed-Size}' isthmus").strip() + " KiB");
    }

    private static String versionOf(DebianPackage p) {
        Matcher v = Pattern.compile("isthmus_([^_~-]+)").matcher(p.file().getFileName().toString());
        assertTrue(v.find(), p.file().toString());
        return v.group(1);
    }

    @Test
    @Order(3)
    void systemctlStartBringsTheTunnelsUp() {
        a.write("/etc/isthmus/gw.yaml", gatewayYaml("10.199.0.11", "10.199.0.12", "192.168.10", "192.168.11",
                "192.168.20", "[192.168.21.0/24]"), 0600);
        b.write("/etc/isthmus/gw.yaml", gatewayYaml("10.199.0.12", "10.199.0.11", "192.168.20", "192.168.21",
                "192.168.10", "[192.168.11.0/24]"), 0644);
        // Both at once, as two machines would be: the time to the first child SA then means what it says.
        // (A thread each: the common pool has one thread on two cores, and would start them one after the other.)
        try (ExecutorService both = Executors.newFixedThreadPool(2)) {
            List<CompletableFuture<String>> starts = List.of(a, b).stream()
                    .map(m -> CompletableFuture.supplyAsync(() -> m.sh("timeout 120 systemctl start isthmus@gw"), both)).toList();
            starts.forEach(CompletableFuture::join);
        }
        for (Machine m : List.of(a, b)) {
            // Both ends initiate (connectionMode Default): the duplicate IKE SAs are resolved to one per connection.
            Machine.await(m.name() + ": red and blue each with one IKE SA and one child SA", UP,
                    () -> running(m) && settled(m, "red") && settled(m, "blue"));
        }
        for (Machine m : List.of(a, b)) {
            Map<String, Long> t = monotonic(m, "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic");
            long start = t.get("ExecMainStartTimestampMonotonic");
            measured.put(m.name() + " systemctl start to READY", (t.get("ActiveEnterTimestampMonotonic") - start) / 1000 + " ms");
            measured.put(m.name() + " systemctl start to first child SA", (firstLogLine(m, "CHILD_SA established") - start) / 1000 + " ms");
        }
    }

    @Test
    @Order(4)
    void pingCrossesBothTunnels() {
        a.sh("ip netns exec host ping -c 3 -i 0.2 -W 2 -I 192.168.10.10 192.168.20.10");
        a.sh("ip netns exec host ping -c 3 -i 0.2 -W 2 -I 192.168.11.10 192.168.21.10");
        b.sh("ip netns exec host ping -c 3 -i 0.2 -W 2 -I 192.168.20.10 192.168.10.10");
        assertTrue(counter(childSas(a, "red").getFirst(), "outPackets") >= 3, "red carried the pings");
        assertTrue(counter(childSas(a, "blue").getFirst(), "outPackets") >= 3, "blue carried the pings");
        // The package's own runtime serves /metrics, the JVM's included (they need jdk.management in its jlink image).
        // Bash's /dev/tcp: the machines have no curl, as a minimal Debian has none.
        String scrape = a.sh("exec 3<>/dev/tcp/127.0.0.1/9850 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3");
        assertTrue(scrape.startsWith("HTTP/1.1 200"), scrape);
        assertTrue(scrape.contains("isthmus_connection_up{connection=\"red\"} 1.0") && scrape.contains("isthmus_connection_up{connection=\"blue\"} 1.0"),
                scrape);
        assertTrue(scrape.contains("jvm_memory_used_bytes") && scrape.contains("process_open_fds"), scrape);
    }

    @Test
    @Order(5)
    void aTcpTransferArrivesWhole() {
        b.sh("systemd-run --unit=receive --collect timeout 90 ip netns exec host sh -c 'nc -l 5001 > /tmp/received'");
        Machine.await("host-b listens on 5001", Duration.ofSeconds(20),
                () -> b.exec("ip netns exec host ss -ltn 'sport = :5001'").getStdout().contains("5001"));
        String sent = a.sh("head -c 16M /dev/urandom > /tmp/sent && timeout 60 ip netns exec host nc -N -s 192.168.10.10 192.168.20.10 5001 < /tmp/sent"
                + " && sha256sum < /tmp/sent");
        Machine.await("the receiver is done", Duration.ofSeconds(30),
                () -> b.exec("systemctl is-active --quiet receive").getExitCode() != 0);
        assertEquals(sent, b.sh("sha256sum < /tmp/received"), "16 MiB through red, checked by SHA-256");
    }

    @Test
    @Order(6)
    void reloadKeepsTheUnchangedConnectionAndLosesNoPacket() throws IOException {
        for (Machine m : List.of(a, b)) {
            Machine.await(m.name() + ": settled before the reload", UP, () -> settled(m, "red") && settled(m, "blue"));
        }
        List<String> redA = spis(a, "red");
        List<String> redB = spis(b, "red");
        // A paced UDP stream from host-a to host-b through red, 125 datagrams a second for 8 s, across the reload.
        b.sh("systemd-run --unit=iperf-server --collect timeout 60 ip netns exec host iperf3 -s -1 -p 5201 -B 192.168.20.10");
        Machine.await("host-b's iperf3 listens", Duration.ofSeconds(20),
                () -> b.exec("ip netns exec host ss -ltn 'sport = :5201'").getStdout().contains("5201"));
        long before = counter(childSas(a, "red").getFirst(), "outPackets");
        a.sh("systemd-run --unit=iperf-client --collect sh -c 'timeout 60 ip netns exec host iperf3 -c 192.168.20.10 -B 192.168.10.10"
                + " -p 5201 -u -b 1M -l 1000 -t 8 --json > /tmp/iperf.json'");
        // About a second of it (125 datagrams) has crossed before the reload.
        Machine.await("the stream runs", Duration.ofSeconds(20), () -> counter(childSas(a, "red").getFirst(), "outPackets") > before + 125);
        // blue gets another prefix on gw-a; red is unchanged.
        a.write("/etc/isthmus/gw.yaml", gatewayYaml("10.199.0.11", "10.199.0.12", "192.168.10", "192.168.11",
                "192.168.20", "[192.168.21.0/24, 192.168.22.0/24]"), 0600);
        a.sh("timeout 30 systemctl reload isthmus@gw");
        Machine.await("the stream ends", Duration.ofSeconds(40), () -> a.exec("systemctl is-active --quiet iperf-client").getExitCode() != 0);
        JsonNode sum = JSON.readTree(a.sh("cat /tmp/iperf.json")).path("end").path("sum");
        assertTrue(sum.has("packets") && sum.has("lost_packets"), "iperf3's UDP summary: " + sum);
        long packets = sum.path("packets").asLong();
        long lost = sum.path("lost_packets").asLong();
        measured.put("loss across systemctl reload", lost + " of " + packets + " datagrams (iperf3 UDP, 1 Mbit/s, 1000-byte datagrams, 8 s)");
        assertTrue(packets > 500, "the stream ran: " + sum);
        assertEquals(0, lost, "datagrams lost across the reload: " + sum);
        assertEquals(redA, spis(a, "red"), "gw-a: red's SPIs after the reload");
        assertEquals(redB, spis(b, "red"), "gw-b: red's SPIs after the reload");
        assertTrue(a.sh("ip route show 192.168.22.0/24").contains("dev isthmus0"), "gw-a routes blue's new prefix into the tunnel");
        a.sh("ip netns exec host ping -c 3 -i 0.2 -W 2 -I 192.168.11.10 192.168.21.10");
    }

    @Test
    @Order(7)
    void onlyExpectedWarningsAreLogged() {
        // gw-b's file holds the two shared keys and others may read it (0644, written by the start step): the one warning allowed, on gw-b alone.
        Pattern expected = Pattern.compile(".*gw\\.yaml: connections\\[0]\\.sharedKey, connections\\[1]\\.sharedKey: the file holds 2 shared keys"
                + " and its mode .*chmod 600 .*");
        for (Machine m : List.of(a, b)) {
            List<String> warnings = m.sh("journalctl -u isthmus@gw -p warning -o cat --no-pager").lines().filter(l -> !l.isBlank()).toList();
            List<String> unexpected = warnings.stream().filter(l -> m != b || !expected.matcher(l).matches()).toList();
            assertEquals(List.of(), unexpected, m.name() + ": warnings nobody expects in journalctl -u isthmus@gw -p warning");
            if (m == b) {
                // The gateway's own WARNING lines reach journald at priority warning (<4> prefixes), not as plain info.
                assertTrue(warnings.stream().anyMatch(l -> expected.matcher(l).matches()),
                        "gw-b: the world-readable file's warning is not in journalctl -p warning: " + warnings);
            }
        }
    }

    @Test
    @Order(9)
    void stoppingOneSideDeletesTheSasOnTheOther() {
        Map<String, String> spis = new LinkedHashMap<>();
        for (String c : List.of("red", "blue")) {
            spis.put(c, ikeSas(a, c).getFirst().path("initiatorSpi").asText());
        }
        b.sh("timeout 30 systemctl stop isthmus@gw");
        assertEquals("inactive", b.exec("systemctl is-active isthmus@gw").getStdout().strip(), "gw-b stopped cleanly (not failed)");
        Machine.await("gw-a: the IKE SAs gw-b had are gone", Duration.ofSeconds(20), () -> {
            for (String c : List.of("red", "blue")) {
                for (JsonNode sa : ikeSas(a, c)) {
                    if (sa.path("initiatorSpi").asText().equals(spis.get(c)) || !sa.path("childSas").isEmpty()) {
                        return false;
                    }
                }
            }
            return true;
        });
        String log = a.sh("journalctl -u isthmus@gw -o cat --no-pager");
        assertTrue(log.lines().filter(l -> l.contains("peer deletes the IKE SA")).count() >= 2, "gw-a logs the peer's Delete for red and blue");
    }

    @Test
    @Order(10)
    void aBrokenConfigurationFailsTheStartWithItsReason() {
        a.write("/etc/isthmus/broken.yaml", gatewayYaml("10.199.0.11", "10.199.0.12", "192.168.10", "192.168.11",
                "192.168.20", "[192.168.21.0/24]").replace("dhGroup: ECP256", "dhGroup: DHGroup2"), 0600);
        try {
            ExecResult start = a.exec("timeout 120 systemctl start isthmus@broken");
            assertNotEquals(0, start.getExitCode(), "systemctl start on a broken configuration succeeded");
            String status = a.exec("systemctl status --no-pager -l isthmus@broken").getStdout();
            assertTrue(status.contains("broken.yaml: connections[0].ipsecPolicies[0].dhGroup: 'DHGroup2' is not allowed"),
                    "the reason is not in systemctl status:\n" + status);
        } finally {
            a.sh("systemctl stop isthmus@broken; systemctl reset-failed isthmus@broken || true; rm /etc/isthmus/broken.yaml");
        }
    }

    // --- what the steps read

    private static JsonNode status(Machine m) {
        try {
            return JSON.readTree(m.sh("isthmus status --json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One IKE SA for the connection, established, with one child SA. */
    private static boolean settled(Machine m, String connection) {
        List<JsonNode> sas = ikeSas(m, connection);
        return sas.size() == 1 && sas.getFirst().path("state").asText().equals("ESTABLISHED") && sas.getFirst().path("childSas").size() == 1;
    }

    /** A connection's SPIs: the IKE SA's pair and its child SAs' inbound and outbound SPIs. */
    private static List<String> spis(Machine m, String connection) {
        List<String> spis = new ArrayList<>();
        for (JsonNode sa : ikeSas(m, connection)) {
            spis.add(sa.path("initiatorSpi").asText() + "_i " + sa.path("responderSpi").asText() + "_r");
            for (JsonNode child : sa.path("childSas")) {
                spis.add(child.path("inboundSpi").asText() + "_in " + child.path("outboundSpi").asText() + "_out");
            }
        }
        return spis;
    }

    /** Whether the gateway answers on its control socket. */
    private static boolean running(Machine m) {
        return m.exec("isthmus status >/dev/null 2>&1").getExitCode() == 0;
    }

    private static List<JsonNode> ikeSas(Machine m, String connection) {
        List<JsonNode> sas = new ArrayList<>();
        for (JsonNode c : status(m).path("connections")) {
            if (c.path("name").asText().equals(connection)) {
                c.path("ikeSas").forEach(sas::add);
            }
        }
        return sas;
    }

    private static List<JsonNode> childSas(Machine m, String connection) {
        List<JsonNode> children = new ArrayList<>();
        for (JsonNode sa : ikeSas(m, connection)) {
            if (sa.path("state").asText().equals("ESTABLISHED")) {
                sa.path("childSas").forEach(children::add);
            }
        }
        return children;
    }

    private static long counter(JsonNode child, String name) {
        return child.path(name).asLong();
    }

    private static Map<String, Long> monotonic(Machine m, String... properties) {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : m.sh("systemctl show isthmus@gw -p " + String.join(",", properties)).lines().toList()) {
            String[] kv = line.split("=", 2);
            values.put(kv[0], Long.parseLong(kv[1]));
        }
        return values;
    }

    /** The monotonic time (µs) of the unit's first log line holding {@code text}. */
    private static long firstLogLine(Machine m, String text) {
        String line = m.sh("journalctl -u isthmus@gw -o short-monotonic --no-pager").lines().filter(l -> l.contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError(m.name() + ": no log line with " + text));
        Matcher t = Pattern.compile("^\\[\\s*(\\d+)\\.(\\d{6})\\]").matcher(line);
        assertTrue(t.find(), line);
        return Long.parseLong(t.group(1)) * 1_000_000 + Long.parseLong(t.group(2));
    }

    /**
     * One side's /etc/isthmus/gw.yaml, after the example the package installs: two connections to the same peer,
     * red and blue, told apart by their keys. They propose the same algorithms: a responder answers IKE_SA_INIT
     * before it knows which of the connections to that address the initiator means (IKE_AUTH tells, by the key). {@code blueRemote} is blue's remote prefixes (the reload step changes them).
     */
    static String gatewayYaml(String self, String peer, String red, String blue, String peerRed, String blueRemote) {
        return """
                virtualNetworkGateway:
                  name: gw
                  gatewayType: Vpn
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [%2$s.0/24, %3$s.0/24]
                  instances:
                    - name: gw-0
                      publicIpAddress: %1$s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    tcpMssClamp: 1350
                localNetworkGateways:
                  - name: red-site
                    gatewayIpAddress: %4$s
                    addressPrefixes: [%5$s.0/24]
                  - name: blue-site
                    gatewayIpAddress: %4$s
                    addressPrefixes: %6$s
                connections:
                  - name: red
                    localNetworkGateway: red-site
                    connectionProtocol: IKEv2
                    sharedKey: "the red connection's key, for this test only"
                    ipsecPolicies:
                      - ikeEncryption: GCMAES128
                        ikeIntegrity: SHA256
                        dhGroup: ECP256
                        ipsecEncryption: GCMAES128
                        ipsecIntegrity: GCMAES128
                        pfsGroup: ECP256
                        saLifeTimeSeconds: 27000
                        saDataSizeKilobytes: 102400000
                  - name: blue
                    localNetworkGateway: blue-site
                    connectionProtocol: IKEv2
                    sharedKey: "the blue connection's key, for this test only"
                    ipsecPolicies:
                      - ikeEncryption: GCMAES128
                        ikeIntegrity: SHA256
                        dhGroup: ECP256
                        ipsecEncryption: GCMAES128
                        ipsecIntegrity: GCMAES128
                        pfsGroup: ECP256
                        saLifeTimeSeconds: 27000
                        saDataSizeKilobytes: 102400000
                """.formatted(self, red, blue, peer, peerRed, blueRemote);
    }
}
