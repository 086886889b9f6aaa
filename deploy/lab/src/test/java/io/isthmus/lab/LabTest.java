package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Real traffic between two sites through two gateways in network namespaces (see {@link Lab}):
 * Isthmus to Isthmus, Isthmus to strongSwan in both roles, and across a NAT. Ping, then a TCP
 * and a paced UDP transfer each way, checked by SHA-256; the gateways' own counters must agree.
 * Needs root, ip, nft and strongSwan, which CI installs (deploy/test.sh).
 */
class LabTest extends LabTestBase {
    static final long TCP_BYTES = 4 << 20;

    Lab up(boolean nat) throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-test"), nat);
        return lab;
    }

    void awaitTunnel() throws Exception {
        boolean ok = lab.awaitPath(Duration.ofSeconds(90), false);
        assertTrue(ok, "no path from host-a to host-b after 30 s; gateway logs in " + lab.work());
    }

    static int ikeSas(Path socket) throws IOException {
        return status(socket).path("connections").get(0).path("ikeSas").size();
    }


    /** Ping both ways, then TCP and UDP each way: every byte arrives, checked by hash. */
    void trafficBothWays(boolean ipv6) throws Exception {
        trafficBothWays(ipv6, null);
    }

    /**
     * As {@link #trafficBothWays(boolean)}, against strongSwan's kernel-libipsec, whose userspace
     * queue drops datagrams of a paced UDP stream when the machine is loaded (CI: 2 of 2,000 at
     * load 10, 98 of 2,000 once). Isthmus ({@code isthmus}, its control socket) answers only for
     * what its own counters say it carried: every datagram of the stream it was given is sealed
     * and sent (host-a to host-b), and every one that reached it is delivered (host-b to host-a),
     * with no drop of its own; what is lost beyond it is reported, up to a tenth of the stream.
     * TCP is still held to every byte.
     */
    void trafficBothWays(boolean ipv6, Path isthmus) throws Exception {
        String a = ipv6 ? Lab.HOST_A_IP6 : Lab.HOST_A_IP;
        String b = ipv6 ? Lab.HOST_B_IP6 : Lab.HOST_B_IP;
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", b);
        lab.in(Lab.HOST_B, "ping", "-c", "3", "-i", "0.2", "-W", "2", a);
        for (String[] dir : new String[][] {{Lab.HOST_A, Lab.HOST_B, b}, {Lab.HOST_B, Lab.HOST_A, a}}) {
            Transfer tcp = LabTraffic.tcp(lab, dir[0], dir[1], dir[2], TCP_BYTES);
            assertTrue(tcp.intact(), "TCP " + dir[0] + " -> " + dir[2] + ": " + tcp);
            JsonNode before = isthmus == null ? null : metrics(isthmus);
            Transfer udp = LabTraffic.udp(lab, dir[0], dir[1], dir[2], UDP_DATAGRAMS, 1200, 2000);
            if (isthmus == null || udp.intact()) {
                assertTrue(udp.intact(), "UDP " + dir[0] + " -> " + dir[2] + ": " + udp);
                continue;
            }
            JsonNode after = metrics(isthmus);
            boolean outbound = dir[0].equals(Lab.HOST_A);
            String what = "UDP through strongSwan's libipsec " + dir[0] + " -> " + dir[2] + ": " + udp + "; Isthmus "
                    + carried(before, after);
            System.out.println(what);
            assertTrue(udp.bytesReceived() == udp.bytesSent() - 1200L * udp.lost() && udp.lost() <= UDP_DATAGRAMS / 10, what);
            assertEquals(0, delta(before, after, "TunnelEgressPacketDropCount") + delta(before, after, "TunnelIngressPacketDropCount"),
                    "Isthmus dropped: " + what);
            if (outbound) {
                assertTrue(delta(before, after, "TunnelEgressPackets") >= UDP_DATAGRAMS, "Isthmus did not send every datagram: " + what);
            } else {
                assertTrue(delta(before, after, "TunnelIngressPackets") <= UDP_DATAGRAMS - udp.lost() + 20,
                        "Isthmus received more than it delivered: " + what);
            }
        }
    }

    static final int UDP_DATAGRAMS = 2000;

    static JsonNode metrics(Path socket) throws IOException {
        return status(socket).path("connections").get(0).path("metrics");
    }

    static long delta(JsonNode before, JsonNode after, String name) {
        return after.path(name).asLong() - before.path(name).asLong();
    }

    static String carried(JsonNode before, JsonNode after) {
        StringBuilder s = new StringBuilder();
        for (String name : new String[] {"TunnelEgressPackets", "TunnelIngressPackets", "TunnelEgressPacketDropCount",
                "TunnelIngressPacketDropCount"}) {
            s.append(s.isEmpty() ? "" : ", ").append(name).append(" +").append(delta(before, after, name));
        }
        return s.toString();
    }

    @Test
    void isthmusToIsthmus() throws Exception {
        up(false);
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT));
        Path b = LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT));
        awaitTunnel();
        trafficBothWays(false);
        assertTrue(lab.awaitPath(Duration.ofSeconds(5), true));
        trafficBothWays(true);
        // Both ends run Default mode and may both have initiated: they settle on one IKE SA.
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < end && (ikeSas(a) != 1 || ikeSas(b) != 1)) {
            Thread.sleep(200);
        }
        JsonNode st = status(a);
        JsonNode connection = st.path("connections").get(0);
        assertEquals(1, connection.path("ikeSas").size(), st.toPrettyString());
        JsonNode child = connection.path("ikeSas").get(0).path("childSas").get(0);
        assertEquals("ESP", child.path("encapsulation").asText(), "no NAT: plain ESP over a raw socket");
        assertTrue(connection.path("metrics").path("TunnelEgressBytes").asLong() > 2 * TCP_BYTES, st.toPrettyString());
        assertTrue(connection.path("metrics").path("TunnelIngressBytes").asLong() > 2 * TCP_BYTES, st.toPrettyString());
        String text = GatewayClient.render(st);
        assertTrue(text.contains("ESTABLISHED") && text.contains("TunnelIngressBytes"), text);
        assertEquals(1, status(b).path("connections").get(0).path("ikeSas").size());
    }

    /**
     * As the benchmark runs it: ESP in UDP without a NAT, one packet thread per gateway, every
     * offload on (TUN TSO/USO in, UDP GSO out, UDP GRO in, merging to the TUN); IPv4 and IPv6.
     */
    @Test
    void isthmusToIsthmusInUdpWithEveryOffload() throws Exception {
        up(false);
        IsthmusOptions o = IsthmusOptions.DEFAULT.withUdpEncapsulation().withPacketThreads(1);
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, o.withMode("InitiatorOnly")));
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, o.withMode("ResponderOnly")));
        awaitTunnel();
        trafficBothWays(false);
        assertTrue(lab.awaitPath(Duration.ofSeconds(5), true));
        trafficBothWays(true);
        JsonNode child = status(a).path("connections").get(0).path("ikeSas").get(0).path("childSas").get(0);
        assertEquals("UDP", child.path("encapsulation").asText());
        String log = Files.readString(lab.work().resolve("gw-a.log"));
        assertTrue(log.contains("UDP GSO, UDP GRO") && log.contains("TCP and UDP segmentation offload") && log.contains("1 packet thread"), log);
    }

    /** The fallback: offloads off, a system call per packet, as on a kernel without them. */
    @Test
    void isthmusToIsthmusWithoutOffloads() throws Exception {
        up(false);
        IsthmusOptions o = IsthmusOptions.DEFAULT.withUdpEncapsulation().withoutOffloads();
        LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, o.withMode("InitiatorOnly")));
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, o.withMode("ResponderOnly")));
        awaitTunnel();
        trafficBothWays(false);
        String log = Files.readString(lab.work().resolve("gw-b.log"));
        assertTrue(log.contains("offloads: TUN isthmus0: none") && log.contains(":4500: none"), log);
    }

    /** Isthmus initiates (gw-a), strongSwan responds (gw-b): ESP in UDP, as kernel-libipsec always does. */
    @Test
    void isthmusToStrongSwan() throws Exception {
        up(false);
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false, "aes256gcm16-prfsha384-ecp384",
                "aes256gcm16"));
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("InitiatorOnly")));
        awaitTunnel();
        trafficBothWays(false, a);
        JsonNode child = status(a).path("connections").get(0).path("ikeSas").get(0).path("childSas").get(0);
        assertEquals("UDP", child.path("encapsulation").asText());
        assertTrue(LabGateways.swanctl(lab, Side.B, "--list-sas").contains("INSTALLED"));
    }

    /**
     * A PolicyBased Isthmus gateway: its child SA carries exactly the site prefixes as traffic
     * selectors (Azure's UsePolicyBasedTrafficSelectors), as strongSwan's does.
     */
    @Test
    void aPolicyBasedGatewayToStrongSwan() throws Exception {
        up(false);
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false, "aes256-sha256-modp2048",
                "aes256-sha256"));
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A,
                IsthmusOptions.DEFAULT.withMode("InitiatorOnly").withVpnType("PolicyBased")));
        awaitTunnel();
        trafficBothWays(false, a);
        assertTrue(lab.awaitPath(Duration.ofSeconds(5), true));
        trafficBothWays(true, a);
        JsonNode connection = status(a).path("connections").get(0);
        assertTrue(connection.path("policyBased").asBoolean());
        JsonNode child = connection.path("ikeSas").get(0).path("childSas").get(0);
        assertEquals("[\"192.168.10.0/24\",\"fd10::/64\"]", child.path("localSelectors").toString());
        assertEquals("[\"192.168.20.0/24\",\"fd20::/64\"]", child.path("remoteSelectors").toString());
    }

    /** strongSwan initiates (gw-b), Isthmus only responds (gw-a). */
    @Test
    void strongSwanToIsthmus() throws Exception {
        up(false);
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("ResponderOnly")));
        Thread.sleep(1500); // Isthmus listening before charon's first IKE_SA_INIT
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, true, "aes128gcm16-prfsha256-x25519",
                "aes128gcm16-x25519"));
        awaitTunnel();
        trafficBothWays(false, a);
        JsonNode sa = status(a).path("connections").get(0).path("ikeSas").get(0);
        assertTrue(!sa.path("weInitiated").asBoolean(), "strongSwan initiated");
    }

    /** gw-a behind a NAT that masquerades it: NAT detected, ESP in UDP 4500 through the mapping, keepalives. */
    @Test
    void isthmusToIsthmusAcrossANat() throws Exception {
        up(true);
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("InitiatorOnly")));
        Path b = LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withMode("ResponderOnly")));
        awaitTunnel();
        trafficBothWays(false);
        JsonNode sa = status(a).path("connections").get(0).path("ikeSas").get(0);
        assertTrue(sa.path("natDetected").asBoolean());
        assertEquals("UDP", sa.path("childSas").get(0).path("encapsulation").asText());
        JsonNode seenByB = status(b).path("connections").get(0).path("ikeSas").get(0);
        assertTrue(seenByB.path("remote").asText().startsWith("10.77.0.254["), "B talks to the NAT: " + seenByB);
    }

    /*
     * A paced UDP stream (400 datagrams/s for 16 s) while the child SA is rekeyed (12 s
     * lifetime, so a rekey falls about 10 s in): make-before-break, not one datagram lost.
     */
    @Test
    void aChildSaRekeyLosesNoPacket() throws Exception {
        up(false);
        String policy = "saLifeTimeSeconds: 12\n" + GCM128_POLICY;
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withPolicy(policy)));
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withPolicy(policy)));
        awaitTunnel();
        String firstSpi = status(a).path("connections").get(0).path("ikeSas").get(0).path("childSas").get(0).path("inboundSpi").asText();
        Transfer udp = LabTraffic.udp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, 6400, 1000, 400);
        assertTrue(udp.intact(), "across the rekey: " + udp);
        JsonNode children = status(a).path("connections").get(0).path("ikeSas").get(0).path("childSas");
        assertTrue(children.size() >= 1 && !children.get(0).path("inboundSpi").asText().equals(firstSpi), "rekeyed meanwhile: " + children);
        assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("CHILD_SA rekeyed")
                || Files.readString(lab.work().resolve("gw-b.log")).contains("CHILD_SA rekeyed"));
    }
}
