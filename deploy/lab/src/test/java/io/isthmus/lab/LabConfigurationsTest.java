package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The configurations the demo and the lab give their gateways pass the gateway's own checks (overlaps, forced tunnelling). */
class LabConfigurationsTest {
    @ParameterizedTest
    @ValueSource(strings = {"gw-a.yaml", "gw-b.yaml"})
    void theDemosConfigurationsPass(String name) throws Exception {
        try (InputStream in = Demo.class.getResourceAsStream("demo/" + name)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertDoesNotThrow(() -> ConfigReader.parse(Path.of(name), text, k -> null));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theLabsConfigurationsPass(boolean nat) throws Exception {
        Lab lab = labNotBuilt(nat);
        for (Lab.Side side : Lab.Side.values()) {
            for (IsthmusOptions o : List.of(IsthmusOptions.DEFAULT, IsthmusOptions.DEFAULT.withVpnType("PolicyBased"))) {
                String text = LabGateways.isthmusConfig(lab, side, o);
                assertDoesNotThrow(() -> ConfigReader.parse(Path.of("lab.yaml"), text, k -> null), text);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theBenchmarksNatConfigurationsPass(boolean staticRule) throws Exception {
        String[] configs = io.isthmus.lab.bench.Bench.natConfigs(labNotBuilt(false), staticRule);
        for (String text : configs) {
            var read = assertDoesNotThrow(() -> ConfigReader.parse(Path.of("lab.yaml"), text, k -> null), text);
            org.junit.jupiter.api.Assertions.assertEquals(List.of(), read.warnings(), text);
        }
        // The rule is on the gateway the path says, and on its connection.
        String withRule = configs[staticRule ? 1 : 0];
        org.junit.jupiter.api.Assertions.assertEquals(1, ConfigReader.parse(Path.of("lab.yaml"), withRule, k -> null).natRules(
                ConfigReader.parse(Path.of("lab.yaml"), withRule, k -> null).connections().get(0)).size(), withRule);
    }

    /** The point-to-site bench's gateway: its pool twice the clients, maxClients the clients, the branch beside them; no warning. */
    @ParameterizedTest
    @ValueSource(ints = {50, 1000, 2500})
    void thePointToSiteBenchsConfigurationPasses(int clients, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var pki = io.isthmus.lab.ikeload.LoadPki.make(dir);
        String text = io.isthmus.lab.bench.P2sLoad.isthmusConfig(clients, pki);
        var read = assertDoesNotThrow(() -> ConfigReader.parse(Path.of("p2s.yaml"), text, k -> null), text);
        org.junit.jupiter.api.Assertions.assertEquals(List.of(), read.warnings(), text);
        var v = read.gateway().vpnClientConfiguration();
        org.junit.jupiter.api.Assertions.assertEquals(clients, v.maxClients(), text);
        int length = Integer.parseInt(io.isthmus.lab.bench.P2sLoad.pool(clients).split("/")[1]);
        long addresses = (1L << (32 - length)) - 2;
        org.junit.jupiter.api.Assertions.assertTrue(addresses >= 2L * clients && addresses < 4L * clients + 4, clients + " clients: /" + length);
        org.junit.jupiter.api.Assertions.assertEquals(1, read.connections().size(), text);
    }

    /*
     * 150 pings: the last 100 (a second at 10 ms) left out; of the first 50, 7 is never answered, 9
     * only with an error (not an answer), 3 twice (DUP!); 120 and 150 unanswered but left out.
     */
    @org.junit.jupiter.api.Test
    void theSitePingsAreRead() throws Exception {
        StringBuilder out = new StringBuilder("PING 172.19.0.1 (172.19.0.1) from 172.18.0.1 : 56(84) bytes of data.\n");
        for (int seq = 1; seq <= 150; seq++) {
            if (seq == 9) {
                out.append("From 10.79.1.1 icmp_seq=9 Destination Host Unreachable\n");
            } else if (seq != 7 && seq != 120 && seq != 150) {
                out.append("64 bytes from 172.19.0.1: icmp_seq=").append(seq).append(" ttl=64 time=0.").append(seq).append(" ms\n");
            }
            if (seq == 3) {
                out.append("64 bytes from 172.19.0.1: icmp_seq=3 ttl=64 time=0.31 ms (DUP!)\n");
            }
        }
        out.append("""

                --- 172.19.0.1 ping statistics ---
                150 packets transmitted, 147 received, +1 duplicates, +1 errors, 2.0% packet loss, time 1523ms
                """);
        var loss = io.isthmus.lab.bench.P2sLoad.pings(out.toString());
        org.junit.jupiter.api.Assertions.assertEquals(50, loss.sent());
        org.junit.jupiter.api.Assertions.assertEquals(100, loss.leftOut());
        org.junit.jupiter.api.Assertions.assertEquals(48, loss.answered());
        org.junit.jupiter.api.Assertions.assertEquals(2, loss.lost());
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> io.isthmus.lab.bench.P2sLoad.pings("ping: connect: Network is unreachable"));
    }

    /** Only the lab's addresses are needed, not its namespaces. */
    static Lab labNotBuilt(boolean nat) {
        return Lab.withoutNamespaces(nat);
    }
}
