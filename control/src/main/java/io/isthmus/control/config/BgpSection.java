package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.config.GatewayConfig.BgpPeeringAddress;
import io.isthmus.control.config.GatewayConfig.BgpSettings;
import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalBgpSettings;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BGP in Azure's words: the gateway's {@code bgpSettings}, each site's, and {@code enableBgp} on a
 * connection. BIRD speaks it ({@code io.isthmus.control.bgp}); this only reads and checks.
 *
 * <pre>
 * virtualNetworkGateway:
 *   bgpSettings:
 *     asn: 65515                        # Azure's default
 *     bgpPeeringAddresses:              # one per instance (Azure: per IP configuration)
 *       - instance: gw1
 *         defaultBgpIpAddress: 10.1.255.30        # for peers with an ordinary BGP address
 *         customBgpIpAddresses: [169.254.21.1]    # for peers with an APIPA one
 *     advertisedPrefixes: [10.50.0.0/16]          # besides addressSpace (Isthmus)
 *     routeTable: 201                   # the kernel table BIRD writes learned routes into (Isthmus)
 *     maxPrefixes: 4000                 # per peer, as Azure (Isthmus)
 * localNetworkGateways:
 *   - name: branch
 *     bgpSettings: {asn: 65010, bgpPeeringAddress: 169.254.21.2, peerWeight: 0}
 * connections:
 *   - name: to-branch
 *     enableBgp: true
 * </pre>
 *
 * Sessions are IPv4 (as Azure's with on-premises devices). The checks across the file list every
 * problem at once ({@link #check}).
 */
final class BgpSection {
    static final long DEFAULT_ASN = 65515;
    static final int DEFAULT_ROUTE_TABLE = 201;
    static final int DEFAULT_MAX_PREFIXES = 4000;
    /** The kernel's own tables (unspec, compat, default, main, local) and strongSwan's (220): never BIRD's. */
    static final Set<Long> KERNEL_TABLES_TAKEN = Set.of(0L, 220L, 252L, 253L, 254L, 255L);

    private BgpSection() {
    }

    /** The gateway's {@code bgpSettings}, or null when there is none. */
    static BgpSettings gateway(ConfigFields f, JsonNode n, String p, List<Instance> instances) {
        if (n == null || n.isNull()) {
            return null;
        }
        f.onlyFields(n, p, "asn", "bgpPeeringAddresses", "advertisedPrefixes", "routeTable", "maxPrefixes");
        long asn = f.longValue(n, p, "asn", DEFAULT_ASN, 1, 4_294_967_294L);
        List<JsonNode> nodes = f.list(n, p, "bgpPeeringAddresses", 1, 2);
        List<BgpPeeringAddress> addresses = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            String ip = p + ".bgpPeeringAddresses[" + i + "]";
            JsonNode a = nodes.get(i);
            f.onlyFields(a, ip, "instance", "defaultBgpIpAddress", "customBgpIpAddresses");
            String instance = f.string(a, ip, "instance", instances.size() == 1 ? instances.getFirst().name() : null);
            List<InetAddress> custom = new ArrayList<>();
            List<JsonNode> customNodes = f.list(a, ip, "customBgpIpAddresses", 0, 8);
            for (int k = 0; k < customNodes.size(); k++) {
                custom.add(literal(f, customNodes.get(k), ip + ".customBgpIpAddresses[" + k + "]"));
            }
            addresses.add(new BgpPeeringAddress(instance, f.address(a, ip, "defaultBgpIpAddress", false), custom));
        }
        List<String> advertised = f.prefixes(n, p, "advertisedPrefixes", false);
        long table = f.longValue(n, p, "routeTable", DEFAULT_ROUTE_TABLE, 1, 4_294_967_295L);
        if (KERNEL_TABLES_TAKEN.contains(table)) {
            throw f.error(p + ".routeTable", table + " is not allowed: 253 to 255 (and 0, 252) are the kernel's own, 220 strongSwan's; "
                    + "a table of BIRD's own, such as " + DEFAULT_ROUTE_TABLE);
        }
        int max = f.integer(n, p, "maxPrefixes", DEFAULT_MAX_PREFIXES, 1, 100_000);
        return new BgpSettings(asn, addresses, advertised, (int) table, max);
    }

    /** A site's {@code bgpSettings}, or null when there is none. */
    static LocalBgpSettings site(ConfigFields f, JsonNode n, String p) {
        if (n == null || n.isNull()) {
            return null;
        }
        f.onlyFields(n, p, "asn", "bgpPeeringAddress", "peerWeight");
        long asn = f.longValue(n, p, "asn", 0, 1, 4_294_967_294L);
        if (!n.hasNonNull("asn")) {
            throw f.error(p + ".asn", "required: the site's autonomous system number");
        }
        return new LocalBgpSettings(asn, f.address(n, p, "bgpPeeringAddress", true), f.integer(n, p, "peerWeight", 0, 0, 100));
    }

    private static InetAddress literal(ConfigFields f, JsonNode n, String field) {
        try {
            return InetAddress.ofLiteral(n.asText().strip());
        } catch (IllegalArgumentException e) {
            throw f.error(field, "'" + n.asText() + "' is not an IPv4 address (names are not resolved)");
        }
    }

    /** Whose reserved ASN {@code asn} is, or null when anyone may use it; the gateway may use 65515, Azure's default. */
    static String reserved(long asn, boolean gateway) {
        if (asn == 8074 || asn == 8075 || asn == 12076 || (asn >= 65517 && asn <= 65520) || (asn == 65515 && !gateway)) {
            return "reserved by Azure (8074, 8075, 12076, 65515, 65517 to 65520)";
        }
        if (asn == 23456 || (asn >= 64496 && asn <= 64511) || (asn >= 65535 && asn <= 65551)) {
            return "reserved by IANA (23456 for AS_TRANS, 64496 to 64511 for documentation, 65535 to 65551)";
        }
        return null;
    }

    /** 169.254.0.0/16: an APIPA (IPv4 link-local) address. */
    static boolean isLinkLocal(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] & 0xFF) == 169 && (b[1] & 0xFF) == 254;
    }

    /** Azure's range for custom BGP addresses on its side: 169.254.21.0 to 169.254.22.255. */
    static boolean inAzureApipaRange(InetAddress a) {
        byte[] b = a.getAddress();
        return isLinkLocal(a) && ((b[2] & 0xFF) == 21 || (b[2] & 0xFF) == 22);
    }

    /** Every problem of the BGP fields seen together, listed as one exception; nothing when BGP is not used. */
    static void check(Path file, VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections) {
        List<ConfigException> problems = new ArrayList<>();
        BgpSettings bgp = gateway.bgpSettings();
        String gp = "virtualNetworkGateway.bgpSettings";
        List<AddressPrefix> addressSpace = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        List<TunnelRoutes.SiteRoute> siteRoutes = TranslatedPrefixes.of(gateway, sites, connections).routes();
        Set<InetAddress> ours = new HashSet<>();
        if (bgp != null) {
            String why = reserved(bgp.asn(), true);
            if (why != null) {
                problems.add(new ConfigException(file, gp + ".asn", bgp.asn() + " is " + why));
            }
            Set<String> named = new HashSet<>();
            for (int i = 0; i < bgp.bgpPeeringAddresses().size(); i++) {
                BgpPeeringAddress a = bgp.bgpPeeringAddresses().get(i);
                String ap = gp + ".bgpPeeringAddresses[" + i + "]";
                if (gateway.instances().stream().noneMatch(in -> in.name().equals(a.instance()))) {
                    problems.add(new ConfigException(file, ap + ".instance", "'" + a.instance() + "' is not one of virtualNetworkGateway.instances "
                            + gateway.instances().stream().map(Instance::name).toList()));
                } else if (!named.add(a.instance())) {
                    problems.add(new ConfigException(file, ap + ".instance", "'" + a.instance() + "' is given twice; one entry per instance"));
                }
                if (a.defaultBgpIpAddress() == null && a.customBgpIpAddresses().isEmpty()) {
                    problems.add(new ConfigException(file, ap, "needs a defaultBgpIpAddress, customBgpIpAddresses, or both"));
                }
                InetAddress d = a.defaultBgpIpAddress();
                if (d != null) {
                    if (!(d instanceof Inet4Address) || isLinkLocal(d)) {
                        problems.add(new ConfigException(file, ap + ".defaultBgpIpAddress", d.getHostAddress() + " is not allowed: an IPv4 address"
                                + " outside 169.254.0.0/16 (APIPA addresses go in customBgpIpAddresses)"));
                    }
                    ownAddress(file, problems, ap + ".defaultBgpIpAddress", d, siteRoutes, ours);
                }
                for (int k = 0; k < a.customBgpIpAddresses().size(); k++) {
                    InetAddress c = a.customBgpIpAddresses().get(k);
                    String cp = ap + ".customBgpIpAddresses[" + k + "]";
                    if (!(c instanceof Inet4Address) || !inAzureApipaRange(c)) {
                        problems.add(new ConfigException(file, cp, c.getHostAddress() + " is not allowed: Azure's custom APIPA BGP addresses"
                                + " are 169.254.21.0 to 169.254.22.255"));
                    }
                    ownAddress(file, problems, cp, c, siteRoutes, ours);
                }
            }
            for (int i = 0; i < gateway.instances().size(); i++) {
                if (!named.contains(gateway.instances().get(i).name())) {
                    problems.add(new ConfigException(file, gp + ".bgpPeeringAddresses", "instance " + gateway.instances().get(i).name()
                            + " has no entry: each instance runs its own BGP sessions from its own address"));
                }
            }
            for (int i = 0; i < bgp.advertisedPrefixes().size(); i++) {
                AddressPrefix p = AddressPrefix.parse(bgp.advertisedPrefixes().get(i));
                String pp = gp + ".advertisedPrefixes[" + i + "]";
                if (p.isDefault() || p.toString().contains(":")) {
                    problems.add(new ConfigException(file, pp, p + " is not allowed: an IPv4 prefix other than the default route"
                            + " (the sessions carry IPv4; advertising a default route would pull the sites' Internet traffic here)"));
                }
                for (TunnelRoutes.SiteRoute r : siteRoutes) {
                    if (p.overlaps(r.prefix())) {
                        problems.add(new ConfigException(file, pp, p + " overlaps " + r.site() + "'s " + r.prefix() + " (" + r.field()
                                + "): a site would be told to send its own destinations here"));
                    }
                }
            }
        }
        Map<InetAddress, String> peers = new HashMap<>();
        // Looked up per BGP site, not scanned: a gateway may have thousands of sites.
        Map<InetAddress, List<Integer>> vpnDevices = new HashMap<>();
        for (int k = 0; k < sites.size(); k++) {
            vpnDevices.computeIfAbsent(sites.get(k).gatewayIpAddress(), x -> new java.util.ArrayList<>()).add(k);
        }
        PrefixIndex<Integer> routeIndex = new PrefixIndex<>();
        for (int r = 0; r < siteRoutes.size(); r++) {
            routeIndex.add(siteRoutes.get(r).prefix(), r);
        }
        for (int i = 0; i < sites.size(); i++) {
            LocalBgpSettings s = sites.get(i).bgpSettings();
            if (s == null) {
                continue;
            }
            String sp = "localNetworkGateways[" + i + "].bgpSettings";
            String why = reserved(s.asn(), false);
            if (why != null) {
                problems.add(new ConfigException(file, sp + ".asn", s.asn() + " is " + why));
            } else if (bgp != null && s.asn() == bgp.asn()) {
                problems.add(new ConfigException(file, sp + ".asn", s.asn() + " is the gateway's own (virtualNetworkGateway.bgpSettings.asn):"
                        + " Azure peers with on-premises devices over eBGP only; give the site an ASN of its own"));
            }
            InetAddress a = s.bgpPeeringAddress();
            String ap = sp + ".bgpPeeringAddress";
            if (!(a instanceof Inet4Address)) {
                problems.add(new ConfigException(file, ap, a.getHostAddress() + " is not allowed: an IPv4 address"));
                continue;
            }
            if (a.equals(sites.get(i).gatewayIpAddress())) {
                problems.add(new ConfigException(file, ap, a.getHostAddress() + " is the site's gatewayIpAddress: its host route into the"
                        + " tunnel would carry IKE and ESP themselves; use the device's inside or APIPA address"));
            }
            for (int k : vpnDevices.getOrDefault(a, List.of())) {
                if (k != i) {
                    problems.add(new ConfigException(file, ap, a.getHostAddress() + " is " + sites.get(k).name() + "'s gatewayIpAddress"));
                }
            }
            String other = peers.putIfAbsent(a, sites.get(i).name());
            if (other != null) {
                problems.add(new ConfigException(file, ap, a.getHostAddress() + " is " + other + "'s BGP address too; each leads to one tunnel"));
            }
            if (ours.contains(a)) {
                problems.add(new ConfigException(file, ap, a.getHostAddress() + " is one of the gateway's own BGP addresses"));
            }
            for (Instance in : gateway.instances()) {
                if (a.equals(in.publicIpAddress()) || a.equals(in.privateIpAddress()) || a.equals(in.floatingIpAddress())) {
                    problems.add(new ConfigException(file, ap, a.getHostAddress() + " is instance " + in.name() + "'s own address"));
                }
            }
            for (int k = 0; k < addressSpace.size(); k++) {
                if (addressSpace.get(k).contains(a)) {
                    problems.add(new ConfigException(file, ap, a.getHostAddress() + " is inside the gateway's own addressSpace " + addressSpace.get(k)
                            + " (virtualNetworkGateway.addressSpace[" + k + "]): it is on this side, not behind the site"));
                }
            }
            List<Integer> holding = routeIndex.containing(a);
            holding.sort(null);
            for (int h : holding) {
                TunnelRoutes.SiteRoute r = siteRoutes.get(h);
                if (!r.site().equals(sites.get(i).name())) {
                    problems.add(new ConfigException(file, ap, a.getHostAddress() + " is inside " + r.site() + "'s " + r.prefix() + " ("
                            + r.field() + "): its BGP session would go into the other site's tunnel"));
                }
            }
        }
        Map<String, String> bgpSites = new HashMap<>();
        for (int i = 0; i < connections.size(); i++) {
            Connection c = connections.get(i);
            if (!c.enableBgp()) {
                continue;
            }
            String cp = "connections[" + i + "].enableBgp";
            LocalNetworkGateway site = sites.get(NamedList.indexOf(sites, c.localNetworkGateway(), LocalNetworkGateway::name));
            if (bgp == null) {
                problems.add(new ConfigException(file, cp, "BGP needs the gateway's virtualNetworkGateway.bgpSettings (its ASN and addresses)"));
            }
            if (site.bgpSettings() == null) {
                problems.add(new ConfigException(file, cp, "BGP needs the site's bgpSettings (localNetworkGateway " + site.name()
                        + ": its asn and bgpPeeringAddress)"));
            }
            if (c.usePolicyBasedTrafficSelectors()) {
                problems.add(new ConfigException(file, cp, "BGP needs a route-based connection (as Azure): "
                        + "usePolicyBasedTrafficSelectors must be false"));
            }
            if (c.hasNat()) {
                // Azure translates the routes BGP learns and advertises on such a connection (enableBgpRouteTranslationForNat); BIRD
                // here would advertise and learn untranslated prefixes, and the BGP session's own packets could be translated.
                problems.add(new ConfigException(file, cp, "BGP on a connection with NAT rules is not supported yet (Azure translates the routes"
                        + " BGP learns and advertises there; Isthmus does not yet): leave out enableBgp or the connection's NAT rules"));
            }
            // In a pair each instance has its own session with the site, through the tunnel it carries: one per site and instance.
            String instance = c.pairInstance() != null ? c.pairInstance() : gateway.instances().getFirst().name();
            String before = bgpSites.putIfAbsent(site.name() + "\u0000" + instance, c.name());
            if (before != null) {
                problems.add(new ConfigException(file, cp, "connection " + before + " peers with " + site.name() + "'s BGP address already"
                        + (c.pairInstance() != null ? " from instance " + instance : "") + "; one BGP connection per site"
                        + " (in a pair, per instance: pairInstance) as its host route leads into one tunnel"));
            }
            if (bgp != null && site.bgpSettings() != null) {
                boolean apipa = isLinkLocal(site.bgpSettings().bgpPeeringAddress());
                for (BgpPeeringAddress a : bgp.bgpPeeringAddresses()) {
                    if (apipa && a.customBgpIpAddresses().isEmpty()) {
                        problems.add(new ConfigException(file, cp, site.name() + "'s BGP address " + site.bgpSettings().bgpPeeringAddress()
                                .getHostAddress() + " is an APIPA one: instance " + a.instance() + " needs customBgpIpAddresses to peer from"));
                    } else if (!apipa && a.defaultBgpIpAddress() == null) {
                        problems.add(new ConfigException(file, cp, site.name() + "'s BGP address " + site.bgpSettings().bgpPeeringAddress()
                                .getHostAddress() + " is not an APIPA one: instance " + a.instance() + " needs a defaultBgpIpAddress to peer from"));
                    }
                }
            }
        }
        ConfigException.throwIfAny(problems);
    }

    /** One of the gateway's own BGP addresses: given once, and never behind a site (its packets would leave through a tunnel). */
    private static void ownAddress(Path file, List<ConfigException> problems, String field, InetAddress a, List<TunnelRoutes.SiteRoute> siteRoutes,
                                   Set<InetAddress> ours) {
        if (!ours.add(a)) {
            problems.add(new ConfigException(file, field, a.getHostAddress() + " is given twice; each instance's BGP addresses are its own"));
        }
        for (TunnelRoutes.SiteRoute r : siteRoutes) {
            if (r.prefix().contains(a)) {
                problems.add(new ConfigException(file, field, a.getHostAddress() + " is inside " + r.site() + "'s " + r.prefix() + " (" + r.field()
                        + "): the gateway's own BGP address must be on this side"));
            }
        }
    }
}
