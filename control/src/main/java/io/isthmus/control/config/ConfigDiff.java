package io.isthmus.control.config;

import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.Tunnel;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a reload would change: the running configuration and the one read anew, compared
 * connection by connection, by name (a renamed connection is one removed and one added; the
 * order of the file does not matter), each connection by what it means rather than how it is
 * written (its site's address and prefixes, not the site's name; prefixes as networks, in any
 * order). Gateway-level fields a running gateway cannot take over (its addresses, ports, TUN
 * device, name, VPN type) make {@link #restartNeeded()} lines, and the reload is refused.
 *
 * <p>Pure: it reads nothing but the two configurations. Shared keys are compared in constant
 * time and never appear in what it says; certificates are compared by their settings here (the
 * files' contents are compared by whoever loads them, see {@link #with}).
 *
 * @param changed for each changed connection, how it changed (never empty)
 */
public record ConfigDiff(List<String> restartNeeded, List<String> kept, Map<String, Set<Change>> changed, List<String> added,
                         List<String> removed) {

    /** How a kept connection changed, and so when the change takes effect. */
    public enum Change {
        /**
         * Its routes into the tunnel (its site's address prefixes as its IngressSnat rules
         * translate them), or (policy-based) the gateway's addressSpace: routes, tunnel table and
         * selectors change now.
         */
        PREFIXES("prefixes"),
        /**
         * Its NAT rules: which ones it lists, or what they say (compared by content, not name).
         * The data plane's translations for it are replaced now, its routes with them (a
         * {@link #PREFIXES} change too when they move); its SAs stay, a NAT connection being
         * route-based (any to any). Flows a changed Dynamic rule had mapped lose their mapping and
         * start over; a Static rule keeps no state, so its flows carry on where it still applies.
         */
        NAT("NAT rules"),
        /**
         * Its IPsec/IKE policies (proposals, their order, ESN, lifetimes) or its IKE SA lifetime:
         * the SAs up now keep what they negotiated; each rekey after the reload offers and
         * accepts the new proposals (a child SA's at its next rekey, the IKE SA's at its), and an
         * IKE SA established after it gets the new lifetime. {@code isthmus connection reset}
         * applies them at once.
         */
        POLICY("policy"),
        /**
         * Its shared key or certificate settings: only IKE_AUTH uses them, so the next IKE rekey
         * is a reauthentication (RFC 7296 §2.8.3, make-before-break: a new IKE SA and its child
         * SA, then the old IKE SA deleted) instead of a CREATE_CHILD_SA; should the peer not have
         * the new key yet, the old IKE SA is rekeyed and the next rekey tries again. {@code isthmus
         * connection reset NAME} uses it at once (break-before-make). A responder-only connection
         * waits for the peer to re-establish or reauthenticate.
         */
        KEY("key"),
        /**
         * Its peer (address or IKE identity) or its kind (route-based or policy-based): what it
         * negotiated was with another peer or for another kind of tunnel, so it is re-established.
         */
        PEER("peer"),
        /** Its connection mode, DPD delay or timeout, or UDP encapsulation: each applies the next time it is used. */
        OTHER("mode, DPD or encapsulation"),
        /** Its BGP session (enableBgp, the site's ASN, BGP address or weight): BIRD is reconfigured; the IPsec SAs stay. */
        BGP("BGP");

        private final String text;

        Change(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    public ConfigDiff {
        restartNeeded = List.copyOf(restartNeeded);
        kept = List.copyOf(kept);
        Map<String, Set<Change>> copy = new LinkedHashMap<>();
        changed.forEach((name, how) -> copy.put(name, Set.copyOf(EnumSet.copyOf(how))));
        changed = java.util.Collections.unmodifiableMap(copy);
        added = List.copyOf(added);
        removed = List.copyOf(removed);
    }

    public static ConfigDiff between(GatewayConfig running, GatewayConfig next) {
        List<String> restart = restartNeeded(running.gateway(), next.gateway());
        // The pair's sync link and leases are built once, at start, around the two machines.
        differs(restart, "pair", running.pair(), next.pair());
        // Bound once at start: a moved metrics port is rare enough not to warrant rebinding under a running scrape.
        differs(restart, "metrics.listen", running.metrics().text(), next.metrics().text());
        // The socket's group and mode are set when it is bound.
        differs(restart, "control.group", Objects.toString(running.control().group(), "none"), Objects.toString(next.control().group(), "none"));
        // BIRD's identity (router id, ASN, source addresses on the TUN device, its kernel table) is set when it starts.
        differs(restart, "virtualNetworkGateway.bgpSettings (asn, bgpPeeringAddresses, routeTable)", bgpIdentity(running), bgpIdentity(next));
        // The clients' connection, pools and RADIUS client are made at start, and clients hold leases of the pool.
        if (!Objects.equals(running.gateway().vpnClientConfiguration(), next.gateway().vpnClientConfiguration())) {
            restart.add("virtualNetworkGateway.vpnClientConfiguration: changed, which cannot happen while the gateway runs; restart it to apply");
        }
        Map<String, Connection> before = byName(running.connections());
        Map<String, Connection> after = byName(next.connections());
        List<String> kept = new ArrayList<>();
        Map<String, Set<Change>> changed = new LinkedHashMap<>();
        List<String> added = new ArrayList<>();
        for (Connection n : next.connections()) {
            Connection o = before.get(n.name());
            if (o == null) {
                added.add(n.name());
                continue;
            }
            Set<Change> how = changes(running, o, next, n);
            if (how.isEmpty()) {
                kept.add(n.name());
            } else {
                changed.put(n.name(), how);
            }
        }
        List<String> removed = running.connections().stream().map(Connection::name).filter(name -> !after.containsKey(name)).toList();
        return new ConfigDiff(restart, kept, changed, added, removed);
    }

    /** The same, with connection {@code name} (kept or changed) found changed in one more way, e.g. its certificate files rewritten. */
    public ConfigDiff with(String name, Change change) {
        if (!kept.contains(name) && !changed.containsKey(name)) {
            throw new IllegalArgumentException("connection " + name + " is neither kept nor changed");
        }
        Map<String, Set<Change>> more = new LinkedHashMap<>(changed);
        Set<Change> how = EnumSet.of(change);
        how.addAll(changed.getOrDefault(name, Set.of()));
        more.put(name, how);
        return new ConfigDiff(restartNeeded, kept.stream().filter(k -> !k.equals(name)).toList(), more, added, removed);
    }

    /** Whether the running gateway cannot take the new configuration without a restart. */
    public boolean refused() {
        return !restartNeeded.isEmpty();
    }

    /** Whether applying it would change nothing. */
    public boolean empty() {
        return changed.isEmpty() && added.isEmpty() && removed.isEmpty();
    }

    /** Names only, and how they changed: what the log and the operator are told. */
    @Override
    public String toString() {
        if (refused()) {
            return "restart needed: " + String.join("; ", restartNeeded);
        }
        return "kept " + kept + ", changed " + changed.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue().stream().sorted()
                .map(Change::toString).collect(Collectors.joining(", ")) + ")").toList() + ", added " + added + ", removed " + removed;
    }

    // ------------------------------------------------------------------------------------------

    private static Map<String, Connection> byName(List<Connection> connections) {
        Map<String, Connection> m = new LinkedHashMap<>();
        connections.forEach(c -> m.put(c.name(), c));
        return m;
    }

    /** As IKE compares them: a DN rewritten with other spacing or case is the same peer, and its tunnel stays. */
    private static boolean sameIdentity(String a, String b) {
        return a == null || b == null ? Objects.equals(a, b) : io.isthmus.ike.Identity.parse(a).equals(io.isthmus.ike.Identity.parse(b));
    }

    private static Set<Change> changes(GatewayConfig running, Connection o, GatewayConfig next, Connection n) {
        LocalNetworkGateway os = running.localNetworkGateway(o.localNetworkGateway());
        LocalNetworkGateway ns = next.localNetworkGateway(n.localNetworkGateway());
        Set<Change> how = EnumSet.noneOf(Change.class);
        if (!os.peerText().equals(ns.peerText()) || !sameIdentity(os.ikeIdentity(), ns.ikeIdentity())
                || o.usePolicyBasedTrafficSelectors() != n.usePolicyBasedTrafficSelectors()) {
            how.add(Change.PEER);
        }
        boolean localSideChanged = n.usePolicyBasedTrafficSelectors()
                && !networks(running.gateway().addressSpace()).equals(networks(next.gateway().addressSpace()));
        if (!networks(os.addressPrefixes()).equals(networks(ns.addressPrefixes()))
                || !networks(running.tunnelPrefixes(o)).equals(networks(next.tunnelPrefixes(n))) || localSideChanged) {
            how.add(Change.PREFIXES);
        }
        if (!natRules(running, o).equals(natRules(next, n))) {
            how.add(Change.NAT);
        }
        if (o.enableBgp() != n.enableBgp() || (n.enableBgp() && !Objects.equals(os.bgpSettings(), ns.bgpSettings()))) {
            how.add(Change.BGP);
        }
        if (!o.ipsecPolicies().equals(n.ipsecPolicies()) || !o.ikeSaLifeTime().equals(n.ikeSaLifeTime())) {
            how.add(Change.POLICY);
        }
        if (!sameKey(o.sharedKey(), n.sharedKey()) || !Objects.equals(o.certificate(), n.certificate())) {
            how.add(Change.KEY);
        }
        if (o.connectionMode() != n.connectionMode() || !o.dpdTimeout().equals(n.dpdTimeout()) || !o.dpdDelay().equals(n.dpdDelay())
                || o.forceUdpEncapsulation() != n.forceUdpEncapsulation() || !Objects.equals(o.pairInstance(), n.pairInstance())) {
            how.add(Change.OTHER);
        }
        return how;
    }

    /** In constant time for keys of one length (MessageDigest.isEqual); a key's length is all a timing could tell. */
    private static boolean sameKey(byte[] a, byte[] b) {
        return a == null || b == null ? a == b : MessageDigest.isEqual(a, b);
    }

    /** A connection's NAT rules by what they mean: every field but the name, prefixes as networks. */
    private static Set<List<Object>> natRules(GatewayConfig config, Connection c) {
        return config.natRules(c).stream().map(r -> List.<Object>of(r.type(), r.mode(), r.internalMapping(), r.externalMapping(),
                Objects.toString(r.ipConfigurationId(), ""))).collect(Collectors.toSet());
    }

    /** What BIRD is started with, as one comparable value and as the operator reads it; "none" without BGP. */
    private static String bgpIdentity(GatewayConfig c) {
        GatewayConfig.BgpSettings b = c.gateway().bgpSettings();
        if (b == null) {
            return "none";
        }
        List<String> addresses = b.bgpPeeringAddresses().stream().map(a -> a.instance() + " " + a.all().stream()
                .map(java.net.InetAddress::getHostAddress).toList()).toList();
        return "asn " + b.asn() + ", addresses " + addresses + ", table " + Integer.toUnsignedString(b.routeTable());
    }

    static Set<AddressPrefix> networks(List<String> prefixes) {
        return prefixes.stream().map(AddressPrefix::parse).collect(Collectors.toSet());
    }

    /** The fields a running gateway is built around: its name (the control socket's), its VPN type, its instances, its tunnel device and ports. */
    private static List<String> restartNeeded(VirtualNetworkGateway o, VirtualNetworkGateway n) {
        List<String> lines = new ArrayList<>();
        differs(lines, "virtualNetworkGateway.name", o.name(), n.name());
        differs(lines, "virtualNetworkGateway.vpnType", o.vpnType(), n.vpnType());
        Function<VirtualNetworkGateway, List<String>> instances = g -> g.instances().stream().map(i -> i.name() + " "
                + i.publicIpAddress().getHostAddress() + (i.privateIpAddress() == null ? "" : " (" + i.privateIpAddress().getHostAddress() + ")")
                + (i.floatingIpAddress() == null ? "" : " floating " + i.floatingIpAddress().getHostAddress()))
                .toList();
        differs(lines, "virtualNetworkGateway.instances", instances.apply(o), instances.apply(n));
        // Each instance's half of the point-to-site pool (and much else) follows it.
        differs(lines, "virtualNetworkGateway.activeActive", o.activeActive(), n.activeActive());
        Tunnel a = o.tunnel();
        Tunnel b = n.tunnel();
        String t = "virtualNetworkGateway.tunnel.";
        differs(lines, t + "device", a.device(), b.device());
        differs(lines, t + "mtu", a.mtu(), b.mtu());
        differs(lines, t + "pathMtu", a.pathMtu(), b.pathMtu());
        differs(lines, t + "tcpMssClamp", a.tcpMssClamp(), b.tcpMssClamp());
        differs(lines, t + "rawEsp", a.rawEsp(), b.rawEsp());
        differs(lines, t + "natTraversalPort", a.natTraversalPort(), b.natTraversalPort());
        differs(lines, t + "ikePort", a.ikePort(), b.ikePort());
        differs(lines, t + "offloads", a.offloads(), b.offloads());
        differs(lines, t + "packetThreads", a.packetThreads() == Tunnel.AUTO ? "auto" : a.packetThreads(),
                b.packetThreads() == Tunnel.AUTO ? "auto" : b.packetThreads());
        if (a.packetThreads() == b.packetThreads() && n.packetThreads() < o.packetThreads()) {
            // auto, and a Dynamic NAT rule added: its flow table takes one lane, the gateway runs several. (One
            // lane running where auto would now give more is fine: one lane carries any configuration.)
            lines.add(t + "packetThreads: auto means 1 with a Dynamic NAT rule, and the gateway runs " + o.packetThreads()
                    + " packet threads; restart it to apply");
        }
        differs(lines, t + "busyPoll", a.busyPollMicros(), b.busyPollMicros());
        return lines;
    }

    private static void differs(List<String> lines, String field, Object running, Object next) {
        if (!Objects.equals(running, next)) {
            lines.add(field + ": " + running + " -> " + next + " cannot change while the gateway runs; restart it to apply");
        }
    }
}
