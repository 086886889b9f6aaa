package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.GatewayConfig.NatMapping;
import io.isthmus.control.config.GatewayConfig.NatRule;
import io.isthmus.control.config.GatewayConfig.NatRuleMode;
import io.isthmus.control.config.GatewayConfig.NatRuleType;
import io.isthmus.control.config.GatewayConfig.PortRange;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code virtualNetworkGateway.natRules} and the connections' use of them: the lab's scenario
 * (two branches, both 10.0.0.0/24, told apart by IngressSnat rules; the VNet hidden from one of
 * them behind one address by a Dynamic EgressSnat rule) read and translated, and each of Azure's
 * constraints refused with its own message.
 */
public class NatRulesTest {
    static final Path FILE = Path.of("gw.yaml");

    static final String BRANCH1_IN = """
                - name: branch1-in
                  type: Static
                  mode: IngressSnat
                  internalMappings: [10.0.0.0/24]
                  externalMappings: [100.64.1.0/24]
            """;
    static final String BRANCH2_IN = """
                - name: branch2-in
                  mode: IngressSnat
                  internalMappings: [{addressSpace: 10.0.0.0/24}]
                  externalMappings: [{addressSpace: 100.64.2.0/24}]
            """;
    static final String VNET_HIDE = """
                - name: vnet-hide
                  type: Dynamic
                  mode: EgressSnat
                  internalMappings: [192.168.10.0/24]
                  externalMappings: [100.70.0.1/32]
            """;
    public static final String LAB_RULES = BRANCH1_IN + BRANCH2_IN + VNET_HIDE;
    public static final String TO_BRANCH1 = "ingressNatRules: [branch1-in]\n    egressNatRules: [vnet-hide]";
    public static final String TO_BRANCH2 = "ingressNatRules: [branch2-in]";

    /** The lab's gateway (192.168.10.0/24, fd10::/64) with {@code rules}; each connection's NAT lists as given. */
    static String lab(String sku, String rules, String toBranch1, String toBranch2) {
        return """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: %s
                  addressSpace: [192.168.10.0/24, fd10::/64]
                  instances:
                    - name: gw1
                      publicIpAddress: 203.0.113.10
                  natRules:
                %s
                localNetworkGateways:
                  - name: branch1
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [10.0.0.0/24]
                  - name: branch2
                    gatewayIpAddress: 198.51.100.8
                    addressPrefixes: [10.0.0.0/24]
                connections:
                  - name: to-branch1
                    localNetworkGateway: branch1
                    sharedKey: k
                    %s
                  - name: to-branch2
                    localNetworkGateway: branch2
                    sharedKey: k
                    %s
                """.formatted(sku, rules.stripTrailing(), toBranch1, toBranch2);
    }

    public static String lab(String rules, String toBranch1, String toBranch2) {
        return lab("VpnGw2", rules, toBranch1, toBranch2);
    }

    static GatewayConfig read(String text) {
        return ConfigReader.parse(FILE, text, Map.<String, String>of()::get);
    }

    static ConfigException refused(String text) {
        return assertThrows(ConfigException.class, () -> read(text));
    }

    /** The one problem of {@code text}, as the operator reads it. */
    static String problem(String text) {
        ConfigException e = refused(text);
        assertEquals(1, e.problems().size(), e.getMessage());
        return e.getMessage();
    }

    // --- the lab's scenario --------------------------------------------------------------------

    @Test
    void theLabScenarioIsReadRuleByRule() {
        GatewayConfig c = read(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2));
        List<NatRule> rules = c.gateway().natRules();
        assertEquals(3, rules.size());
        assertEquals(new NatRule("branch1-in", NatRuleType.STATIC, NatRuleMode.INGRESS_SNAT, new NatMapping(AddressPrefix.parse("10.0.0.0/24"), null),
                new NatMapping(AddressPrefix.parse("100.64.1.0/24"), null), null), rules.get(0));
        assertEquals(NatRuleType.STATIC, rules.get(1).type(), "Static is the default type");
        assertEquals("100.64.2.0/24", rules.get(1).externalMapping().addressSpace().toString());
        assertEquals(NatRuleType.DYNAMIC, rules.get(2).type());
        assertEquals(NatRuleMode.EGRESS_SNAT, rules.get(2).mode());
        assertEquals(List.of("branch1-in"), c.connections().get(0).ingressNatRules());
        assertEquals(List.of("vnet-hide"), c.connections().get(0).egressNatRules());
        // What the data plane is given per connection: its ingress rules, then its egress ones.
        assertEquals(List.of(rules.get(0), rules.get(2)), c.natRules(c.connections().get(0)));
        assertEquals(List.of(rules.get(1)), c.natRules(c.connections().get(1)));
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void theLabScenarioRoutesEachBranchByItsExternalMapping() {
        GatewayConfig c = read(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2));
        TranslatedPrefixes t = TranslatedPrefixes.of(c);
        assertEquals(List.of("100.64.1.0/24"), t.tunnelRoutes(c.connections().get(0)));
        assertEquals(List.of("100.64.2.0/24"), t.tunnelRoutes(c.connections().get(1)));
        assertEquals(List.of(
                new TunnelRoutes.SiteRoute("branch1", "virtualNetworkGateway.natRules[0].externalMappings[0].addressSpace",
                        AddressPrefix.parse("100.64.1.0/24")),
                new TunnelRoutes.SiteRoute("branch2", "virtualNetworkGateway.natRules[1].externalMappings[0].addressSpace",
                        AddressPrefix.parse("100.64.2.0/24"))), TunnelRoutes.of(c));
    }

    @Test
    void theLabScenarioSelectorsShowTheVnetAsEachBranchSeesIt() {
        GatewayConfig c = read(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2));
        TranslatedPrefixes t = TranslatedPrefixes.of(c);
        // branch1 sees the VNet behind 100.70.0.1 (IPv6 is never translated), and is its real 10.0.0.0/24 inside the tunnel.
        assertEquals(new TranslatedPrefixes.TrafficSelectors(List.of("100.70.0.1/32", "fd10::/64"), List.of("10.0.0.0/24")),
                t.selectors(c.connections().get(0)));
        assertEquals(new TranslatedPrefixes.TrafficSelectors(List.of("192.168.10.0/24", "fd10::/64"), List.of("10.0.0.0/24")),
                t.selectors(c.connections().get(1)));
    }

    @Test
    void withoutTheIngressRulesTheTwoBranchesOverlap() {
        ConfigException e = refused(lab(VNET_HIDE, "egressNatRules: [vnet-hide]", ""));
        assertEquals("gw.yaml: localNetworkGateways[1].addressPrefixes[0]: 10.0.0.0/24 overlaps branch1's 10.0.0.0/24"
                + " (localNetworkGateways[0].addressPrefixes[0]); each destination must lead to one site", e.getMessage());
    }

    @Test
    void oneBranchTranslatedAndTheOtherNotIsEnough() {
        GatewayConfig c = read(lab(BRANCH1_IN, "ingressNatRules: [branch1-in]", ""));
        assertEquals(List.of("100.64.1.0/24", "10.0.0.0/24"), TunnelRoutes.of(c).stream().map(r -> r.prefix().toString()).toList());
    }

    @Test
    void aSitePrefixAsTheVnetsOwnIsAllowedWhenTranslated() {
        // Azure: a branch whose range is the VNet's own takes an IngressSnat rule (and an EgressSnat one, for the branch's sake).
        String rules = """
                    - name: twin-in
                      mode: IngressSnat
                      internalMappings: [192.168.10.0/24]
                      externalMappings: [100.64.7.0/24]
                    - name: vnet-out
                      mode: EgressSnat
                      internalMappings: [192.168.10.0/24]
                      externalMappings: [100.65.7.0/24]
                """;
        GatewayConfig c = read(lab(rules, "ingressNatRules: [twin-in]\n    egressNatRules: [vnet-out]", "").replaceFirst("10.0.0.0/24", "192.168.10.0/24"));
        assertEquals(List.of("100.64.7.0/24"), TranslatedPrefixes.of(c).tunnelRoutes(c.connections().get(0)));
        assertEquals(List.of("100.65.7.0/24", "fd10::/64"), TranslatedPrefixes.of(c).selectors(c.connections().get(0)).local());
    }

    @Test
    void rulesAreNamedByAzureIdsToo() {
        GatewayConfig c = read(lab(LAB_RULES, "ingressNatRules: [{id: /subscriptions/s/resourceGroups/g/providers/Microsoft.Network"
                + "/virtualNetworkGateways/gw/natRules/branch1-in}]", TO_BRANCH2));
        assertEquals(List.of("branch1-in"), c.connections().get(0).ingressNatRules());
    }

    @Test
    void aRuleOnNoConnectionIsAWarning() {
        GatewayConfig c = read(lab(LAB_RULES, "ingressNatRules: [branch1-in]", TO_BRANCH2));
        assertEquals(List.of("gw.yaml: virtualNetworkGateway.natRules[2]: 'vnet-hide' is in no connection's ingressNatRules or egressNatRules,"
                + " so it translates nothing"), c.warnings());
    }

    @Test
    void anEgressRuleMayServeSeveralConnections() {
        String rules = BRANCH1_IN + BRANCH2_IN + """
                    - name: vnet-out
                      mode: EgressSnat
                      internalMappings: [192.168.10.0/24]
                      externalMappings: [100.65.0.0/24]
                """;
        GatewayConfig c = read(lab(rules, "ingressNatRules: [branch1-in]\n    egressNatRules: [vnet-out]",
                "ingressNatRules: [branch2-in]\n    egressNatRules: [vnet-out]"));
        assertEquals(List.of("100.65.0.0/24", "fd10::/64"), TranslatedPrefixes.of(c).selectors(c.connections().get(1)).local());
    }

    @Test
    void portRangesOfAStaticRuleAndTheInstanceItRunsOn() {
        String rules = BRANCH1_IN + BRANCH2_IN + """
                    - name: web
                      mode: EgressSnat
                      internalMappings: [{addressSpace: 192.168.10.4/32, portRange: 8080-8089}]
                      externalMappings: [{addressSpace: 100.70.0.4/32, portRange: "80 - 89"}]
                      ipConfigurationId: /subscriptions/s/x/ipConfigurations/gw1
                """;
        GatewayConfig c = read(lab(rules, "ingressNatRules: [branch1-in]\n    egressNatRules: [web]", TO_BRANCH2));
        NatRule web = c.gateway().natRule("web");
        assertEquals(new PortRange(8080, 8089), web.internalMapping().portRange());
        assertEquals(new PortRange(80, 89), web.externalMapping().portRange());
        assertEquals("gw1", web.ipConfigurationId());
        assertTrue(web.appliesOn(c.instance("gw1")));
        assertNull(c.gateway().natRule("branch1-in").ipConfigurationId());
    }

    // --- the gateway ---------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"Basic", "VpnGw1", "VpnGw1AZ"})
    void natNeedsVpnGw2OrLarger(String sku) {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules: NAT needs SKU VpnGw2 or larger (VpnGw2 to VpnGw5, VpnGw2AZ to VpnGw5AZ), as"
                + " Azure's, or Isthmus; this gateway is " + sku, problem(lab(sku, LAB_RULES, TO_BRANCH1, TO_BRANCH2)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5", "VpnGw2AZ", "VpnGw5AZ", "Isthmus"})
    void natRunsOnVpnGw2AndUp(String sku) {
        assertEquals(3, read(lab(sku, LAB_RULES, TO_BRANCH1, TO_BRANCH2)).gateway().natRules().size());
    }

    @Test
    void aPolicyBasedGatewayHasNoNat() {
        ConfigException e = refused(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2).replace("vpnType: RouteBased", "vpnType: PolicyBased"));
        assertEquals("gw.yaml: virtualNetworkGateway.natRules: a PolicyBased gateway has no NAT: NAT needs any-to-any traffic selectors (as"
                + " Azure's); use vpnType RouteBased", e.problems().getFirst().getMessage());
    }

    @Test
    void atMostOneHundredRules() {
        StringBuilder rules = new StringBuilder();
        for (int i = 0; i <= NatSection.MAX_RULES; i++) {
            rules.append("    - {name: r").append(i).append(", mode: IngressSnat, internalMappings: [10.0.0.0/24], externalMappings: [100.")
                    .append(64 + i / 256).append('.').append(i % 256).append(".0/24]}\n");
        }
        assertEquals("gw.yaml: virtualNetworkGateway.natRules: 101 rules; a gateway has at most 100 NAT rules (as Azure's)",
                problem(lab(rules.toString(), "ingressNatRules: [r0]", "ingressNatRules: [r1]")));
    }

    // --- one rule ------------------------------------------------------------------------------

    @Test
    void aStaticRuleMapsPrefixesOfOneLength() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].externalMappings[0].addressSpace: 100.64.1.0/25 is a /25 but the internal"
                + " mapping 10.0.0.0/24 a /24; a Static rule maps addresses 1:1, so both are of one length (a smaller pool takes a Dynamic rule)",
                problem(lab(LAB_RULES.replace("100.64.1.0/24", "100.64.1.0/25"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aStaticRuleMapsAsManyPortsAsItTakes() {
        String rules = LAB_RULES.replace("[10.0.0.0/24]", "[{addressSpace: 10.0.0.0/24, portRange: 1000-1099}]")
                .replace("[100.64.1.0/24]", "[{addressSpace: 100.64.1.0/24, portRange: 2000-2199}]");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].externalMappings[0].portRange: 2000-2199 is 200 ports but the internal"
                + " mapping's 1000-1099 100 ports; a Static rule maps ports 1:1, so both ranges are of one size", problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aPortRangeOnOneSideOnlyIsRefused() {
        String rules = LAB_RULES.replace("[10.0.0.0/24]", "[{addressSpace: 10.0.0.0/24, portRange: 443}]");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].externalMappings[0].portRange: required: internalMappings[0] has a port range"
                + " (443), and a Static rule maps ports 1:1; give one of as many ports here, or none on either side", problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aDynamicRuleTakesNoPortRange() {
        String rules = LAB_RULES.replace("[100.70.0.1/32]", "[{addressSpace: 100.70.0.1/32, portRange: 1024-65535}]");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].externalMappings[0].portRange: port ranges are for Static rules only (as"
                + " Azure's); a Dynamic rule chooses the ports of its pool itself", problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aDynamicPoolIsAtMostASlash26() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].externalMappings[0].addressSpace: 100.70.0.0/25 is larger than a Dynamic"
                + " rule's pool may be: at most a /26 (64 addresses, Azure's limit)",
                problem(lab(LAB_RULES.replace("100.70.0.1/32", "100.70.0.0/25"), TO_BRANCH1, TO_BRANCH2)));
        assertEquals(3, read(lab(LAB_RULES.replace("100.70.0.1/32", "100.70.0.0/26"), TO_BRANCH1, TO_BRANCH2)).gateway().natRules().size());
    }

    @Test
    void aDynamicRuleKeeps65536FlowsUnlessMaxFlowsSaysOtherwise() {
        List<NatRule> rules = read(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2)).gateway().natRules();
        assertEquals(65_536, rules.get(2).maxFlows());
        assertEquals(0, rules.get(0).maxFlows(), "a Static rule keeps no flows");
        String small = LAB_RULES.replace("externalMappings: [100.70.0.1/32]", "externalMappings: [100.70.0.1/32]\n      maxFlows: 8");
        assertEquals(8, read(lab(small, TO_BRANCH1, TO_BRANCH2)).gateway().natRules().get(2).maxFlows());
        String most = LAB_RULES.replace("externalMappings: [100.70.0.1/32]", "externalMappings: [100.70.0.1/32]\n      maxFlows: 1048576");
        assertEquals(1 << 20, read(lab(most, TO_BRANCH1, TO_BRANCH2)).gateway().natRules().get(2).maxFlows());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "1048577", "many"})
    void maxFlowsIsAWholeNumberUpToAMillionFlows(String value) {
        String rules = LAB_RULES.replace("externalMappings: [100.70.0.1/32]", "externalMappings: [100.70.0.1/32]\n      maxFlows: " + value);
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].maxFlows: '" + value + "' is not allowed; a whole number from 1 to 1048576",
                problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aStaticRuleTakesNoMaxFlows() {
        String rules = LAB_RULES.replace("externalMappings: [100.64.1.0/24]", "externalMappings: [100.64.1.0/24]\n      maxFlows: 100");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].maxFlows: only a Dynamic rule keeps flows; a Static rule maps addresses 1:1"
                + " without any, so it takes no maxFlows", problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void ipv6MappingsAreRefused() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].internalMappings[0].addressSpace: fd00::/64 is IPv6; NAT rules are IPv4 only,"
                + " as Azure's (no IPv6 NAT, no NAT64)", problem(lab(LAB_RULES.replace("{addressSpace: 10.0.0.0/24}", "{addressSpace: fd00::/64}"),
                TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aMappingIsAPrefix() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].externalMappings[0].addressSpace: '100.64.1.1/24' is not an address prefix:"
                + " 100.64.1.1/24 has host bits set", problem(lab(LAB_RULES.replace("100.64.1.0/24", "100.64.1.1/24"), TO_BRANCH1, TO_BRANCH2)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0-10", "70000", "2000-1000", "http", "1-2-3"})
    void aPortRangeIsOneOrTwoPorts(String ports) {
        String rules = LAB_RULES.replace("[10.0.0.0/24]", "[{addressSpace: 10.0.0.0/24, portRange: \"" + ports + "\"}]")
                .replace("[100.64.1.0/24]", "[{addressSpace: 100.64.1.0/24, portRange: 80}]");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].internalMappings[0].portRange: '" + ports + "' is not allowed; a port from 1"
                + " to 65535, or a range of them such as 1000-1999", problem(lab(rules, TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aRuleTranslatesOnePrefix() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].internalMappings: expected a list of one mapping, such as [10.0.0.0/24]: a rule"
                + " translates one prefix (as Azure's); make a rule for each prefix",
                problem(lab(LAB_RULES.replace("[10.0.0.0/24]", "[10.0.0.0/24, 10.0.1.0/24]"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aRuleHasAMode() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].mode: required",
                problem(lab(LAB_RULES.replace("      mode: IngressSnat\n      internalMappings: [{", "      internalMappings: [{"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aModeIsIngressSnatOrEgressSnat() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].mode: 'IngressDnat' is not allowed; one of IngressSnat, EgressSnat",
                problem(lab(LAB_RULES.replaceFirst("IngressSnat", "IngressDnat"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void aRuleNameHasNoSlash() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].name: 'branch2/in' is not allowed; 1 to 80 letters, digits, '_', '.' or '-',"
                + " beginning with a letter or digit (Azure's resource names; no '/')",
                problem(lab(LAB_RULES.replace("name: branch2-in", "name: branch2/in"), TO_BRANCH1, "")));
    }

    @Test
    void aMisspeltFieldIsRefused() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].externalMapping: unknown field; allowed here: name, type, mode, internalMappings,"
                + " externalMappings, ipConfigurationId, maxFlows", refused(lab(LAB_RULES.replace("externalMappings: [100.64.1.0/24]",
                "externalMapping: [100.64.1.0/24]"), TO_BRANCH1, TO_BRANCH2)).problems().getFirst().getMessage());
    }

    @Test
    void anIpConfigurationIsAnInstance() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].ipConfigurationId: 'gw9' is not one of virtualNetworkGateway.instances [gw1]",
                problem(lab(LAB_RULES + "      ipConfigurationId: gw9\n", TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void anIngressRuleAppliesOnEveryInstance() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[0].ipConfigurationId: an IngressSnat rule applies on every instance (the routes"
                        + " into the tunnel follow it on all of them); ipConfigurationId is for EgressSnat rules",
                problem(lab(BRANCH1_IN + "      ipConfigurationId: gw1\n" + BRANCH2_IN + VNET_HIDE, TO_BRANCH1, TO_BRANCH2)));
    }

    // --- between rules -------------------------------------------------------------------------

    @Test
    void ruleNamesAreUnique() {
        ConfigException e = refused(lab(LAB_RULES.replace("name: branch2-in", "name: branch1-in").replace("100.64.2.0/24", "100.64.3.0/24"),
                "ingressNatRules: [branch1-in]", ""));
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].name: 'branch1-in' is used twice (virtualNetworkGateway.natRules[0].name)",
                e.problems().getFirst().getMessage());
    }

    @Test
    void externalMappingsDoNotOverlap() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].externalMappings[0].addressSpace: 100.64.1.128/25 overlaps the external mapping"
                + " 100.64.1.0/24 of 'branch1-in' (virtualNetworkGateway.natRules[0]); external mappings must not overlap one another (as Azure's),"
                + " so each address translates back one way", problem(lab(LAB_RULES.replace("{addressSpace: 10.0.0.0/24}", "{addressSpace: 10.0.0.0/25}")
                .replace("100.64.2.0/24", "100.64.1.128/25"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void anIngressExternalMappingIsNotInTheAddressSpace() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[1].externalMappings[0].addressSpace: 192.168.10.0/24 overlaps the gateway's"
                + " addressSpace 192.168.10.0/24 (virtualNetworkGateway.addressSpace[0]); an IngressSnat external mapping is a destination behind a"
                + " site, which cannot also be on this side", problem(lab(LAB_RULES.replace("100.64.2.0/24", "192.168.10.0/24"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void anEgressExternalMappingIsNotInTheAddressSpace() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].externalMappings[0].addressSpace: 192.168.10.9/32 overlaps the gateway's"
                + " addressSpace 192.168.10.0/24 (virtualNetworkGateway.addressSpace[0]); an EgressSnat external mapping is this network as a site"
                + " sees it, which the site could not tell from its real addresses",
                problem(lab(LAB_RULES.replace("100.70.0.1/32", "192.168.10.9/32"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void anEgressInternalMappingIsInTheAddressSpace() {
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].internalMappings[0].addressSpace: 172.20.0.0/16 is not in the gateway's"
                + " addressSpace [192.168.10.0/24, fd10::/64]; an EgressSnat rule's internal mapping is (a part of) this network's real range",
                problem(lab(LAB_RULES.replace("192.168.10.0/24]", "172.20.0.0/16]"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void anEgressExternalMappingIsNoRouteIntoTheTunnel() {
        // branch2 without NAT at 172.16.0.0/24, which vnet-hide would show branch1 the VNet inside of.
        String text = lab(LAB_RULES.replace("100.70.0.1/32", "172.16.0.1/32"), TO_BRANCH1, "")
                .replace("gatewayIpAddress: 198.51.100.8\n    addressPrefixes: [10.0.0.0/24]", "gatewayIpAddress: 198.51.100.8\n    addressPrefixes: [172.16.0.0/24]");
        assertEquals("gw.yaml: virtualNetworkGateway.natRules[2].externalMappings[0].addressSpace: 172.16.0.1/32 overlaps 172.16.0.0/24, a route"
                + " into the tunnel to branch2 (localNetworkGateways[1].addressPrefixes[0]); the gateway's network as the sites see it must not also"
                + " be a destination behind a site", problem(text));
    }

    // --- connections ---------------------------------------------------------------------------

    @Test
    void noNatOnPolicyBasedTrafficSelectors() {
        assertEquals("gw.yaml: connections[0].ingressNatRules: NAT rules are not supported on a connection with usePolicyBasedTrafficSelectors"
                + " (as Azure's: NAT needs any-to-any traffic selectors)",
                problem(lab(LAB_RULES, TO_BRANCH1 + "\n    usePolicyBasedTrafficSelectors: true", TO_BRANCH2)));
    }

    @Test
    void aDynamicRuleIsOnOneConnection() {
        assertEquals("gw.yaml: connections[1].egressNatRules[0]: 'vnet-hide' is a Dynamic rule already on connections[0] (to-branch1); a Dynamic"
                + " rule's flows belong to one connection: make a rule for each",
                problem(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2 + "\n    egressNatRules: [vnet-hide]")));
    }

    @Test
    void anIngressRuleIsForOneSite() {
        assertEquals("gw.yaml: connections[1].ingressNatRules[0]: 'branch1-in' is already on connections[0] (to-branch1), which leads to branch1,"
                + " not branch2; an IngressSnat rule translates one on-premises network (as Azure's), its external mapping leading to one site",
                problem(lab(LAB_RULES, TO_BRANCH1, "ingressNatRules: [branch1-in]")));
    }

    @Test
    void unknownRuleNamesAreRefused() {
        assertEquals("gw.yaml: connections[1].ingressNatRules[0]: 'branch3-in' is not one of virtualNetworkGateway.natRules [branch1-in,"
                + " branch2-in, vnet-hide]", refused(lab(LAB_RULES, TO_BRANCH1, "ingressNatRules: [branch3-in]")).problems().getFirst().getMessage());
    }

    @Test
    void anEgressRuleIsNotAnIngressOne() {
        assertEquals("gw.yaml: connections[0].ingressNatRules[1]: 'vnet-hide' is an EgressSnat rule; ingressNatRules takes IngressSnat rules"
                + " (translating the site's addresses)", problem(lab(LAB_RULES, "ingressNatRules: [branch1-in, vnet-hide]", TO_BRANCH2)));
    }

    @Test
    void anIngressRuleIsNotAnEgressOne() {
        assertEquals("gw.yaml: connections[1].egressNatRules[0]: 'branch1-in' is an IngressSnat rule; egressNatRules takes EgressSnat rules"
                + " (translating this network's addresses)", problem(lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2 + "\n    egressNatRules: [branch1-in]")));
    }

    @Test
    void aRuleIsListedOnce() {
        assertEquals("gw.yaml: connections[0].ingressNatRules[1]: 'branch1-in' is listed twice",
                problem(lab(LAB_RULES, "ingressNatRules: [branch1-in, branch1-in]", TO_BRANCH2)));
    }

    @Test
    void twoRulesOfAConnectionDoNotTranslateOneAddress() {
        String rules = LAB_RULES + """
                    - name: branch1-half
                      mode: IngressSnat
                      internalMappings: [10.0.0.0/25]
                      externalMappings: [100.64.3.0/25]
                """;
        assertEquals("gw.yaml: connections[0].ingressNatRules[1]: the internal mapping 10.0.0.0/25 of 'branch1-half' overlaps 10.0.0.0/24 of"
                + " 'branch1-in' (ingressNatRules[0]); an address of the connection would have two translations",
                problem(lab(rules, "ingressNatRules: [branch1-in, branch1-half]", TO_BRANCH2)));
    }

    @Test
    void anIngressRuleTranslatesThePrefixesOfItsSite() {
        ConfigException e = refused(lab(LAB_RULES.replace("[10.0.0.0/24]", "[10.9.0.0/24]"), TO_BRANCH1, TO_BRANCH2));
        assertEquals("gw.yaml: connections[0].ingressNatRules[0]: 'branch1-in' translates 10.9.0.0/24, none of branch1's addressPrefixes"
                + " [10.0.0.0/24]; an IngressSnat rule's internal mapping is (a part of) the site's real range", e.getMessage());
    }

    @Test
    void anEgressExternalMappingIsNotInTheSitesOwnRange() {
        assertEquals("gw.yaml: connections[0].egressNatRules[0]: the external mapping 10.0.0.1/32 of 'vnet-hide' overlaps branch1's own"
                + " 10.0.0.0/24 (localNetworkGateways[0].addressPrefixes[0]); the site would see this network among its own addresses",
                problem(lab(LAB_RULES.replace("100.70.0.1/32", "10.0.0.1/32"), TO_BRANCH1, TO_BRANCH2)));
    }

    @Test
    void everyProblemIsListedAtOnce() {
        String rules = LAB_RULES.replace("100.64.1.0/24", "100.64.1.0/25").replace("{addressSpace: 10.0.0.0/24}", "{addressSpace: fd00::/64}")
                .replace("100.70.0.1/32", "100.70.0.0/24");
        ConfigException e = refused(lab(rules, TO_BRANCH1, TO_BRANCH2 + "\n    egressNatRules: [nope]"));
        assertEquals(List.of("virtualNetworkGateway.natRules[0].externalMappings[0].addressSpace",
                "virtualNetworkGateway.natRules[1].internalMappings[0].addressSpace",
                "virtualNetworkGateway.natRules[2].externalMappings[0].addressSpace",
                "connections[1].egressNatRules[0]"), e.problems().stream().map(ConfigException::field).toList());
        assertEquals(4, e.getMessage().lines().count(), e.getMessage());
    }
}
