package io.isthmus.control.config;

import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The destinations a configuration sends into the tunnel: every local network gateway's
 * address prefixes, each of which becomes a kernel route into the TUN device and an entry of the
 * tunnel table. Checked as a whole, every problem listed:
 * <ul>
 * <li>each destination leads to one site: with two sites' prefixes overlapping, the tunnel table
 *     would silently send the overlap to whichever came last;</li>
 * <li>no site prefix overlaps the gateway's own addressSpace (Azure refuses that too): those
 *     destinations are on this side;</li>
 * <li>no site prefix captures the gateway's own traffic: a default route (0.0.0.0/0, ::/0) or a
 *     prefix holding a peer's address or one of the gateway's instance addresses would route IKE
 *     and ESP themselves into the tunnel and cut the gateway off. Azure calls a default route
 *     through the tunnel forced tunnelling; Isthmus does not support it yet.</li>
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

    /** Every site prefix of the configuration, in the file's order. */
    public static List<SiteRoute> of(List<LocalNetworkGateway> sites) {
        List<SiteRoute> out = new ArrayList<>();
        for (int i = 0; i < sites.size(); i++) {
            List<String> prefixes = sites.get(i).addressPrefixes();
            for (int j = 0; j < prefixes.size(); j++) {
                out.add(new SiteRoute(sites.get(i).name(), siteField(i) + ".addressPrefixes[" + j + "]", AddressPrefix.parse(prefixes.get(j))));
            }
        }
        return out;
    }

    /**
     * Every prefix {@code config} routes into the TUN device: the site prefixes, and the host route
     * of each BGP connection's peer, configured at its site's {@code bgpSettings.bgpPeeringAddress}.
     */
    public static List<SiteRoute> of(GatewayConfig config) {
        List<SiteRoute> out = new ArrayList<>(of(config.localNetworkGateways()));
        for (GatewayConfig.Connection c : config.bgpConnections()) {
            LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
            if (site.bgpSettings() != null) {
                out.add(new SiteRoute(site.name(), siteField(config.localNetworkGateways().indexOf(site)) + ".bgpSettings.bgpPeeringAddress",
                        AddressPrefix.parse(site.bgpSettings().hostPrefix())));
            }
        }
        return out;
    }

    /** Throws one {@link ConfigException} listing every problem of the site prefixes, if there is any. */
    static void check(Path file, GatewayConfig.VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites) {
        List<ConfigException> problems = new ArrayList<>();
        List<SiteRoute> routes = of(sites);
        List<AddressPrefix> addressSpace = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        for (int r = 0; r < routes.size(); r++) {
            SiteRoute route = routes.get(r);
            AddressPrefix p = route.prefix();
            if (p.isDefault()) {
                problems.add(new ConfigException(file, route.field(), p + " is a default route through the tunnel (what Azure calls forced"
                        + " tunnelling), which Isthmus does not support: it would route the gateway's own traffic, and its way to the peers,"
                        + " into the tunnel"));
                continue;
            }
            OwnTraffic captured = capturedOwnTraffic(p, gateway, sites);
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
            // Each overlapping pair once, at the later of the two; a site's own prefixes may overlap.
            for (SiteRoute earlier : routes.subList(0, r)) {
                if (!earlier.site().equals(route.site()) && !earlier.prefix().isDefault() && p.overlaps(earlier.prefix())) {
                    problems.add(new ConfigException(file, route.field(), p + " overlaps " + earlier.site() + "'s " + earlier.prefix() + " ("
                            + earlier.field() + "); each destination must lead to one site"));
                }
            }
        }
        ConfigException.throwIfAny(problems);
    }

    /** Whose traffic a site prefix would capture, and where that address is configured. */
    private record OwnTraffic(String whom, String configuredAt) {
    }

    /** To whom the gateway's own traffic would go into the tunnel through {@code p} and where that address is configured, or null. */
    private static OwnTraffic capturedOwnTraffic(AddressPrefix p, GatewayConfig.VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites) {
        for (int k = 0; k < sites.size(); k++) {
            InetAddress peer = sites.get(k).gatewayIpAddress();
            if (p.contains(peer)) {
                return new OwnTraffic("to the peer " + peer.getHostAddress(), sites.get(k).name() + "'s " + siteField(k) + ".gatewayIpAddress");
            }
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
