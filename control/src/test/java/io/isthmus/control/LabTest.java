package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.lab.Lab;
import io.isthmus.control.lab.Lab.Side;
import io.isthmus.control.lab.LabGateways;
import io.isthmus.control.lab.LabGateways.IsthmusOptions;
import io.isthmus.control.lab.LabTraffic;
import io.isthmus.control.lab.LabTraffic.Transfer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real traffic between two sites through two gateways in network namespaces (see {@link Lab}):
 * Isthmus to Isthmus, Isthmus to strongSwan in both roles, and across a NAT. Ping, then a TCP
 * and a paced UDP transfer each way, checked by SHA-256; the gateways' own counters must agree.
 * Needs root, ip, nft and strongSwan, which CI installs (deploy/test.sh).
 */
class LabTest {
    static final long TCP_BYTES = 4 << 20;
    Lab lab;

    @BeforeAll
    static void rootAndTools() {
        String why = !"root".equals(System.getProperty("user.name")) ? "the lab needs root (network namespaces); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) ? "strongSwan is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/sbin/nft")) ? "nftables is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
    }

    @AfterEach
    void down() {
        if (lab != null) {
            lab.close();
        }
    }

    Lab up(boolean nat) throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-test"), nat);
        return lab;
    }

    void awaitTunnel() throws Exception {
        boolean ok = lab.awaitPath(Duration.ofSeconds(30), false);
        assertTrue(ok, "no path from host-a to host-b after 30 s; gateway logs in " + lab.work());
    }

    static JsonNode status(Path socket) throws IOException {
        return ControlSocket.JSON.readTree(ControlSocket.ask(socket, "status"));
    }

    /** Ping both ways, then TCP and UDP each way: every byte arrives, checked by hash. */
    void trafficBothWays(boolean ipv6) throws Exception {
        String a = ipv6 ? Lab.HOST_A_IP6 : Lab.HOST_A_IP;
        String b = ipv6 ? Lab.HOST_B_IP6 : Lab.HOST_B_IP;
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", b);
        lab.in(Lab.HOST_B, "ping", "-c", "3", "-i", "0.2", "-W", "2", a);
        for (String[] dir : new String[][] {{Lab.HOST_A, Lab.HOST_B, b}, {Lab.HOST_B, Lab.HOST_A, a}}) {
            Transfer tcp = LabTraffic.tcp(lab, dir[0], dir[1], dir[2], TCP_BYTES);
            assertTrue(tcp.intact(), "TCP " + dir[0] + " -> " + dir[2] + ": " + tcp);
            Transfer udp = LabTraffic.udp(lab, dir[0], dir[1], dir[2], 2000, 1200, 2000);
            assertTrue(udp.intact(), "UDP " + dir[0] + " -> " + dir[2] + ": " + udp);
        }
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
        JsonNode st = status(a);
        JsonNode connection = st.path("connections").get(0);
        assertEquals(1, connection.path("ikeSas").size(), st.toPrettyString());
        JsonNode child = connection.path("ikeSas").get(0).path("childSas").get(0);
        assertEquals("ESP", child.path("encapsulation").asText(), "no NAT: plain ESP over a raw socket");
        assertTrue(connection.path("metrics").path("TunnelEgressBytes").asLong() > 2 * TCP_BYTES, st.toPrettyString());
        assertTrue(connection.path("metrics").path("TunnelIngressBytes").asLong() > 2 * TCP_BYTES, st.toPrettyString());
        String text = StatusCommand.render(st);
        assertTrue(text.contains("ESTABLISHED") && text.contains("TunnelIngressBytes"), text);
        assertEquals(1, status(b).path("connections").get(0).path("ikeSas").size());
    }
}
