package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host as ip(8) describes it, and the site prefixes that would cut it off: from JSON samples, no root needed. */
class HostNetworkTest {
    /** {@code ip -j address show} of a VM: loopback, eth0 (v4, v6, link-local), eth1 on a second network, and the tunnel device. */
    static final String ADDRESSES = """
            [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"link_type":"loopback","addr_info":[
               {"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},
               {"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},
             {"ifindex":2,"ifname":"ifb0","flags":["BROADCAST","NOARP"],"mtu":1500,"addr_info":[]},
             {"ifindex":4,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"addr_info":[
               {"family":"inet","local":"192.0.2.2","prefixlen":24,"broadcast":"192.0.2.255","scope":"global","label":"eth0"},
               {"family":"inet6","local":"fd00::2","prefixlen":64,"scope":"global","nodad":true},
               {"family":"inet6","local":"fe80::fc:ff:fe00:1","prefixlen":64,"scope":"link"}]},
             {"ifindex":5,"ifname":"eth1","mtu":1500,"addr_info":[
               {"family":"inet","local":"10.99.0.5","prefixlen":16,"scope":"global","label":"eth1"}]},
             {"ifindex":9,"ifname":"isthmus0","mtu":1400,"addr_info":[
               {"family":"inet","local":"192.168.77.1","prefixlen":32,"scope":"global","label":"isthmus0"}]}]
            """;
    static final String DEFAULT_V4 = """
            [{"dst":"default","gateway":"192.0.2.1","dev":"eth0","protocol":"dhcp","metric":100,"flags":[]}]
            """;
    static final String DEFAULT_V6 = """
            [{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]
            """;
    /** {@code ip -j route get 198.51.100.7}: the peer is reached through another router on eth1. */
    static final String TO_PEER = """
            [{"dst":"198.51.100.7","gateway":"10.99.0.1","dev":"eth1","prefsrc":"10.99.0.5","flags":[],"uid":0,"cache":[]}]
            """;

    static HostNetwork host() throws Exception {
        List<HostNetwork.NextHop> hops = new java.util.ArrayList<>(HostNetwork.nextHops(DEFAULT_V4, "default route"));
        hops.addAll(HostNetwork.nextHops(DEFAULT_V6, "default route"));
        hops.addAll(HostNetwork.nextHops(TO_PEER, "way to the peer 198.51.100.7"));
        return new HostNetwork(HostNetwork.addresses(ADDRESSES), hops);
    }

    static GatewayConfig config(String prefixes) {
        return ConfigReader.parse(Path.of("gw.yaml"), """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw1
                  instances:
                    - publicIpAddress: 203.0.113.10
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [%s]
                connections:
                  - name: to-branch
                    localNetworkGateway: branch
                    sharedKey: k
                """.formatted(prefixes), k -> null);
    }

    static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    @Test
    void addressesOfEveryInterfaceAreRead() throws Exception {
        assertEquals(List.of(address("127.0.0.1", "lo", 8), address("::1", "lo", 128), address("192.0.2.2", "eth0", 24),
                address("fd00::2", "eth0", 64), address("fe80::fc:ff:fe00:1", "eth0", 64), address("10.99.0.5", "eth1", 16),
                address("192.168.77.1", "isthmus0", 32)), HostNetwork.addresses(ADDRESSES));
        assertEquals("10.99.0.0/16", HostNetwork.addresses(ADDRESSES).get(5).network().toString());
    }

    static HostNetwork.Address address(String literal, String device, int prefixLength) {
        return new HostNetwork.Address(ip(literal), device, prefixLength);
    }

    @Test
    void nextHopsOfPlainMultipathAndViaRoutesAreRead() throws Exception {
        assertEquals(List.of(new HostNetwork.NextHop(ip("192.0.2.1"), "eth0", "default route")), HostNetwork.nextHops(DEFAULT_V4, "default route"));
        String multipath = """
                [{"dst":"default","protocol":"static","metric":10,"flags":[],"nexthops":[
                  {"gateway":"192.0.2.1","dev":"eth0","weight":1,"flags":[]},{"gateway":"10.99.0.1","dev":"eth1","weight":1,"flags":[]}]}]
                """;
        assertEquals(List.of(ip("192.0.2.1"), ip("10.99.0.1")),
                HostNetwork.nextHops(multipath, "default route").stream().map(HostNetwork.NextHop::address).toList());
        // RFC 5549: an IPv4 default route through an IPv6 neighbour.
        String via = """
                [{"dst":"default","via":{"family":"inet6","address":"fe80::1"},"dev":"eth0","flags":[]}]
                """;
        assertEquals(List.of(new HostNetwork.NextHop(ip("fe80::1"), "eth0", "default route")), HostNetwork.nextHops(via, "default route"));
        // A point-to-point default route has no next hop to protect; no default route at all neither.
        assertEquals(List.of(), HostNetwork.nextHops("[{\"dst\":\"default\",\"dev\":\"ppp0\",\"scope\":\"link\",\"flags\":[]}]", "default route"));
        assertEquals(List.of(), HostNetwork.nextHops("[]", "default route"));
    }

    @Test
    void sitePrefixesAwayFromTheHostAreAccepted() throws Exception {
        HostNetwork host = host();
        assertDoesNotThrow(() -> host.refuseRoutesThatCutTheHostOff(config("192.168.20.0/24, fd20::/64, 10.98.0.0/16"), "isthmus0"));
    }

    @Test
    void aPrefixHoldingTheDefaultRoutesNextHopIsRefused() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> host().refuseRoutesThatCutTheHostOff(config("192.168.20.0/24, 192.0.2.0/25"), "isthmus0"));
        assertEquals("gw.yaml: localNetworkGateways[0].addressPrefixes[1]: 192.0.2.0/25 holds 192.0.2.1, the next hop of this host's"
                + " default route (dev eth0); a route for it into isthmus0 would cut the host off, so the gateway does not start"
                + " (nothing was changed)", e.getMessage());
    }

    @Test
    void aBgpPeersHostRouteOnTheHostsNextHopIsRefusedByItsField() throws Exception {
        String text = """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw1
                  instances:
                    - publicIpAddress: 203.0.113.10
                  bgpSettings:
                    bgpPeeringAddresses: [{defaultBgpIpAddress: 10.1.255.30}]
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [192.168.20.0/24]
                    bgpSettings: {asn: 65010, bgpPeeringAddress: %s}
                connections:
                  - name: to-branch
                    localNetworkGateway: branch
                    sharedKey: k
                    enableBgp: true
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> host().refuseRoutesThatCutTheHostOff(
                ConfigReader.parse(Path.of("gw.yaml"), text.formatted("192.0.2.1"), k -> null), "isthmus0"));
        assertEquals("gw.yaml: localNetworkGateways[0].bgpSettings.bgpPeeringAddress: 192.0.2.1/32 holds 192.0.2.1, the next hop of this host's"
                + " default route (dev eth0); a route for it into isthmus0 would cut the host off, so the gateway does not start"
                + " (nothing was changed)", e.getMessage());
        assertDoesNotThrow(() -> host().refuseRoutesThatCutTheHostOff(ConfigReader.parse(Path.of("gw.yaml"), text.formatted("192.168.20.254"),
                k -> null), "isthmus0"));
    }

    @Test
    void aPrefixHoldingTheNextHopTowardsAPeerIsRefused() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> host().refuseRoutesThatCutTheHostOff(config("10.99.0.0/28"), "isthmus0"));
        assertTrue(e.getMessage().contains("10.99.0.0/28 holds 10.99.0.1, the next hop of this host's way to the peer 198.51.100.7 (dev eth1)"),
                e.getMessage());
    }

    @Test
    void aPrefixHoldingAnAddressOfThisHostIsRefused() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> host().refuseRoutesThatCutTheHostOff(config("10.99.0.4/30"), "isthmus0"));
        assertTrue(e.getMessage().contains("10.99.0.4/30 holds 10.99.0.5, an address of this host (dev eth1)"), e.getMessage());
    }

    @Test
    void everyOffendingPrefixIsListedIpv4AndIpv6() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> host().refuseRoutesThatCutTheHostOff(config("192.168.20.0/24, 192.0.2.0/24, fd00::/64, 10.99.0.4/30"), "isthmus0"));
        assertEquals(List.of("localNetworkGateways[0].addressPrefixes[1]", "localNetworkGateways[0].addressPrefixes[2]",
                "localNetworkGateways[0].addressPrefixes[3]"), e.problems().stream().map(ConfigException::field).toList());
        assertTrue(e.getMessage().contains("fd00::/64 holds fd00:0:0:0:0:0:0:1, the next hop of this host's default route (dev eth0)"),
                e.getMessage());
    }

    /*
     * Inside a network this host is on, away from its addresses and next hops: the operator's
     * management LAN behind eth1, say. A more specific route into the tunnel would take that
     * part of it away, and the operator's SSH session with it.
     */
    @Test
    void aPrefixInsideANetworkThisHostIsOnIsRefused() throws Exception {
        ConfigException e = assertThrows(ConfigException.class,
                () -> host().refuseRoutesThatCutTheHostOff(config("10.99.7.0/24"), "isthmus0"));
        assertTrue(e.getMessage().contains("10.99.7.0/24 overlaps 10.99.0.0/16, a network this host is on (dev eth1, 10.99.0.5/16)"),
                e.getMessage());
    }

    /** Loopback is explained last: the address that matters is the real one. */
    @Test
    void aRealAddressExplainsBetterThanLoopback() throws Exception {
        HostNetwork host = new HostNetwork(HostNetwork.addresses(ADDRESSES), List.of());
        ConfigException e = assertThrows(ConfigException.class, () -> host.refuseRoutesThatCutTheHostOff(config("0.0.0.0/1"), "isthmus0"));
        assertTrue(e.getMessage().contains("holds 10.99.0.5, an address of this host (dev eth1)"), e.getMessage());
    }

    @Test
    void addressesOnTheTunnelDeviceItselfDoNotCount() throws Exception {
        HostNetwork host = host();
        assertDoesNotThrow(() -> host.refuseRoutesThatCutTheHostOff(config("192.168.77.0/24"), "isthmus0"));
        assertThrows(ConfigException.class, () -> host.refuseRoutesThatCutTheHostOff(config("192.168.77.0/24"), "other0"));
    }
}
