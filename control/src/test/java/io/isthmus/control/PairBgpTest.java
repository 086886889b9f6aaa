package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.bgp.BirdConfig;
import io.isthmus.control.bgp.BirdDaemon;
import io.isthmus.control.config.BgpSectionTest;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.dataplane.Dataplane;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BGP in an active-active pair, each instance with a session of its own to the one site through
 * the tunnel it carries: its BIRD peers only there, its learned routes name its own connection,
 * and where both tunnels lead to the same prefixes its own tunnel wins, also once it carries the
 * partner's after a takeover.
 */
class PairBgpTest {
    @TempDir
    Path dir;

    private GatewayConfig config() throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, BgpSectionTest.PAIR_BGP);
        return ConfigReader.parse(file, BgpSectionTest.PAIR_BGP, name -> null);
    }

    @Test
    void eachInstancesBirdPeersThroughItsOwnTunnelOnly() throws Exception {
        GatewayConfig c = config();
        for (String self : List.of("gw1", "gw2")) {
            String other = self.equals("gw1") ? "gw2" : "gw1";
            GatewayConfig.Instance instance = c.instance(self);
            assertEquals(Map.of(self + "-to-branch", "c_" + self + "_to_branch"), BirdConfig.protocolNames(c, instance));
            String text = BirdConfig.text(c, instance);
            assertTrue(text.contains("protocol bgp c_" + self + "_to_branch {"), text);
            assertFalse(text.contains("c_" + other + "_to_branch"), text);
            String local = self.equals("gw1") ? "169.254.21.1" : "169.254.22.1";
            assertTrue(text.contains("local " + local + " as 65515;") && text.contains("router id " + local + ";"), text);
            Path file = dir.resolve(self + "-bird.conf");
            Files.writeString(file, text);
            BirdDaemon.check(file);
            assertEquals(Map.of(InetAddress.ofLiteral("169.254.21.2"), self + "-to-branch"), Gateway.bgpPeerAddresses(c, instance));
        }
    }

    @Test
    void theTunnelAnInstanceCarriesWinsWhereBothLeadToTheSamePrefixes() throws Exception {
        GatewayConfig c = config();
        for (String self : List.of("gw1", "gw2")) {
            List<Dataplane.TunnelSpec> tunnels = RunningConnections.tunnels(c, c.instance(self));
            assertEquals(2, tunnels.size());
            // The table's later route of two the same wins (TunnelTable): the instance's own comes last.
            assertEquals(self + "-to-branch", tunnels.getLast().name());
            assertEquals(tunnels.getFirst().prefixes(), tunnels.getLast().prefixes());
            assertTrue(tunnels.getLast().prefixes().containsAll(List.of("192.168.10.0/24", "169.254.21.2/32")), tunnels.toString());
        }
    }
}
