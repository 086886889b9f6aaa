package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A running gateway's {@code /metrics}, scraped with curl inside its namespace while the lab
 * carries traffic: the tunnel's byte counters rise by what was sent (within the headers), a
 * replayed ESP packet and a packet outside the traffic selectors each way move their drop
 * counters by exactly their number, the IKE exchanges of the tunnel's setup are counted, and
 * Prometheus's promtool passes the text.
 *
 * <p>gw-a is PolicyBased (its child SA carries 192.168.10.0/24 to 192.168.20.0/24 only) and
 * initiates; gw-b is RouteBased and, as Azure's route-based gateways do, sends whatever its
 * routes put into the tunnel. So a host-b packet from outside site B's prefix reaches gw-a
 * well encrypted and is dropped there for its selectors (TunnelIngressPacketDropTSMismatch),
 * and a host-a packet from outside site A's prefix finds no SA at gw-a that may carry it
 * (TunnelEgressPacketDropTSMismatch). The replay is real: ESP packets captured on gw-a's
 * wide-area link with tcpdump and sent again from gw-b's with tcpreplay.
 */
class MetricsLabTest extends LabTestBase {
    private Path socket;
    static final long TCP_BYTES = 4 << 20;

    @Test
    void aScrapeFollowsTrafficReplaysAndSelectorMismatches() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-metrics"), false);
        // Packets from addresses outside the sites' prefixes are the point here: no reverse path filter may drop them first.
        for (String[] where : new String[][] {{Lab.GW_A, "lan"}, {Lab.GW_B, "lan"}}) {
            Lab.sysctl(where[0], "net.ipv4.conf.all.rp_filter", "0");
            Lab.sysctl(where[0], "net.ipv4.conf." + where[1] + ".rp_filter", "0");
        }
        socket = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A,
                IsthmusOptions.DEFAULT.withVpnType("PolicyBased").withMode("InitiatorOnly")));
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withMode("ResponderOnly")));
        assertTrue(lab.awaitPath(Duration.ofSeconds(90), false), "no path from host-a to host-b; logs in " + lab.work());
        String connection = status(socket).path("connections").get(0).path("name").asText();

        Map<String, Double> before = scrape();
        assertEquals(1.0, before.get("isthmus_connection_up{connection=\"" + connection + "\"}"), before.toString());
        assertEquals(1.0, value(before, "isthmus_ike_messages_total", connection, "direction=\"out\"", "exchange=\"IKE_AUTH\"", "kind=\"request\""));
        assertTrue(value(before, "isthmus_ike_messages_total", connection, "direction=\"in\"", "exchange=\"IKE_SA_INIT\"", "kind=\"response\"") >= 1);

        Transfer tcp = LabTraffic.tcp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, TCP_BYTES);
        assertTrue(tcp.intact(), tcp.toString());
        // A snapshot is reused for a second (SharedScrape.REUSE), and the transfer may take less: wait for one taken after it.
        double ingressBefore = value(before, "isthmus_tunnel_ingress_bytes_total", connection);
        Map<String, Double> after = awaitScrape(m -> value(m, "isthmus_tunnel_ingress_bytes_total", connection) > ingressBefore);
        double in = value(after, "isthmus_tunnel_ingress_bytes_total", connection) - value(before, "isthmus_tunnel_ingress_bytes_total", connection);
        // Inner packets: the stream, and its IP and TCP headers (52 bytes per segment of at most 1,448: under 4 %), and the handshake.
        assertTrue(in >= TCP_BYTES && in <= TCP_BYTES * 1.06, "ingress bytes rose by " + in + " for " + TCP_BYTES + " sent");
        double packets = value(after, "isthmus_tunnel_ingress_packets_total", connection)
                - value(before, "isthmus_tunnel_ingress_packets_total", connection);
        assertTrue(packets >= TCP_BYTES / 1500.0, "ingress packets rose by " + packets + ": one per ESP packet, none above the MTU");
        assertTrue(value(after, "isthmus_tunnel_egress_bytes_total", connection) > value(before, "isthmus_tunnel_egress_bytes_total", connection));

        double replaysBefore = value(scrape(), "isthmus_tunnel_packet_drops_total", connection, "direction=\"ingress\"", "reason=\"esp_replay\"");
        replayFiveEspPackets();
        Map<String, Double> replayed = awaitScrape(m -> value(m, "isthmus_tunnel_packet_drops_total", connection, "direction=\"ingress\"",
                "reason=\"esp_replay\"") - replaysBefore >= 5);
        assertEquals(5.0, value(replayed, "isthmus_tunnel_packet_drops_total", connection, "direction=\"ingress\"", "reason=\"esp_replay\"")
                - replaysBefore, replayed.toString());

        // host-b speaks from an address outside site B's prefix: gw-b (route-based) seals it, gw-a refuses it after decryption.
        lab.in(Lab.HOST_B, "ip", "addr", "add", "192.168.21.5/32", "dev", "eth0");
        pingQuietly(Lab.HOST_B, "192.168.21.5", Lab.HOST_A_IP);
        // host-a speaks from outside site A's prefix: gw-a's only SA may not carry it.
        lab.in(Lab.HOST_A, "ip", "addr", "add", "192.168.11.5/32", "dev", "eth0");
        pingQuietly(Lab.HOST_A, "192.168.11.5", Lab.HOST_B_IP);
        Map<String, Double> mismatched = awaitScrape(m -> value(m, "isthmus_tunnel_packet_drops_total", connection, "direction=\"ingress\"",
                "reason=\"ts_mismatch\"") >= 3);
        assertEquals(3.0, value(mismatched, "isthmus_tunnel_packet_drops_total", connection, "direction=\"ingress\"", "reason=\"ts_mismatch\""),
                mismatched.toString());
        assertEquals(3.0, value(mismatched, "isthmus_tunnel_packet_drops_total", connection, "direction=\"egress\"", "reason=\"ts_mismatch\""),
                mismatched.toString());
        // The same in Azure's names in the status.
        var metrics = status(socket).path("connections").get(0).path("metrics");
        assertEquals(3, metrics.path("TunnelIngressPacketDropTSMismatch").asLong(), metrics.toPrettyString());
        assertEquals(3, metrics.path("TunnelEgressPacketDropTSMismatch").asLong(), metrics.toPrettyString());

        String text = lab.in(Lab.GW_A, "curl", "-sf", "http://127.0.0.1:9850/metrics");
        // What an operator sees, kept in the test's output (the README's excerpts come from here).
        System.out.println(io.isthmus.control.GatewayClient.render(status(socket)));
        System.out.println(text);
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var stdin = promtool.getOutputStream()) {
            stdin.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String said = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, promtool.exitValue(), said);
        assertTrue(text.contains("jvm_memory_used_bytes") && text.contains("isthmus_build_info{"), "the JVM's metrics and the build are there too");
    }

    /** Three pings that are not answered (they are dropped on the way): their outcome does not matter, the counters do. */
    private void pingQuietly(String ns, String from, String to) throws Exception {
        try {
            lab.in(ns, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", from, to);
        } catch (java.io.IOException unanswered) {
            // expected: no reply comes back
        }
    }

    /** Five ESP packets from gw-b, captured as they reach gw-a, and sent to gw-a again, frame for frame. */
    private void replayFiveEspPackets() throws Exception {
        Path pcap = lab.work().resolve("replay.pcap");
        Process capture = lab.start(Lab.GW_A, List.of("tcpdump", "-i", "wan", "-n", "-U", "-c", "5", "-w", pcap.toString(),
                "ip proto 50 and src " + Lab.GW_B_WAN));
        BufferedReader said = new BufferedReader(new InputStreamReader(capture.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = said.readLine()) != null && !line.contains("listening on")) {
            // tcpdump's start
        }
        lab.in(Lab.HOST_B, "ping", "-c", "5", "-i", "0.2", "-W", "2", Lab.HOST_A_IP);
        assertTrue(capture.waitFor(10, TimeUnit.SECONDS), "tcpdump caught fewer than 5 ESP packets");
        assertEquals(0, capture.exitValue(), "tcpdump failed");
        lab.in(Lab.GW_B, "tcpreplay", "-q", "-i", "wan", pcap.toString());
    }

    /** Scrapes until {@code done} holds (the data plane counts as the packets arrive), at most 5 s; the last scrape either way. */
    private Map<String, Double> awaitScrape(java.util.function.Predicate<Map<String, Double>> done) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Map<String, Double> m = scrape();
        while (!done.test(m) && System.nanoTime() < end) {
            Thread.sleep(100);
            m = scrape();
        }
        return m;
    }

    private Map<String, Double> scrape() throws Exception {
        Map<String, Double> values = new HashMap<>();
        for (String line : lab.in(Lab.GW_A, "curl", "-sf", "http://127.0.0.1:9850/metrics").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return values;
    }

    /** The value of the series of {@code name} for {@code connection} whose labels include all of {@code labels}. */
    private static double value(Map<String, Double> scrape, String name, String connection, String... labels) {
        Double found = null;
        for (var e : scrape.entrySet()) {
            String series = e.getKey();
            if (!series.startsWith(name + "{") || !series.contains("connection=\"" + connection + "\"")) {
                continue;
            }
            boolean all = true;
            for (String l : labels) {
                all &= series.contains(l);
            }
            if (all) {
                if (found != null) {
                    throw new AssertionError("more than one series of " + name + " with " + List.of(labels));
                }
                found = e.getValue();
            }
        }
        if (found == null) {
            throw new AssertionError("no series " + name + " for " + connection + " with " + List.of(labels) + " in " + scrape.keySet());
        }
        return found;
    }
}
