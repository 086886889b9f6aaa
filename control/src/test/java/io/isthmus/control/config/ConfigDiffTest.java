package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigDiff.Change;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which connections a reload keeps, changes (and how), adds and removes; and what it cannot do without a restart. */
class ConfigDiffTest {
    static final String BRANCH_KEY = "the branch's long shared key";

    static final String RUNNING = """
            virtualNetworkGateway:
              name: gw-west
              vpnType: RouteBased
              sku: VpnGw2
              addressSpace: [10.1.0.0/16]
              instances:
                - name: gw-west-0
                  publicIpAddress: 203.0.113.10
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 198.51.100.7
                addressPrefixes: [192.168.20.0/24, fd20::/64]
              - name: depot
                gatewayIpAddress: 198.51.100.8
                addressPrefixes: [192.168.30.0/24]
            connections:
              - name: to-branch
                localNetworkGateway: branch
                sharedKey: "the branch's long shared key"
              - name: to-depot
                localNetworkGateway: depot
                sharedKey: "the depot's long shared key"
            """;

    static final String POLICY = """
                ipsecPolicies:
                  - ipsecEncryption: GCMAES256
                    ipsecIntegrity: GCMAES256
                    ikeEncryption: AES256
                    ikeIntegrity: SHA384
                    dhGroup: ECP384
                    pfsGroup: ECP256
            """;

    @TempDir
    Path dir;

    static GatewayConfig parse(String text) {
        return ConfigReader.parse(Path.of("/etc/isthmus/gw.yaml"), text, Map.of("BRANCH_KEY", BRANCH_KEY)::get);
    }

    static ConfigDiff diff(String next) {
        return ConfigDiff.between(parse(RUNNING), parse(next));
    }

    /** The running file with one text replaced, which must be there. */
    static String edit(String from, String to) {
        assertTrue(RUNNING.contains(from), from);
        return RUNNING.replace(from, to);
    }

    @Test
    void theSameFileChangesNothing() {
        ConfigDiff d = diff(RUNNING);
        assertTrue(d.empty());
        assertFalse(d.refused());
        assertEquals(List.of("to-branch", "to-depot"), d.kept());
    }

    @Test
    void orderAndSpellingDoNotMatter() {
        ConfigDiff d = diff("""
                virtualNetworkGateway:
                  name: gw-west
                  vpnType: RouteBased
                  sku: VpnGw2
                  addressSpace: [10.1.0.0/16]
                  instances:
                    - name: gw-west-0
                      publicIpAddress: 203.0.113.10
                connections:
                  - name: to-depot
                    localNetworkGateway: depot
                    sharedKey: "the depot's long shared key"
                  - name: to-branch
                    localNetworkGateway: branch
                    sharedKeyEnv: BRANCH_KEY
                localNetworkGateways:
                  - name: depot
                    gatewayIpAddress: 198.51.100.8
                    addressPrefixes: [192.168.30.0/24]
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [fd20:0:0::/64, 192.168.20.0/24]
                """);
        assertTrue(d.empty(), "connections and sites reordered, prefixes reordered and spelt otherwise, the same key from elsewhere: " + d);
    }

    @Test
    void aRenamedConnectionIsOneRemovedAndOneAdded() {
        ConfigDiff d = diff(edit("- name: to-depot", "- name: depot-link"));
        assertEquals(List.of("to-branch"), d.kept());
        assertEquals(List.of("to-depot"), d.removed());
        assertEquals(List.of("depot-link"), d.added());
        assertTrue(d.changed().isEmpty());
    }

    @Test
    void aRenamedSiteWithTheSameAddressAndPrefixesChangesNothing() {
        ConfigDiff d = diff(edit("- name: depot\n", "- name: warehouse\n").replace("localNetworkGateway: depot", "localNetworkGateway: warehouse"));
        assertTrue(d.empty(), d.toString());
    }

    @Test
    void addedAndRemovedConnections() {
        ConfigDiff d = diff(RUNNING.substring(0, RUNNING.indexOf("  - name: to-depot")) + """
                  - name: to-depot-too
                    localNetworkGateway: depot
                    sharedKey: "another long shared key"
                """);
        assertEquals(List.of("to-branch"), d.kept());
        assertEquals(List.of("to-depot-too"), d.added());
        assertEquals(List.of("to-depot"), d.removed());
    }

    @Test
    void newPrefixesOfASite() {
        ConfigDiff d = diff(edit("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.30.0/24, 192.168.31.0/24]"));
        assertEquals(List.of("to-branch"), d.kept());
        assertEquals(Map.of("to-depot", Set.of(Change.PREFIXES)), d.changed());
    }

    @Test
    void theGatewaysAddressSpaceMattersToPolicyBasedConnectionsOnly() {
        String policyBased = edit("""
                    localNetworkGateway: depot
                """, """
                    localNetworkGateway: depot
                    usePolicyBasedTrafficSelectors: true
                """);
        ConfigDiff d = ConfigDiff.between(parse(policyBased), parse(policyBased.replace("[10.1.0.0/16]", "[10.1.0.0/16, 10.2.0.0/16]")));
        assertEquals(List.of("to-branch"), d.kept(), "route-based: any to any, whatever the address space");
        assertEquals(Map.of("to-depot", Set.of(Change.PREFIXES)), d.changed(), "policy-based: its local selectors");
    }

    @Test
    void aNewPolicy() {
        ConfigDiff d = diff(edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "the depot's long shared key"
                """ + POLICY));
        assertEquals(Map.of("to-depot", Set.of(Change.POLICY)), d.changed());
        ConfigDiff lifetime = ConfigDiff.between(parse(edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "the depot's long shared key"
                """ + POLICY)), parse(edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "the depot's long shared key"
                """ + POLICY + "        saLifeTimeSeconds: 3600\n")));
        assertEquals(Map.of("to-depot", Set.of(Change.POLICY)), lifetime.changed(), "a lifetime is part of the policy");
    }

    @Test
    void aNewKeyIsSaidWithoutTheKey() {
        String newKey = "a brand new shared key for the depot";
        ConfigDiff d = diff(edit("the depot's long shared key", newKey));
        assertEquals(Map.of("to-depot", Set.of(Change.KEY)), d.changed());
        assertFalse(d.toString().contains(newKey) || d.toString().contains("depot's long"), d.toString());
        assertTrue(d.toString().contains("to-depot (key)"), d.toString());
        ConfigDiff prefix = diff(edit("the depot's long shared key", "the depot's long shared ke"));
        assertEquals(Map.of("to-depot", Set.of(Change.KEY)), prefix.changed(), "a key one character shorter is another key");
    }

    @Test
    void certificatesInsteadOfAKey() throws Exception {
        Path cert = Files.writeString(dir.resolve("gw.pem"), "certificate");
        Path key = Files.writeString(dir.resolve("gw.key"), "key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        String withCertificates = edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    certificateAuthentication:
                      outboundAuthCertificate: %s
                      privateKey: %s
                      inboundAuthCertificateChain: [%s]
                      inboundAuthCertificateSubjectName: CN=depot
                """.formatted(cert, key, ca));
        assertEquals(Map.of("to-depot", Set.of(Change.KEY)), diff(withCertificates).changed());
        ConfigDiff otherSubject = ConfigDiff.between(parse(withCertificates), parse(withCertificates.replace("CN=depot", "CN=depot2")));
        assertEquals(Map.of("to-depot", Set.of(Change.KEY)), otherSubject.changed());
        assertTrue(ConfigDiff.between(parse(withCertificates), parse(withCertificates)).empty(), "the same settings: the files are compared by whoever loads them");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "gatewayIpAddress: 198.51.100.8|gatewayIpAddress: 198.51.100.9",
            "addressPrefixes: [192.168.30.0/24]|addressPrefixes: [192.168.30.0/24]\\n    ikeIdentity: depot@example.net",
    })
    void anotherPeerIsAnotherConnection(String from, String to) {
        assertEquals(Map.of("to-depot", Set.of(Change.PEER)), diff(edit(from, to.replace("\\n", "\n"))).changed());
    }

    /** Compared as IKE compares them: a DN written with other spacing and case is the same peer; another name is another. */
    @Test
    void aDistinguishedNameRespeltIsTheSamePeer() {
        String withDn = edit("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.30.0/24]\n    ikeIdentity: \"C=CH, O=Depot AG, CN=depot\"");
        assertTrue(ConfigDiff.between(parse(withDn), parse(withDn.replace("C=CH, O=Depot AG, CN=depot", "c=ch,o=depot  ag,  CN=DEPOT"))).empty());
        assertEquals(Map.of("to-depot", Set.of(Change.PEER)),
                ConfigDiff.between(parse(withDn), parse(withDn.replace("CN=depot", "CN=depot2"))).changed());
        assertEquals(Map.of("to-depot", Set.of(Change.PEER)), ConfigDiff.between(parse(withDn), parse(RUNNING)).changed());
    }

    @Test
    void policyBasedInsteadOfRouteBasedIsAnotherKindOfTunnel() {
        ConfigDiff d = diff(edit("""
                    localNetworkGateway: depot
                """, """
                    localNetworkGateway: depot
                    usePolicyBasedTrafficSelectors: true
                """));
        assertEquals(Map.of("to-depot", Set.of(Change.PEER)), d.changed());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"connectionMode: ResponderOnly", "dpdTimeoutSeconds: 30", "forceUdpEncapsulation: true",
            "dpdDelaySeconds: 5"})
    void modeDpdAndEncapsulation(String line) {
        ConfigDiff d = diff(edit("""
                    localNetworkGateway: depot
                """, """
                    localNetworkGateway: depot
                    %s
                """.formatted(line)));
        assertEquals(Map.of("to-depot", Set.of(Change.OTHER)), d.changed());
    }

    /** The new fields of a policy, their order and the IKE SA lifetime: the next rekey uses them (or a reset at once). */
    @Test
    void proposalsTheirOrderEsnAndTheIkeLifetimeAreAPolicyChange() {
        String second = """
                  - ipsecEncryption: GCMAES128
                    ipsecIntegrity: GCMAES128
                    ikeEncryption: GCMAES256
                    ikeIntegrity: GCMAES256
                    ikePrf: SHA512
                    dhGroup: X25519
            """;
        String two = edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "the depot's long shared key"
                """ + POLICY + second);
        String swapped = edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "the depot's long shared key"
                    ipsecPolicies:
                """ + second + POLICY.substring(POLICY.indexOf('\n') + 1));
        assertTrue(ConfigDiff.between(parse(two), parse(two)).empty());
        assertEquals(Map.of("to-depot", Set.of(Change.POLICY)), ConfigDiff.between(parse(two), parse(swapped)).changed(),
                "the order is the preference: a change");
        assertEquals(Map.of("to-depot", Set.of(Change.POLICY)), ConfigDiff.between(parse(two), parse(two.replace("ikePrf: SHA512",
                "ikePrf: SHA384"))).changed());
        assertEquals(Map.of("to-depot", Set.of(Change.POLICY)), ConfigDiff.between(parse(two), parse(two.replace("dhGroup: X25519",
                "dhGroup: X25519\n        esn: disabled"))).changed());
        assertEquals(Map.of("to-branch", Set.of(Change.POLICY)), diff(edit("""
                    localNetworkGateway: branch
                """, """
                    localNetworkGateway: branch
                    ikeSaLifeTimeSeconds: 3600
                """)).changed());
    }

    @Test
    void severalChangesOfOneConnection() {
        ConfigDiff d = diff(edit("""
                    sharedKey: "the depot's long shared key"
                """, """
                    sharedKey: "a brand new shared key for the depot"
                """ + POLICY).replace("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.31.0/24]"));
        assertEquals(Map.of("to-depot", Set.of(Change.PREFIXES, Change.POLICY, Change.KEY)), d.changed());
        assertTrue(d.toString().contains("to-depot (prefixes, policy, key)"), d.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = false, value = {
            "name: gw-west\\n|name: gw-east\\n|virtualNetworkGateway.name: gw-west -> gw-east",
            "vpnType: RouteBased|vpnType: PolicyBased|virtualNetworkGateway.vpnType",
            "publicIpAddress: 203.0.113.10|publicIpAddress: 203.0.113.11|virtualNetworkGateway.instances: [gw-west-0 203.0.113.10] -> [gw-west-0 203.0.113.11]",
            "publicIpAddress: 203.0.113.10|publicIpAddress: 203.0.113.10\\n      privateIpAddress: 10.1.255.4|virtualNetworkGateway.instances",
            "  instances:|  tunnel: {device: isthmus1}\\n  instances:|virtualNetworkGateway.tunnel.device: isthmus0 -> isthmus1",
            "  instances:|  tunnel: {ikePort: 1500}\\n  instances:|virtualNetworkGateway.tunnel.ikePort: 500 -> 1500",
            "  instances:|  tunnel: {mtu: 1300}\\n  instances:|virtualNetworkGateway.tunnel.mtu",
            "  instances:|  tunnel: {packetThreads: 200}\\n  instances:|virtualNetworkGateway.tunnel.packetThreads",
            "  instances:|  tunnel: {busyPoll: true}\\n  instances:|virtualNetworkGateway.tunnel.busyPoll: 0 -> 200",
    })
    void whatTheRunningGatewayIsBuiltAroundNeedsARestart(String from, String to, String field) {
        String next = edit(from.replace("\\n", "\n"), to.replace("\\n", "\n"));
        if (next.contains("PolicyBased")) {
            next = next.replace("sharedKey: \"the depot's long shared key\"", "sharedKey: \"the depot's long shared key\"\n    usePolicyBasedTrafficSelectors: true")
                    .replace("sharedKey: \"the branch's long shared key\"", "sharedKey: \"the branch's long shared key\"\n    usePolicyBasedTrafficSelectors: true");
        }
        ConfigDiff d = diff(next);
        assertTrue(d.refused());
        assertTrue(d.restartNeeded().stream().anyMatch(l -> l.startsWith(field) && l.endsWith("restart it to apply")), d.restartNeeded().toString());
        assertTrue(d.toString().startsWith("restart needed: "), d.toString());
    }

    @Test
    void anotherSkuIsTakenAtRunTime() {
        ConfigDiff d = diff(edit("sku: VpnGw2", "sku: VpnGw3"));
        assertFalse(d.refused());
        assertTrue(d.empty());
    }

    @Test
    void certificateFilesFoundRewrittenMakeAKeyChange() {
        ConfigDiff d = diff(RUNNING).with("to-branch", Change.KEY);
        assertEquals(List.of("to-depot"), d.kept());
        assertEquals(Map.of("to-branch", Set.of(Change.KEY)), d.changed());
        ConfigDiff more = diff(edit("addressPrefixes: [192.168.30.0/24]", "addressPrefixes: [192.168.31.0/24]")).with("to-depot", Change.KEY);
        assertEquals(Set.of(Change.PREFIXES, Change.KEY), more.changed().get("to-depot"));
        assertThrows(IllegalArgumentException.class, () -> diff(RUNNING).with("nowhere", Change.KEY));
    }
}
