package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.GatewayStatus.ChildSaStatus;
import io.isthmus.control.GatewayStatus.IkeSaStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code isthmus status} as an engineer reads it at 3 a.m.: Azure's status word and why a
 * connection is not connected, the times that apply to each SA and none that do not: no
 * {@code null}, no "established 0s ago" for an SA that never was.
 */
class StatusRenderTest {
    static IkeSaStatus connecting() {
        return new IkeSaStatus("0102030405060708", "0000000000000000", true, "CONNECTING", null, "10.77.0.1[500]", "10.77.0.2[500]",
                "10.77.0.1", null, false, 12, null, null, null, List.of());
    }

    static IkeSaStatus established(boolean withChild) {
        var child = new ChildSaStatus("c1000001", "c2000002", "AES_GCM_16_256", false, "ESP", List.of("0.0.0.0/0"), List.of("0.0.0.0/0"),
                303L, 2_990L, 3_300L, 100, 1, 200, 2, 65L, null, true, Map.of(), "INSTALLED");
        return new IkeSaStatus("1112131415161718", "2122232425262728", false, "ESTABLISHED", "AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384",
                "10.77.0.1[500]", "10.77.0.2[500]", "10.77.0.1", "10.77.0.2", false, 304, 303L, 10_200L, 10_497L,
                withChild ? List.of(child) : List.of());
    }

    static String render(GatewayStatus.ConnectionStatus... connections) throws Exception {
        GatewayStatus st = new GatewayStatus("gw", "gw1", "ROUTE_BASED", "VpnGw2", 30, 100, List.of(connections), Map.of(),
                new GatewayStatus.Defense(0, 0, 0, 0, 0), new GatewayStatus.ProcessStatus(1 << 20, 1 << 20, 1 << 20, 20), null);
        String json = ControlSocket.JSON.writeValueAsString(st);
        assertFalse(json.contains("null"), "absent fields are left out of the JSON, not written as null: " + json);
        return StatusCommand.render(ControlSocket.JSON.readTree(json));
    }

    @Test
    void aConnectionThatNeverCameUpSaysWhy() throws Exception {
        String why = "peer 10.77.0.2[500] did not answer IKE_SA_INIT request 0 in 45 s (7 transmissions): giving up";
        String out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTING, why, 125L,
                List.of(connecting()), Map.of(), Map.of(), null));
        assertTrue(out.contains("to-b: Connecting, peer 10.77.0.2, DEFAULT, route-based\n"), out);
        assertTrue(out.contains("  last failure 2m 5s ago: " + why + "\n"), out);
        assertTrue(out.contains(", CONNECTING\n"), "no proposal yet, and no 'null' for it: " + out);
        assertTrue(out.contains("remote '(not yet authenticated)'"), out);
        assertTrue(out.contains("not established, started 12s ago\n"), out);
        assertFalse(out.contains("null") || out.contains("established 0s"), out);
    }

    @Test
    void natRulesWithADynamicRulesFlowsInUse() throws Exception {
        var tunnelNat = List.of(new io.isthmus.dataplane.nat.TunnelNat.RuleStatus("b-in", io.isthmus.dataplane.nat.NatRule.Mode.INGRESS_SNAT,
                        io.isthmus.dataplane.nat.NatRule.Type.STATIC, "10.0.0.0/24", "100.64.1.0/24", 0, 0),
                new io.isthmus.dataplane.nat.TunnelNat.RuleStatus("hide", io.isthmus.dataplane.nat.NatRule.Mode.EGRESS_SNAT,
                        io.isthmus.dataplane.nat.NatRule.Type.DYNAMIC, "192.168.10.0/24", "100.70.0.1/32", 201, 256));
        String out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                List.of(established(true)), Map.of(), Map.of(), null, tunnelNat.stream().map(GatewayStatus.NatRuleStatus::of).toList()));
        assertTrue(out.contains("  nat b-in Static IngressSnat: 10.0.0.0/24 -> 100.64.1.0/24\n"), "a Static rule has no flows to show: " + out);
        assertTrue(out.contains("  nat hide Dynamic EgressSnat: 192.168.10.0/24 -> 100.70.0.1/32, 201 of 256 flows\n"), out);
        String none = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                List.of(established(true)), Map.of(), Map.of(), null));
        assertFalse(none.contains("nat "), none);
    }

    @Test
    void aBgpSessionAsAzureNamesItWithBirdsWordAndItsRoutes() throws Exception {
        var up = new io.isthmus.control.bgp.BgpPeerStatus("c_to_b", "Connected", "Established", "169.254.21.2", 65010L, "169.254.21.1", 303L,
                12L, 1L, 2L, "Received: Bad peer AS");
        String out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                List.of(established(true)), Map.of(), Map.of(), up));
        assertTrue(out.contains("  BGP Connected with 169.254.21.2 AS 65010 from 169.254.21.1 for 5m 3s (BIRD c_to_b: Established), "
                + "12 routes received (1 filtered), 2 advertised\n"), out);
        assertFalse(out.contains("last error"), "an old error is not shown while the session is up: " + out);
        var trying = new io.isthmus.control.bgp.BgpPeerStatus("c_to_b", "Connecting", "Active", "169.254.21.2", 65010L, null, null, null, null,
                null, "Socket: No route to host");
        out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTING, null, null,
                List.of(connecting()), Map.of(), Map.of(), trying));
        assertTrue(out.contains("  BGP Connecting with 169.254.21.2 AS 65010 (BIRD c_to_b: Active)\n    last error: Socket: No route to host\n"), out);
        out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTING, null, null,
                List.of(connecting()), Map.of(), Map.of(), io.isthmus.control.bgp.BgpPeerStatus.unknown("c_to_b", "BIRD: no answer")));
        assertTrue(out.contains("  BGP Unknown (BIRD c_to_b)\n    last error: BIRD: no answer\n"), out);
    }

    @Test
    void anEstablishedSaShowsItsAgeRekeyAndExpiry() throws Exception {
        String out = render(new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                List.of(established(true)), Map.of(), Map.of(), null));
        assertTrue(out.contains("to-b: Connected, peer 10.77.0.2"), out);
        assertFalse(out.contains("last failure"), out);
        assertTrue(out.contains("established 5m 3s ago, rekey in 2h 50m, expires in 2h 54m\n"), out);
        assertTrue(out.contains("child c1000001_i c2000002_o, INSTALLED, TUNNEL, ESP:AES_GCM_16_256, installed 5m 3s ago, rekey in 49m 50s, expires in 55m\n"),
                out);
        assertTrue(out.contains("      in  c1000001, 100 bytes, 1 packets, the last 1m 5s ago\n"), out);
        assertTrue(out.contains("      out c2000002, 200 bytes, 2 packets\n"), "no time for a direction not yet seen moving: " + out);
    }

    @Test
    void pointToSiteClientsPoolsAndTheFirstClientsOneALine() throws Exception {
        List<GatewayStatus.Client> clients = new java.util.ArrayList<>();
        clients.add(new GatewayStatus.Client("C=CH, O=HX, CN=alice", List.of("172.16.201.1", "fd00:201::1"), "10.77.0.2[4500]", "ESTABLISHED",
                303L, 12_345, 67_890));
        clients.add(new GatewayStatus.Client("dave", List.of("172.16.201.200"), "10.76.0.3[500]", "CONNECTING", null, 0, 0));
        for (int i = 3; i <= 25; i++) {
            clients.add(new GatewayStatus.Client("user" + i, List.of("172.16.201." + i), "10.77.1." + i + "[4500]", "ESTABLISHED", 60L, i, i));
        }
        var p2s = new GatewayStatus.PointToSite(24, 250, new GatewayStatus.Pool(25, 27, 500), new GatewayStatus.Pool(1, 1, 500), clients);
        GatewayStatus st = new GatewayStatus("gw", "gw1", "ROUTE_BASED", "VpnGw1", 30, 100, List.of(), Map.of(),
                new GatewayStatus.Defense(0, 0, 0, 0, 0), new GatewayStatus.ProcessStatus(1 << 20, 1 << 20, 1 << 20, 20), null).withPointToSite(p2s);
        String out = StatusCommand.render(ControlSocket.JSON.readTree(ControlSocket.JSON.writeValueAsString(st)));
        assertTrue(out.contains("point-to-site: 24 of 250 clients connected\n"), out);
        assertTrue(out.contains("  IPv4 pool: 25 clients, 27 addresses held (with those kept for a reconnect) of 500\n"), out);
        assertTrue(out.contains("  IPv6 pool: 1 clients, 1 addresses held (with those kept for a reconnect) of 500\n"), out);
        assertTrue(out.contains("  C=CH, O=HX, CN=alice 172.16.201.1 fd00:201::1 from 10.77.0.2[4500], connected for 5m 3s, 12345 bytes in,"
                + " 67890 bytes out\n"), out);
        assertTrue(out.contains("  dave 172.16.201.200 from 10.76.0.3[500], CONNECTING, 0 bytes in, 0 bytes out\n"), "not connected yet: no age; " + out);
        assertTrue(out.contains("  user20 172.16.201.20 ") && !out.contains("user21"), "the first 20 clients, one a line: " + out);
        assertTrue(out.contains("  ... 5 more (isthmus status --json lists them all)\n"), out);
        assertFalse(out.contains("null"), out);
        var small = new GatewayStatus.PointToSite(1, 250, new GatewayStatus.Pool(1, 1, 500), null, clients.subList(0, 1));
        String one = StatusCommand.render(ControlSocket.JSON.readTree(ControlSocket.JSON.writeValueAsString(st.withPointToSite(small))));
        assertFalse(one.contains("IPv6 pool") || one.contains("more"), "no IPv6 pool, nothing left out: " + one);
        assertFalse(render().contains("point-to-site"), "a gateway without vpnClientConfiguration says nothing of it");
    }

    @Test
    void theStatusWordFollowsTheSas() {
        assertEquals(GatewayStatus.NOT_CONNECTED, GatewayStatus.statusWord(List.of()));
        assertEquals(GatewayStatus.CONNECTING, GatewayStatus.statusWord(List.of(connecting())));
        assertEquals(GatewayStatus.CONNECTING, GatewayStatus.statusWord(List.of(established(false))), "IKE up, no child SA yet");
        assertEquals(GatewayStatus.CONNECTED, GatewayStatus.statusWord(List.of(connecting(), established(true))));
    }

    @Test
    void oneConnectionAlone() throws Exception {
        GatewayStatus st = new GatewayStatus("gw", "gw1", "ROUTE_BASED", "VpnGw2", 30, 100, List.of(
                new GatewayStatus.ConnectionStatus("to-b", "DEFAULT", "10.77.0.2", false, GatewayStatus.CONNECTED, null, null,
                        List.of(established(true)), Map.of(), Map.of(), null),
                new GatewayStatus.ConnectionStatus("to-c", "DEFAULT", "10.76.0.3", false, GatewayStatus.NOT_CONNECTED, null, null,
                        List.of(), Map.of(), Map.of(), null)), Map.of(), new GatewayStatus.Defense(0, 0, 0, 0, 0),
                new GatewayStatus.ProcessStatus(1, 1, 1, 1), null);
        var tree = ControlSocket.JSON.readTree(ControlSocket.JSON.writeValueAsString(st));
        assertEquals("no connection 'to-d'; this gateway has to-b, to-c", StatusCommand.only(tree, "to-d"));
        assertEquals(null, StatusCommand.only(tree, "to-c"));
        String out = StatusCommand.render(tree);
        assertTrue(out.contains("to-c: NotConnected") && !out.contains("to-b"), out);
    }

    @Test
    void durationsAreSaidAsAPersonSaysThem() {
        assertEquals("0s", StatusCommand.duration(0));
        assertEquals("59s", StatusCommand.duration(59));
        assertEquals("1m", StatusCommand.duration(60));
        assertEquals("1h", StatusCommand.duration(3600));
        assertEquals("1h 1m", StatusCommand.duration(3661));
        assertEquals("2d 3h", StatusCommand.duration(2 * 86_400 + 3 * 3600 + 59));
    }
}
