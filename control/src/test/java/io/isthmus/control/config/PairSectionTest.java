package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pair section: two instances with floating addresses, their sync link, and every half-made pair refused by its field. */
public class PairSectionTest {
    public static final String PAIR = """
            virtualNetworkGateway:
              name: gw-west
              vpnType: RouteBased
              sku: VpnGw2
              activeActive: true
              instances:
                - name: gw1
                  publicIpAddress: 10.77.0.11
                  floatingIpAddress: 10.77.0.101
                - name: gw2
                  publicIpAddress: 10.77.0.12
                  floatingIpAddress: 10.77.0.102
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 10.77.0.2
                addressPrefixes: [192.168.10.0/24]
            connections:
              - name: west-to-branch
                localNetworkGateway: branch
                sharedKey: "a long and secret shared key"
                pairInstance: gw2
            pair:
              sequenceLeaseBlock: 65536
              replaySync: {packets: 256}
              instances:
                - name: gw1
                  syncAddress: 10.99.0.1
                  certificate: /etc/isthmus/pair/gw1.crt
                  privateKey: /etc/isthmus/pair/gw1.key
                - name: gw2
                  syncAddress: 10.99.0.2
                  certificate: /etc/isthmus/pair/gw2.crt
                  privateKey: /etc/isthmus/pair/gw2.key
            """;

    static String problem(String text) {
        return assertThrows(ConfigException.class, () -> ConfigReaderTest.parse(text)).getMessage();
    }

    @Test
    void azuresActiveActiveShapeWithoutAPairIsTwoGatewaysWithTheirOwnTunnels() throws Exception {
        // Azure's own active-active gateway shares nothing between its instances: the peer sees a
        // tunnel to each instance's address and fails over by routing. Peers that must see two
        // tunnels get that shape here too: activeActive, no floating addresses, no pair section.
        String azure = PAIR.substring(0, PAIR.indexOf("pair:\n")).replace("      floatingIpAddress: 10.77.0.101\n", "")
                .replace("      floatingIpAddress: 10.77.0.102\n", "").replace("    pairInstance: gw2\n", "");
        GatewayConfig config = ConfigReaderTest.parse(azure);
        assertNull(config.pair(), "no state sync");
        GatewayConfig.Connection c = config.connections().getFirst();
        assertNull(config.carrier(c));
        // Each instance, started with --instance, runs the connection from its own address.
        assertEquals(InetAddress.getByName("10.77.0.11"), config.localAddress(config.instance("gw1"), c));
        assertEquals(InetAddress.getByName("10.77.0.12"), config.localAddress(config.instance("gw2"), c));
        assertEquals(InetAddress.getByName("10.77.0.12"), config.identityAddress(config.instance("gw2"), c));
        assertEquals("/etc/isthmus/gw.yaml: connections[0].pairInstance: only a gateway with a pair section has floating addresses to choose from",
                problem(azure.replace("    sharedKey:", "    pairInstance: gw2\n    sharedKey:")));
    }

    @Test
    void aNatRuleOfAPairAppliesOnBothInstances() {
        String text = PAIR.replace("  activeActive: true\n", """
                  activeActive: true
                  natRules:
                    - name: hide
                      type: Dynamic
                      mode: EgressSnat
                      internalMappings: [10.1.0.0/24]
                      externalMappings: [100.70.0.1/32]
                      ipConfigurationId: gw2
                """).replace("    pairInstance: gw2\n", "    pairInstance: gw2\n    egressNatRules: [hide]\n");
        assertEquals("/etc/isthmus/gw.yaml: virtualNetworkGateway.natRules[0].ipConfigurationId: a pair's instances carry each other's tunnels after a"
                + " takeover, so a NAT rule applies on both; leave out ipConfigurationId", problem(text));
        ConfigReaderTest.parse(text.replace("      ipConfigurationId: gw2\n", ""));
    }

    @Test
    void aPairWithItsDefaults() {
        GatewayConfig c = ConfigReaderTest.parse(PAIR);
        GatewayConfig.Pair p = c.pair();
        assertEquals(4510, p.syncPort());
        assertEquals(Duration.ofMillis(50), p.heartbeat());
        assertEquals(65536, p.leaseBlock());
        assertEquals(256, p.replaySyncPackets());
        assertEquals(Duration.ofMillis(50), p.replaySyncInterval());
        assertEquals(Path.of("/var/lib/isthmus"), p.stateDirectory());
        assertEquals("10.99.0.2", p.partnerOf("gw1").syncAddress().getHostAddress());
        assertEquals("10.77.0.102", c.instance("gw2").floatingIpAddress().getHostAddress());
        assertEquals("gw2", c.carrier(c.connections().getFirst()).name());
    }

    @Test
    void aReloadCannotChangeThePair() {
        ConfigDiff d = ConfigDiff.between(ConfigReaderTest.parse(PAIR), ConfigReaderTest.parse(PAIR.replace("65536", "131072")));
        assertEquals(1, d.restartNeeded().size(), d.restartNeeded().toString());
        org.junit.jupiter.api.Assertions.assertTrue(d.restartNeeded().getFirst().startsWith("pair: "));
        ConfigDiff moved = ConfigDiff.between(ConfigReaderTest.parse(PAIR), ConfigReaderTest.parse(PAIR.replace("10.77.0.102", "10.77.0.103")));
        org.junit.jupiter.api.Assertions.assertTrue(moved.restartNeeded().getFirst().startsWith("virtualNetworkGateway.instances: "),
                moved.restartNeeded().toString());
    }

    @Test
    void withoutAPairNothingFloats() {
        GatewayConfig c = ConfigReaderTest.parse(ConfigReaderTest.GOOD);
        assertNull(c.pair());
        assertNull(c.carrier(c.connections().getFirst()));
    }

    @Test
    void halfAPairIsRefusedByItsField() {
        String noSection = PAIR.substring(0, PAIR.indexOf("pair:\n")).replace("    pairInstance: gw2\n", "");
        assertEquals("/etc/isthmus/gw.yaml: virtualNetworkGateway.instances[0].floatingIpAddress: a floating address needs the pair section"
                + " (the sync link that lets the other instance take its SAs over)", problem(noSection));
        assertEquals("/etc/isthmus/gw.yaml: virtualNetworkGateway.instances: in a pair each instance has a floatingIpAddress",
                problem(PAIR.replace("      floatingIpAddress: 10.77.0.102\n", "")));
        assertEquals("/etc/isthmus/gw.yaml: pair: a pair is an active-active gateway: set virtualNetworkGateway.activeActive: true",
                problem(PAIR.replace("activeActive: true", "activeActive: false")));
        assertEquals("/etc/isthmus/gw.yaml: virtualNetworkGateway.instances[1]: 10.77.0.101 is given twice;"
                + " the floating addresses and each instance's own must all differ", problem(PAIR.replace("10.77.0.102", "10.77.0.101")));
        assertEquals("/etc/isthmus/gw.yaml: pair.instances[1].name: 'gw3' is not one of virtualNetworkGateway.instances [gw1, gw2]",
                problem(PAIR.replace("- name: gw2\n      syncAddress", "- name: gw3\n      syncAddress")));
        assertEquals("/etc/isthmus/gw.yaml: pair.instances[1].syncAddress: the two instances need different sync addresses",
                problem(PAIR.replace("10.99.0.2", "10.99.0.1")));
        assertEquals("/etc/isthmus/gw.yaml: pair.instances[0].certificate: must be an absolute path",
                problem(PAIR.replace("/etc/isthmus/pair/gw1.crt", "gw1.crt")));
        assertEquals("/etc/isthmus/gw.yaml: pair.sequenceLeaseBlock: '12' is not allowed; a whole number from 4096 to 268435456",
                problem(PAIR.replace("65536", "12")));
        assertEquals("/etc/isthmus/gw.yaml: connections[0].pairInstance: 'gw9' is not one of virtualNetworkGateway.instances",
                problem(PAIR.replace("pairInstance: gw2", "pairInstance: gw9")));
        assertEquals("/etc/isthmus/gw.yaml: connections[0].pairInstance: only a gateway with a pair section has floating addresses to choose from",
                problem(ConfigReaderTest.GOOD.replace("    sharedKey:", "    pairInstance: gw-west-0\n    sharedKey:")));
    }
}
