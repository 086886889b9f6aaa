package io.isthmus.control.config;

import io.isthmus.control.log.LoggingSettings;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * A gateway's configuration in Azure's resource model: the virtual network gateway with its
 * instances, the local network gateways (the on-premises sites) and the connections between
 * them. {@link ConfigReader} reads it from YAML or JSON and checks every field.
 *
 * @param warnings what the gateway runs with but the operator should fix (a file with a shared
 *                 key that others may read), each naming the file and field
 * @param logging  the {@code logging:} section: line format and levels per subsystem
 * @param usesCredentials whether a key comes from a systemd credential (systemd copies those at
 *                        the service's start only, so a reload cannot see a rotated one)
 * @param pair     the {@code pair:} section of an active-active gateway whose instances have
 *                 floating addresses and sync their state; null otherwise
 * @param metrics  the {@code metrics:} section: where Prometheus scrapes
 * @param control  the {@code control:} section: who besides root may use the management API
 */
public record GatewayConfig(Path source, VirtualNetworkGateway gateway, List<LocalNetworkGateway> localNetworkGateways,
                            List<Connection> connections, List<String> warnings, LoggingSettings logging,
                            boolean usesCredentials, Pair pair, Metrics metrics, Control control) {

    public GatewayConfig {
        warnings = List.copyOf(warnings);
        // Found by name in constant time: with 10,000 connections, per-connection lookups by a scan were quadratic.
        localNetworkGateways = NamedList.of(localNetworkGateways, LocalNetworkGateway::name);
        connections = NamedList.of(connections, Connection::name);
    }

    /** The management API's group: its members may use the control socket too (null: root and the gateway's user only). */
    public record Control(String group) {
    }

    /** Where {@code /metrics} is served, or null for nowhere. */
    public record Metrics(InetSocketAddress listen) {
        public static final int DEFAULT_PORT = 9850;

        /** As the configuration writes it: 127.0.0.1:9850, [::1]:9850, or off. */
        public String text() {
            if (listen == null) {
                return "off";
            }
            String host = listen.getAddress().getHostAddress();
            return (listen.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + listen.getPort();
        }
    }

    public enum VpnType { ROUTE_BASED, POLICY_BASED }

    public enum ConnectionMode { DEFAULT, INITIATOR_ONLY, RESPONDER_ONLY }

    /**
     * Azure's gateway SKUs: how many site-to-site tunnels each takes, and the aggregate
     * throughput Azure quotes for it (Isthmus reports it; it does not throttle). {@link #ISTHMUS}
     * is not Azure's: a gateway on machines of one's own, with as many site-to-site tunnels as one
     * instance was measured to carry ({@code isthmus bench tunnels}: memory, start-up, reload,
     * status and lookups at 10,000), and no throughput rating (0).
     */
    public enum Sku {
        BASIC("Basic", 10, 100),
        VPN_GW1("VpnGw1", 30, 650),
        VPN_GW2("VpnGw2", 30, 1000),
        VPN_GW3("VpnGw3", 30, 1250),
        VPN_GW4("VpnGw4", 100, 5000),
        VPN_GW5("VpnGw5", 100, 10000),
        VPN_GW1_AZ("VpnGw1AZ", 30, 650),
        VPN_GW2_AZ("VpnGw2AZ", 30, 1000),
        VPN_GW3_AZ("VpnGw3AZ", 30, 1250),
        VPN_GW4_AZ("VpnGw4AZ", 100, 5000),
        VPN_GW5_AZ("VpnGw5AZ", 100, 10000),
        ISTHMUS("Isthmus", 10_000, 0);

        private final String azureName;
        private final int maxTunnels;
        private final int megabitsPerSecond;

        Sku(String azureName, int maxTunnels, int megabitsPerSecond) {
            this.azureName = azureName;
            this.maxTunnels = maxTunnels;
            this.megabitsPerSecond = megabitsPerSecond;
        }

        public String azureName() {
            return azureName;
        }

        public int maxTunnels() {
            return maxTunnels;
        }

        /** Azure's throughput rating, 0 for none ({@link #ISTHMUS}). */
        public int megabitsPerSecond() {
            return megabitsPerSecond;
        }

        /** The most site-to-site tunnels any SKU takes: how many connections and sites a file may have. */
        public static int mostTunnels() {
            return java.util.Arrays.stream(values()).mapToInt(Sku::maxTunnels).max().orElseThrow();
        }
    }

    /** One VM of the gateway: the address peers see, and the one it binds (behind a cloud's 1:1 NAT). */
    /**
     * @param floatingIpAddress the pair's floating address this instance owns while both run (keepalived
     *                          moves it to the survivor with the SAs on it); null without a pair
     */
    public record Instance(String name, InetAddress publicIpAddress, InetAddress privateIpAddress, InetAddress floatingIpAddress) {
        public InetAddress bindAddress() {
            return privateIpAddress != null ? privateIpAddress : publicIpAddress;
        }
    }

    /**
     * How the gateway answers IKE_SA_INIT requests it cannot yet tell from a flood (an Isthmus
     * addition, {@code virtualNetworkGateway.ikeDefense}; strongSwan's names in brackets):
     * cookies (RFC 7296 §2.6) once {@code cookieThreshold} IKE SAs are half-open
     * ({@code cookie_threshold}) or once more than {@code cookieRate} requests a second cost a
     * key pair, never with {@code cookies} off ({@code dos_protection = no}); at most
     * {@code halfOpenPerPeer} half-open IKE SAs per address ({@code block_threshold}) and
     * {@code halfOpenLimit} in all, the oldest giving way. A reload applies them to the requests
     * that come after it.
     */
    public record IkeDefense(boolean cookies, int cookieThreshold, int cookieRate, int halfOpenPerPeer, int halfOpenLimit) {
        public static final IkeDefense DEFAULT = new IkeDefense(true, 10, 50, 5, 10_000);

        @Override
        public String toString() {
            return "cookies " + (cookies ? "on (" + cookieThreshold + " half-open, " + cookieRate + " a second)" : "off") + ", "
                    + halfOpenPerPeer + " half-open per address, " + halfOpenLimit + " in all";
        }
    }

    /** The data plane's settings: an Isthmus addition to Azure's model. */
    /**
     * The TUN device and the data plane's settings; {@code offloads} off is for measuring what
     * they bring; {@code packetThreads} the data plane's lanes (1 for a gateway sharing its cores),
     * or {@link #AUTO}; {@code busyPollMicros} how long packet threads poll before they sleep (0: off).
     */
    public record Tunnel(String device, int mtu, int pathMtu, int tcpMssClamp, boolean rawEsp, int natTraversalPort, int ikePort,
                         boolean offloads, int packetThreads, int busyPollMicros) {
        /** {@code packetThreads: auto}: a lane per core the gateway may use (one with a Dynamic NAT rule). */
        public static final int AUTO = 0;
        /** {@code busyPoll: true}: long enough for the answer to a packet just forwarded (a ping's reply through a site is ~100 µs). */
        public static final int BUSY_POLL_MICROS = 200;

        public Tunnel(String device, int mtu, int pathMtu, int tcpMssClamp, boolean rawEsp, int natTraversalPort, int ikePort,
                      boolean offloads, int packetThreads) {
            this(device, mtu, pathMtu, tcpMssClamp, rawEsp, natTraversalPort, ikePort, offloads, packetThreads, 0);
        }

        /**
         * The lanes the data plane runs: {@link #packetThreads} as configured, or for auto the
         * cores this process may use (Runtime.availableProcessors: sched_getaffinity and the
         * cgroup's CPU quota), but one when a Dynamic NAT rule needs a single owner thread.
         */
        public int lanes(boolean dynamicNat) {
            if (packetThreads != AUTO) {
                return packetThreads;
            }
            return dynamicNat ? 1 : Math.min(Runtime.getRuntime().availableProcessors(), io.isthmus.dataplane.Dataplane.Settings.MAX_PACKET_THREADS);
        }
    }

    /**
     * @param natRules    Azure's {@code natRules} of the gateway, which connections pick by name
     *                    (see {@link NatSection}); empty without NAT
     * @param bgpSettings the gateway's BGP speaker (see {@link BgpSection}); null: no BGP
     * @param activeActive Azure's {@code activeActive}: both instances serve at once (each then leases point-to-site
     *                    addresses from its half of the pool)
     */
    public record VirtualNetworkGateway(String name, VpnType vpnType, Sku sku, List<String> addressSpace, List<Instance> instances,
                                        Tunnel tunnel, List<NatRule> natRules, BgpSettings bgpSettings,
                                        VpnClientConfiguration vpnClientConfiguration, IkeDefense ikeDefense, boolean activeActive) {
        public VirtualNetworkGateway {
            natRules = List.copyOf(natRules);
        }

        VirtualNetworkGateway withNatRules(List<NatRule> rules) {
            return new VirtualNetworkGateway(name, vpnType, sku, addressSpace, instances, tunnel, rules, bgpSettings, vpnClientConfiguration,
                    ikeDefense, activeActive);
        }

        /** The data plane's lanes for this gateway ({@link Tunnel#lanes}). */
        public int packetThreads() {
            return tunnel.lanes(natRules.stream().anyMatch(r -> r.type() == NatRuleType.DYNAMIC));
        }

        /** The rule named {@code name}, or null. */
        public NatRule natRule(String name) {
            return natRules.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
        }
    }

    /** Azure's NAT rule types: a fixed 1:1 mapping, or a pool shared by flows started on the internal side. */
    public enum NatRuleType {
        STATIC("Static"), DYNAMIC("Dynamic");

        private final String azureName;

        NatRuleType(String azureName) {
            this.azureName = azureName;
        }

        @Override
        public String toString() {
            return azureName;
        }
    }

    /**
     * Which side a NAT rule translates. IngressSnat: the on-premises side (internal = the site's
     * real range, external = how the gateway's network sees it); its source on the way in, its
     * destination on the way out. EgressSnat: the gateway's side (internal = the VNet's real
     * range, external = how the site sees it); its source on the way out, its destination on the
     * way in. One SNAT rule covers both directions: there are no DNAT rules.
     */
    public enum NatRuleMode {
        INGRESS_SNAT("IngressSnat"), EGRESS_SNAT("EgressSnat");

        private final String azureName;

        NatRuleMode(String azureName) {
            this.azureName = azureName;
        }

        @Override
        public String toString() {
            return azureName;
        }
    }

    /** TCP/UDP ports {@code first} to {@code last}, both included (one port: first == last). */
    public record PortRange(int first, int last) {
        public int size() {
            return last - first + 1;
        }

        @Override
        public String toString() {
            return first == last ? Integer.toString(first) : first + "-" + last;
        }
    }

    /**
     * One side of a NAT rule: an IPv4 prefix and, for a Static rule, optionally the TCP/UDP
     * ports it is limited to (null: every packet of the prefix, whatever its protocol).
     */
    public record NatMapping(AddressPrefix addressSpace, PortRange portRange) {
        @Override
        public String toString() {
            return addressSpace + (portRange == null ? "" : " ports " + portRange);
        }
    }

    /**
     * One of the gateway's NAT rules (Azure's VirtualNetworkGatewayNatRule), as the data plane
     * applies it on each connection that lists it. Static: {@code internalMapping}'s addresses
     * map 1:1, in order, onto {@code externalMapping}'s (same prefix length; with port ranges,
     * ports likewise, same count). Dynamic: flows started from the internal side take an address
     * and port of the external pool for as long as they last; nothing can start from the
     * external side.
     *
     * @param ipConfigurationId the instance of {@code virtualNetworkGateway.instances} the rule
     *                          is applied on (Azure: the gateway IP configuration, one rule per
     *                          instance of an active-active gateway); null: every instance
     */
    public record NatRule(String name, NatRuleType type, NatRuleMode mode, NatMapping internalMapping, NatMapping externalMapping,
                          String ipConfigurationId, int maxFlows) {
        /** A Dynamic rule's flow table by default (Isthmus's, not Azure's: Azure does not say how many flows it keeps). */
        public static final int DEFAULT_MAX_FLOWS = 65_536;

        /** With the default flow table: {@link #DEFAULT_MAX_FLOWS} for a Dynamic rule, none (0) for a Static one. */
        public NatRule(String name, NatRuleType type, NatRuleMode mode, NatMapping internalMapping, NatMapping externalMapping,
                       String ipConfigurationId) {
            this(name, type, mode, internalMapping, externalMapping, ipConfigurationId, type == NatRuleType.DYNAMIC ? DEFAULT_MAX_FLOWS : 0);
        }

        /** Whether it applies on {@code instance}. */
        public boolean appliesOn(Instance instance) {
            return ipConfigurationId == null || ipConfigurationId.equals(instance.name());
        }
    }

    /**
     * An on-premises site: its VPN device's address and identity, and the prefixes behind it.
     *
     * @param gatewayIpAddress its device's address; for a range, the range's first address
     * @param gatewayRange     null for one device; else the range its devices' addresses come from
     *                         ({@code gatewayIpAddress: 10.80.0.0/16}, an Isthmus addition, as
     *                         strongSwan's {@code remote_addrs = 10.80.0.0/16}): its connections
     *                         only respond, each device proving the site's ikeIdentity (or any
     *                         identity the key or certificate proves, without one)
     * @param bgpSettings its BGP speaker, for connections with enableBgp; null: none
     */
    public record LocalNetworkGateway(String name, InetAddress gatewayIpAddress, String ikeIdentity, List<String> addressPrefixes,
                                      LocalBgpSettings bgpSettings, AddressPrefix gatewayRange) {
        /** The device's address, or the range, as the file writes it. */
        public String peerText() {
            return gatewayRange != null ? gatewayRange.toString() : gatewayIpAddress.getHostAddress();
        }
    }

    /**
     * The gateway's BGP speaker (Azure's virtualNetworkGateway.bgpSettings), run by BIRD.
     *
     * @param asn                 this side's autonomous system (Azure's default 65515)
     * @param bgpPeeringAddresses each instance's own BGP addresses (Azure: one entry per IP configuration)
     * @param advertisedPrefixes  what is advertised besides the addressSpace (an Isthmus addition)
     * @param routeTable          the kernel routing table BIRD writes the learned routes into (an Isthmus addition)
     * @param maxPrefixes         routes a peer may send before its session is restarted (Azure: 4000)
     */
    public record BgpSettings(long asn, List<BgpPeeringAddress> bgpPeeringAddresses, List<String> advertisedPrefixes, int routeTable,
                              int maxPrefixes) {
        public BgpSettings {
            bgpPeeringAddresses = List.copyOf(bgpPeeringAddresses);
            advertisedPrefixes = List.copyOf(advertisedPrefixes);
        }

        /** Instance {@code name}'s addresses, or null if the file gives it none. */
        public BgpPeeringAddress of(String instance) {
            return bgpPeeringAddresses.stream().filter(a -> a.instance().equals(instance)).findFirst().orElse(null);
        }
    }

    /**
     * One instance's BGP addresses: the default one (Azure assigns it from the GatewaySubnet; here
     * the operator gives it) and the custom APIPA ones (169.254.21.0 to 169.254.22.255) for peers
     * whose own BGP address is an APIPA address.
     */
    public record BgpPeeringAddress(String instance, InetAddress defaultBgpIpAddress, List<InetAddress> customBgpIpAddresses) {
        public BgpPeeringAddress {
            customBgpIpAddresses = List.copyOf(customBgpIpAddresses);
        }

        /** Every address of this instance's, for the TUN device. */
        public List<InetAddress> all() {
            List<InetAddress> out = new java.util.ArrayList<>();
            if (defaultBgpIpAddress != null) {
                out.add(defaultBgpIpAddress);
            }
            out.addAll(customBgpIpAddresses);
            return out;
        }
    }

    /** A site's BGP speaker (Azure's localNetworkGateway.bgpSettings); peerWeight prefers one site's routes over another's. */
    public record LocalBgpSettings(long asn, InetAddress bgpPeeringAddress, int peerWeight) {
        /** The peer's BGP address as the host prefix routed into its tunnel, as Azure adds it. */
        public String hostPrefix() {
            return bgpPeeringAddress.getHostAddress() + "/32";
        }
    }

    /**
     * Azure's custom IPsec/IKE policy, already turned into strongSwan-style proposals.
     *
     * @param espProposal the ESP cipher and PFS group, without ESN ({@link #espProposals()} adds what {@code esn} says)
     * @param esn         whether child SAs use extended sequence numbers
     */
    public record IpsecPolicy(IkeProposal ikeProposal, ChildProposal espProposal, Esn esn, Duration saLifeTime, long saDataSizeKilobytes) {
        /** The ESP proposals this policy offers and accepts, in order: one per ESN choice. */
        public List<ChildProposal> espProposals() {
            return esn.offered().stream().map(e -> new ChildProposal(espProposal.cipher(), e, espProposal.pfs())).toList();
        }
    }

    /**
     * An Isthmus addition to a policy, {@code esn}: whether child SAs use 64-bit extended sequence
     * numbers (RFC 4303 §2.2.1). BOTH (the default) offers ESN first and no ESN next, one ESP
     * proposal each, so a peer that takes ESN gets it (a 32-bit counter runs out within hours at
     * this gateway's packet rates, forcing rekeys) and one that does not still connects.
     */
    public enum Esn {
        ENABLED(List.of(true)), DISABLED(List.of(false)), BOTH(List.of(true, false));

        private final List<Boolean> offered;

        Esn(List<Boolean> offered) {
            this.offered = offered;
        }

        /** The ESN choices, in the order offered. */
        public List<Boolean> offered() {
            return offered;
        }
    }

    /** Certificate authentication: our certificate and key, the CAs the peer's must chain to, its subject. */
    public record CertificateAuthentication(Path outboundAuthCertificate, Path privateKey, List<Path> inboundAuthCertificateChain,
                                            String inboundAuthCertificateSubjectName) {
    }

    /**
     * @param sharedKey the pre-shared key (null with certificates): the gateway's one live copy,
     *                  handed as it is to the IKE connection made from it, never copied, and
     *                  wiped by {@link #destroySharedKey()}
     * @param pairInstance in a pair, the instance whose floating address the tunnel uses (null: the first)
     * @param ingressNatRules the names of its IngressSnat rules (of {@code virtualNetworkGateway.natRules}), in the file's order
     * @param egressNatRules the names of its EgressSnat rules
     * @param enableBgp    BIRD peers with the site's BGP speaker through this tunnel
     * @param dpdDelay     idle time before a liveness check ({@code dpdDelaySeconds}, an Isthmus addition; Azure's is 15 s)
     * @param ikeSaLifeTime the IKE SA's lifetime ({@code ikeSaLifeTimeSeconds}, an Isthmus addition; Azure's is 28,800 s)
     */
    public record Connection(String name, String localNetworkGateway, byte[] sharedKey, CertificateAuthentication certificate,
                             ConnectionMode connectionMode, boolean usePolicyBasedTrafficSelectors, Duration dpdTimeout,
                             Duration dpdDelay, Duration ikeSaLifeTime, List<IpsecPolicy> ipsecPolicies, boolean forceUdpEncapsulation, String pairInstance,
                             List<String> ingressNatRules, List<String> egressNatRules, boolean enableBgp) {
        public Connection {
            ingressNatRules = List.copyOf(ingressNatRules);
            egressNatRules = List.copyOf(egressNatRules);
        }

        /** Whether it translates addresses at all. */
        public boolean hasNat() {
            return !ingressNatRules.isEmpty() || !egressNatRules.isEmpty();
        }

        /** Wipes the shared key, and with it the IKE connection's, which is the same array. */
        public void destroySharedKey() {
            if (sharedKey != null) {
                Arrays.fill(sharedKey, (byte) 0);
            }
        }

        /** Never prints the key. */
        @Override
        public String toString() {
            return "connection " + name + " to " + localNetworkGateway + (sharedKey != null ? ", shared key" : ", certificate");
        }
    }

    /**
     * The {@code pair:} section: how the two instances of an active-active gateway with floating
     * addresses keep each other's state (see {@link PairSection}).
     *
     * @param leaseBlock       how many outbound ESP sequence numbers one lease covers
     * @param replaySyncPackets the inbound replay window's top is synced after this many packets
     * @param replaySyncInterval ... or after this long, whichever comes first
     * @param stateDirectory   where the epochs that fence a paused instance are kept across restarts
     * @param stateSync        false: the floating addresses move, the SAs do not (the peer's dead peer
     *                         detection and a new negotiation, as Azure's instances): for comparison
     */
    public record Pair(int syncPort, Duration heartbeat, int missedHeartbeats, long leaseBlock, int replaySyncPackets,
                       Duration replaySyncInterval, Path stateDirectory, List<PairInstance> instances, boolean stateSync) {
        public Pair {
            instances = List.copyOf(instances);
        }

        public PairInstance instance(String name) {
            return instances.stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
        }

        public PairInstance partnerOf(String name) {
            return instances.stream().filter(i -> !i.name().equals(name)).findFirst().orElseThrow();
        }
    }

    /** One instance's end of the sync link: its address there and its certificate (the partner pins it). */
    public record PairInstance(String name, InetAddress syncAddress, Path certificate, Path privateKey) {
    }

    /** Wipes every connection's shared key: when the gateway that runs this configuration closes. */
    public void destroySecrets() {
        connections.forEach(Connection::destroySharedKey);
        if (gateway.vpnClientConfiguration() != null) {
            gateway.vpnClientConfiguration().radiusServers().forEach(VpnClientConfiguration.RadiusServer::destroySecret);
        }
    }

    /**
     * The NAT rules connection {@code c} applies: its ingressNatRules, then its egressNatRules,
     * each as configured (the data plane's input for the connection's tunnel). Empty without NAT.
     */
    public List<NatRule> natRules(Connection c) {
        return java.util.stream.Stream.concat(c.ingressNatRules().stream(), c.egressNatRules().stream()).map(gateway::natRule).toList();
    }

    /** As {@link #natRules(Connection)}, without the rules whose ipConfigurationId names another instance than {@code self}. */
    public List<NatRule> natRules(Connection c, Instance self) {
        return natRules(c).stream().filter(r -> r.appliesOn(self)).toList();
    }

    public LocalNetworkGateway localNetworkGateway(String name) {
        int i = NamedList.indexOf(localNetworkGateways, name, LocalNetworkGateway::name);
        if (i < 0) {
            throw new java.util.NoSuchElementException("no localNetworkGateway " + name);
        }
        return localNetworkGateways.get(i);
    }

    /** The connection named {@code name}, or null. */
    public Connection connection(String name) {
        int i = NamedList.indexOf(connections, name, Connection::name);
        return i < 0 ? null : connections.get(i);
    }

    /**
     * The instance whose floating address connection {@code c}'s tunnel uses in a pair (its
     * {@code pairInstance}, else the first); null without a pair.
     */
    public Instance carrier(Connection c) {
        if (pair == null) {
            return null;
        }
        return c.pairInstance() == null ? gateway.instances().getFirst() : instance(c.pairInstance());
    }

    /**
     * The address connection {@code c}'s IKE and ESP go from on instance {@code self}: in a pair
     * the floating address of the instance that carries it (whichever machine holds it now),
     * else the instance's own (its private one behind a cloud's 1:1 NAT).
     */
    public InetAddress localAddress(Instance self, Connection c) {
        Instance carrier = carrier(c);
        return carrier != null ? carrier.floatingIpAddress() : self.bindAddress();
    }

    /** The address connection {@code c} identifies itself with (IKE's IDi/IDr) when it has no certificate. */
    public InetAddress identityAddress(Instance self, Connection c) {
        Instance carrier = carrier(c);
        return carrier != null ? carrier.floatingIpAddress() : self.publicIpAddress();
    }

    /**
     * The prefixes that lead into connection {@code c}'s tunnel: its site's address prefixes
     * (translated by its IngressSnat rules: what the gateway's network addresses the site as) and,
     * with BGP, the site's BGP address as a host route (Azure adds that one itself), so that the
     * BGP session to it goes through this tunnel. Routes BIRD learns come on top (not here).
     */
    public List<String> tunnelPrefixes(Connection c) {
        LocalNetworkGateway site = localNetworkGateway(c.localNetworkGateway());
        List<String> translated = TranslatedPrefixes.of(this).tunnelRoutes(c);
        if (!c.enableBgp() || site.bgpSettings() == null) {
            return translated;
        }
        List<String> out = new java.util.ArrayList<>(translated);
        String host = site.bgpSettings().hostPrefix();
        if (!out.contains(host)) {
            out.add(host);
        }
        return out;
    }

    /**
     * Every prefix routed into the TUN device, each once: the sites' prefixes (translated by the
     * IngressSnat rules of the connections to them) and the BGP peers' host routes.
     */
    public List<String> routedPrefixes() {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (TunnelRoutes.SiteRoute r : TunnelRoutes.of(this)) {
            out.add(r.prefix().toString());
        }
        return List.copyOf(out);
    }

    /** The connections BIRD peers through, in the file's order. */
    public List<Connection> bgpConnections() {
        return gateway.bgpSettings() == null ? List.of() : connections.stream().filter(Connection::enableBgp).toList();
    }

    /**
     * The address instance {@code self}'s BGP session of connection {@code c} comes from: a custom
     * APIPA address when the site's BGP address is an APIPA one (169.254.0.0/16), as Azure pairs
     * them, else the instance's default BGP address. Null when the file gives none (refused when read).
     */
    public InetAddress bgpSourceAddress(Instance self, Connection c) {
        BgpPeeringAddress mine = gateway.bgpSettings() == null ? null : gateway.bgpSettings().of(self.name());
        LocalBgpSettings peer = localNetworkGateway(c.localNetworkGateway()).bgpSettings();
        if (mine == null || peer == null) {
            return null;
        }
        if (BgpSection.isLinkLocal(peer.bgpPeeringAddress())) {
            return mine.customBgpIpAddresses().isEmpty() ? null : mine.customBgpIpAddresses().getFirst();
        }
        return mine.defaultBgpIpAddress();
    }

    /**
     * The BGP connections whose sessions instance {@code self}'s BIRD runs: all of them, except in
     * a pair, where each instance peers only through the tunnels it carries ({@link #carrier}),
     * as each Azure active-active instance has sessions of its own. A tunnel the partner carries
     * and this instance took over keeps no session here: the partner's routes went with it, and
     * this instance's own sessions carry the traffic (issue 14).
     */
    public List<Connection> bgpConnections(Instance self) {
        return bgpConnections().stream().filter(c -> carrier(c) == null || carrier(c).name().equals(self.name())).toList();
    }

    /** Instance {@code self}'s BGP connection whose site's BGP address is {@code peer} (a learned route's gateway), or null. */
    public Connection bgpConnectionOf(Instance self, InetAddress peer) {
        for (Connection c : bgpConnections(self)) {
            LocalBgpSettings b = localNetworkGateway(c.localNetworkGateway()).bgpSettings();
            if (b != null && b.bgpPeeringAddress().equals(peer)) {
                return c;
            }
        }
        return null;
    }

    public Instance instance(String name) {
        if (name == null) {
            return gateway.instances().getFirst();
        }
        return gateway.instances().stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new ConfigException(source, "virtualNetworkGateway.instances", "no instance '" + name + "'; this file has: "
                        + String.join(", ", gateway.instances().stream().map(Instance::name).toList())));
    }
}
