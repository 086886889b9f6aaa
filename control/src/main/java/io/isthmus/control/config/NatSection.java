package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.NatMapping;
import io.isthmus.control.config.GatewayConfig.NatRule;
import io.isthmus.control.config.GatewayConfig.NatRuleMode;
import io.isthmus.control.config.GatewayConfig.NatRuleType;
import io.isthmus.control.config.GatewayConfig.PortRange;
import io.isthmus.control.config.GatewayConfig.Sku;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import io.isthmus.control.config.GatewayConfig.VpnType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code virtualNetworkGateway.natRules} and the connections' {@code ingressNatRules} and
 * {@code egressNatRules}: Azure's NAT on VPN Gateway, with Azure's constraints.
 *
 * <pre>
 * virtualNetworkGateway:
 *   natRules:
 *     - name: branch1-in
 *       type: Static                 # Static (default) or Dynamic
 *       mode: IngressSnat            # IngressSnat (the site's side) or EgressSnat (this side)
 *       internalMappings: [10.0.0.0/24]
 *       externalMappings: [100.64.1.0/24]
 *     - name: web
 *       mode: EgressSnat
 *       internalMappings: [{addressSpace: 10.1.0.4/32, portRange: 8080}]
 *       externalMappings: [{addressSpace: 100.70.0.4/32, portRange: 80}]
 *       ipConfigurationId: gw1       # only on this instance (default: every instance)
 * connections:
 *   - name: to-branch1
 *     ingressNatRules: [branch1-in]
 *     egressNatRules: [web]
 * </pre>
 *
 * Every problem is listed at once, each naming its field. The rules themselves: one mapping a
 * side (Azure: "each NAT rule can include only one address prefix"), IPv4 only (Azure's NAT has
 * no IPv6 nor NAT64), a Static rule's sides of one prefix length and of as many ports, ports on
 * Static rules only and a Dynamic pool of at most a /26, at most 100 rules, names Azure would
 * take, on SKUs VpnGw2 and up (AZ ones included) of a RouteBased gateway. Between rules: no two
 * external mappings overlap (Azure's rule: each translated space is a network of its own, so an
 * address translates back one way); none overlaps the gateway's addressSpace (an IngressSnat
 * external mapping is a destination behind a site, which cannot also be here; an EgressSnat one
 * is the VNet as a site sees it, which the site could not tell from the VNet's real addresses).
 * On connections: known names, each in the list of its mode, none twice, none on a connection
 * with usePolicyBasedTrafficSelectors (Azure: NAT needs any-to-any selectors); a Dynamic rule on
 * one connection only (its flows' state belongs to one tunnel); an IngressSnat rule on
 * connections to one site only (Azure: "you can't use the same ingress rule if the connections
 * are for different on-premises networks"; its external mapping is a route to one site); no two
 * rules of one connection and mode with overlapping internal mappings (an address would have two
 * translations); an IngressSnat rule's internal mapping within the site's prefixes and an
 * EgressSnat one's within the gateway's addressSpace (else the rule translates nothing there);
 * an EgressSnat external mapping apart from the prefixes of the connection's own site (the site
 * would see this network among its own addresses). That the translated routes into the tunnel
 * do not overlap is {@link TunnelRoutes}'s check, made once these pass.
 */
final class NatSection {
    static final int MAX_RULES = 100;
    /** Azure's largest Dynamic pool: a /26. */
    static final int LONGEST_DYNAMIC_POOL = 26;
    /**
     * The largest flow table a Dynamic rule may ask for with {@code maxFlows} (Isthmus's own
     * field): the data plane preallocates it, some 80 bytes a flow, so about 80 MB here.
     */
    static final int MAX_FLOWS = io.isthmus.dataplane.nat.NatRule.MAX_FLOW_CAPACITY;
    private static final String FIELD = "virtualNetworkGateway.natRules";
    private static final Set<Sku> NAT_SKUS = EnumSet.of(Sku.VPN_GW2, Sku.VPN_GW3, Sku.VPN_GW4, Sku.VPN_GW5, Sku.VPN_GW2_AZ, Sku.VPN_GW3_AZ,
            Sku.VPN_GW4_AZ, Sku.VPN_GW5_AZ, Sku.ISTHMUS);
    /** Azure's resource names, less its 80-character bound's corner cases: and never a '/' (Azure's NAT FAQ). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,79}");
    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:\\s*-\\s*(\\d{1,5}))?");

    private final ConfigFields f;
    /** The rules in the file's order, null where one could not be read (its problems are listed). */
    private final List<NatRule> rules = new ArrayList<>();
    private final List<ConfigException> problems = new ArrayList<>();
    /** The names of the rules that could not be read (a connection naming one is told nothing more). */
    private final Set<String> unreadable = new java.util.HashSet<>();
    private int count;

    private NatSection(ConfigFields f) {
        this.f = f;
    }

    /** Reads the rules, keeping their problems for {@link #check}: what is wrong with them is told with the rest. */
    static NatSection read(ConfigFields f, JsonNode n, List<Instance> instances) {
        NatSection s = new NatSection(f);
        if (n == null || n.isNull()) {
            return s;
        }
        if (!n.isArray()) {
            s.problems.add(f.error(FIELD, "expected a list of NAT rules"));
            return s;
        }
        s.count = n.size();
        for (int i = 0; i < n.size(); i++) {
            s.rules.add(s.rule(n.get(i), FIELD + "[" + i + "]", instances));
        }
        return s;
    }

    /** A connection's {@code ingressNatRules} or {@code egressNatRules}: rule names, or Azure's {@code {id: .../natRules/NAME}}. */
    static List<String> references(ConfigFields f, JsonNode connection, String path, String field) {
        JsonNode n = connection.get(field);
        String where = ConfigFields.join(path, field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw f.error(where, "expected a list of names of virtualNetworkGateway.natRules, such as [branch1-in]");
        }
        List<String> names = new ArrayList<>();
        for (int j = 0; j < n.size(); j++) {
            JsonNode e = n.get(j);
            String name;
            if (e.isObject()) {
                f.onlyFields(e, where + "[" + j + "]", "id");
                name = f.string(e, where + "[" + j + "]", "id", null);
                name = name.substring(name.lastIndexOf('/') + 1);
            } else if (e.isTextual()) {
                name = e.asText().strip();
            } else {
                throw f.error(where + "[" + j + "]", "expected the name of a NAT rule");
            }
            if (name.isEmpty()) {
                throw f.error(where + "[" + j + "]", "must not be empty");
            }
            names.add(name);
        }
        return names;
    }

    /**
     * Every problem of the rules and of the connections' use of them, thrown as one; else the
     * gateway with its rules.
     */
    VirtualNetworkGateway check(VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections) {
        if (count > 0) {
            gatewayWide(gateway);
        }
        Map<String, Integer> byName = new LinkedHashMap<>();
        for (int i = 0; i < rules.size(); i++) {
            NatRule r = rules.get(i);
            if (r == null) {
                continue;
            }
            Integer first = byName.putIfAbsent(r.name(), i);
            if (first != null) {
                problems.add(f.error(FIELD + "[" + i + "].name", "'" + r.name() + "' is used twice (" + FIELD + "[" + first + "].name)"));
            }
        }
        externalMappings(gateway);
        internalMappingsOfEgress(gateway);
        connections(gateway, sites, connections, byName);
        ConfigException.throwIfAny(problems);
        return gateway.withNatRules(rules);
    }

    /** Rules no connection lists: they translate nothing, which is allowed (Azure's too) but likely an oversight. */
    static List<String> unused(java.nio.file.Path file, VirtualNetworkGateway gateway, List<Connection> connections) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < gateway.natRules().size(); i++) {
            String name = gateway.natRules().get(i).name();
            if (connections.stream().noneMatch(c -> c.ingressNatRules().contains(name) || c.egressNatRules().contains(name))) {
                out.add(file + ": " + FIELD + "[" + i + "]: '" + name + "' is in no connection's ingressNatRules or egressNatRules, so it translates"
                        + " nothing");
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------

    private NatRule rule(JsonNode n, String p, List<Instance> instances) {
        if (!n.isObject()) {
            problems.add(f.error(p, "expected a NAT rule: name, type, mode, internalMappings, externalMappings"));
            return null;
        }
        int before = problems.size();
        check(() -> f.onlyFields(n, p, "name", "type", "mode", "internalMappings", "externalMappings", "ipConfigurationId",
                "maxFlows"));
        String name = attempt(() -> {
            String s = f.string(n, p, "name", null);
            if (!NAME.matcher(s).matches()) {
                throw f.error(p + ".name", "'" + s + "' is not allowed; 1 to 80 letters, digits, '_', '.' or '-', beginning with a letter or"
                        + " digit (Azure's resource names; no '/')");
            }
            return s;
        });
        NatRuleType type = attempt(() -> f.choice(n, p, "type", "Static", AzureAlgorithms.<NatRuleType>ordered("Static", NatRuleType.STATIC, "Dynamic",
                NatRuleType.DYNAMIC)));
        NatRuleMode mode = attempt(() -> f.choice(n, p, "mode", null, AzureAlgorithms.<NatRuleMode>ordered("IngressSnat", NatRuleMode.INGRESS_SNAT,
                "EgressSnat", NatRuleMode.EGRESS_SNAT)));
        NatMapping internal = mapping(n, p, "internalMappings");
        NatMapping external = mapping(n, p, "externalMappings");
        String instance = attempt(() -> {
            if (!n.hasNonNull("ipConfigurationId")) {
                return null;
            }
            String id = f.string(n, p, "ipConfigurationId", null);
            String last = id.substring(id.lastIndexOf('/') + 1);
            if (instances.stream().noneMatch(in -> in.name().equals(last))) {
                throw f.error(p + ".ipConfigurationId", "'" + id + "' is not one of virtualNetworkGateway.instances "
                        + instances.stream().map(Instance::name).toList());
            }
            return last;
        });
        int maxFlows = 0;
        if (n.hasNonNull("maxFlows")) {
            if (type == NatRuleType.STATIC) {
                problems.add(f.error(p + ".maxFlows", "only a Dynamic rule keeps flows; a Static rule maps addresses 1:1 without any, so it"
                        + " takes no maxFlows"));
            } else {
                Integer m = attempt(() -> f.integer(n, p, "maxFlows", NatRule.DEFAULT_MAX_FLOWS, 1, MAX_FLOWS));
                maxFlows = m == null ? 0 : m;
            }
        } else if (type == NatRuleType.DYNAMIC) {
            maxFlows = NatRule.DEFAULT_MAX_FLOWS;
        }
        if (problems.size() > before) {
            unreadable.add(name);
            return null;
        }
        if (instance != null && mode == NatRuleMode.INGRESS_SNAT) {
            // The routes into the tunnel follow a connection's IngressSnat rules and are the same on every instance: a rule on
            // one instance only would route the external mapping there while the other sends it on untranslated.
            problems.add(f.error(p + ".ipConfigurationId", "an IngressSnat rule applies on every instance (the routes into the tunnel follow"
                    + " it on all of them); ipConfigurationId is for EgressSnat rules"));
        }
        if (type == NatRuleType.STATIC) {
            AddressPrefix in = internal.addressSpace();
            AddressPrefix ex = external.addressSpace();
            if (in.length() != ex.length()) {
                problems.add(f.error(p + ".externalMappings[0].addressSpace", ex + " is a /" + ex.length() + " but the internal mapping " + in
                        + " a /" + in.length() + "; a Static rule maps addresses 1:1, so both are of one length (a smaller pool takes a Dynamic rule)"));
            }
            if ((internal.portRange() == null) != (external.portRange() == null)) {
                String has = internal.portRange() != null ? "internalMappings" : "externalMappings";
                String lacks = internal.portRange() != null ? "externalMappings" : "internalMappings";
                problems.add(f.error(p + "." + lacks + "[0].portRange", "required: " + has + "[0] has a port range ("
                        + (internal.portRange() != null ? internal.portRange() : external.portRange()) + "), and a Static rule maps ports 1:1;"
                        + " give one of as many ports here, or none on either side"));
            } else if (internal.portRange() != null && internal.portRange().size() != external.portRange().size()) {
                problems.add(f.error(p + ".externalMappings[0].portRange", external.portRange() + " is " + plural(external.portRange().size(), "port")
                        + " but the internal mapping's " + internal.portRange() + " " + plural(internal.portRange().size(), "port")
                        + "; a Static rule maps ports 1:1, so both ranges are of one size"));
            }
        } else {
            for (String side : List.of("internalMappings", "externalMappings")) {
                NatMapping m = side.equals("internalMappings") ? internal : external;
                if (m.portRange() != null) {
                    problems.add(f.error(p + "." + side + "[0].portRange", "port ranges are for Static rules only (as Azure's); a Dynamic rule"
                            + " chooses the ports of its pool itself"));
                }
            }
            if (external.addressSpace().length() < LONGEST_DYNAMIC_POOL) {
                problems.add(f.error(p + ".externalMappings[0].addressSpace", external.addressSpace() + " is larger than a Dynamic rule's pool may"
                        + " be: at most a /" + LONGEST_DYNAMIC_POOL + " (64 addresses, Azure's limit)"));
            }
        }
        if (problems.size() > before) {
            unreadable.add(name);
            return null;
        }
        return new NatRule(name, type, mode, internal, external, instance, maxFlows);
    }

    /** One side of a rule: {@code [10.0.0.0/24]} or {@code [{addressSpace: 10.0.0.0/24, portRange: 1000-1099}]}. */
    private NatMapping mapping(JsonNode rule, String p, String field) {
        String where = p + "." + field;
        return attempt(() -> {
            JsonNode n = rule.get(field);
            if (n == null || n.isNull()) {
                throw f.error(where, "required: one mapping, such as [10.0.0.0/24] or [{addressSpace: 10.0.0.0/24, portRange: 1000-1099}]");
            }
            if (!n.isArray() || n.size() != 1) {
                throw f.error(where, "expected a list of one mapping, such as [10.0.0.0/24]: a rule translates one prefix (as Azure's); make a"
                        + " rule for each prefix");
            }
            JsonNode m = n.get(0);
            String at = where + "[0]";
            String prefixText;
            PortRange ports = null;
            if (m.isObject()) {
                f.onlyFields(m, at, "addressSpace", "portRange");
                prefixText = f.string(m, at, "addressSpace", null);
                if (m.hasNonNull("portRange")) {
                    ports = ports(f.string(m, at, "portRange", null), at + ".portRange");
                }
            } else if (m.isTextual()) {
                prefixText = m.asText().strip();
            } else {
                throw f.error(at, "expected an address prefix such as 10.0.0.0/24, or {addressSpace: ..., portRange: ...}");
            }
            AddressPrefix prefix;
            try {
                prefix = AddressPrefix.parse(prefixText);
            } catch (IllegalArgumentException e) {
                throw f.error(at + ".addressSpace", e.getMessage());
            }
            if (!prefix.isIpv4()) {
                throw f.error(at + ".addressSpace", prefix + " is IPv6; NAT rules are IPv4 only, as Azure's (no IPv6 NAT, no NAT64)");
            }
            return new NatMapping(prefix, ports);
        });
    }

    private PortRange ports(String text, String field) {
        Matcher m = PORTS.matcher(text);
        if (m.matches()) {
            int first = Integer.parseInt(m.group(1));
            int last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
            if (first >= 1 && last <= 65535 && first <= last) {
                return new PortRange(first, last);
            }
        }
        throw f.error(field, "'" + text + "' is not allowed; a port from 1 to 65535, or a range of them such as 1000-1999");
    }

    private void gatewayWide(VirtualNetworkGateway gateway) {
        if (count > MAX_RULES) {
            problems.add(f.error(FIELD, count + " rules; a gateway has at most " + MAX_RULES + " NAT rules (as Azure's)"));
        }
        if (!NAT_SKUS.contains(gateway.sku())) {
            problems.add(f.error(FIELD, "NAT needs SKU VpnGw2 or larger (VpnGw2 to VpnGw5, VpnGw2AZ to VpnGw5AZ), as Azure's, or Isthmus; this gateway is "
                    + gateway.sku().azureName()));
        }
        if (gateway.vpnType() == VpnType.POLICY_BASED) {
            problems.add(f.error(FIELD, "a PolicyBased gateway has no NAT: NAT needs any-to-any traffic selectors (as Azure's); use vpnType"
                    + " RouteBased"));
        }
    }

    /** No two external mappings overlap, nor one the gateway's addressSpace (see the class comment). */
    private void externalMappings(VirtualNetworkGateway gateway) {
        List<AddressPrefix> space = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        for (int i = 0; i < rules.size(); i++) {
            NatRule r = rules.get(i);
            if (r == null) {
                continue;
            }
            String field = FIELD + "[" + i + "].externalMappings[0].addressSpace";
            AddressPrefix ex = r.externalMapping().addressSpace();
            for (int j = 0; j < i; j++) {
                NatRule earlier = rules.get(j);
                if (earlier != null && earlier.externalMapping().addressSpace().overlaps(ex)) {
                    problems.add(f.error(field, ex + " overlaps the external mapping " + earlier.externalMapping().addressSpace() + " of '"
                            + earlier.name() + "' (" + FIELD + "[" + j + "]); external mappings must not overlap one another (as Azure's), so"
                            + " each address translates back one way"));
                }
            }
            for (int k = 0; k < space.size(); k++) {
                if (space.get(k).overlaps(ex)) {
                    problems.add(f.error(field, ex + " overlaps the gateway's addressSpace " + space.get(k) + " (virtualNetworkGateway.addressSpace["
                            + k + "]); " + (r.mode() == NatRuleMode.INGRESS_SNAT
                            ? "an IngressSnat external mapping is a destination behind a site, which cannot also be on this side"
                            : "an EgressSnat external mapping is this network as a site sees it, which the site could not tell from its real addresses")));
                }
            }
        }
    }

    /** An EgressSnat rule translates (a part of) the gateway's network: with an addressSpace given, its internal mapping is in it. */
    private void internalMappingsOfEgress(VirtualNetworkGateway gateway) {
        if (gateway.addressSpace().isEmpty()) {
            return; // a route-based gateway need not say its network; then nothing to compare with
        }
        List<AddressPrefix> space = gateway.addressSpace().stream().map(AddressPrefix::parse).toList();
        for (int i = 0; i < rules.size(); i++) {
            NatRule r = rules.get(i);
            if (r != null && r.mode() == NatRuleMode.EGRESS_SNAT && space.stream().noneMatch(a -> a.overlaps(r.internalMapping().addressSpace()))) {
                problems.add(f.error(FIELD + "[" + i + "].internalMappings[0].addressSpace", r.internalMapping().addressSpace()
                        + " is not in the gateway's addressSpace " + gateway.addressSpace() + "; an EgressSnat rule's internal mapping is (a part"
                        + " of) this network's real range"));
            }
        }
    }

    /** Where a rule is used first: the connection's index, for the rules that may be on one connection or one site only. */
    private record FirstUse(int connection, String site) {
    }

    private void connections(VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections,
                             Map<String, Integer> byName) {
        Map<String, FirstUse> firstUse = new HashMap<>();
        for (int k = 0; k < connections.size(); k++) {
            Connection c = connections.get(k);
            String cp = "connections[" + k + "]";
            if (c.usePolicyBasedTrafficSelectors() && c.hasNat() && gateway.vpnType() != VpnType.POLICY_BASED) {
                problems.add(f.error(cp + (c.ingressNatRules().isEmpty() ? ".egressNatRules" : ".ingressNatRules"), "NAT rules are not supported"
                        + " on a connection with usePolicyBasedTrafficSelectors (as Azure's: NAT needs any-to-any traffic selectors)"));
            }
            int siteIndex = NamedList.indexOf(sites, c.localNetworkGateway(), LocalNetworkGateway::name);
            for (NatRuleMode mode : NatRuleMode.values()) {
                boolean ingress = mode == NatRuleMode.INGRESS_SNAT;
                String list = ingress ? "ingressNatRules" : "egressNatRules";
                List<String> names = ingress ? c.ingressNatRules() : c.egressNatRules();
                List<Integer> seen = new ArrayList<>();
                for (int j = 0; j < names.size(); j++) {
                    String field = cp + "." + list + "[" + j + "]";
                    String name = names.get(j);
                    Integer index = byName.get(name);
                    if (index == null) {
                        if (!unreadable.contains(name)) {
                            problems.add(f.error(field, "'" + name + "' is not one of virtualNetworkGateway.natRules "
                                    + rules.stream().filter(r -> r != null).map(NatRule::name).toList()));
                        }
                        continue;
                    }
                    NatRule r = rules.get(index);
                    if (r.mode() != mode) {
                        problems.add(f.error(field, "'" + name + "' is an " + r.mode() + " rule; " + list + " takes " + mode + " rules (translating "
                                + (ingress ? "the site's addresses" : "this network's addresses") + ")"));
                        continue;
                    }
                    if (seen.contains(index)) {
                        problems.add(f.error(field, "'" + name + "' is listed twice"));
                        continue;
                    }
                    usedOnce(r, field, k, c, firstUse, connections);
                    for (int earlier = 0; earlier < seen.size(); earlier++) {
                        NatRule other = rules.get(seen.get(earlier));
                        if (other.internalMapping().addressSpace().overlaps(r.internalMapping().addressSpace())) {
                            problems.add(f.error(field, "the internal mapping " + r.internalMapping().addressSpace() + " of '" + name + "' overlaps "
                                    + other.internalMapping().addressSpace() + " of '" + other.name() + "' (" + list + "[" + names.indexOf(other.name())
                                    + "]); an address of the connection would have two translations"));
                        }
                    }
                    seen.add(index);
                    if (siteIndex >= 0) {
                        againstSite(r, field, sites.get(siteIndex), siteIndex);
                    }
                }
            }
        }
    }

    /** A Dynamic rule on one connection only; an IngressSnat rule on connections to one site only. */
    private void usedOnce(NatRule r, String field, int k, Connection c, Map<String, FirstUse> firstUse, List<Connection> connections) {
        FirstUse first = firstUse.putIfAbsent(r.name(), new FirstUse(k, c.localNetworkGateway()));
        if (first == null) {
            return;
        }
        String there = "connections[" + first.connection() + "] (" + connections.get(first.connection()).name() + ")";
        if (r.type() == NatRuleType.DYNAMIC) {
            problems.add(f.error(field, "'" + r.name() + "' is a Dynamic rule already on " + there + "; a Dynamic rule's flows belong to one"
                    + " connection: make a rule for each"));
        } else if (r.mode() == NatRuleMode.INGRESS_SNAT && !first.site().equals(c.localNetworkGateway())) {
            problems.add(f.error(field, "'" + r.name() + "' is already on " + there + ", which leads to " + first.site() + ", not "
                    + c.localNetworkGateway() + "; an IngressSnat rule translates one on-premises network (as Azure's), its external mapping"
                    + " leading to one site"));
        }
    }

    private void againstSite(NatRule r, String field, LocalNetworkGateway site, int siteIndex) {
        List<AddressPrefix> prefixes = site.addressPrefixes().stream().map(AddressPrefix::parse).toList();
        if (r.mode() == NatRuleMode.INGRESS_SNAT) {
            AddressPrefix in = r.internalMapping().addressSpace();
            if (prefixes.stream().noneMatch(p -> p.overlaps(in))) {
                problems.add(f.error(field, "'" + r.name() + "' translates " + in + ", none of " + site.name() + "'s addressPrefixes "
                        + site.addressPrefixes() + "; an IngressSnat rule's internal mapping is (a part of) the site's real range"));
            }
        } else {
            AddressPrefix ex = r.externalMapping().addressSpace();
            for (int j = 0; j < prefixes.size(); j++) {
                if (prefixes.get(j).overlaps(ex)) {
                    problems.add(f.error(field, "the external mapping " + ex + " of '" + r.name() + "' overlaps " + site.name() + "'s own "
                            + prefixes.get(j) + " (localNetworkGateways[" + siteIndex + "].addressPrefixes[" + j + "]); the site would see this"
                            + " network among its own addresses"));
                }
            }
        }
    }

    private interface Read<T> {
        T get();
    }

    /** The value, or null with its problem kept. */
    private <T> T attempt(Read<T> read) {
        try {
            return read.get();
        } catch (ConfigException e) {
            problems.add(e);
            return null;
        }
    }

    private void check(Runnable check) {
        try {
            check.run();
        } catch (ConfigException e) {
            problems.add(e);
        }
    }

    private static String plural(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }
}
