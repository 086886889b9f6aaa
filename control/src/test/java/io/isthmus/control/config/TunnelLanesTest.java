package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code tunnel.packetThreads} (a number or auto) and {@code tunnel.busyPoll} (true, false or µs): read, resolved, refused. */
class TunnelLanesTest {
    static GatewayConfig withTunnel(String tunnel) {
        return ConfigReaderTest.parse(ConfigReaderTest.GOOD.replace("  instances:", "  tunnel: " + tunnel + "\n  instances:"));
    }

    @Test
    void byDefaultALanePerCoreAndNoBusyPolling() {
        GatewayConfig c = ConfigReaderTest.parse(ConfigReaderTest.GOOD);
        assertEquals(GatewayConfig.Tunnel.AUTO, c.gateway().tunnel().packetThreads());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.gateway().packetThreads());
        assertEquals(0, c.gateway().tunnel().busyPollMicros());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{packetThreads: 4}|4|0",
            "{packetThreads: auto}|-1|0",
            "{packetThreads: 1, busyPoll: true}|1|200",
            "{busyPoll: false}|-1|0",
            "{busyPoll: 50}|-1|50",
            "{packetThreads: 256, busyPoll: 100000}|256|100000"})
    void whatIsWrittenIsWhatRuns(String tunnel, int lanes, int busyPoll) {
        GatewayConfig c = withTunnel(tunnel);
        assertEquals(lanes == -1 ? Runtime.getRuntime().availableProcessors() : lanes, c.gateway().packetThreads());
        assertEquals(busyPoll, c.gateway().tunnel().busyPollMicros());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{packetThreads: 0}|virtualNetworkGateway.tunnel.packetThreads: '0' is not allowed; a whole number from 1 to 256",
            "{packetThreads: 257}|virtualNetworkGateway.tunnel.packetThreads: '257' is not allowed; a whole number from 1 to 256",
            "{packetThreads: all}|virtualNetworkGateway.tunnel.packetThreads: 'all' is not allowed; auto, or a whole number from 1 to 256",
            "{packetThreads: 2.5}|virtualNetworkGateway.tunnel.packetThreads: '2.5' is not allowed; auto, or a whole number",
            "{busyPoll: -1}|virtualNetworkGateway.tunnel.busyPoll: '-1' is not allowed; a whole number from 0 to 100000",
            "{busyPoll: 100001}|virtualNetworkGateway.tunnel.busyPoll: '100001' is not allowed",
            "{busyPoll: always}|virtualNetworkGateway.tunnel.busyPoll: 'always' is not allowed; true, false, or microseconds from 0 to 100000"})
    void mistakesAreNamed(String tunnel, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> withTunnel(tunnel));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aDynamicNatRuleTakesOneLane() {
        String nat = NatRulesTest.lab(NatRulesTest.LAB_RULES, NatRulesTest.TO_BRANCH1, NatRulesTest.TO_BRANCH2);
        assertEquals(1, NatRulesTest.read(nat).gateway().packetThreads(), "auto means one lane with a Dynamic rule");
        String two = nat.replace("  instances:", "  tunnel: {packetThreads: 2}\n  instances:");
        ConfigException e = NatRulesTest.refused(two);
        assertTrue(e.getMessage().contains("virtualNetworkGateway.tunnel.packetThreads: 2 is not allowed with a Dynamic NAT rule, whose flows "
                + "one packet thread keeps; 1, or auto (which then means 1)"), e.getMessage());
        String one = nat.replace("  instances:", "  tunnel: {packetThreads: 1}\n  instances:");
        assertEquals(1, NatRulesTest.read(one).gateway().packetThreads());
        String staticOnly = NatRulesTest.lab(NatRulesTest.BRANCH1_IN + NatRulesTest.BRANCH2_IN, "ingressNatRules: [branch1-in]",
                NatRulesTest.TO_BRANCH2).replace("  instances:", "  tunnel: {packetThreads: 2}\n  instances:");
        assertEquals(2, NatRulesTest.read(staticOnly).gateway().packetThreads(), "Static rules keep no flows: any number of lanes");
    }

    /** A reload may take a Dynamic rule away from a gateway of one lane, but not give one to a gateway running several. */
    @Test
    void aDynamicRuleAddedByAReloadToAGatewayOfSeveralLanesNeedsARestart() {
        String without = NatRulesTest.lab(NatRulesTest.BRANCH1_IN + NatRulesTest.BRANCH2_IN, "ingressNatRules: [branch1-in]",
                NatRulesTest.TO_BRANCH2);
        String with = NatRulesTest.lab(NatRulesTest.LAB_RULES, NatRulesTest.TO_BRANCH1, NatRulesTest.TO_BRANCH2);
        int cores = Runtime.getRuntime().availableProcessors();
        ConfigDiff added = ConfigDiff.between(NatRulesTest.read(without), NatRulesTest.read(with));
        if (cores > 1) {
            assertTrue(added.refused(), added.toString());
            assertTrue(added.toString().contains("virtualNetworkGateway.tunnel.packetThreads: auto means 1 with a Dynamic NAT rule, and the "
                    + "gateway runs " + cores + " packet threads; restart it to apply"), added.toString());
        } else {
            assertTrue(!added.refused(), "one core: auto was one lane already: " + added);
        }
        ConfigDiff removed = ConfigDiff.between(NatRulesTest.read(with), NatRulesTest.read(without));
        assertTrue(!removed.refused(), "one lane carries any configuration: " + removed);
    }
}
