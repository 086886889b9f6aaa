package io.isthmus.control.bgp;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.BgpSettings;
import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalBgpSettings;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BIRD 2's configuration for one gateway instance, written from the gateway's own, so the
 * operator writes one file. What it sets up:
 * <ul>
 * <li>one BGP protocol per connection with enableBgp that this instance carries (in a pair, each
 *     instance peers through its own tunnels only), named after it ({@link #protocolNames}):
 *     eBGP multihop from this instance's BGP address to the site's, whose host route leads into
 *     the connection's tunnel (the gateway routes it into the TUN device and the tunnel table);</li>
 * <li>the peers' next hops resolved through a table of their own ({@code isthmus_igp4}: a static
 *     route per peer into the TUN device), so BIRD takes the routes it learns as reachable;</li>
 * <li>import: IPv4 unicast only, no default route, no martians, nothing overlapping the gateway's
 *     addressSpace or the addresses IKE and ESP run between (a learned route must never capture the
 *     tunnel's own traffic), the peer's own host route, and at most maxPrefixes routes received
 *     (Azure's 4000 per peer) or the session restarts;</li>
 * <li>export to the peers: the addressSpace's IPv4 prefixes and advertisedPrefixes, nothing learned
 *     (no transit between sites);</li>
 * <li>the learned routes written into kernel table {@code routeTable} (protocol bird, gateway the
 *     peer's BGP address), never the main table: the gateway itself installs them into the TUN
 *     device and its tunnel table.</li>
 * </ul>
 */
public final class BirdConfig {
    /** BIRD's longest symbol. */
    private static final int MAX_SYMBOL = 64;
    private static final String MARTIANS = "[ 0.0.0.0/8+, 127.0.0.0/8+, 169.254.0.0/16+, 224.0.0.0/4+, 240.0.0.0/4+ ]";

    private BirdConfig() {
    }

    /**
     * The BGP protocol's name of each connection with enableBgp, by connection: {@code c_} and
     * the name with whatever BIRD's symbols cannot hold as '_' (so "to-site b" is c_to_site_b), made
     * unique with a number if two come out the same.
     */
    public static Map<String, String> protocolNames(GatewayConfig config, Instance self) {
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>();
        for (Connection c : config.bgpConnections(self)) {
            String base = "c_" + c.name().replaceAll("[^A-Za-z0-9_]", "_");
            if (base.length() > MAX_SYMBOL - 4) {
                base = base.substring(0, MAX_SYMBOL - 4);
            }
            String name = base;
            for (int i = 2; !taken.add(name.toLowerCase(java.util.Locale.ROOT)); i++) {
                name = base + "_" + i;
            }
            out.put(c.name(), name);
        }
        return out;
    }

    /** The router id: the instance's first BGP address, unique to it. */
    static InetAddress routerId(BgpSettings bgp, Instance self) {
        return bgp.of(self.name()).all().getFirst();
    }

    /** The configuration text for instance {@code self}, its peers reached through TUN device {@code device}. */
    public static String text(GatewayConfig config, Instance self) {
        BgpSettings bgp = config.gateway().bgpSettings();
        String device = config.gateway().tunnel().device();
        StringBuilder b = new StringBuilder();
        b.append("# BIRD 2 configuration of Isthmus gateway ").append(comment(config.gateway().name())).append(", instance ")
                .append(comment(self.name())).append(",\n# written from ").append(comment(String.valueOf(config.source())))
                .append(" at every start and reload: edit that file, not this one.\n\n");
        b.append("router id ").append(routerId(bgp, self).getHostAddress()).append(";\n");
        // Not debug and trace: a protocol's debug switch would flood the gateway's log with every route.
        b.append("log stderr { info, remote, warning, error, auth, fatal, bug };\n");
        // Whole dates: the status reads how long a session has been up from them.
        b.append("timeformat protocol iso long;\n\n");
        b.append("ipv4 table isthmus_igp4;\n\n");
        b.append("protocol device {\n  scan time 10;\n}\n\n");
        Map<String, String> names = protocolNames(config, self);
        b.append("# The peers' BGP addresses, through the tunnel: what their multihop next hops resolve by.\n");
        b.append("protocol static isthmus_peers4 {\n  ipv4 { table isthmus_igp4; };\n");
        for (Connection c : config.bgpConnections(self)) {
            // Via the peer itself, onlink: the learned routes then carry the peer as their gateway even on the point-to-point TUN
            // device (where a route into the device alone would lose it), and the gateway can tell which session a route is from.
            String peerAddress = peer(config, c).bgpPeeringAddress().getHostAddress();
            b.append("  route ").append(peer(config, c).hostPrefix()).append(" via ").append(peerAddress).append('%').append(device)
                    .append(" onlink;\n");
        }
        b.append("}\n\n");
        List<String> advertised = advertised(config);
        b.append("# What the sites are told: the gateway's addressSpace and bgpSettings.advertisedPrefixes.\n");
        b.append("protocol static isthmus_advertised4 {\n  ipv4;\n");
        for (String p : advertised) {
            b.append("  route ").append(p).append(" blackhole;\n");
        }
        b.append("}\n\n");
        b.append("filter isthmus_export {\n  if proto = \"isthmus_advertised4\" then accept;\n  reject;\n}\n\n");
        b.append("# The learned routes, into a table of their own; the gateway takes them from there into its tunnels.\n");
        b.append("protocol kernel isthmus_kernel4 {\n  kernel table ").append(Integer.toUnsignedString(bgp.routeTable())).append(";\n")
                .append("  ipv4 {\n    import none;\n    export filter {\n      if source = RTS_BGP then accept;\n      reject;\n    };\n  };\n}\n\n");
        String own = ownSet(config);
        for (Connection c : config.bgpConnections(self)) {
            String name = names.get(c.name());
            LocalBgpSettings peer = peer(config, c);
            InetAddress local = config.bgpSourceAddress(self, c);
            b.append("filter isthmus_import_").append(name).append(" {\n")
                    .append("  if net.type != NET_IP4 || net.len = 0 then reject;\n")
                    .append("  if net ~ ").append(MARTIANS).append(" then reject;\n")
                    .append(own.isEmpty() ? "" : "  if net ~ " + own + " then reject;\n")
                    .append("  if net = ").append(peer.hostPrefix()).append(" then reject;\n")
                    .append("  bgp_local_pref = ").append(100 + peer.peerWeight()).append(";\n")
                    .append("  accept;\n}\n\n");
            b.append("protocol bgp ").append(name).append(" {\n")
                    .append("  description \"").append(description(c.name())).append("\";\n")
                    .append("  local ").append(local.getHostAddress()).append(" as ").append(bgp.asn()).append(";\n")
                    .append("  neighbor ").append(peer.bgpPeeringAddress().getHostAddress()).append(" as ").append(peer.asn()).append(";\n")
                    .append("  multihop;\n")
                    // BIRD's default waits 60 s after an error (a wrong ASN, a refused OPEN) before it listens again:
                    // the engineer who has just fixed the site would stare at a dead session for a minute. Flaps still back off.
                    .append("  error wait time 5, 120;\n")
                    .append("  ipv4 {\n")
                    .append("    igp table isthmus_igp4;\n")
                    .append("    import keep filtered on;\n")
                    .append("    receive limit ").append(bgp.maxPrefixes()).append(" action restart;\n")
                    .append("    import filter isthmus_import_").append(name).append(";\n")
                    .append("    export filter isthmus_export;\n")
                    .append("    next hop self;\n")
                    .append("  };\n}\n\n");
        }
        return b.toString();
    }

    private static LocalBgpSettings peer(GatewayConfig config, Connection c) {
        return config.localNetworkGateway(c.localNetworkGateway()).bgpSettings();
    }

    /** The IPv4 prefixes advertised, each once: the addressSpace's, then advertisedPrefixes. */
    static List<String> advertised(GatewayConfig config) {
        Set<AddressPrefix> seen = new LinkedHashSet<>();
        List<String> out = new ArrayList<>();
        List<String> all = new ArrayList<>(config.gateway().addressSpace());
        all.addAll(config.gateway().bgpSettings().advertisedPrefixes());
        for (String p : all) {
            if (!p.contains(":") && seen.add(AddressPrefix.parse(p))) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * A prefix set of what no learned route may overlap (contain or lie within): the addressSpace,
     * the gateway's instance and BGP addresses, and the sites' VPN devices. ({@code a/n{0,32}} is
     * every prefix that shares a/n's first min(n, its own length) bits.)
     */
    static String ownSet(GatewayConfig config) {
        Set<String> items = new LinkedHashSet<>();
        for (String p : config.gateway().addressSpace()) {
            if (!p.contains(":")) {
                items.add(p + "{0,32}");
            }
        }
        List<InetAddress> addresses = new ArrayList<>();
        for (Instance in : config.gateway().instances()) {
            addresses.add(in.publicIpAddress());
            addresses.add(in.privateIpAddress());
            addresses.add(in.floatingIpAddress());
        }
        config.gateway().bgpSettings().bgpPeeringAddresses().forEach(a -> addresses.addAll(a.all()));
        config.localNetworkGateways().forEach(l -> addresses.add(l.gatewayIpAddress()));
        for (InetAddress a : addresses) {
            if (a instanceof Inet4Address) {
                items.add(a.getHostAddress() + "/32{0,32}");
            }
        }
        return items.isEmpty() ? "" : "[ " + String.join(", ", items) + " ]";
    }

    /** A connection's name inside BIRD's double quotes: printable ASCII without quotes or backslashes. */
    static String description(String name) {
        StringBuilder b = new StringBuilder();
        for (char ch : name.toCharArray()) {
            b.append(ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\' ? ch : '_');
        }
        return b.toString();
    }

    /** Text inside a comment line: no line breaks. */
    private static String comment(String s) {
        return s.replaceAll("[\\r\\n]", " ");
    }
}
