package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Azure's NAT rules end to end (issue 14): two on-premises sites that both use 10.0.0.0/24, site
 * B behind a strongSwan 5.9.8 peer (kernel-libipsec), site C behind an Isthmus peer that knows
 * nothing of NAT, joined to one Isthmus gateway, gw-a, that
 * tells them apart by IngressSnat rules (site B is 100.64.1.0/24 here, site C 100.64.2.0/24);
 * each site has a host at 10.0.0.10.
 *
 * <pre>
 *  host-a ---- gw-a (Isthmus) ----------- gw-b (strongSwan) ---- host-b 10.0.0.10 (= 100.64.1.10 at host-a)
 *  .10.10         |  10.77.0.1     10.77.0.2
 *  .10.20         | 10.76.0.1
 *                 | 10.76.0.3
 *               gw-c (Isthmus) ------- host-c 10.0.0.10 (= 100.64.2.10 at host-a)
 * </pre>
 *
 * Also a Dynamic EgressSnat rule on the connection to site B hides host-a's 192.168.10.16/28
 * (host-a speaks from 192.168.10.20 for it) behind 100.70.0.1, its flow table made small with
 * {@code maxFlows}, so the test fills it. What each end sees is told by the hosts themselves
 * ({@link NatProbe}): the echo answers with the sender's address and port as it saw them.
 */
class NatLabTest extends LabTestBase {
    static final String HOST_C = Lab.PREFIX + "host-c";
    static final String GW_C = Lab.GW_C;
    static final String SITE_IP = "10.0.0.10";
    static final String B_AS_SEEN = "100.64.1.10";
    static final String C_AS_SEEN = "100.64.2.10";
    static final String HIDDEN = "192.168.10.20";
    static final String HIDE_AS = "100.70.0.1";
    static final int MAX_FLOWS = 256;
    private static final Pattern FLOW = Pattern.compile("flow local=(\\d+) answered=(true|false)(?: seen=([0-9.]+):(\\d+) from=([0-9.]+):(\\d+))?");

    private Path socket;
    private Path config;

    @Test
    void twoSitesOfOnePrefixTranslatedApartADynamicRuleItsFlowsAndIcmpErrors() throws Exception {
        lab = Lab.up(Path.of("/tmp/natlab-lab"), false);
        lab.addSiteC();
        sites();
        config = lab.work().resolve("gw-a.yaml");
        socket = lab.work().resolve("gw-a.sock");
        LabGateways.startIsthmus(lab, Lab.GW_A, "gw-a", gatewayA(MAX_FLOWS), "gw-a.log");
        Thread.sleep(1500); // gw-a listening before the peers' first IKE_SA_INIT
        LabGateways.startStrongSwan(lab, Lab.GW_B, lab.work().resolve("sw-b"), strongSwan("10.77.0.2"));
        LabGateways.startIsthmus(lab, GW_C, "gw-c", gatewayC(), "gw-c.log");
        assertTrue(awaitPing(Lab.HOST_A, B_AS_SEEN) && awaitPing(Lab.HOST_A, C_AS_SEEN), "no path to both sites; logs in " + lab.work());

        // Ping both ways: host-a reaches each 10.0.0.10 by its translated address, each reaches host-a.
        for (String to : List.of(B_AS_SEEN, C_AS_SEEN)) {
            lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", to);
        }
        for (String from : List.of(Lab.HOST_B, HOST_C)) {
            lab.in(from, "ping", "-c", "3", "-i", "0.2", "-W", "2", Lab.HOST_A_IP);
        }

        // UDP, with the addresses each end sees. host-a sees the sites as 100.64.x.10, the sites see host-a as it is.
        Process echoA = echo(Lab.HOST_A, 7001);
        Process echoB = echo(Lab.HOST_B, 7002);
        Process echoC = echo(HOST_C, 7003);
        Map<Integer, String[]> fromB = flows(Lab.HOST_B, Lab.HOST_A_IP, 7001, SITE_IP, 30000, 1, 3);
        assertEquals(B_AS_SEEN, fromB.get(30000)[0], "host-a sees site B's host as " + B_AS_SEEN);
        assertEquals(Lab.HOST_A_IP, fromB.get(30000)[2], "site B's host is answered by host-a's real address");
        Map<Integer, String[]> fromC = flows(HOST_C, Lab.HOST_A_IP, 7001, SITE_IP, 30000, 1, 3);
        assertEquals(C_AS_SEEN, fromC.get(30000)[0], "host-a sees site C's host as " + C_AS_SEEN);
        Map<Integer, String[]> toB = flows(Lab.HOST_A, B_AS_SEEN, 7002, Lab.HOST_A_IP, 30000, 1, 3);
        assertEquals(Lab.HOST_A_IP, toB.get(30000)[0], "site B's host sees host-a as it is (no EgressSnat for it)");
        assertEquals("30000", toB.get(30000)[1], "a static rule leaves ports alone");
        assertEquals(B_AS_SEEN, toB.get(30000)[2], "the answer comes from " + B_AS_SEEN + " at host-a");
        Map<Integer, String[]> toC = flows(Lab.HOST_A, C_AS_SEEN, 7003, Lab.HOST_A_IP, 30000, 1, 3);
        assertEquals(C_AS_SEEN, toC.get(30000)[2], "the answer comes from " + C_AS_SEEN + " at host-a");

        // TCP, 1 MB each way, hashed at both ends.
        for (String[] t : new String[][] {{Lab.HOST_A, Lab.HOST_B, B_AS_SEEN}, {Lab.HOST_A, HOST_C, C_AS_SEEN},
                {Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP}, {HOST_C, Lab.HOST_A, Lab.HOST_A_IP}}) {
            Transfer tcp = LabTraffic.tcp(lab, t[0], t[1], t[2], 1 << 20);
            assertTrue(tcp.intact(), t[0] + " -> " + t[2] + ": " + tcp);
        }
        // A paced UDP stream to each site: every datagram, in one piece.
        for (String[] t : new String[][] {{Lab.HOST_B, B_AS_SEEN}, {HOST_C, C_AS_SEEN}}) {
            Transfer udp = LabTraffic.udp(lab, Lab.HOST_A, t[0], t[1], 400, 1000, 400);
            assertTrue(udp.intact() && udp.lost() == 0, "UDP to " + t[1] + ": " + udp);
        }

        // ICMP errors through the static rule: the port unreachable from 10.0.0.10 reaches host-a as from 100.64.1.10,
        // its quoted header translated back (the kernel gives it to the sending socket only if it quotes that socket's flow).
        Process icmpSeen = lab.start(Lab.HOST_A, List.of("tcpdump", "-l", "-n", "-v", "-i", "eth0", "-c", "1", "icmp and src " + B_AS_SEEN));
        BufferedReader tcpdump = awaitTcpdump(icmpSeen);
        assertTrue(closed(B_AS_SEEN, Lab.HOST_A_IP).startsWith("port-unreachable"), "static: no port unreachable");
        assertTrue(icmpSeen.waitFor(10, TimeUnit.SECONDS), "tcpdump saw no ICMP from " + B_AS_SEEN);
        String icmp = readAll(tcpdump);
        assertTrue(icmp.contains(B_AS_SEEN + " > " + Lab.HOST_A_IP) && icmp.contains(B_AS_SEEN + " udp port 9 unreachable")
                && !icmp.contains("bad "), icmp);
        System.out.println("host-a's tcpdump of the port unreachable through the static rule:\n" + icmp);
        assertTrue(closed(C_AS_SEEN, Lab.HOST_A_IP).startsWith("port-unreachable"), "static C: no port unreachable");
        // A time exceeded from a router of the site (gw-b's 10.0.0.1, so 100.64.1.1 here), quoting host-a's echo request:
        // ping takes it as the answer to its own request only if the quoted request is its own (its address, id, sequence).
        String ttl = unanswered(Lab.HOST_A, "ping", "-c", "1", "-t", "2", "-W", "2", B_AS_SEEN);
        assertTrue(ttl.contains("From 100.64.1.1 icmp_seq=1 Time to live exceeded"), ttl);

        // The dynamic rule: 200 flows from 192.168.10.20, distinct source ports, all at site B from 100.70.0.1 with distinct ports, all answered.
        lab.in(Lab.HOST_A, "ip", "addr", "add", HIDDEN + "/32", "dev", "eth0");
        Map<Integer, String[]> hidden = flows(Lab.HOST_A, B_AS_SEEN, 7002, HIDDEN, 20000, 200, 3);
        assertEquals(200, hidden.size(), "every flow answered: " + hidden.keySet());
        Set<String> ports = new HashSet<>();
        for (var e : hidden.entrySet()) {
            assertEquals(HIDE_AS, e.getValue()[0], "flow from port " + e.getKey() + " reached site B from " + e.getValue()[0]);
            assertEquals(B_AS_SEEN, e.getValue()[2]);
            ports.add(e.getValue()[1]);
        }
        assertEquals(200, ports.size(), "each flow its own port of " + HIDE_AS);
        JsonNode hide = rule("hide");
        assertEquals(200, hide.path("flowsInUse").asInt(), hide.toString());
        assertEquals(MAX_FLOWS, hide.path("maxFlows").asInt(), hide.toString());
        // Site C has no EgressSnat: 192.168.10.20 reaches it as it is.
        assertEquals(HIDDEN, flows(Lab.HOST_A, C_AS_SEEN, 7003, HIDDEN, 20000, 1, 3).get(20000)[0]);

        // ICMP error through both rules: quoted 100.70.0.1:P -> 10.0.0.10:9 at site B, back to 192.168.10.20:Q -> 100.64.1.10:9.
        assertTrue(closed(B_AS_SEEN, HIDDEN).startsWith("port-unreachable"), "dynamic: no port unreachable");
        String hiddenTtl = unanswered(Lab.HOST_A, "ping", "-c", "1", "-t", "2", "-W", "2", "-I", HIDDEN, B_AS_SEEN);
        assertTrue(hiddenTtl.contains("From 100.64.1.1 icmp_seq=1 Time to live exceeded"), "through the dynamic rule's echo flow: " + hiddenTtl);
        int inUse = rule("hide").path("flowsInUse").asInt();
        assertEquals(202, inUse, "the 200 flows, the one to the closed port and the echo");

        // The flow table full: of 100 new flows, those that fit are answered, the rest dropped and counted; old flows go on.
        long fullBefore = drops("NAT_FLOW_TABLE_FULL_EGRESS");
        Map<Integer, String[]> more = flows(Lab.HOST_A, B_AS_SEEN, 7002, HIDDEN, 21000, 100, 1);
        int room = MAX_FLOWS - inUse;
        assertEquals(room, more.size(), "the flows that fit");
        assertEquals(MAX_FLOWS, rule("hide").path("flowsInUse").asInt());
        assertEquals(100 - room, awaitDrops("NAT_FLOW_TABLE_FULL_EGRESS", fullBefore + 100 - room) - fullBefore, "each packet of a flow that did not fit");
        String metrics = lab.in(Lab.GW_A, "curl", "-sf", "http://127.0.0.1:9850/metrics");
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("isthmus_tunnel_packet_drops_total{") && l.contains("reason=\"nat_flow_table_full_egress\"")
                && l.contains("connection=\"to-site-b\"") && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) == fullBefore + 100 - room),
                metrics);
        Map<Integer, String[]> old = flows(Lab.HOST_A, B_AS_SEEN, 7002, HIDDEN, 20000, 20, 3);
        assertEquals(20, old.size(), "old flows still answered with the table full");
        for (var e : old.entrySet()) {
            assertEquals(hidden.get(e.getKey())[1], e.getValue()[1], "an old flow keeps its port");
        }
        assertEquals(0, flows(Lab.HOST_A, B_AS_SEEN, 7002, HIDDEN, 22000, 1, 1).size(), "still full");

        // A reload that changes the rule (a larger table): its flows start over, and new ones are answered again.
        write(config, gatewayA(2 * MAX_FLOWS));
        Cli cli = isthmus("reload", "--control-socket", socket.toString());
        assertEquals(0, cli.exit(), cli.toString());
        assertEquals(10, flows(Lab.HOST_A, B_AS_SEEN, 7002, HIDDEN, 22000, 10, 3).size(), "new flows answered after the reload");
        hide = rule("hide");
        assertEquals(10, hide.path("flowsInUse").asInt(), hide.toString());
        assertEquals(2 * MAX_FLOWS, hide.path("maxFlows").asInt(), hide.toString());
        // The static rules were not changed: their traffic goes on.
        assertEquals(B_AS_SEEN, flows(Lab.HOST_B, Lab.HOST_A_IP, 7001, SITE_IP, 30001, 1, 3).get(30001)[0]);

        Cli status = isthmus("status", "--control-socket", socket.toString());
        System.out.println(status.out());
        assertTrue(status.out().contains("nat hide Dynamic EgressSnat: 192.168.10.16/28 -> 100.70.0.1/32, 10 of 512 flows"), status.out());
        assertTrue(status.out().contains("nat b-in Static IngressSnat: 10.0.0.0/24 -> 100.64.1.0/24"), status.out());
        assertTrue(status.out().contains("nat c-in Static IngressSnat: 10.0.0.0/24 -> 100.64.2.0/24"), status.out());
        for (Process p : List.of(echoA, echoB, echoC)) {
            p.destroy();
        }
    }

    /**
     * The benchmark's two NAT paths (isthmus-nat-static, isthmus-nat-dynamic), with pings and a
     * small TCP transfer instead of the benchmark's full-rate load: the traffic crosses the rule,
     * and host-b sees host-a as the rule shows it.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void theBenchmarksNatPathsTranslate(boolean staticRule) throws Exception {
        lab = Lab.up(Path.of("/tmp/natlab-bench"), false);
        String[] configs = io.isthmus.lab.bench.Bench.natConfigs(lab, staticRule);
        Path b = LabGateways.startIsthmus(lab, Lab.Side.B, configs[1]);
        Thread.sleep(1500);
        Path a = LabGateways.startIsthmus(lab, Lab.Side.A, configs[0]);
        assertTrue(lab.awaitPath(Duration.ofSeconds(40), false), "no path; logs in " + lab.work());
        Process echo = echo(Lab.HOST_B, 7004);
        Map<Integer, String[]> seen = flows(Lab.HOST_A, Lab.HOST_B_IP, 7004, Lab.HOST_A_IP, 30000, 1, 3);
        assertEquals(staticRule ? "100.64.10.10" : "100.70.0.1", seen.get(30000)[0], "how host-b sees host-a");
        assertEquals(Lab.HOST_B_IP, seen.get(30000)[2]);
        Transfer tcp = LabTraffic.tcp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, 1 << 20);
        assertTrue(tcp.intact(), tcp.toString());
        JsonNode rule = status(staticRule ? b : a).path("connections").get(0).path("natRules").get(0);
        assertEquals(staticRule ? "Static" : "Dynamic", rule.path("type").asText(), rule.toString());
        if (!staticRule) {
            assertTrue(rule.path("flowsInUse").asInt() >= 3, "the ping's, the UDP probe's and the TCP transfer's flows: " + rule);
        }
        echo.destroy();
    }

    /** Site B's network becomes 10.0.0.0/24 (host-b 10.0.0.10 behind gw-b 10.0.0.1), and site C gets host-c, also 10.0.0.10. */
    private void sites() throws IOException, InterruptedException {
        lab.in(Lab.HOST_B, "ip", "addr", "flush", "dev", "eth0");
        lab.in(Lab.GW_B, "ip", "addr", "del", "192.168.20.1/24", "dev", "lan");
        Lab.addr(Lab.HOST_B, "eth0", SITE_IP + "/24");
        Lab.addr(Lab.GW_B, "lan", "10.0.0.1/24");
        Lab.sh("ip", "-n", Lab.HOST_B, "route", "add", "default", "via", "10.0.0.1");
        Lab.sh("ip", "netns", "add", HOST_C);
        Lab.sh("ip", "-n", HOST_C, "link", "set", "lo", "up");
        Lab.link(GW_C, "lan-c", HOST_C, "eth0");
        Lab.addr(GW_C, "lan-c", "10.0.0.1/24");
        Lab.addr(HOST_C, "eth0", SITE_IP + "/24");
        Lab.sh("ip", "-n", HOST_C, "route", "add", "default", "via", "10.0.0.1");
    }

    /** gw-a: two connections to two sites of one prefix, each translated by its IngressSnat rule; the Dynamic rule on site B's. */
    static String gatewayA(int maxFlows) {
        return """
                virtualNetworkGateway:
                  name: lab-gw-a
                  vpnType: RouteBased
                  sku: VpnGw2
                  addressSpace: [192.168.10.0/24]
                  instances:
                    - name: lab-gw-a-0
                      publicIpAddress: 10.77.0.1
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                  natRules:
                    - {name: b-in, type: Static, mode: IngressSnat, internalMappings: [10.0.0.0/24], externalMappings: [100.64.1.0/24]}
                    - {name: c-in, type: Static, mode: IngressSnat, internalMappings: [10.0.0.0/24], externalMappings: [100.64.2.0/24]}
                    - {name: hide, type: Dynamic, mode: EgressSnat, internalMappings: [192.168.10.16/28], externalMappings: [100.70.0.1/32],
                       maxFlows: %1$d}
                localNetworkGateways:
                  - {name: site-b, gatewayIpAddress: 10.77.0.2, addressPrefixes: [10.0.0.0/24]}
                  - {name: site-c, gatewayIpAddress: %2$s, addressPrefixes: [10.0.0.0/24]}
                connections:
                  - {name: to-site-b, localNetworkGateway: site-b, sharedKey: "%3$s", connectionMode: ResponderOnly,
                     ingressNatRules: [b-in], egressNatRules: [hide]}
                  - {name: to-site-c, localNetworkGateway: site-c, sharedKey: "%3$s", connectionMode: ResponderOnly,
                     ingressNatRules: [c-in]}
                """.formatted(maxFlows, Lab.GW_C_WAN, LabGateways.PSK);
    }

    /** gw-c: Isthmus as the site's peer, initiating, its site 10.0.0.0/24 and site A's real prefix: it knows nothing of NAT. */
    static String gatewayC() {
        return """
                virtualNetworkGateway:
                  name: lab-gw-c
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [10.0.0.0/24]
                  instances:
                    - name: lab-gw-c-0
                      publicIpAddress: %s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                localNetworkGateways:
                  - {name: site-a, gatewayIpAddress: 10.77.0.1, addressPrefixes: [192.168.10.0/24]}
                connections:
                  - {name: to-site-a, localNetworkGateway: site-a, sharedKey: "%s", connectionMode: InitiatorOnly}
                """.formatted(Lab.GW_C_WAN, LabGateways.PSK);
    }

    /**
     * A site's strongSwan, initiating: its own 10.0.0.0/24 to host-a's network and the address the
     * Dynamic rule shows it (what the README tells a peer that narrows its selectors to use).
     */
    static String strongSwan(String me) {
        return """
                connections { lab {
                  local_addrs = %1$s
                  remote_addrs = 10.77.0.1
                  version = 2
                  proposals = aes128gcm16-prfsha256-x25519
                  local { auth = psk
                    id = %1$s }
                  remote { auth = psk
                    id = 10.77.0.1 }
                  children { net {
                      local_ts = 10.0.0.0/24
                      remote_ts = 192.168.10.0/24,100.70.0.1/32
                      esp_proposals = aes128gcm16-x25519
                      start_action = start
                      mode = tunnel } } } }
                secrets { ike-lab { secret = "%2$s" } }
                """.formatted(me, LabGateways.PSK);
    }

    private boolean awaitPing(String ns, String to) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        while (System.nanoTime() < end) {
            try {
                lab.in(ns, "ping", "-c", "1", "-W", "1", to);
                return true;
            } catch (IOException e) {
                Thread.sleep(300);
            }
        }
        return false;
    }

    private Process echo(String ns, int port) throws IOException {
        Process p = lab.start(ns, probe("echo", Integer.toString(port)));
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertEquals("listening", line, "the echo in " + ns + " did not start");
        return p;
    }

    /** What a command that is to fail (a ping that gets an error, no answer) printed. */
    private String unanswered(String ns, String... command) throws InterruptedException {
        try {
            return lab.in(ns, command);
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    /** What NatProbe says of a datagram from host-a's {@code bind} to port 9 (closed) of {@code to}. */
    private String closed(String to, String bind) throws IOException, InterruptedException {
        return lab.in(Lab.HOST_A, probe("closed", to, "9", bind).toArray(String[]::new));
    }

    static List<String> probe(String... args) {
        List<String> cmd = new ArrayList<>(LabGateways.javaCommand());
        cmd.add(NatProbe.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The answered flows by local port: {seen address, seen port, answering address, answering port}. */
    private Map<Integer, String[]> flows(String ns, String to, int port, String bind, int firstLocalPort, int count, int tries)
            throws IOException, InterruptedException {
        String out = lab.in(ns, probe("flows", to, Integer.toString(port), bind, Integer.toString(firstLocalPort), Integer.toString(count),
                Integer.toString(tries)).toArray(String[]::new));
        Map<Integer, String[]> answered = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            Matcher m = FLOW.matcher(line.strip());
            if (m.matches() && m.group(2).equals("true")) {
                answered.put(Integer.parseInt(m.group(1)), new String[] {m.group(3), m.group(4), m.group(5), m.group(6)});
            }
        }
        return answered;
    }

    private JsonNode connection(String name) throws IOException {
        for (JsonNode c : status(socket).path("connections")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no connection " + name + " in " + status(socket));
    }

    private JsonNode rule(String name) throws IOException {
        for (JsonNode r : connection("to-site-b").path("natRules")) {
            if (r.path("name").asText().equals(name)) {
                return r;
            }
        }
        throw new AssertionError("no NAT rule " + name + " in " + connection("to-site-b"));
    }

    private long drops(String reason) throws IOException {
        return connection("to-site-b").path("drops").path(reason).asLong();
    }

    /** The data plane counts as packets pass: the count once it reached {@code expected}, or after 5 s. */
    private long awaitDrops(String reason, long expected) throws IOException, InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long n = drops(reason);
        while (n < expected && System.nanoTime() < end) {
            Thread.sleep(100);
            n = drops(reason);
        }
        return n;
    }

    private static BufferedReader awaitTcpdump(Process p) throws IOException, InterruptedException {
        // tcpdump says "listening on" on stderr, merged into its output here; after it, it captures.
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null && !line.contains("listening on")) {
            // its start
        }
        return r;
    }

    private static String readAll(BufferedReader r) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line; (line = r.readLine()) != null; ) {
            out.append(line).append('\n');
        }
        return out.toString();
    }

    static void write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
