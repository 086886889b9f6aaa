package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.ConfigDiff;
import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A site whose devices come from a range ({@code gatewayIpAddress: 10.80.0.0/16}, strongSwan's
 * {@code remote_addrs}): read, refused where the gateway would have to initiate or peer over
 * BGP with it, protected like a peer's address, and made into an IKE connection that takes its
 * peers from the range alone; and the {@code ikeDefense} settings (a reload applies them:
 * {@code ReloadWiringTest}).
 */
class PeerRangeConfigTest {
    static final String RANGE = """
            virtualNetworkGateway:
              name: hub
              vpnType: RouteBased
              sku: VpnGw2
              addressSpace: [10.1.0.0/16]
              instances:
                - publicIpAddress: 203.0.113.10
            localNetworkGateways:
              - name: branches
                gatewayIpAddress: 10.80.0.0/16
                addressPrefixes: [172.16.0.0/16]
              - name: depot
                gatewayIpAddress: 198.51.100.8
                addressPrefixes: [192.168.30.0/24]
            connections:
              - name: to-branches
                localNetworkGateway: branches
                sharedKey: "the branches' long shared key"
                connectionMode: ResponderOnly
              - name: to-depot
                localNetworkGateway: depot
                sharedKey: "the depot's long shared key"
            """;

    static GatewayConfig parse(String text) {
        return ConfigReader.parse(Path.of("/etc/isthmus/gw.yaml"), text, Map.<String, String>of()::get);
    }

    static ConfigException refused(String text) {
        return assertThrows(ConfigException.class, () -> parse(text));
    }

    @Test
    void aRangeOfDevicesIsReadAndBecomesAConnectionThatTakesItsPeersFromIt() throws Exception {
        GatewayConfig c = parse(RANGE);
        GatewayConfig.LocalNetworkGateway site = c.localNetworkGateway("branches");
        assertEquals(AddressPrefix.parse("10.80.0.0/16"), site.gatewayRange());
        assertEquals("10.80.0.0/16", site.peerText());
        assertEquals("198.51.100.8", c.localNetworkGateway("depot").peerText());
        assertNull(c.localNetworkGateway("depot").gatewayRange());
        Connection ike = IkeConnections.of(c, c.instance(null), c.connections().getFirst());
        assertTrue(ike.acceptsPeer(InetAddress.ofLiteral("10.80.3.4")));
        assertFalse(ike.acceptsPeer(InetAddress.ofLiteral("10.81.0.1")));
        assertFalse(ike.hasOnePeer());
        assertNull(ike.remoteId(), "each device proves its own identity with the key");
        assertEquals(Connection.Mode.RESPONDER_ONLY, ike.mode());
        Connection named = IkeConnections.of(parse(RANGE.replace("gatewayIpAddress: 10.80.0.0/16", "gatewayIpAddress: 10.80.0.0/16\n    ikeIdentity: "
                + "branch.example.net")), c.instance(null), c.connections().getFirst());
        assertEquals(Identity.parse("branch.example.net"), named.remoteId());
        Connection one = IkeConnections.of(c, c.instance(null), c.connections().get(1));
        assertTrue(one.hasOnePeer());
        assertEquals(Identity.parse("198.51.100.8"), one.remoteId());
    }

    @Test
    void theGatewayCannotInitiateToARange() {
        ConfigException e = refused(RANGE.replace("    connectionMode: ResponderOnly\n", ""));
        assertEquals("connections[0].connectionMode", e.field());
        assertTrue(e.getMessage().contains("the devices of branches come from a range (10.80.0.0/16), which the gateway cannot initiate to; "
                + "ResponderOnly"), e.getMessage());
    }

    @Test
    void aRangeIsNotABgpPeer() {
        ConfigException e = refused(RANGE.replace("    addressPrefixes: [172.16.0.0/16]", "    bgpSettings: {asn: 65010, bgpPeeringAddress: 10.99.0.1}"));
        assertEquals("localNetworkGateways[0].bgpSettings", e.field());
    }

    @Test
    void whatIsNotARange() {
        assertTrue(refused(RANGE.replace("10.80.0.0/16", "10.80.0.1/16")).getMessage().contains("has host bits set"));
        assertTrue(refused(RANGE.replace("10.80.0.0/16", "10.80.0.0/33")).getMessage().contains("localNetworkGateways[0].gatewayIpAddress"));
        GatewayConfig one = parse(RANGE.replace("10.80.0.0/16", "10.80.0.7/32"));
        assertNull(one.localNetworkGateway("branches").gatewayRange(), "a /32 is one device");
        assertEquals("10.80.0.7", one.localNetworkGateway("branches").peerText());
    }

    @Test
    void noSitePrefixMayCaptureTheRange() {
        ConfigException e = refused(RANGE.replace("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.30.0/24, 10.80.128.0/17]"));
        assertTrue(e.getMessage().contains("10.80.128.0/17") && e.getMessage().contains("to the peers from 10.80.0.0/16"), e.getMessage());
        ProtectedDestinations p = ProtectedDestinations.of(parse(RANGE), new HostNetwork(List.of(), List.of()), "isthmus0");
        assertTrue(p.refusal(AddressPrefix.parse("10.80.7.0/24")).contains("the range the IKE peers of branches come from"));
        assertTrue(p.refusal(AddressPrefix.parse("10.0.0.0/8")) != null, "around it too");
        assertNull(p.refusal(AddressPrefix.parse("10.81.0.0/16")));
    }

    @Test
    void aSitePrefixAroundTheRangeIsRefusedTooAndTheFirstSiteInTheFileIsNamed() {
        // The peers' index holds the range as a prefix: a site prefix holding all of it, or part of it, captures some peer.
        ConfigException e = refused(RANGE.replace("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.30.0/24, 10.64.0.0/10]"));
        assertTrue(e.getMessage().contains("10.64.0.0/10 would route the gateway's own traffic to the peers from 10.80.0.0/16")
                && e.getMessage().contains("branches's localNetworkGateways[0].gatewayIpAddress"), e.getMessage());
        // A prefix holding the range and another site's device: the first in the file (the range) is named, once.
        String both = RANGE.replace("gatewayIpAddress: 198.51.100.8", "gatewayIpAddress: 10.99.0.1")
                .replace("addressPrefixes: [172.16.0.0/16]", "addressPrefixes: [172.16.0.0/16, 10.0.0.0/9]");
        e = refused(both);
        assertTrue(e.getMessage().contains("to the peers from 10.80.0.0/16") && !e.getMessage().contains("to the peer 10.99.0.1"), e.getMessage());
    }

    @Test
    void aCaptureFindsTheConnectionOfEveryDeviceInTheRange() {
        ConnectionsByPeer byPeer = new ConnectionsByPeer(parse(RANGE));
        assertEquals("to-branches", byPeer.apply(InetAddress.ofLiteral("10.80.0.1")));
        assertEquals("to-branches", byPeer.apply(InetAddress.ofLiteral("10.80.255.254")));
        assertEquals("to-depot", byPeer.apply(InetAddress.ofLiteral("198.51.100.8")));
        assertNull(byPeer.apply(InetAddress.ofLiteral("10.81.0.1")));
        assertNull(byPeer.apply(InetAddress.ofLiteral("198.51.100.9")));
        // A device of its own inside the range is its own site's, as the IKE engine offers its connection first.
        ConnectionsByPeer inside = new ConnectionsByPeer(parse(RANGE.replace("gatewayIpAddress: 198.51.100.8", "gatewayIpAddress: 10.80.9.9")));
        assertEquals("to-depot", inside.apply(InetAddress.ofLiteral("10.80.9.9")));
        assertEquals("to-branches", inside.apply(InetAddress.ofLiteral("10.80.9.10")));
    }

    @Test
    void anotherRangeIsAnotherPeer() {
        ConfigDiff d = ConfigDiff.between(parse(RANGE), parse(RANGE.replace("10.80.0.0/16", "10.80.0.0/15")));
        assertEquals(Map.of("to-branches", java.util.Set.of(ConfigDiff.Change.PEER)), d.changed());
    }

    @Test
    void ikeDefenseDefaultsAndSettings() {
        assertEquals(GatewayConfig.IkeDefense.DEFAULT, parse(RANGE).gateway().ikeDefense());
        assertEquals(new GatewayConfig.IkeDefense(true, 10, 50, 5, io.isthmus.ike.engine.IkeEngine.HALF_OPEN_LIMIT), GatewayConfig.IkeDefense.DEFAULT,
                "strongSwan-like: 10 half-open, 5 per address; the engine's table");
        String withDefense = RANGE.replace("  instances:", "  ikeDefense: {cookies: false, cookieThreshold: 0, cookieRate: 2000, halfOpenPerPeer: 2, "
                + "halfOpenLimit: 20000}\n  instances:");
        assertEquals(new GatewayConfig.IkeDefense(false, 0, 2000, 2, 20000), parse(withDefense).gateway().ikeDefense());
        assertTrue(refused(withDefense.replace("cookieRate: 2000", "cookieRate: 0")).getMessage().contains("virtualNetworkGateway.ikeDefense.cookieRate"));
        assertTrue(refused(withDefense.replace("cookies: false", "cookie: false")).getMessage().contains("virtualNetworkGateway.ikeDefense.cookie: unknown field"));
        ConfigDiff d = ConfigDiff.between(parse(RANGE), parse(withDefense));
        assertFalse(d.refused(), "a reload applies it: " + d);
    }
}
