package io.isthmus.control.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.GatewayStatus;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.ike.IkeCounters;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The metrics of a gateway's status as Prometheus reads them: every family named as the README
 * lists it, the values where they belong, and text that Prometheus's own checker
 * ({@code promtool check metrics}, Debian's prometheus package) passes without a word.
 */
class GatewayMetricsTest {
    static GatewayStatus status(GatewayPair.Status pair) {
        Map<String, Long> metrics = new LinkedHashMap<>();
        metrics.put("TunnelIngressPackets", 10L);
        metrics.put("TunnelIngressBytes", 12_000L);
        metrics.put("TunnelEgressPackets", 7L);
        metrics.put("TunnelEgressBytes", 700L);
        var child = new GatewayStatus.ChildSaStatus("c1000001", "c2000002", "AES_GCM_16_256", false, "ESP", List.of("0.0.0.0/0"),
                List.of("0.0.0.0/0"), 5L, 3000L, 3300L, 12_000, 10, 700, 7, 1L, 1L, true, Map.of(), "INSTALLED");
        var old = new GatewayStatus.ChildSaStatus("c1000000", "c2000000", "AES_GCM_16_256", false, "ESP", List.of("0.0.0.0/0"),
                List.of("0.0.0.0/0"), 50L, null, null, 0, 0, 0, 0, null, null, false, Map.of(), "REKEYED");
        var ike = new GatewayStatus.IkeSaStatus("0102030405060708", "1112131415161718", true, "ESTABLISHED", "AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384",
                "10.77.0.1[500]", "10.77.0.2[500]", "10.77.0.1", "10.77.0.2", false, 61, 60L, 10_000L, 10_800L, List.of(child, old));
        var up = new GatewayStatus.ConnectionStatus("to-site \"b\"", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                List.of(ike), metrics,
                Map.of("ESP_REPLAY", 3L, "TS_MISMATCH", 2L, "TS_MISMATCH_EGRESS", 4L, "NO_SA", 1L),
                new io.isthmus.control.bgp.BgpPeerStatus("c_to_site__b_", "Connected", "Established", "169.254.21.2", 65010L, "169.254.21.1", 300L,
                        12L, 1L, 2L, null));
        var down = new GatewayStatus.ConnectionStatus("to-c", "DEFAULT", "10.76.0.3", true, GatewayStatus.NOT_CONNECTED,
                "peer 10.76.0.3[500] did not answer IKE_SA_INIT request 0 in 45 s (7 transmissions): giving up", 12L, List.of(), Map.of(), Map.of(),
                io.isthmus.control.bgp.BgpPeerStatus.unknown("c_to_c", "BIRD: BIRD did not answer within 2000 ms"));
        return new GatewayStatus("gw", "gw1", "ROUTE_BASED", "VpnGw2", 30, 100, List.of(up, down), Map.of("UNKNOWN_SPI", 9L, "NO_ROUTE", 2L),
                new GatewayStatus.Defense(4, 2, 11, 1, 33), null, pair);
    }

    static String text(IkeCounters.ByConnection ike, GatewayStatus status) throws IOException {
        var snapshots = new GatewayMetrics("1.2.3", () -> new GatewayMetrics.Scrape(status, ike)).collect();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, snapshots);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void pointToSiteClientsAndPoolUseAreSeries() throws Exception {
        var p2s = new GatewayStatus.PointToSite(2, 500, new GatewayStatus.Pool(2, 3, 1000), null,
                List.of(new GatewayStatus.Client("alice", List.of("172.16.201.1"), "10.77.0.2[4500]", "ESTABLISHED", 5L, 100, 200)));
        String t = text(new IkeCounters.ByConnection(), status(null).withPointToSite(p2s));
        assertTrue(t.contains("isthmus_p2s_connections 2.0"), t);
        assertTrue(t.contains("isthmus_p2s_pool_addresses{family=\"ipv4\",state=\"live\"} 2.0"), t);
        assertTrue(t.contains("isthmus_p2s_pool_addresses{family=\"ipv4\",state=\"held\"} 3.0"), t);
        assertTrue(t.contains("isthmus_p2s_pool_capacity{family=\"ipv4\"} 1000.0"), t);
        assertTrue(!t.contains("family=\"ipv6\"") && !t.contains("alice"), "no IPv6 pool, no series per client: " + t);
        assertTrue(!text(new IkeCounters.ByConnection(), status(null)).contains("isthmus_p2s"), "none without point-to-site");
    }

    @Test
    void aConnectionsCountersAreItsSeries() throws Exception {
        String t = text(new IkeCounters.ByConnection(), status(null));
        assertTrue(t.contains("isthmus_tunnel_ingress_bytes_total{connection=\"to-site \\\"b\\\"\"} 12000.0"), t);
        assertTrue(t.contains("isthmus_tunnel_egress_packets_total{connection=\"to-site \\\"b\\\"\"} 7.0"), t);
        assertTrue(t.contains("isthmus_tunnel_packet_drops_total{connection=\"to-site \\\"b\\\"\",direction=\"ingress\",reason=\"esp_replay\"} 3.0"), t);
        assertTrue(t.contains("isthmus_tunnel_packet_drops_total{connection=\"to-site \\\"b\\\"\",direction=\"ingress\",reason=\"ts_mismatch\"} 2.0"), t);
        assertTrue(t.contains("isthmus_tunnel_packet_drops_total{connection=\"to-site \\\"b\\\"\",direction=\"egress\",reason=\"ts_mismatch\"} 4.0"), t);
        assertTrue(t.contains("isthmus_tunnel_packet_drops_total{connection=\"to-site \\\"b\\\"\",direction=\"egress\",reason=\"no_sa\"} 1.0"), t);
        // A connection with nothing yet has its series at 0, so that rate() and alerts work from the first scrape.
        assertTrue(t.contains("isthmus_tunnel_packet_drops_total{connection=\"to-c\",direction=\"egress\",reason=\"ts_mismatch\"} 0.0"), t);
        assertTrue(t.contains("isthmus_connection_up{connection=\"to-site \\\"b\\\"\"} 1.0"), t);
        assertTrue(t.contains("isthmus_connection_up{connection=\"to-c\"} 0.0"), t);
        assertTrue(t.contains("isthmus_ike_sas{connection=\"to-site \\\"b\\\"\",state=\"established\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_sas{connection=\"to-c\",state=\"connecting\"} 0.0"), t);
        assertTrue(t.contains("isthmus_child_sas{connection=\"to-site \\\"b\\\"\",state=\"installed\"} 1.0"), t);
        assertTrue(t.contains("isthmus_child_sas{connection=\"to-site \\\"b\\\"\",state=\"rekeyed\"} 1.0"), t);
        assertTrue(t.contains("isthmus_packet_drops_total{direction=\"ingress\",reason=\"unknown_spi\"} 9.0"), t);
        assertTrue(t.contains("isthmus_packet_drops_total{direction=\"egress\",reason=\"no_route\"} 2.0"), t);
        assertTrue(t.contains("isthmus_ike_cookies_sent_total 4.0"), t);
        assertTrue(t.contains("isthmus_ike_half_open_sas 2.0"), t);
        assertTrue(t.contains("isthmus_build_info{java=\"" + Runtime.version() + "\",version=\"1.2.3\"} 1.0"), t);
        assertTrue(t.contains("isthmus_gateway_info{gateway=\"gw\",gateway_instance=\"gw1\",sku=\"VpnGw2\",vpn_type=\"ROUTE_BASED\"} 1.0"), t);
        assertTrue(t.contains("# HELP isthmus_tunnel_ingress_bytes_total Bytes received through the tunnel, after decryption (Azure: TunnelIngressBytes)."), t);
    }

    @Test
    void aBgpSessionIsUpOrNotAndCountsItsRoutes() throws Exception {
        String t = text(new IkeCounters.ByConnection(), status(null));
        assertTrue(t.contains("isthmus_bgp_peer_up{connection=\"to-site \\\"b\\\"\"} 1.0"), t);
        assertTrue(t.contains("isthmus_bgp_routes{connection=\"to-site \\\"b\\\"\",direction=\"received\"} 12.0"), t);
        assertTrue(t.contains("isthmus_bgp_routes{connection=\"to-site \\\"b\\\"\",direction=\"filtered\"} 1.0"), t);
        assertTrue(t.contains("isthmus_bgp_routes{connection=\"to-site \\\"b\\\"\",direction=\"advertised\"} 2.0"), t);
        // BIRD did not answer for to-c: down, and no route counts rather than made-up zeros.
        assertTrue(t.contains("isthmus_bgp_peer_up{connection=\"to-c\"} 0.0"), t);
        assertFalse(t.contains("isthmus_bgp_routes{connection=\"to-c\""), t);
    }

    @Test
    void theIkeEnginesCountsAreLabelledByExchangeDirectionAndKind() throws Exception {
        IkeCounters.ByConnection ike = new IkeCounters.ByConnection();
        IkeCounters c = ike.of("to-c");
        c.message(37, IkeCounters.Direction.OUT, IkeCounters.Kind.REQUEST);
        c.message(37, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION);
        c.message(35, IkeCounters.Direction.IN, IkeCounters.Kind.RESPONSE);
        c.message(99, IkeCounters.Direction.IN, IkeCounters.Kind.REQUEST);
        c.timedOut(37);
        c.authenticationFailed(IkeCounters.Refuser.PEER);
        c.childRekeyed();
        c.childRekeyed();
        c.ikeRekeyed();
        String t = text(ike, status(null));
        assertTrue(t.contains("isthmus_ike_messages_total{connection=\"to-c\",direction=\"out\",exchange=\"INFORMATIONAL\",kind=\"request\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_messages_total{connection=\"to-c\",direction=\"out\",exchange=\"INFORMATIONAL\",kind=\"retransmission\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_messages_total{connection=\"to-c\",direction=\"in\",exchange=\"IKE_AUTH\",kind=\"response\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_messages_total{connection=\"to-c\",direction=\"in\",exchange=\"OTHER\",kind=\"request\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_request_timeouts_total{connection=\"to-c\",exchange=\"INFORMATIONAL\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_authentication_failures_total{connection=\"to-c\",refused_by=\"peer\"} 1.0"), t);
        assertTrue(t.contains("isthmus_ike_rekeys_total{connection=\"to-c\",sa=\"child\"} 2.0"), t);
        assertTrue(t.contains("isthmus_ike_rekeys_total{connection=\"to-c\",sa=\"ike\"} 1.0"), t);
        // Nothing counted for the other connection: its series are there, at 0, but for the messages: a combination appears
        // once it happened (30 at 0 per connection were 300,000 series at 10,000 connections).
        assertTrue(t.contains("isthmus_ike_rekeys_total{connection=\"to-site \\\"b\\\"\",sa=\"child\"} 0.0"), t);
        assertTrue(t.contains("isthmus_ike_request_timeouts_total{connection=\"to-site \\\"b\\\"\",exchange=\"INFORMATIONAL\"} 0.0"), t);
        assertFalse(t.contains("isthmus_ike_messages_total{connection=\"to-site \\\"b\\\"\""), t);
        assertFalse(t.contains("isthmus_ike_messages_total{connection=\"to-c\",direction=\"in\",exchange=\"IKE_SA_INIT\""), t);
        assertEquals(4, t.lines().filter(l -> l.startsWith("isthmus_ike_messages_total{")).count(), t);
    }

    /** A reload's removed connection is forgotten; one that comes back counts from zero, a counter reset. */
    @Test
    void removedConnectionsAreForgotten() {
        IkeCounters.ByConnection ike = new IkeCounters.ByConnection();
        ike.of("a").childRekeyed();
        ike.of("b").childRekeyed();
        ike.retainOnly(List.of("b"));
        assertEquals(null, ike.get("a"));
        assertEquals(1, ike.get("b").childRekeys());
    }

    @Test
    void thePairShowsItsLinkGroupsAndTakeovers() throws Exception {
        var link = new GatewayPair.Link(true, "2026-12-02T10:00:00Z", 120L, 3, 100, 90, 1, 2, 0, 5, 6, 7, 8, 9000);
        var groups = List.of(new GatewayPair.GroupStatus("g1", "10.77.0.10", "gw1", 4, "MASTER", "2026-12-02T10:00:00Z"),
                new GatewayPair.GroupStatus("g2", "10.77.0.11", "gw2", 2, "BACKUP", "2026-12-02T10:00:00Z"));
        var last = new GatewayPair.LastTakeover("g1", "2026-12-02T10:05:00Z", 42, 1, 1, 0, false, 0);
        var pair = new GatewayPair.Status("gw1", "gw2", link, groups, last, 3, 1, null, 8, 0);
        String t = text(new IkeCounters.ByConnection(), status(pair));
        assertTrue(t.contains("isthmus_pair_sync_connected{partner=\"gw2\"} 1.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_last_heard_seconds{partner=\"gw2\"} 0.12"), t);
        assertTrue(t.contains("isthmus_pair_sync_lag_updates{partner=\"gw2\"} 3.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_updates_fenced_total{partner=\"gw2\"} 5.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_slow_partner_closes_total{partner=\"gw2\"} 6.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_unacknowledged_closes_total{partner=\"gw2\"} 7.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_read_pauses_total{partner=\"gw2\"} 8.0"), t);
        assertTrue(t.contains("isthmus_pair_sync_unapplied_bytes{partner=\"gw2\"} 9000.0"), t);
        assertTrue(t.contains("isthmus_pair_group_carried{carried_by=\"gw2\",floating_address=\"10.77.0.11\",group=\"g2\"} 1.0"), t);
        assertTrue(t.contains("isthmus_pair_group_epoch{group=\"g1\"} 4.0"), t);
        assertTrue(t.contains("isthmus_pair_takeovers_total{how=\"failover\"} 2.0"), t);
        assertTrue(t.contains("isthmus_pair_takeovers_total{how=\"handover\"} 1.0"), t);
        assertTrue(t.contains("isthmus_pair_last_takeover_duration_seconds{group=\"g1\"} 0.042"), t);
        assertTrue(t.contains("isthmus_pair_ike_datagrams_held_total 8.0"), t);
    }

    @Test
    void whileTheGatewayStartsOnlyTheBuildIsShown() throws Exception {
        var snapshots = new GatewayMetrics("1.2.3", () -> new GatewayMetrics.Scrape(null, null)).collect();
        assertEquals(1, snapshots.size());
        assertEquals("isthmus_build_info", snapshots.get(0).getMetadata().getName());
    }

    /** Prometheus's own checker reads the text as Prometheus would, and lints the names, units and help. */
    @Test
    void promtoolPassesTheText() throws Exception {
        var link = new GatewayPair.Link(false, null, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        var pair = new GatewayPair.Status("gw1", "gw2", link, List.of(), null, 0, 0, null, 0, 0);
        String t = text(new IkeCounters.ByConnection(), status(pair));
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(t.getBytes(StandardCharsets.UTF_8));
        }
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), said + "\n" + t);
        assertEquals("", said.strip(), t);
    }
}
