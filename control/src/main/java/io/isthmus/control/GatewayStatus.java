package io.isthmus.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.dataplane.Counters;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.Drop;
import io.isthmus.ike.ChildSa;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeSa;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a running gateway reports, as {@code isthmus status} shows it and the control socket
 * sends it (JSON): per connection its IKE SAs and their child SAs with traffic, and the
 * tunnel's counters under Azure's metric names.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GatewayStatus(String gateway, String instance, String vpnType, String sku, int skuMaxTunnels, long uptimeSeconds,
                            List<ConnectionStatus> connections, Map<String, Long> unattributedDrops, Defense defense, ProcessStatus process,
                            io.isthmus.control.ha.GatewayPair.Status pair, PointToSite pointToSite) {

    public GatewayStatus(String gateway, String instance, String vpnType, String sku, int skuMaxTunnels, long uptimeSeconds,
                         List<ConnectionStatus> connections, Map<String, Long> unattributedDrops, Defense defense, ProcessStatus process,
                         io.isthmus.control.ha.GatewayPair.Status pair) {
        this(gateway, instance, vpnType, sku, skuMaxTunnels, uptimeSeconds, connections, unattributedDrops, defense, process, pair, null);
    }

    /** The same, with the point-to-site clients (null: the gateway has no vpnClientConfiguration). */
    public GatewayStatus withPointToSite(PointToSite p) {
        return new GatewayStatus(gateway, instance, vpnType, sku, skuMaxTunnels, uptimeSeconds, connections, unattributedDrops, defense, process,
                pair, p);
    }

    /**
     * Point-to-site: the clients connected (an IKE SA up with its address) and how many may be
     * (maxClients), how full each pool is (identities holding an address through an IKE SA,
     * addresses held with those kept for a reconnect, and how many may be), and per client its
     * identity, address and traffic.
     */
    public record PointToSite(int connectedClients, int maxClients, Pool ipv4Pool, Pool ipv6Pool, List<Client> clients) {
    }

    public record Pool(int liveClients, int heldAddresses, long capacity) {
        static Pool of(io.isthmus.ike.remoteaccess.VirtualAddressPool p) {
            return p == null ? null : new Pool(p.liveClients(), p.held(), p.capacity());
        }
    }

    public record Client(String identity, List<String> addresses, String remote, String state, Long establishedSecondsAgo, long inBytes,
                         long outBytes) {
    }

    /** The clients of the remote-access connection {@code name} among {@code ikeSas}, with their tunnels' bytes; IKE thread only. */
    static PointToSite pointToSite(String name, io.isthmus.control.p2s.VpnClientPools pools, int maxClients, Collection<IkeSa> ikeSas,
                                   List<Dataplane.TunnelStatus> tunnels, Instant now) {
        List<Client> clients = new ArrayList<>();
        int connected = 0;
        for (IkeSa sa : ikeSas) {
            if (!sa.connection().name().equals(name) || sa.virtualAddresses().addresses().isEmpty()) {
                continue;
            }
            List<String> addresses = sa.virtualAddresses().addresses().stream().map(java.net.InetAddress::getHostAddress).toList();
            long in = 0;
            long out = 0;
            for (Dataplane.TunnelStatus t : tunnels) {
                if (t.name().equals(name + "/" + addresses.getFirst())) {
                    in = t.ingressBytes();
                    out = t.egressBytes();
                }
            }
            connected += sa.isUp() ? 1 : 0;
            clients.add(new Client(String.valueOf(sa.peerIdentity()), addresses, text(sa.remoteAddress()), sa.state().name(),
                    since(sa.establishedAt(), now), in, out));
        }
        return new PointToSite(connected, maxClients, Pool.of(pools.ipv4()), Pool.of(pools.ipv6()), clients);
    }

    /**
     * How the gateway holds up against what anyone can send it: cookies asked for, responder IKE
     * SAs waiting for IKE_AUTH, IKE datagrams from port 4500 dropped because the IKE thread was
     * behind, key pairs generated since start.
     */
    public record Defense(long cookiesSent, int halfOpenIkeSas, long ikeFromPort4500, long ikeFromPort4500Dropped, long keyPairsGenerated) {
    }

    /** This process: heap in use, heap still live after the last collection, resident memory, threads. */
    public record ProcessStatus(long heapUsedBytes, long heapLiveAfterLastGcBytes, long residentBytes, int threads) {
        static ProcessStatus now() {
            Runtime r = Runtime.getRuntime();
            long live = 0;
            for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
                var after = pool.getType() == java.lang.management.MemoryType.HEAP ? pool.getCollectionUsage() : null;
                live += after == null ? 0 : after.getUsed();
            }
            return new ProcessStatus(r.totalMemory() - r.freeMemory(), live, readResidentBytes(),
                    java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
        }

        private static long readResidentBytes() {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // not Linux: unknown
            }
            return -1;
        }
    }

    /**
     * One connection: Azure's status word ({@link #CONNECTED}, {@link #CONNECTING},
     * {@link #NOT_CONNECTED}) and, while it is not connected, why (the last failure IKE saw for
     * it, if any, and how long ago); with enableBgp, its BGP session as BIRD has it (Azure's BGP peer status).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ConnectionStatus(String name, String mode, String peer, boolean policyBased, String status, String lastFailure,
                                   Long lastFailureSecondsAgo, List<IkeSaStatus> ikeSas, Map<String, Long> metrics, Map<String, Long> drops,
                                   io.isthmus.control.bgp.BgpPeerStatus bgp, List<NatRuleStatus> natRules) {
        public ConnectionStatus(String name, String mode, String peer, boolean policyBased, String status, String lastFailure,
                                Long lastFailureSecondsAgo, List<IkeSaStatus> ikeSas, Map<String, Long> metrics, Map<String, Long> drops,
                                io.isthmus.control.bgp.BgpPeerStatus bgp) {
            this(name, mode, peer, policyBased, status, lastFailure, lastFailureSecondsAgo, ikeSas, metrics, drops, bgp, null);
        }
    }

    /**
     * A NAT rule as this connection's tunnel applies it; a Dynamic one with the flows it holds and
     * the most it may (its maxFlows, less where its pool has fewer ports): a table near full drops
     * new flows (drops NAT_FLOW_TABLE_FULL_EGRESS or NAT_FLOW_TABLE_FULL).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record NatRuleStatus(String name, String type, String mode, String internal, String external, Integer flowsInUse, Integer maxFlows) {
        static NatRuleStatus of(io.isthmus.dataplane.nat.TunnelNat.RuleStatus r) {
            boolean dynamic = r.type() == io.isthmus.dataplane.nat.NatRule.Type.DYNAMIC;
            return new NatRuleStatus(r.name(), dynamic ? "Dynamic" : "Static",
                    r.mode() == io.isthmus.dataplane.nat.NatRule.Mode.INGRESS_SNAT ? "IngressSnat" : "EgressSnat", r.internal(), r.external(),
                    dynamic ? r.flowsInUse() : null, dynamic ? r.flowCapacity() : null);
        }
    }

    public static final String CONNECTED = "Connected";
    public static final String CONNECTING = "Connecting";
    public static final String NOT_CONNECTED = "NotConnected";

    /** An IKE SA; the times are absent where they do not apply (no proposal before IKE_SA_INIT is answered, no rekey while one runs). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record IkeSaStatus(String initiatorSpi, String responderSpi, boolean weInitiated, String state, String proposal,
                              String local, String remote, String localId, String remoteId, boolean natDetected, long createdSecondsAgo,
                              Long establishedSecondsAgo, Long rekeyInSeconds, Long expiresInSeconds, List<ChildSaStatus> childSas) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ChildSaStatus(String inboundSpi, String outboundSpi, String suite, boolean esn, String encapsulation,
                                List<String> localSelectors, List<String> remoteSelectors, Long establishedSecondsAgo, Long rekeyInSeconds,
                                Long expiresInSeconds, long inBytes, long inPackets, long outBytes, long outPackets, Long lastInSecondsAgo,
                                Long lastOutSecondsAgo, boolean carriesOutbound, Map<String, Long> drops, String state) {
    }

    /**
     * The status of {@code instance} of {@code config} from what the IKE thread and the data plane
     * report. Each connection's IKE SAs, tunnel and SAs are found by name and SPI in maps made once
     * here: with 10,000 connections, a scan of every IKE SA and tunnel per connection was 2 * 10^8
     * comparisons a status (and a scrape), which must answer within a second.
     */
    static GatewayStatus of(GatewayConfig config, GatewayConfig.Instance instance, PacketTimes packetTimes, Collection<IkeSa> ikeSas,
                            List<Dataplane.TunnelStatus> tunnels, Counters global, Instant startedAt, Defense defense,
                            io.isthmus.control.ha.GatewayPair.Status pair, IkeCounters.ByConnection ikeCounters,
                            Map<String, io.isthmus.control.bgp.BgpPeerStatus> bgp) {
        HexFormat hex = HexFormat.of();
        Instant now = Instant.now();
        Map<String, Dataplane.TunnelStatus> tunnelByName = new HashMap<>();
        for (Dataplane.TunnelStatus t : tunnels) {
            tunnelByName.putIfAbsent(t.name(), t);
        }
        Map<String, List<IkeSa>> sasByConnection = new HashMap<>();
        for (IkeSa sa : ikeSas) {
            sasByConnection.computeIfAbsent(sa.connection().name(), k -> new ArrayList<>()).add(sa);
        }
        Map<String, GatewayConfig.LocalNetworkGateway> sites = new HashMap<>();
        for (GatewayConfig.LocalNetworkGateway site : config.localNetworkGateways()) {
            sites.putIfAbsent(site.name(), site);
        }
        List<ConnectionStatus> connections = new ArrayList<>();
        for (var c : config.connections()) {
            Dataplane.TunnelStatus tunnel = tunnelByName.get(c.name());
            Map<Integer, Dataplane.SaStatus> tunnelSas = new HashMap<>();
            if (tunnel != null) {
                for (Dataplane.SaStatus s : tunnel.sas()) {
                    tunnelSas.putIfAbsent(s.inboundSpi(), s);
                }
            }
            List<IkeSaStatus> sas = new ArrayList<>();
            for (IkeSa sa : sasByConnection.getOrDefault(c.name(), List.of())) {
                List<ChildSaStatus> children = new ArrayList<>();
                for (var d : sa.childSas()) {
                    Dataplane.SaStatus s = tunnelSas.get(d.inbound().spi());
                    int spi = d.inbound().spi();
                    ChildSa child = sa.children().byInboundSpi(spi);
                    Instant made = child == null ? null : child.establishedAt();
                    Map<String, Long> drops = new LinkedHashMap<>();
                    if (s != null) {
                        s.drops().forEach((k, v) -> drops.put(k.name(), v));
                    }
                    children.add(new ChildSaStatus(hex.toHexDigits(d.inbound().spi()), hex.toHexDigits(d.outbound().spi()),
                            d.inbound().suite().toString(), d.inbound().esn(), d.udpEncapsulation() ? "UDP" : "ESP",
                            d.localSelectors().stream().map(Object::toString).toList(), d.remoteSelectors().stream().map(Object::toString).toList(),
                            since(made, now), until(child == null ? null : child.rekeyAt(), now), until(child == null ? null : child.expiresAt(), now),
                            s == null ? 0 : s.inBytes(), s == null ? 0 : s.inPackets(), s == null ? 0 : s.outBytes(), s == null ? 0 : s.outPackets(),
                            since(packetTimes.lastIn(spi), now), since(packetTimes.lastOut(spi), now), s != null && s.carriesOutbound(), drops, String.valueOf(child == null ? null : child.state())));
                }
                sas.add(new IkeSaStatus(hex.toHexDigits(sa.initiatorSpi()), hex.toHexDigits(sa.responderSpi()), sa.isInitiator(),
                        sa.state().name(), sa.proposal() == null ? null : sa.proposal().toString(), text(sa.localAddress()), text(sa.remoteAddress()),
                        sa.connection().localId().toString(), sa.peerIdentity() == null ? null : sa.peerIdentity().toString(), sa.natDetected(),
                        Duration.between(sa.createdAt(), now).toSeconds(), since(sa.establishedAt(), now), until(sa.rekeyAt(), now),
                        until(sa.expiresAt(), now), children));
            }
            Map<String, Long> metrics = new LinkedHashMap<>();
            Map<String, Long> drops = new LinkedHashMap<>();
            if (tunnel != null) {
                metrics.put("TunnelIngressPackets", tunnel.ingressPackets());
                metrics.put("TunnelIngressBytes", tunnel.ingressBytes());
                metrics.put("TunnelEgressPackets", tunnel.egressPackets());
                metrics.put("TunnelEgressBytes", tunnel.egressBytes());
                long ingressDrops = 0;
                long egressDrops = 0;
                for (var e : tunnel.drops().entrySet()) {
                    drops.put(e.getKey().name(), e.getValue());
                    if (e.getKey().isEgress()) {
                        egressDrops += e.getValue();
                    } else {
                        ingressDrops += e.getValue();
                    }
                }
                metrics.put("TunnelIngressPacketDropCount", ingressDrops);
                metrics.put("TunnelEgressPacketDropCount", egressDrops);
                metrics.put("TunnelIngressPacketDropTSMismatch", tunnel.drops().getOrDefault(Drop.TS_MISMATCH, 0L));
                metrics.put("TunnelEgressPacketDropTSMismatch", tunnel.drops().getOrDefault(Drop.TS_MISMATCH_EGRESS, 0L));
            }
            String peer = sites.get(c.localNetworkGateway()).peerText();
            String word = statusWord(sas);
            IkeCounters counted = ikeCounters == null ? null : ikeCounters.get(c.name());
            IkeCounters.Failure failure = counted == null || word.equals(CONNECTED) ? null : counted.lastFailure();
            connections.add(new ConnectionStatus(c.name(), c.connectionMode().name(), peer, c.usePolicyBasedTrafficSelectors(), word,
                    failure == null ? null : failure.why(), failure == null ? null : since(failure.at(), now), sas, metrics, drops,
                    c.enableBgp() ? bgp.get(c.name()) : null,
                    tunnel == null || tunnel.nat().isEmpty() ? null : tunnel.nat().stream().map(NatRuleStatus::of).toList()));
        }
        Map<String, Long> unattributed = new LinkedHashMap<>();
        for (Drop d : Drop.values()) {
            long n = global.drops(d);
            if (n > 0) {
                unattributed.put(d.name(), n);
            }
        }
        return new GatewayStatus(config.gateway().name(), instance.name(), config.gateway().vpnType().name(),
                config.gateway().sku().azureName(), config.gateway().sku().maxTunnels(),
                Duration.between(startedAt, now).toSeconds(), connections, unattributed, defense, ProcessStatus.now(), pair);
    }


    /**
     * Connected: an IKE SA up with a child SA that carries the traffic. Connecting: an IKE SA on
     * its way, or up without a child SA yet. NotConnected: no IKE SA at all.
     */
    static String statusWord(List<IkeSaStatus> sas) {
        boolean trying = false;
        for (IkeSaStatus sa : sas) {
            boolean up = sa.state().equals("ESTABLISHED") || sa.state().equals("REKEYING");
            if (up && sa.childSas().stream().anyMatch(ChildSaStatus::carriesOutbound)) {
                return CONNECTED;
            }
            trying |= up || sa.state().equals("CONNECTING");
        }
        return trying ? CONNECTING : NOT_CONNECTED;
    }

    /** Whole seconds since {@code then}, or null if it never happened. */
    private static Long since(Instant then, Instant now) {
        return then == null ? null : Duration.between(then, now).toSeconds();
    }

    /** Whole seconds until {@code then} (0 if overdue), or null if nothing is due. */
    private static Long until(Instant then, Instant now) {
        return then == null ? null : Math.max(0, Duration.between(now, then).toSeconds());
    }

    private static String text(java.net.InetSocketAddress a) {
        return a.getAddress().getHostAddress() + "[" + a.getPort() + "]";
    }
}
