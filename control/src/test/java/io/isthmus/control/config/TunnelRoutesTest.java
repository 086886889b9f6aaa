package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which destinations a configuration may send into the tunnel: one site each, never the gateway's own traffic. */
class TunnelRoutesTest {
    static final Path FILE = Path.of("gw.yaml");

    /** Gateway 10.1.0.0/16 at 203.0.113.10 (10.1.255.4 inside); site-a at 198.51.100.7, site-b at 203.0.113.5. */
    static String twoSites(String aPrefixes, String bPrefixes) {
        return """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [10.1.0.0/16, fd01::/48]
                  instances:
                    - publicIpAddress: 203.0.113.10
                      privateIpAddress: 10.1.255.4
                localNetworkGateways:
                  - name: site-a
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [%s]
                  - name: site-b
                    gatewayIpAddress: 203.0.113.5
                    addressPrefixes: [%s]
                connections:
                  - name: to-a
                    localNetworkGateway: site-a
                    sharedKey: k
                  - name: to-b
                    localNetworkGateway: site-b
                    sharedKey: k
                """.formatted(aPrefixes, bPrefixes);
    }

    static ConfigException refused(String text) {
        return assertThrows(ConfigException.class, () -> ConfigReader.parse(FILE, text, Map.<String, String>of()::get));
    }

    @Test
    void sitesThatDoNotOverlapAreAccepted() {
        GatewayConfig c = ConfigReader.parse(FILE, twoSites("10.2.0.0/16, 10.3.2.0/24, fd02::/48", "10.3.3.0/24, fd03::/48"), k -> null);
        assertEquals(2, c.localNetworkGateways().size());
    }

    @Test
    void overlappingSitesAreRefusedNamingBoth() {
        ConfigException e = refused(twoSites("10.2.0.0/16, 10.9.2.0/24", "10.9.0.0/16"));
        assertEquals("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: 10.9.0.0/16 overlaps site-a's 10.9.2.0/24"
                + " (localNetworkGateways[0].addressPrefixes[1]); each destination must lead to one site", e.getMessage());
        assertEquals("localNetworkGateways[1].addressPrefixes[0]", e.field());
    }

    @Test
    void overlappingIpv6SitesAreRefusedToo() {
        ConfigException e = refused(twoSites("10.2.0.0/16, fd20::/64", "fd20::/48"));
        assertEquals("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: fd20::/48 overlaps site-a's fd20::/64"
                + " (localNetworkGateways[0].addressPrefixes[1]); each destination must lead to one site", e.getMessage());
    }

    @Test
    void theSamePrefixForTwoSitesIsAnOverlap() {
        ConfigException e = refused(twoSites("10.2.0.0/16", "10.2.0.0/16"));
        assertTrue(e.getMessage().contains("10.2.0.0/16 overlaps site-a's 10.2.0.0/16"), e.getMessage());
    }

    @Test
    void everyProblemIsListedNotJustTheFirst() {
        ConfigException e = refused(twoSites("10.2.0.0/16, fd20::/64", "10.2.1.0/24, fd20::1:0/112, 10.1.0.0/24"));
        assertEquals(List.of("localNetworkGateways[1].addressPrefixes[0]", "localNetworkGateways[1].addressPrefixes[1]",
                "localNetworkGateways[1].addressPrefixes[2]"), e.problems().stream().map(ConfigException::field).toList());
        assertEquals(3, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aSitePrefixInsideTheGatewaysOwnAddressSpaceIsRefused() {
        ConfigException e = refused(twoSites("10.2.0.0/16", "10.1.0.0/24"));
        assertEquals("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: 10.1.0.0/24 overlaps the gateway's own addressSpace 10.1.0.0/16"
                + " (virtualNetworkGateway.addressSpace[0]); a destination is on this side or behind a site, not both", e.getMessage());
        assertTrue(refused(twoSites("10.2.0.0/16", "fd00::/8")).getMessage().contains("overlaps the gateway's own addressSpace fd01::/48"));
    }

    /** Azure's forced tunnelling: Isthmus does not do it, and refuses rather than cut the host off. */
    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0/0", "::/0"})
    void aDefaultRouteThroughTheTunnelIsRefused(String prefix) {
        // Quoted: in a YAML flow list a bare ::/0 is not a string.
        ConfigException e = refused(twoSites("10.2.0.0/16", "'" + prefix + "'"));
        assertTrue(e.getMessage().startsWith("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: " + prefix
                + " is a default route through the tunnel (what Azure calls forced tunnelling), which Isthmus does not support"), e.getMessage());
        assertEquals(1, e.problems().size(), "one problem, not an overlap with every other prefix too: " + e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "203.0.113.0/24 | to the peer 203.0.113.5 into the tunnel; forced tunnelling is not supported (site-b's localNetworkGateways[1].gatewayIpAddress)",
            "198.51.100.0/24 | to the peer 198.51.100.7 into the tunnel; forced tunnelling is not supported (site-a's localNetworkGateways[0].gatewayIpAddress)",
            "128.0.0.0/1 | to the peer 198.51.100.7 into the tunnel",
            "203.0.113.8/29 | to its own address 203.0.113.10 into the tunnel; forced tunnelling is not supported"
                    + " (instance gw-0's virtualNetworkGateway.instances[0].publicIpAddress)"})
    void aPrefixThatHoldsAPeerOrTheGatewayItselfIsRefused(String prefix, String expected) {
        ConfigException e = refused(twoSites("10.2.0.0/16", prefix));
        assertTrue(e.getMessage().startsWith("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: " + prefix
                + " would route the gateway's own traffic "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void theGatewaysPrivateAddressCountsToo() {
        String text = twoSites("10.2.0.0/16", "10.3.0.0/16").replace("addressSpace: [10.1.0.0/16, fd01::/48]", "addressSpace: [fd01::/48]")
                .replace("10.1.255.4", "10.3.255.4");
        assertTrue(refused(text).getMessage().contains("10.3.0.0/16 would route the gateway's own traffic to its own address 10.3.255.4"
                + " into the tunnel; forced tunnelling is not supported (instance gw-0's virtualNetworkGateway.instances[0].privateIpAddress)"));
    }
}
