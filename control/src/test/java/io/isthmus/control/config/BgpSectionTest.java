package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** BGP in Azure's fields: a good file read as meant, and every wrong one refused by its field, all problems at once. */
public class BgpSectionTest {
    /** Two sites: one peering from APIPA addresses, one from an inside address; what the lab's BGP test will build on. */
    public static final String BGP = """
            virtualNetworkGateway:
              name: gw-west
              vpnType: RouteBased
              sku: VpnGw2
              addressSpace: [10.1.0.0/16]
              instances:
                - name: gw1
                  publicIpAddress: 203.0.113.10
              bgpSettings:
                asn: 65515
                bgpPeeringAddresses:
                  - instance: gw1
                    defaultBgpIpAddress: 10.1.255.30
                    customBgpIpAddresses: [169.254.21.1]
                advertisedPrefixes: [10.50.0.0/16]
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 198.51.100.7
                addressPrefixes: [192.168.20.0/24]
                bgpSettings: {asn: 65010, bgpPeeringAddress: 169.254.21.2}
              - name: depot
                gatewayIpAddress: 198.51.100.8
                addressPrefixes: [192.168.30.0/24]
                bgpSettings: {asn: 65020, bgpPeeringAddress: 192.168.30.254, peerWeight: 10}
            connections:
              - name: to-branch
                localNetworkGateway: branch
                sharedKey: "a long and secret shared key"
                enableBgp: true
              - name: to-depot
                localNetworkGateway: depot
                sharedKey: "another long and secret key"
                enableBgp: true
            """;

    /**
     * An active-active pair peering with one site from each instance, as Azure's active-active
     * gateway does: a connection per instance (pairInstance), each with its own session from the
     * instance's own APIPA address.
     */
    public static final String PAIR_BGP = """
            virtualNetworkGateway:
              name: gw-west
              vpnType: RouteBased
              sku: VpnGw2
              activeActive: true
              addressSpace: [10.1.0.0/16]
              instances:
                - name: gw1
                  publicIpAddress: 10.77.0.11
                  floatingIpAddress: 10.77.0.101
                - name: gw2
                  publicIpAddress: 10.77.0.12
                  floatingIpAddress: 10.77.0.102
              bgpSettings:
                asn: 65515
                bgpPeeringAddresses:
                  - {instance: gw1, customBgpIpAddresses: [169.254.21.1]}
                  - {instance: gw2, customBgpIpAddresses: [169.254.22.1]}
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 10.77.0.2
                addressPrefixes: [192.168.10.0/24]
                bgpSettings: {asn: 65010, bgpPeeringAddress: 169.254.21.2}
            connections:
              - name: gw1-to-branch
                localNetworkGateway: branch
                sharedKey: "a long and secret shared key"
                pairInstance: gw1
                enableBgp: true
              - name: gw2-to-branch
                localNetworkGateway: branch
                sharedKey: "a long and secret shared key"
                pairInstance: gw2
                enableBgp: true
            pair:
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
    void aGoodFileInAzuresTerms() throws Exception {
        GatewayConfig c = ConfigReaderTest.parse(BGP);
        GatewayConfig.BgpSettings b = c.gateway().bgpSettings();
        assertEquals(65515, b.asn());
        assertEquals(201, b.routeTable());
        assertEquals(4000, b.maxPrefixes());
        assertEquals(List.of("10.50.0.0/16"), b.advertisedPrefixes());
        assertEquals(InetAddress.ofLiteral("169.254.21.1"), b.of("gw1").customBgpIpAddresses().getFirst());
        assertEquals(65010, c.localNetworkGateway("branch").bgpSettings().asn());
        assertEquals(10, c.localNetworkGateway("depot").bgpSettings().peerWeight());
        var branch = c.connections().get(0);
        var depot = c.connections().get(1);
        // An APIPA peer is reached from the APIPA address, the other from the default one, as Azure pairs them.
        assertEquals(InetAddress.ofLiteral("169.254.21.1"), c.bgpSourceAddress(c.instance("gw1"), branch));
        assertEquals(InetAddress.ofLiteral("10.1.255.30"), c.bgpSourceAddress(c.instance("gw1"), depot));
        // The peer's host route leads into its tunnel, as Azure adds it; one already inside the site's prefixes is added all the same (LPM).
        assertEquals(List.of("192.168.20.0/24", "169.254.21.2/32"), c.tunnelPrefixes(branch));
        assertEquals(List.of("192.168.30.0/24", "192.168.30.254/32"), c.tunnelPrefixes(depot));
        assertEquals(List.of("192.168.20.0/24", "192.168.30.0/24", "169.254.21.2/32", "192.168.30.254/32"), c.routedPrefixes());
        assertEquals("to-depot", c.bgpConnectionOf(c.instance(null), InetAddress.ofLiteral("192.168.30.254")).name());
        assertNull(c.bgpConnectionOf(c.instance(null), InetAddress.ofLiteral("192.168.30.253")));
    }

    @Test
    void withoutBgpNothingChanges() {
        GatewayConfig c = ConfigReaderTest.parse(ConfigReaderTest.GOOD);
        assertNull(c.gateway().bgpSettings());
        assertFalse(c.connections().getFirst().enableBgp());
        assertEquals(c.localNetworkGateway("branch").addressPrefixes(), c.tunnelPrefixes(c.connections().getFirst()));
        assertTrue(c.bgpConnections().isEmpty());
    }

    @Test
    void aBgpSiteMayLeaveItsPrefixesToBgp() {
        GatewayConfig c = ConfigReaderTest.parse(BGP.replace("    addressPrefixes: [192.168.20.0/24]\n", ""));
        assertEquals(List.of("169.254.21.2/32"), c.tunnelPrefixes(c.connections().getFirst()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "gateway ASN reserved by Azure | asn: 65515 | asn: 65517 | virtualNetworkGateway.bgpSettings.asn: 65517 is reserved by Azure",
            "gateway ASN reserved by IANA | asn: 65515 | asn: 23456 | virtualNetworkGateway.bgpSettings.asn: 23456 is reserved by IANA",
            "site ASN 65515 | {asn: 65010, | {asn: 65515, | localNetworkGateways[0].bgpSettings.asn: 65515 is reserved by Azure",
            "site ASN 12076 | {asn: 65010, | {asn: 12076, | localNetworkGateways[0].bgpSettings.asn: 12076 is reserved by Azure",
            "ASN too large | asn: 65515 | asn: 4294967295 | virtualNetworkGateway.bgpSettings.asn: '4294967295' is not allowed",
            "iBGP | asn: 65515 | asn: 65010 | localNetworkGateways[0].bgpSettings.asn: 65010 is the gateway's own",
            "APIPA outside Azure's range | customBgpIpAddresses: [169.254.21.1] | customBgpIpAddresses: [169.254.30.1] | customBgpIpAddresses[0]: 169.254.30.1 is not allowed: Azure's custom APIPA BGP addresses are 169.254.21.0 to 169.254.22.255",
            "default BGP address APIPA | defaultBgpIpAddress: 10.1.255.30 | defaultBgpIpAddress: 169.254.21.7 | defaultBgpIpAddress: 169.254.21.7 is not allowed",
            "own BGP address behind a site | defaultBgpIpAddress: 10.1.255.30 | defaultBgpIpAddress: 192.168.20.9 | defaultBgpIpAddress: 192.168.20.9 is inside branch's 192.168.20.0/24",
            "unknown instance | instance: gw1 | instance: gw9 | bgpPeeringAddresses[0].instance: 'gw9' is not one of virtualNetworkGateway.instances",
            "kernel's main table | advertisedPrefixes: | routeTable: 254\\n    advertisedPrefixes: | routeTable: 254 is not allowed",
            "strongSwan's table | advertisedPrefixes: | routeTable: 220\\n    advertisedPrefixes: | routeTable: 220 is not allowed",
            "advertised default route | [10.50.0.0/16] | [0.0.0.0/0] | advertisedPrefixes[0]: 0.0.0.0/0 is not allowed",
            "advertised site prefix | [10.50.0.0/16] | [192.168.0.0/16] | advertisedPrefixes[0]: 192.168.0.0/16 overlaps branch's 192.168.20.0/24",
            "peer address is the VPN device | bgpPeeringAddress: 192.168.30.254 | bgpPeeringAddress: 198.51.100.8 | localNetworkGateways[1].bgpSettings.bgpPeeringAddress: 198.51.100.8 is the site's gatewayIpAddress",
            "peer address in our addressSpace | bgpPeeringAddress: 192.168.30.254 | bgpPeeringAddress: 10.1.0.5 | is inside the gateway's own addressSpace 10.1.0.0/16",
            "peer address behind another site | bgpPeeringAddress: 192.168.30.254 | bgpPeeringAddress: 192.168.20.254 | 192.168.20.254 is inside branch's 192.168.20.0/24",
            "peer address twice | bgpPeeringAddress: 192.168.30.254 | bgpPeeringAddress: 169.254.21.2 | 169.254.21.2 is branch's BGP address too",
            "peer address IPv6 | bgpPeeringAddress: 192.168.30.254 | bgpPeeringAddress: 'fd30::1' | bgpPeeringAddress: fd30:0:0:0:0:0:0:1 is not allowed: an IPv4 address",
            "site without its ASN | {asn: 65010, bgpPeeringAddress | {bgpPeeringAddress | localNetworkGateways[0].bgpSettings.asn: required",
            "unknown field | peerWeight: 10} | peerWeight: 10, password: x} | localNetworkGateways[1].bgpSettings.password: unknown field",
    })
    void eachWrongFieldIsNamed(String what, String from, String to, String expected) {
        String text = BGP.replace(from, to.replace("\\n", "\n"));
        assertTrue(!text.equals(BGP), "the case changes the file: " + what);
        String message = problem(text);
        assertTrue(message.contains(expected), what + ": " + message);
    }

    @Test
    void enableBgpNeedsBothEnds() {
        String noGateway = BGP.replaceAll("(?s)  bgpSettings:\n    asn: 65515.*?advertisedPrefixes: \\[10.50.0.0/16\\]\n", "");
        assertTrue(problem(noGateway).contains("connections[0].enableBgp: BGP needs the gateway's virtualNetworkGateway.bgpSettings"),
                problem(noGateway));
        String noSite = BGP.replace("    bgpSettings: {asn: 65010, bgpPeeringAddress: 169.254.21.2}\n", "");
        assertTrue(problem(noSite).contains("connections[0].enableBgp: BGP needs the site's bgpSettings (localNetworkGateway branch"), problem(noSite));
    }

    @Test
    void bgpNeedsARouteBasedConnection() {
        String text = BGP.replace("    enableBgp: true\n  - name: to-depot", "    enableBgp: true\n    usePolicyBasedTrafficSelectors: true\n  - name: to-depot");
        assertTrue(problem(text).contains("connections[0].enableBgp: BGP needs a route-based connection"), problem(text));
    }

    @Test
    void bgpAndNatOnOneConnectionAreNotYetSupported() {
        String text = BGP.replace("    advertisedPrefixes: [10.50.0.0/16]\n", """
                    advertisedPrefixes: [10.50.0.0/16]
                  natRules:
                    - name: branch-in
                      mode: IngressSnat
                      internalMappings: [192.168.20.0/24]
                      externalMappings: [100.64.20.0/24]
                """).replace("    enableBgp: true\n  - name: to-depot", "    enableBgp: true\n    ingressNatRules: [branch-in]\n  - name: to-depot");
        assertTrue(problem(text).contains("connections[0].enableBgp: BGP on a connection with NAT rules is not supported yet"), problem(text));
        // The same rule on the connection without BGP is fine.
        ConfigReaderTest.parse(text.replace("    enableBgp: true\n    ingressNatRules", "    ingressNatRules"));
    }

    @Test
    void anApipaPeerNeedsAnApipaAddressHere() {
        String text = BGP.replaceAll(" *customBgpIpAddresses: \\[169.254.21.1\\]\n", "");
        assertTrue(problem(text).contains("connections[0].enableBgp: branch's BGP address 169.254.21.2 is an APIPA one: instance gw1 needs "
                + "customBgpIpAddresses"), problem(text));
    }

    @Test
    void everyInstanceNeedsItsAddresses() {
        String text = BGP.replace("      publicIpAddress: 203.0.113.10\n",
                "      publicIpAddress: 203.0.113.10\n    - name: gw2\n      publicIpAddress: 203.0.113.11\n").replace("sku: VpnGw2", "sku: VpnGw2\n  activeActive: true");
        assertTrue(problem(text).contains("virtualNetworkGateway.bgpSettings.bgpPeeringAddresses: instance gw2 has no entry"), problem(text));
    }

    @Test
    void everyProblemIsListedAtOnce() {
        String text = BGP.replace("asn: 65515", "asn: 65518").replace("[169.254.21.1]", "[169.254.99.1]").replace("{asn: 65020,", "{asn: 8075,");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReaderTest.parse(text));
        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().startsWith(ConfigReaderTest.FILE + ": virtualNetworkGateway.bgpSettings.asn"), e.getMessage());
    }

    @Test
    void oneBgpConnectionPerSite() {
        String text = BGP.replace("localNetworkGateway: depot", "localNetworkGateway: branch");
        assertTrue(problem(text).contains("connections[1].enableBgp: connection to-branch peers with branch's BGP address already"), problem(text));
    }

    /** In a pair each instance runs the sessions of the tunnels it carries, and a learned route's peer names its own connection. */
    @Test
    void aPairPeersWithOneSiteFromEachInstance() {
        GatewayConfig c = ConfigReaderTest.parse(PAIR_BGP);
        assertEquals(2, c.bgpConnections().size());
        var gw1 = c.instance("gw1");
        var gw2 = c.instance("gw2");
        assertEquals(List.of("gw1-to-branch"), c.bgpConnections(gw1).stream().map(GatewayConfig.Connection::name).toList());
        assertEquals(List.of("gw2-to-branch"), c.bgpConnections(gw2).stream().map(GatewayConfig.Connection::name).toList());
        InetAddress site = InetAddress.ofLiteral("169.254.21.2");
        assertEquals("gw1-to-branch", c.bgpConnectionOf(gw1, site).name());
        assertEquals("gw2-to-branch", c.bgpConnectionOf(gw2, site).name());
        assertEquals(InetAddress.ofLiteral("169.254.22.1"), c.bgpSourceAddress(gw2, c.connections().get(1)));
        // Both tunnels lead to the site's BGP address: which one an instance uses is RunningConnections' (its own).
        assertEquals(c.tunnelPrefixes(c.connections().get(0)), c.tunnelPrefixes(c.connections().get(1)));
    }

    @Test
    void aPairHasOneBgpConnectionPerSiteAndInstance() {
        String text = PAIR_BGP.replace("pairInstance: gw2\n", "pairInstance: gw1\n");
        assertTrue(problem(text).contains("connections[1].enableBgp: connection gw1-to-branch peers with branch's BGP address already from"
                + " instance gw1"), problem(text));
    }

    @Test
    void aReloadThatChangesTheSpeakerNeedsARestartAndOneThatChangesAPeerReconfigures() {
        GatewayConfig running = ConfigReaderTest.parse(BGP);
        ConfigDiff asn = ConfigDiff.between(running, ConfigReaderTest.parse(BGP.replace("asn: 65515", "asn: 65001")));
        assertTrue(asn.refused());
        assertEquals("virtualNetworkGateway.bgpSettings (asn, bgpPeeringAddresses, routeTable): asn 65515, addresses [gw1 [10.1.255.30, "
                + "169.254.21.1]], table 201 -> asn 65001, addresses [gw1 [10.1.255.30, 169.254.21.1]], table 201 cannot change while the gateway "
                + "runs; restart it to apply", asn.restartNeeded().getFirst());
        ConfigDiff peer = ConfigDiff.between(running, ConfigReaderTest.parse(BGP.replace("{asn: 65010,", "{asn: 65011,")));
        assertFalse(peer.refused());
        assertEquals(java.util.Set.of(ConfigDiff.Change.BGP), peer.changed().get("to-branch"));
        ConfigDiff moved = ConfigDiff.between(running, ConfigReaderTest.parse(BGP.replace("bgpPeeringAddress: 169.254.21.2", "bgpPeeringAddress: 169.254.21.6")));
        assertEquals(java.util.Set.of(ConfigDiff.Change.BGP, ConfigDiff.Change.PREFIXES), moved.changed().get("to-branch"));
        ConfigDiff off = ConfigDiff.between(running, ConfigReaderTest.parse(BGP.replaceFirst("enableBgp: true", "enableBgp: false")));
        assertEquals(java.util.Set.of(ConfigDiff.Change.BGP, ConfigDiff.Change.PREFIXES), off.changed().get("to-branch"));
        assertTrue(ConfigDiff.between(running, ConfigReaderTest.parse(BGP.replace("[10.50.0.0/16]", "[10.60.0.0/16]"))).changed().isEmpty());
    }
}
