package io.isthmus.control.config;

import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The destinations a configuration sends into the tunnel: every local network gateway's
 * address prefixes (translated where a connection has IngressSnat rules, see
 * {@link TranslatedPrefixes}), each of which becomes a kernel route into the TUN device and an
 * entry of the tunnel table. Checked as a whole, every problem listed:
 * <ul>
 * <li>each destination leads to one site: with two sites' prefixes overlapping, the tunnel table
 *     would silently send the overlap to whichever came last;</li>
 * <li>no site prefix overlaps the gateway's own addressSpace (Azure refuses that too): those
 *     destinations are on this side;</li>
 * <li>no site prefix captures the gateway's own traffic: a default route (0.0.0.0/0, ::/0) or a
 *     prefix holding a peer's address or one of the gateway's instance addresses would route IKE
 *     and ESP themselves into the tunnel and cut the gateway off. Azure calls a default route
 *     through the tunnel forced tunnelling; Isthmus does not support it yet;</li>
 * <li>no EgressSnat rule's external mapping (the gateway's network as a site sees it) is also a
 *     route into the tunnel.</li>
 * </ul>
 * What only the running host knows (its other addresses, its default route's next hop) is
 * checked at start, against the kernel, by {@code io.isthmus.control.HostNetwork}.
 */
public final class TunnelRoutes {
    /** One site prefix and where it is configured, e.g. {@code localNetworkGateways[1].addressPrefixes[0]}. */
    public record SiteRoute(String site, String field, AddressPrefix prefix) {
    }

    private TunnelRoutes() {
    }

    /**
     * Every route into the tunnel of the configuration, each once, in the file's order: the site
     * prefixes, translated where a connection's IngressSnat rules say so (see {@link TranslatedPrefixes}),
     * and the host route of each BGP connection's peer, configured at its site's
     * {@code bgpSettings.bgpPeeringAddress} (never translated: BIRD speaks to the peer's own address).
     */
    public static List<SiteRoute> of(GatewayConfig config) {
        List<SiteRoute> out = new ArrayList<>(TranslatedPrefixes.of(config).routes());
        for (GatewayConfig.Connection c : config.bgpConnections()) {
            LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
            if (site.bgpSettings() != null) {
                out.add(new SiteRoute(site.name(), siteField(NamedList.indexOf(config.localNetworkGateways(), site.name(), LocalNetworkGateway::name))
                        + ".bgpSettings.bgpPeeringAddress",
                        AddressPrefix.parse(site.bgpSettings().hostPrefix())));
            }
        }
        return out;
    }

    /**
     * Throws one {@link ConfigException} listing every problem of the site prefixes, if there is
     * any. The overlaps and the peers inside a prefix are found through {@link PrefixIndex}es, not
     * by comparing every pair: with 10,000 sites, pairs were 5 * 10^7 comparisons a read.
     */
    static void check(Path file, GatewayConfig.VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites,
                      List<GatewayConfig.Connection> connections) {
        List<ConfigException> problems = new ArrayList<>();
        List<SiteRoute> routes = TranslatedPrefixes.of(gateway, sites, connections).routes();
        List<AddressPrefix> addressSpace = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        PrefixIndex<Integer> earlier = new PrefixIndex<>();
        PrefixIndex<Integer> peers = new PrefixIndex<>();
        for (int k = 0; k < sites.size(); k++) {
            // A range of peers as the prefix it is: a site prefix overlapping any of it would capture some peer's IKE and ESP.
            if (sites.get(k).gatewayRange() != null) {
                peers.add(sites.get(k).gatewayRange(), k);
            } else {
                peers.add(sites.get(k).gatewayIpAddress(), k);
            }
        }
        for (int r = 0; r < routes.size(); r++) {
            SiteRoute route = routes.get(r);
            AddressPrefix p = route.prefix();
            if (p.isDefault()) {
                problems.add(new ConfigException(file, route.field(), p + " is a default route through the tunnel (what Azure calls forced"
                        + " tunnelling), which Isthmus does not support: it would route the gateway's own traffic, and its way to the peers,"
                        + " into the tunnel"));
                continue;
            }
            OwnTraffic captured = capturedOwnTraffic(p, gateway, sites, peers);
            if (captured != null) {
                problems.add(new ConfigException(file, route.field(), p + " would route the gateway's own traffic " + captured.whom()
                        + " into the tunnel; forced tunnelling is not supported (" + captured.configuredAt() + ")"));
            }
            for (int k = 0; k < addressSpace.size(); k++) {
                if (p.overlaps(addressSpace.get(k))) {
                    problems.add(new ConfigException(file, route.field(), p + " overlaps the gateway's own addressSpace " + addressSpace.get(k)
                            + " (virtualNetworkGateway.addressSpace[" + k + "]); a destination is on this side or behind a site, not both"));
                }
            }
            // Each overlapping pair once, at the later of the two, in the file's order; a site's own prefixes may overlap.
            List<Integer> overlaps = earlier.overlapping(p);
            overlaps.sort(null);
            for (int e : overlaps) {
                SiteRoute before = routes.get(e);
                if (!before.site().equals(route.site())) {
                    problems.add(new ConfigException(file, route.field(), p + " overlaps " + before.site() + "'s " + before.prefix() + " ("
                            + before.field() + "); each destination must lead to one site"));
                }
            }
            earlier.add(p, r);
        }
        egressMappingsThatAreRoutes(file, gateway, routes, problems);
        ConfigException.throwIfAny(problems);
    }

    /**
     * An EgressSnat rule's external mapping is the gateway's network as a site sees it: the
     * gateway takes packets to it from that site as packets for its own network. Were it also a
     * route into the tunnel (another site's, the gateway passing traffic between sites as Azure's
     * does), a site's packet to one of its addresses would be for this side and for that site at once.
     */
    private static void egressMappingsThatAreRoutes(Path file, GatewayConfig.VirtualNetworkGateway gateway, List<SiteRoute> routes,
                                                    List<ConfigException> problems) {
        List<GatewayConfig.NatRule> rules = gateway.natRules();
        for (int i = 0; i < rules.size(); i++) {
            GatewayConfig.NatRule rule = rules.get(i);
            if (rule.mode() != GatewayConfig.NatRuleMode.EGRESS_SNAT) {
                continue;
            }
            AddressPrefix external = rule.externalMapping().addressSpace();
            for (SiteRoute route : routes) {
                if (route.prefix().overlaps(external)) {
                    problems.add(new ConfigException(file, "virtualNetworkGateway.natRules[" + i + "].externalMappings[0].addressSpace", external
                            + " overlaps " + route.prefix() + ", a route into the tunnel to " + route.site() + " (" + route.field()
                            + "); the gateway's network as the sites see it must not also be a destination behind a site"));
                }
            }
        }
    }

    /** Whose traffic a site prefix would capture, and where that address is configured. */
    private record OwnTraffic(String whom, String configuredAt) {
    }

    /** To whom the gateway's own traffic would go into the tunnel through {@code p} and where that address is configured, or null. */
    private static OwnTraffic capturedOwnTraffic(AddressPrefix p, GatewayConfig.VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites,
                                                 PrefixIndex<Integer> peers) {
        // Of the peers inside it (or, for a range of peers, overlapping it), the first in the file.
        int site = peers.overlapping(p).stream().mapToInt(Integer::intValue).min().orElse(-1);
        if (site >= 0) {
            AddressPrefix range = sites.get(site).gatewayRange();
            String whom = range != null ? "to the peers from " + range : "to the peer " + sites.get(site).gatewayIpAddress().getHostAddress();
            return new OwnTraffic(whom, sites.get(site).name() + "'s " + siteField(site) + ".gatewayIpAddress");
        }
        List<Instance> instances = gateway.instances();
        for (int k = 0; k < instances.size(); k++) {
            Instance in = instances.get(k);
            for (String field : List.of("publicIpAddress", "privateIpAddress")) {
                InetAddress a = field.equals("publicIpAddress") ? in.publicIpAddress() : in.privateIpAddress();
                if (a != null && p.contains(a)) {
                    return new OwnTraffic("to its own address " + a.getHostAddress(), "instance " + in.name() + "'s virtualNetworkGateway.instances["
                            + k + "]." + field);
                }
            }
        }
        return null;
    }

    private static String siteField(int index) {
        return "localNetworkGateways[" + index + "]";
    }
}
