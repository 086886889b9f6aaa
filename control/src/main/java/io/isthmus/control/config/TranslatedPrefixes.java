package io.isthmus.control.config;

import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.NatRule;
import io.isthmus.control.config.GatewayConfig.NatRuleType;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import io.isthmus.control.config.TunnelRoutes.SiteRoute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The prefixes a configuration's NAT rules make of its sites and of the gateway's own address
 * space: what the gateway routes into each tunnel, and what traffic selectors describe, as Azure
 * has it ("once a NAT rule is defined for a connection, the effective address space for the
 * connection will change with the rule"). The one place these are computed.
 *
 * <p><b>Routes into the tunnel</b> (the kernel's routes into the TUN device, the data plane's
 * tunnel table): a connection's site prefixes, each part covered by the internal mapping of one
 * of the connection's IngressSnat rules replaced by that rule's external mapping. With a Static
 * rule the covered part moves 1:1 (10.0.1.0/25 of a rule 10.0.0.0/16 to 100.64.0.0/16 becomes
 * 100.64.1.0/25); with a Dynamic rule it becomes the whole external pool (flows start at the
 * site; what comes back is addressed to the pool). The part of a site prefix no rule covers
 * stays as it is, cut into the prefixes that hold it (10.0.0.0/22 with a rule for 10.0.1.0/24
 * leaves 10.0.2.0/23 and 10.0.0.0/24), as Azure leaves a prefix no rule names untranslated. A
 * site no connection uses keeps its prefixes. So two sites both 10.0.0.0/24, each behind an
 * IngressSnat rule with its own external mapping, lead to two distinct routes.
 *
 * <p><b>Traffic selectors</b>, as packets inside the tunnel carry them (the site's side of the
 * NAT): local = the gateway's addressSpace with each part an EgressSnat rule of the connection
 * covers replaced by the rule's external mapping (how the site sees the VNet); remote = the
 * site's own, untranslated, addressPrefixes. Azure refuses NAT on a connection with
 * usePolicyBasedTrafficSelectors and proposes any-to-any (0.0.0.0/0, ::/0) on route-based ones,
 * the tunnel table deciding what goes in ("to use NAT, VPN devices need to use any-to-any
 * traffic selectors"); so these are what a policy-based connection proposes (no NAT: its
 * addressSpace and prefixes as written) and what the peer of a NAT connection is told to
 * expect, never a narrowing of a route-based connection's selectors.
 */
public final class TranslatedPrefixes {
    /** A connection's traffic selectors, as prefixes (IPv4 and IPv6 in the configuration's order). */
    public record TrafficSelectors(List<String> local, List<String> remote) {
        public TrafficSelectors {
            local = List.copyOf(local);
            remote = List.copyOf(remote);
        }
    }

    private final VirtualNetworkGateway gateway;
    private final List<LocalNetworkGateway> sites;
    private final List<Connection> connections;

    private TranslatedPrefixes(VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections) {
        this.gateway = gateway;
        this.sites = sites;
        this.connections = connections;
    }

    public static TranslatedPrefixes of(GatewayConfig config) {
        return new TranslatedPrefixes(config.gateway(), config.localNetworkGateways(), config.connections());
    }

    static TranslatedPrefixes of(VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections) {
        return new TranslatedPrefixes(gateway, sites, connections);
    }

    /** The prefixes connection {@code c}'s tunnel takes, as ip(8) and the tunnel table are given them. */
    public List<String> tunnelRoutes(Connection c) {
        return routesOf(c).stream().map(r -> r.prefix().toString()).toList();
    }

    /**
     * Every route into the tunnel device, each once, site by site in the file's order: a site's
     * prefixes as each connection to it translates them (as written when it has no connection).
     * A translated route is named after the rule whose external mapping it comes from
     * ({@code virtualNetworkGateway.natRules[0].externalMappings[0].addressSpace}).
     */
    public List<SiteRoute> routes() {
        Map<String, List<Connection>> bySite = new HashMap<>();
        for (Connection c : connections) {
            bySite.computeIfAbsent(c.localNetworkGateway(), k -> new ArrayList<>()).add(c);
        }
        Set<SiteRoute> out = new LinkedHashSet<>();
        for (int i = 0; i < sites.size(); i++) {
            List<Connection> to = bySite.getOrDefault(sites.get(i).name(), List.of());
            if (to.isEmpty()) {
                out.addAll(untranslated(i));
            }
            to.forEach(c -> out.addAll(routesOf(c)));
        }
        return List.copyOf(out);
    }

    /** The traffic selectors of connection {@code c} as the site's side of its NAT sees them (see the class comment). */
    public TrafficSelectors selectors(Connection c) {
        List<AddressPrefix> space = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        List<String> local = new ArrayList<>();
        for (Piece p : translate(space, rules(c.egressNatRules()))) {
            if (!local.contains(p.prefix().toString())) {
                local.add(p.prefix().toString());
            }
        }
        LocalNetworkGateway site = site(c.localNetworkGateway());
        return new TrafficSelectors(local, site == null ? List.of() : site.addressPrefixes());
    }

    // ------------------------------------------------------------------------------------------

    private List<SiteRoute> routesOf(Connection c) {
        int index = siteIndex(c.localNetworkGateway());
        if (index < 0) {
            return List.of();
        }
        LocalNetworkGateway site = sites.get(index);
        List<NatRule> ingress = rules(c.ingressNatRules());
        if (ingress.isEmpty()) {
            return untranslated(index);
        }
        Set<SiteRoute> out = new LinkedHashSet<>();
        List<String> prefixes = site.addressPrefixes();
        for (int j = 0; j < prefixes.size(); j++) {
            String field = siteField(index, j);
            for (Piece p : translate(List.of(AddressPrefix.parse(prefixes.get(j))), ingress)) {
                out.add(new SiteRoute(site.name(), p.rule() == null ? field : ruleField(p.rule()), p.prefix()));
            }
        }
        return List.copyOf(out);
    }

    private List<SiteRoute> untranslated(int index) {
        List<SiteRoute> out = new ArrayList<>();
        List<String> prefixes = sites.get(index).addressPrefixes();
        for (int j = 0; j < prefixes.size(); j++) {
            out.add(new SiteRoute(sites.get(index).name(), siteField(index, j), AddressPrefix.parse(prefixes.get(j))));
        }
        return out;
    }

    /** A prefix and the rule whose external mapping it is (null: untranslated). */
    private record Piece(AddressPrefix prefix, NatRule rule) {
    }

    /**
     * {@code prefixes} with each part an internal mapping of {@code rules} covers replaced by
     * that rule's external mapping (moved 1:1 for Static rules, the whole pool for Dynamic ones).
     * The rules of one connection and mode do not overlap ({@link NatSection} refuses that), so
     * the order they are applied in does not matter.
     */
    static List<Piece> translate(List<AddressPrefix> prefixes, List<NatRule> rules) {
        List<Piece> out = new ArrayList<>();
        for (AddressPrefix prefix : prefixes) {
            List<AddressPrefix> rest = List.of(prefix);
            for (NatRule rule : rules) {
                AddressPrefix in = rule.internalMapping().addressSpace();
                AddressPrefix ex = rule.externalMapping().addressSpace();
                List<AddressPrefix> next = new ArrayList<>();
                for (AddressPrefix part : rest) {
                    if (!part.overlaps(in)) {
                        next.add(part);
                    } else if (in.covers(part)) {
                        out.add(new Piece(rule.type() == NatRuleType.STATIC ? AddressPrefix.moved(part, in, ex) : ex, rule));
                    } else {
                        out.add(new Piece(ex, rule));
                        next.addAll(part.without(in));
                    }
                }
                rest = next;
            }
            rest.forEach(p -> out.add(new Piece(p, null)));
        }
        return out;
    }

    private List<NatRule> rules(List<String> names) {
        List<NatRule> out = new ArrayList<>();
        for (String name : names) {
            NatRule r = gateway.natRule(name);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    private String ruleField(NatRule rule) {
        return "virtualNetworkGateway.natRules[" + gateway.natRules().indexOf(rule) + "].externalMappings[0].addressSpace";
    }

    private LocalNetworkGateway site(String name) {
        int i = siteIndex(name);
        return i < 0 ? null : sites.get(i);
    }

    private int siteIndex(String name) {
        return NamedList.indexOf(sites, name, LocalNetworkGateway::name);
    }

    private static String siteField(int site, int prefix) {
        return "localNetworkGateways[" + site + "].addressPrefixes[" + prefix + "]";
    }
}
