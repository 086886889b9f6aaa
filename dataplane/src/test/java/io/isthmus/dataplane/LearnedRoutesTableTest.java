package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.esp.Lifetime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Prefixes learned over BGP beside the configured ones in one tunnel table. */
class LearnedRoutesTableTest {
    final ForwardingTest t = new ForwardingTest();

    static Dataplane.TunnelSpec spec(String name, boolean policyBased, String... prefixes) {
        return new Dataplane.TunnelSpec(name, policyBased, List.of(prefixes));
    }

    String tunnelFor(String destination) {
        byte[] p = destination.contains(":") ? Packets.udp6("fd10::5", destination, 1, 2, 10) : Packets.udp4("192.168.10.5", destination, 1, 2, 10);
        Tunnel tunnel = t.a.snapshot().tunnel(p, 0);
        return tunnel == null ? null : tunnel.name();
    }

    @Test
    void longestPrefixWinsAndOfTheSameLengthTheConfiguredOne() {
        t.tunnels(false);
        t.a.tunnels(List.of(spec("static-site", false, "10.1.0.0/16", "10.2.0.0/16"), spec("bgp-site", false, "169.254.21.2/32")));
        t.a.learnedRoutes(Map.of("bgp-site", List.of("10.1.0.0/16", "10.1.5.0/24", "10.0.0.0/8", "fd30::/48")));
        assertEquals("static-site", tunnelFor("10.1.9.9"), "the same /16 configured and learned: the configured one");
        assertEquals("bgp-site", tunnelFor("10.1.5.9"), "a longer learned prefix wins over a configured /16");
        assertEquals("static-site", tunnelFor("10.2.5.9"), "a longer configured prefix wins over a learned /8");
        assertEquals("bgp-site", tunnelFor("10.200.0.1"));
        assertEquals("bgp-site", tunnelFor("fd30::1"));
        assertNull(tunnelFor("192.0.2.1"));
        assertEquals(List.of("10.1.5.0/24 -> bgp-site (learned)", "10.0.0.0/8 -> bgp-site (learned)",
                        "fd30:0:0:0:0:0:0:0/48 -> bgp-site (learned)", "10.1.0.0/16 -> static-site", "10.2.0.0/16 -> static-site",
                        "169.254.21.2/32 -> bgp-site"),
                t.a.tunnelRoutes().stream().map(Object::toString).toList(), "the learned /16 the configured one has is left out");
    }

    @Test
    void learnedRoutesSurviveAReloadAndTheTunnelsKeepTheirSas() {
        t.tunnels(false);
        t.a.tunnels(List.of(spec("to-b", false, "192.168.20.0/24")));
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        Tunnel before = t.a.tunnelsForTests().get("to-b");
        long rebuilds = t.a.tunnelTableRebuilds();
        t.a.learnedRoutes(Map.of("to-b", List.of("10.50.0.0/16")));
        assertEquals(rebuilds + 1, t.a.tunnelTableRebuilds());
        assertEquals(1, ForwardingTest.outbound(t.a, "to-b").length, "the SA stays");
        assertEquals(List.of(0x1001), t.sendFromA(Packets.udp4("192.168.10.5", "10.50.3.4", 1, 2, 10)).stream()
                .map(e -> io.isthmus.esp.EspPacket.spi(e, 0)).toList(), "a learned prefix carries traffic at once");
        // A reload that keeps the tunnel keeps its learned prefixes; one that removes it takes them out of the table.
        t.a.tunnels(List.of(spec("to-b", false, "192.168.20.0/24", "192.168.21.0/24")));
        assertSame(before, t.a.tunnelsForTests().get("to-b"));
        assertEquals("to-b", tunnelFor("10.50.3.4"));
        t.a.tunnels(List.of(spec("other", false, "10.9.0.0/16")));
        assertNull(tunnelFor("10.50.3.4"));
        // ...and held: if it comes back, so do they.
        t.a.tunnels(List.of(spec("other", false, "10.9.0.0/16"), spec("to-b", false, "192.168.20.0/24")));
        assertEquals("to-b", tunnelFor("10.50.3.4"));
        t.a.learnedRoutes(Map.of());
        assertNull(tunnelFor("10.50.3.4"));
    }

    @Test
    void aPolicyBasedTunnelTakesNoLearnedPrefixesAndABadPrefixChangesNothing() {
        t.tunnels(false);
        t.a.tunnels(List.of(spec("policy", true, "10.1.0.0/16"), spec("route", false, "10.2.0.0/16")));
        t.a.learnedRoutes(Map.of("policy", List.of("10.60.0.0/16"), "route", List.of("10.61.0.0/16")));
        assertNull(tunnelFor("10.60.0.1"));
        assertEquals("route", tunnelFor("10.61.0.1"));
        long rebuilds = t.a.tunnelTableRebuilds();
        Map<String, List<String>> bad = new LinkedHashMap<>();
        bad.put("route", List.of("10.62.0.0/16", "10.63.0.1/16"));
        assertThrows(IllegalArgumentException.class, () -> t.a.learnedRoutes(bad));
        assertEquals(rebuilds, t.a.tunnelTableRebuilds());
        assertEquals("route", tunnelFor("10.61.0.1"), "the table before the bad change stays");
        assertNull(tunnelFor("10.62.0.1"));
    }
}
