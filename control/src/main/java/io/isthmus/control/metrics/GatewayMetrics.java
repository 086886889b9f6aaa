package io.isthmus.control.metrics;

import io.isthmus.control.GatewayStatus;
import io.isthmus.control.GatewayStatus.ChildSaStatus;
import io.isthmus.control.GatewayStatus.ConnectionStatus;
import io.isthmus.control.GatewayStatus.IkeSaStatus;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.dataplane.Drop;
import io.isthmus.ike.ChildSa;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeSaState;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gateway's metrics, made at each scrape from one {@link GatewayStatus} (the snapshot
 * {@code isthmus status} shows: the data plane's lock-free counters read once, the IKE SAs read
 * on the IKE thread) and the IKE engine's {@link IkeCounters}: nothing is added to the packet
 * path, and nothing is kept between scrapes. The HELP text names the Azure VPN Gateway metric
 * each one stands for, where there is one.
 *
 * <p>No metric carries a label named {@code instance}: Prometheus gives every target that label
 * itself. The pair instance's name is in {@code isthmus_gateway_info}.
 */
public final class GatewayMetrics implements MultiCollector {
    /** What one scrape reads; a null status while the gateway is still starting. */
    public record Scrape(GatewayStatus status, IkeCounters.ByConnection ike) {
    }

    private final String version;
    private final Supplier<Scrape> source;

    public GatewayMetrics(String version, Supplier<Scrape> source) {
        this.version = version;
        this.source = source;
    }

    @Override
    public MetricSnapshots collect() {
        return of(version, source.get());
    }

    static MetricSnapshots of(String version, Scrape scrape) {
        Families f = new Families();
        f.gauge("isthmus_build_info", "The Isthmus build that serves these metrics (always 1).", null).add(1, "version", version,
                "java", Runtime.version().toString());
        GatewayStatus s = scrape.status();
        if (s != null) {
            f.gauge("isthmus_gateway_info", "The gateway, this instance of it, its VPN type and SKU (always 1).", null).add(1,
                    "gateway", s.gateway(), "gateway_instance", s.instance(), "vpn_type", s.vpnType(), "sku", s.sku());
            f.gauge("isthmus_gateway_max_tunnels", "Site-to-site tunnels the SKU allows (Azure: the SKU's S2S tunnel limit).", null)
                    .add(s.skuMaxTunnels());
            // In the order the client library sorts each family's points into (by label, connection first): its sort then only
            // checks them, where the file's order made it sort 10,000 connections' points per family at every scrape.
            List<ConnectionStatus> byName = new java.util.ArrayList<>(s.connections());
            byName.sort(java.util.Comparator.comparing(ConnectionStatus::name));
            for (ConnectionStatus c : byName) {
                connection(f, c, scrape.ike() == null ? null : scrape.ike().get(c.name()));
            }
            var drops = f.counter("isthmus_packet_drops", "Packets dropped where no connection can be named (an unknown SPI, no route), "
                    + "by direction and reason.", null);
            s.unattributedDrops().forEach((reason, n) -> drops.add(n, "direction", unattributedDirection(reason), "reason", reason(reason)));
            defense(f, s.defense());
            if (s.pointToSite() != null) {
                pointToSite(f, s.pointToSite());
            }
            if (s.pair() != null) {
                PairMetrics.add(f, s.pair());
            }
        }
        return f.snapshots();
    }

    private static void connection(Families f, ConnectionStatus c, IkeCounters ike) {
        String name = c.name();
        Map<String, Long> m = c.metrics();
        if (c.bgp() != null) {
            bgp(f, name, c.bgp());
        }
        f.counter("isthmus_tunnel_ingress_bytes", "Bytes received through the tunnel, after decryption (Azure: TunnelIngressBytes).",
                Unit.BYTES).put(m.getOrDefault("TunnelIngressBytes", 0L), "connection", name);
        f.counter("isthmus_tunnel_egress_bytes", "Bytes sent into the tunnel, before encryption (Azure: TunnelEgressBytes).", Unit.BYTES)
                .put(m.getOrDefault("TunnelEgressBytes", 0L), "connection", name);
        f.counter("isthmus_tunnel_ingress_packets", "Packets received through the tunnel (Azure: TunnelIngressPackets).", null)
                .put(m.getOrDefault("TunnelIngressPackets", 0L), "connection", name);
        f.counter("isthmus_tunnel_egress_packets", "Packets sent into the tunnel (Azure: TunnelEgressPackets).", null)
                .put(m.getOrDefault("TunnelEgressPackets", 0L), "connection", name);
        var drops = f.counter("isthmus_tunnel_packet_drops", "Packets of the tunnel dropped, by direction and reason (Azure: "
                + "TunnelIngressPacketDropCount and TunnelEgressPacketDropCount; reason ts_mismatch: TunnelIngressPacketDropTSMismatch "
                + "and TunnelEgressPacketDropTSMismatch; esp_replay: replayed ESP packets).", null);
        // Always there, at 0 until it happens, so that a rate() or an alert on it works from the first scrape.
        Map<List<String>, Long> byReason = new LinkedHashMap<>();
        byReason.put(List.of("ingress", "ts_mismatch"), 0L);
        byReason.put(List.of("egress", "ts_mismatch"), 0L);
        byReason.put(List.of("ingress", "esp_replay"), 0L);
        c.drops().forEach((reason, n) -> byReason.merge(List.of(direction(reason), reason(reason)), n, Long::sum));
        byReason.forEach((k, n) -> drops.put(n, "connection", name, "direction", k.get(0), "reason", k.get(1)));

        var ikeSas = f.gauge("isthmus_ike_sas", "IKE SAs by state (Azure: MmsaCount counts the established ones).", null);
        var childSas = f.gauge("isthmus_child_sas", "Child (ESP) SAs by state (Azure: QmsaCount counts the installed ones).", null);
        // Counted here, each state put once: the families keep half a million points at 10,000 connections without a lookup each.
        Map<String, Integer> ikeStates = new LinkedHashMap<>();
        for (IkeSaState st : IkeSaState.values()) {
            if (st != IkeSaState.DESTROYED) {
                ikeStates.put(lower(st.name()), 0);
            }
        }
        Map<String, Integer> childStates = new LinkedHashMap<>();
        for (ChildSa.State st : ChildSa.State.values()) {
            childStates.put(lower(st.name()), 0);
        }
        for (IkeSaStatus sa : c.ikeSas()) {
            ikeStates.merge(lower(sa.state()), 1, Integer::sum);
            for (ChildSaStatus child : sa.childSas()) {
                childStates.merge(lower(child.state()), 1, Integer::sum);
            }
        }
        ikeStates.forEach((st, n) -> ikeSas.put(n, "connection", name, "state", st));
        childStates.forEach((st, n) -> childSas.put(n, "connection", name, "state", st));
        f.gauge("isthmus_connection_up", "1 while the connection has an established IKE SA and a child SA that carries its traffic "
                + "(Azure's connection status Connected), else 0.", null).put(GatewayStatus.CONNECTED.equals(c.status()) ? 1 : 0,
                "connection", name);
        ike(f, name, ike == null ? new IkeCounters() : ike);
    }

    private static void ike(Families f, String name, IkeCounters ike) {
        var messages = f.counter("isthmus_ike_messages", "IKE messages by exchange, direction (in, out) and kind (request, response, "
                + "retransmission: a copy of either, sent again or received again); one in counts once taken up: an IKE_SA_INIT "
                + "request answered, any other once its integrity check passed.", null);
        // Only the combinations that happened: all 30 at 0 (retransmissions, OTHER, a role the connection never takes) were 300,000
        // series at 10,000 connections, more than half of a 52 MB scrape that took over a second. A new series is read by rate() from
        // its second scrape on, as the dashboard's does; the counters an alert would watch (timeouts, authentication failures,
        // drops) stay at 0 from the start.
        for (IkeCounters.Exchange e : IkeCounters.Exchange.values()) {
            for (IkeCounters.Direction d : IkeCounters.Direction.values()) {
                for (IkeCounters.Kind k : IkeCounters.Kind.values()) {
                    long n = ike.messages(e, d, k);
                    if (n > 0) {
                        messages.put(n, "connection", name, "exchange", e.name(), "direction", lower(d.name()), "kind", lower(k.name()));
                    }
                }
            }
        }
        f.counter("isthmus_ike_rekeys", "Rekeys completed, of the IKE SA (sa=ike) or of a child SA (sa=child), by either side.", null)
                .put(ike.ikeRekeys(), "connection", name, "sa", "ike").put(ike.childRekeys(), "connection", name, "sa", "child");
        var auth = f.counter("isthmus_ike_authentication_failures", "IKE_AUTH refused: the peer's authentication by us (refused_by=local) "
                + "or ours by the peer (refused_by=peer).", null);
        for (IkeCounters.Refuser r : IkeCounters.Refuser.values()) {
            auth.put(ike.authenticationFailures(r), "connection", name, "refused_by", lower(r.name()));
        }
        var timeouts = f.counter("isthmus_ike_request_timeouts", "Requests of ours the peer never answered within the dead peer timeout, "
                + "by exchange: each one ended the IKE SA (exchange INFORMATIONAL: dead peer detection's liveness checks, DPD timeouts).", null);
        for (IkeCounters.Exchange e : IkeCounters.Exchange.values()) {
            timeouts.put(ike.timeouts(e), "connection", name, "exchange", e.name());
        }
    }

    /**
     * Point-to-site: clients connected (Azure: P2SConnectionCount) and each pool's use; per-client
     * bytes stay in status, as a series per client identity would grow with every laptop.
     */
    private static void pointToSite(Families f, GatewayStatus.PointToSite p) {
        f.gauge("isthmus_p2s_connections", "Point-to-site clients with an IKE SA up and their address (Azure: P2SConnectionCount).", null)
                .add(p.connectedClients());
        var used = f.gauge("isthmus_p2s_pool_addresses", "Client pool addresses held, by family: by a connected client (state=live), or also "
                + "kept for a client's reconnect (state=held).", null);
        var capacity = f.gauge("isthmus_p2s_pool_capacity", "Client pool addresses that may be held at once, by family.", null);
        for (var e : new Object[][] {{"ipv4", p.ipv4Pool()}, {"ipv6", p.ipv6Pool()}}) {
            if (e[1] instanceof GatewayStatus.Pool pool) {
                used.add(pool.liveClients(), "family", (String) e[0], "state", "live").add(pool.heldAddresses(), "family", (String) e[0], "state", "held");
                capacity.add(pool.capacity(), "family", (String) e[0]);
            }
        }
    }

    private static void defense(Families f, GatewayStatus.Defense d) {
        f.gauge("isthmus_ike_half_open_sas", "Responder IKE SAs waiting for their IKE_AUTH (what a flood of IKE_SA_INIT fills).", null)
                .add(d.halfOpenIkeSas());
        f.counter("isthmus_ike_cookies_sent", "IKE_SA_INIT requests answered with a cookie (RFC 7296 §2.6) instead of work.", null)
                .add(d.cookiesSent());
        f.counter("isthmus_ike_port4500_datagrams", "IKE datagrams that came in on port 4500 through the data plane, taken up "
                + "(outcome=accepted) or dropped because the IKE thread was behind (outcome=dropped).", null)
                .add(d.ikeFromPort4500(), "outcome", "accepted").add(d.ikeFromPort4500Dropped(), "outcome", "dropped");
        f.counter("isthmus_ike_key_pairs_generated", "Diffie-Hellman key pairs generated (the work a flood tries to cause).", null)
                .add(d.keyPairsGenerated());
    }

    /**
     * Drops no tunnel is named for: NO_ROUTE and MALFORMED_INNER come from the TUN device, so on
     * the way out (a tunnel's MALFORMED_INNER is one that came out of an SA: on the way in).
     */
    static String unattributedDirection(String dropReason) {
        return dropReason.equals(Drop.NO_ROUTE.name()) || dropReason.equals(Drop.MALFORMED_INNER.name()) ? "egress" : direction(dropReason);
    }

    static String direction(String dropReason) {
        try {
            return Drop.valueOf(dropReason).isEgress() ? "egress" : "ingress";
        } catch (IllegalArgumentException e) {
            return "unknown";
        }
    }

    /** A drop's reason as a label: both directions of a traffic selector mismatch are ts_mismatch, as in Azure. */
    static String reason(String drop) {
        return drop.equals(Drop.TS_MISMATCH_EGRESS.name()) ? "ts_mismatch" : lower(drop);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** A BGP connection's session as BIRD reports it; no route counts while BIRD cannot say (its session down, or BIRD not answering). */
    private static void bgp(Families f, String connection, io.isthmus.control.bgp.BgpPeerStatus b) {
        f.gauge("isthmus_bgp_peer_up", "Whether the connection's BGP session is established, 1, or not, 0 (Azure: BGP Peer Status, Connected).",
                null).put(b.state().equals(io.isthmus.control.bgp.BgpPeerStatus.CONNECTED) ? 1 : 0, "connection", connection);
        if (b.routesReceived() != null) {
            var routes = f.gauge("isthmus_bgp_routes", "Routes of the connection's BGP session: received (taken by the import filter), filtered "
                    + "(refused by it), advertised (Azure: BGP Routes Learned, BGP Routes Advertised).", null);
            routes.put(b.routesReceived(), "connection", connection, "direction", "received");
            routes.put(b.routesFiltered() == null ? 0 : b.routesFiltered(), "connection", connection, "direction", "filtered");
            routes.put(b.routesAdvertised() == null ? 0 : b.routesAdvertised(), "connection", connection, "direction", "advertised");
        }
    }
}
