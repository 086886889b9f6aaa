package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What IngressSnat rules make of a site's prefixes, and EgressSnat rules of the gateway's addressSpace: covered parts moved, the rest kept. */
class TranslatedPrefixesTest {
    /** One site with {@code prefixes}, one connection with {@code ingress} and {@code egress} rules of {@code rules}. */
    static GatewayConfig config(String prefixes, String rules, String ingress, String egress) {
        return ConfigReader.parse(NatRulesTest.FILE, """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw3
                  addressSpace: [192.168.0.0/22, fd10::/64]
                  instances:
                    - publicIpAddress: 203.0.113.10
                  natRules:
                %s
                localNetworkGateways:
                  - name: site
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [%s]
                connections:
                  - name: to-site
                    localNetworkGateway: site
                    sharedKey: k
                    ingressNatRules: [%s]
                    egressNatRules: [%s]
                """.formatted(rules.stripTrailing(), prefixes, ingress, egress), Map.<String, String>of()::get);
    }

    static String rule(String name, String type, String mode, String internal, String external) {
        return "    - {name: %s, type: %s, mode: %s, internalMappings: [%s], externalMappings: [%s]}\n".formatted(name, type, mode, internal, external);
    }

    static List<String> routes(GatewayConfig c) {
        return TranslatedPrefixes.of(c).tunnelRoutes(c.connections().getFirst());
    }

    @Test
    void aSitePrefixInsideAStaticRuleMovesOneToOne() {
        GatewayConfig c = config("10.0.1.0/25, 10.0.7.0/24", rule("in", "Static", "IngressSnat", "10.0.0.0/16", "100.64.0.0/16"), "in", "");
        assertEquals(List.of("100.64.1.0/25", "100.64.7.0/24"), routes(c));
    }

    @Test
    void thePartOfASitePrefixNoRuleCoversStaysAsItIs() {
        GatewayConfig c = config("10.0.0.0/22", rule("in", "Static", "IngressSnat", "10.0.1.0/24", "100.64.1.0/24"), "in", "");
        assertEquals(List.of("100.64.1.0/24", "10.0.2.0/23", "10.0.0.0/24"), routes(c));
    }

    @Test
    void twoRulesCutOnePrefix() {
        GatewayConfig c = config("10.0.0.0/22", rule("a", "Static", "IngressSnat", "10.0.1.0/24", "100.64.1.0/24")
                + rule("b", "Static", "IngressSnat", "10.0.2.0/23", "100.64.2.0/23"), "a, b", "");
        assertEquals(List.of("100.64.1.0/24", "100.64.2.0/23", "10.0.0.0/24"), routes(c));
    }

    @Test
    void aDynamicRuleLeadsItsWholePoolIntoTheTunnel() {
        GatewayConfig c = config("10.0.0.0/24, 10.0.1.0/24, fd20::/64", rule("pool", "Dynamic", "IngressSnat", "10.0.0.0/23", "100.64.9.0/28"),
                "pool", "");
        // Both prefixes share the pool: one route; IPv6 is never translated.
        assertEquals(List.of("100.64.9.0/28", "fd20::/64"), routes(c));
    }

    @Test
    void egressRulesTranslateTheLocalSelectorsOnly() {
        GatewayConfig c = config("10.0.0.0/24", rule("in", "Static", "IngressSnat", "10.0.0.0/24", "100.64.1.0/24")
                + rule("out", "Static", "EgressSnat", "192.168.1.0/24", "100.65.1.0/24"), "in", "out");
        TranslatedPrefixes.TrafficSelectors ts = TranslatedPrefixes.of(c).selectors(c.connections().getFirst());
        assertEquals(List.of("100.65.1.0/24", "192.168.2.0/23", "192.168.0.0/24", "fd10::/64"), ts.local());
        assertEquals(List.of("10.0.0.0/24"), ts.remote());
        assertEquals(List.of("100.64.1.0/24"), routes(c), "an EgressSnat rule changes no route into the tunnel");
    }

    @ParameterizedTest
    @CsvSource({"10.0.0.0/8, 10.0.1.0/24, 16", "10.0.0.0/22, 10.0.1.0/24, 2", "0.0.0.0/0, 255.255.255.255/32, 32", "10.0.0.0/24, 10.0.0.0/24, 0"})
    void aPrefixWithoutAHoleIsTheRestOfIt(String outer, String hole, int pieces) {
        AddressPrefix o = AddressPrefix.parse(outer);
        AddressPrefix h = AddressPrefix.parse(hole);
        List<AddressPrefix> rest = o.without(h);
        assertEquals(pieces, rest.size(), "one piece of each length between the two");
        long addresses = 1L << (32 - h.length());
        for (AddressPrefix p : rest) {
            assertTrue(o.covers(p), p + " outside " + o);
            assertTrue(!p.overlaps(h), p + " overlaps the hole " + h);
            for (AddressPrefix q : rest) {
                assertTrue(p == q || !p.overlaps(q), p + " overlaps " + q);
            }
            addresses += 1L << (32 - p.length());
        }
        assertEquals(1L << (32 - o.length()), addresses, "the pieces and the hole make the whole");
    }

    @Test
    void movingKeepsTheHostPart() {
        assertEquals("100.64.1.128/25", AddressPrefix.moved(AddressPrefix.parse("10.0.1.128/25"), AddressPrefix.parse("10.0.0.0/16"),
                AddressPrefix.parse("100.64.0.0/16")).toString());
        assertThrows(IllegalArgumentException.class, () -> AddressPrefix.moved(AddressPrefix.parse("10.1.0.0/24"), AddressPrefix.parse("10.0.0.0/16"),
                AddressPrefix.parse("100.64.0.0/16")));
    }
}
