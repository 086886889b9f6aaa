package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.VpnClientConfiguration.AuthenticationType;
import io.isthmus.control.config.VpnClientConfiguration.Protocol;
import io.isthmus.control.ha.PairCertificates;
import io.isthmus.control.p2s.VpnClientPools;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Point-to-site in Azure's fields: a good section read as meant, and each wrong one refused by its field. */
public class VpnClientSectionTest {
    @TempDir
    static Path dir;
    static X509Certificate root;
    static Path config;

    @BeforeAll
    static void certificates() throws Exception {
        root = PairCertificates.generate("p2s-root", dir.resolve("root.pem"), dir.resolve("root.key"));
        PairCertificates.generate("p2s-gateway", dir.resolve("gw.pem"), dir.resolve("gw.key"));
        Path secret = dir.resolve("radius.secret");
        Files.writeString(secret, "a radius secret\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        config = dir.resolve("gateway.yaml");
    }

    static String file(String sku, String vpnClient) {
        return """
                virtualNetworkGateway:
                  name: gw-west
                  vpnType: RouteBased
                  sku: %s
                  addressSpace: [10.1.0.0/16]
                  instances:
                    - name: gw1
                      publicIpAddress: 203.0.113.10
                  vpnClientConfiguration:
                %s
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [192.168.20.0/24]
                connections:
                  - name: to-branch
                    localNetworkGateway: branch
                    sharedKey: "a long and secret shared key"
                """.formatted(sku, vpnClient.indent(4).stripTrailing());
    }

    static final String GOOD = """
            vpnClientAddressPool: {addressPrefixes: [172.16.201.0/24, "fd00:201::/112"]}
            vpnClientProtocols: [IkeV2]
            vpnAuthenticationTypes: [Certificate, Radius]
            vpnClientRootCertificates:
              - {name: LabRoot, publicCertFile: root.pem}
            vpnClientRevokedCertificates:
              - {name: lost, thumbprint: "5a 1b 2c 3d 4e 5f 60 71 82 93 a4 b5 c6 d7 e8 f9 0a 1b 2c 3d"}
            radiusServers:
              - {radiusServerAddress: 10.1.0.10, radiusServerScore: 10, radiusServerSecretFile: radius.secret}
              - {radiusServerAddress: 10.1.0.11, radiusServerScore: 30, radiusServerSecretEnv: P2S_RADIUS}
            customRoutes: [10.60.0.0/16]
            dnsServers: [10.1.0.4, "fd00:1::4"]
            serverCertificate: gw.pem
            serverPrivateKey: gw.key
            """;

    static GatewayConfig read(String sku, String vpnClient) {
        return ConfigReader.parse(config, file(sku, vpnClient), Map.of("P2S_RADIUS", "the other secret")::get);
    }

    static String problem(String sku, String vpnClient) {
        return assertThrows(ConfigException.class, () -> read(sku, vpnClient)).getMessage();
    }

    /** The clients' connection, pools and RADIUS client are made at start: a reload that changes the section is refused, one that does not is not. */
    @Test
    void aReloadThatChangesTheSectionNeedsARestart() {
        GatewayConfig running = read("VpnGw2", GOOD);
        assertFalse(ConfigDiff.between(running, read("VpnGw2", GOOD)).refused());
        ConfigDiff d = ConfigDiff.between(running, read("VpnGw2", GOOD.replace("dnsServers: [10.1.0.4, ", "dnsServers: [10.1.0.5, ")));
        assertTrue(d.restartNeeded().stream().anyMatch(l -> l.startsWith("virtualNetworkGateway.vpnClientConfiguration")), d.toString());
    }

    @Test
    void aGoodSectionIsReadAsMeant() throws Exception {
        GatewayConfig config = read("VpnGw2", GOOD);
        VpnClientConfiguration v = config.gateway().vpnClientConfiguration();
        assertTrue(config.warnings().stream().noneMatch(w -> w.contains("vpnClientConfiguration")), "served: no warning; " + config.warnings());
        assertEquals(List.of("172.16.201.0/24", "fd00:201::/112"), v.addressPrefixes());
        assertEquals(Set.of(Protocol.IKEV2), v.protocols());
        assertTrue(v.allows(AuthenticationType.CERTIFICATE) && v.allows(AuthenticationType.RADIUS));
        assertEquals(root, v.rootCertificates().getFirst().certificate());
        assertEquals("LabRoot", v.rootCertificates().getFirst().name());
        assertEquals("5A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D", v.revokedThumbprints().getFirst().thumbprint());
        assertTrue(v.revoked("5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d"));
        assertFalse(v.revoked("0000000000000000000000000000000000000000"));
        // Highest score first.
        assertEquals(InetAddress.ofLiteral("10.1.0.11"), v.radiusServers().get(0).address());
        assertArrayEquals("the other secret".getBytes(StandardCharsets.US_ASCII), v.radiusServers().get(0).secret());
        assertArrayEquals("a radius secret".getBytes(StandardCharsets.US_ASCII), v.radiusServers().get(1).secret());
        assertEquals(1812, v.radiusServers().get(1).port());
        assertFalse(v.radiusServers().get(0).toString().contains("secret"), "the secret never shows");
        assertEquals(List.of("10.60.0.0/16"), v.customRoutes());
        assertEquals(List.of(InetAddress.ofLiteral("10.1.0.4"), InetAddress.ofLiteral("fd00:1::4")), v.dnsServers());
        assertEquals(500, v.maxClients(), "VpnGw2's point-to-site count");
        assertEquals(dir.resolve("gw.pem"), v.serverCertificate());
    }

    @Test
    void noSectionNoPointToSite() {
        GatewayConfig c = ConfigReader.parse(config, file("VpnGw1", "").replace("  vpnClientConfiguration:\n", ""), k -> null);
        assertNull(c.gateway().vpnClientConfiguration());
    }

    @Test
    void publicCertDataAsAzureTakesIt() throws Exception {
        String data = Base64.getEncoder().encodeToString(root.getEncoded());
        VpnClientConfiguration v = read("VpnGw1", GOOD.replace("publicCertFile: root.pem", "publicCertData: " + data)).gateway().vpnClientConfiguration();
        assertEquals(root, v.rootCertificates().getFirst().certificate());
        assertEquals(250, v.maxClients());
    }

    @Test
    void destroySecretsWipesTheRadiusSecrets() {
        GatewayConfig c = read("VpnGw2", GOOD);
        c.destroySecrets();
        for (VpnClientConfiguration.RadiusServer r : c.gateway().vpnClientConfiguration().radiusServers()) {
            for (byte b : r.secret()) {
                assertEquals(0, b);
            }
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "vpnClientProtocols: [IkeV2]|vpnClientProtocols: [SSTP]|vpnClientProtocols[0]: 'SSTP' is Azure's but not supported by Isthmus; supported: IkeV2",
        "vpnClientProtocols: [IkeV2]|vpnClientProtocols: [IkeV2, OpenVPN]|vpnClientProtocols[1]: 'OpenVPN' is Azure's but not supported",
        "vpnClientProtocols: [IkeV2]|vpnClientProtocols: [L2TP]|vpnClientProtocols[0]: 'L2TP' is not allowed; supported: IkeV2",
        "[Certificate, Radius]|[AAD]|vpnAuthenticationTypes[0]: 'AAD' is not allowed; one of Certificate, Radius (Azure's AAD needs OpenVPN",
        "thumbprint: \"5a 1b|thumbprint: \"5x 1b|vpnClientRevokedCertificates[0].thumbprint: '5x 1b",
        "2c 3d\"}|2c\"}|is not a thumbprint: the SHA-1 of the client certificate, 40 hexadecimal digits",
        "172.16.201.0/24,|10.1.7.0/24,|addressPrefixes[0]: 10.1.7.0/24 overlaps the gateway's addressSpace 10.1.0.0/16",
        "172.16.201.0/24,|192.168.0.0/16,|addressPrefixes[0]: 192.168.0.0/16 overlaps branch's 192.168.20.0/24",
        "172.16.201.0/24,|172.16.201.0/31,|addressPrefixes[0]: 172.16.201.0/31 is too small",
        "172.16.201.0/24,|172.16.0.0/16, 172.16.9.0/24,|addressPrefixes[1]: 172.16.9.0/24 overlaps addressPrefixes[0] 172.16.0.0/16",
        "172.16.201.0/24,|203.0.113.0/24,|holds instance gw1's own address 203.0.113.10",
        "customRoutes: [10.60.0.0/16]|customRoutes: [172.16.0.0/12]|customRoutes[0]: 172.16.0.0/12 overlaps the client pool 172.16.201.0/24",
        "dnsServers: [10.1.0.4,|dnsServers: [dns.example,|dnsServers[0]: 'dns.example' is not an IPv4 or IPv6 address",
        "publicCertFile: root.pem|publicCertFile: gw.key|publicCertFile: not an X.509 certificate",
        "publicCertFile: root.pem|publicCertData: AAAA|publicCertData: not an X.509 certificate",
        "publicCertFile: root.pem|publicCertData: '!!'|publicCertData: not base64",
        "publicCertFile: root.pem|publicCertFile: root.pem, publicCertData: AAAA|one of publicCertData (base64 DER, as Azure takes it) and publicCertFile (PEM), not both",
        "radiusServerScore: 30|radiusServerScore: 31|radiusServerScore: '31' is not allowed; a whole number from 1 to 30",
        "radiusServerSecretEnv: P2S_RADIUS|radiusServerSecretEnv: P2S_NOT_SET|radiusServers[1].radiusServerSecretEnv: environment variable P2S_NOT_SET is not set",
        "radiusServerSecretEnv: P2S_RADIUS|radiusServerSecret: x, radiusServerSecretEnv: P2S_RADIUS|only one of [radiusServerSecret, radiusServerSecretEnv] may be given",
        "10.1.0.11, radiusServerScore|10.1.0.10, radiusServerScore|10.1.0.10:1812 is given twice",
        "[Certificate, Radius]|[Certificate]|radiusServers: given, but vpnAuthenticationTypes does not name Radius",
        "serverPrivateKey: gw.key|serverPrivateKey: nothing.key|serverPrivateKey: cannot read",
        "dnsServers:|maxClients: 501\\ndnsServers:|maxClients: 501 is more than SKU VpnGw2 takes: at most 500",
        "dnsServers:|vpnClientPool: x\\ndnsServers:|vpnClientPool: unknown field",
    })
    void aWrongFieldIsNamed(String from, String to, String expected) {
        assertTrue(GOOD.contains(from), from);
        String message = problem("VpnGw2", GOOD.replace(from, to.replace("\\n", "\n")));
        assertTrue(message.contains(expected), message);
        assertTrue(message.contains("gateway.yaml"), message);
    }

    @Test
    void certificateAuthenticationNeedsARoot() {
        String good = GOOD.replace("vpnClientRootCertificates:\n  - {name: LabRoot, publicCertFile: root.pem}\n", "");
        assertTrue(problem("VpnGw2", good).contains("vpnClientRootCertificates: Certificate authentication needs at least one root certificate"));
    }

    @Test
    void basicAndPolicyBasedTakeNoClients() {
        assertTrue(problem("Basic", GOOD).contains("SKU Basic takes no IKEv2 clients"));
        String policy = file("VpnGw1", GOOD).replace("RouteBased", "PolicyBased");
        String message = assertThrows(ConfigException.class, () -> ConfigReader.parse(config, policy, k -> "x")).getMessage();
        assertTrue(message.contains("point-to-site needs a RouteBased gateway"), message);
    }

    /** {@link #file} as an active-active gateway (Azure's shape, no pair section), or with {@code pair} its floating addresses and sync link. */
    static String activeActive(String vpnClient, boolean pair) {
        String text = file("VpnGw2", vpnClient).replace("  sku: VpnGw2\n", "  sku: VpnGw2\n  activeActive: true\n")
                .replace("      publicIpAddress: 203.0.113.10\n", "      publicIpAddress: 203.0.113.10\n    - name: gw2\n      publicIpAddress: 203.0.113.11\n");
        if (pair) {
            text = text.replace("      publicIpAddress: 203.0.113.10\n", "      publicIpAddress: 203.0.113.10\n      floatingIpAddress: 203.0.113.20\n")
                    .replace("      publicIpAddress: 203.0.113.11\n", "      publicIpAddress: 203.0.113.11\n      floatingIpAddress: 203.0.113.21\n")
                    + """
                    pair:
                      instances:
                        - {name: gw1, syncAddress: 10.99.0.1, certificate: /etc/isthmus/pair/gw1.crt, privateKey: /etc/isthmus/pair/gw1.key}
                        - {name: gw2, syncAddress: 10.99.0.2, certificate: /etc/isthmus/pair/gw2.crt, privateKey: /etc/isthmus/pair/gw2.key}
                    """;
        }
        return text;
    }

    /** Both instances of an active-active gateway serve clients at once: each from its half of the pool, which the warning names. */
    @Test
    void activeActiveInstancesEachTakeAHalfOfThePool() {
        for (boolean pair : new boolean[] {false, true}) {
            GatewayConfig c = ConfigReader.parse(config, activeActive(GOOD, pair), Map.of("P2S_RADIUS", "the other secret")::get);
            assertTrue(c.gateway().activeActive());
            assertEquals(pair, c.pair() != null);
            List<String> notes = c.warnings().stream().filter(w -> w.contains("vpnClientConfiguration")).toList();
            assertEquals(1, notes.size(), c.warnings().toString());
            assertTrue(notes.getFirst().contains("from its half of the pool (as Azure splits it), so no address is given twice: gw1 172.16.201.0/25,"
                    + " fd00:201::/113; gw2 172.16.201.128/25, fd00:201::8000/113"), notes.getFirst());
            assertEquals(pair, notes.getFirst().contains("a takeover drops them"), notes.getFirst());
            // What each instance's pools are made of when it starts.
            assertEquals(List.of("172.16.201.0/25", "fd00:201::/113"), VpnClientPools.forInstance(c, c.instance("gw1"), () -> 0).prefixes());
            assertEquals(List.of("172.16.201.128/25", "fd00:201::8000/113"), VpnClientPools.forInstance(c, c.instance("gw2"), () -> 0).prefixes());
        }
        GatewayConfig single = read("VpnGw2", GOOD);
        assertEquals(List.of("172.16.201.0/24", "fd00:201::/112"), VpnClientPools.forInstance(single, single.instance(null), () -> 0).prefixes());
        assertFalse(read("VpnGw2", GOOD).gateway().activeActive());
        // Switching it is a restart: the halves (and much else) are made at start.
        ConfigDiff d = ConfigDiff.between(read("VpnGw2", GOOD), ConfigReader.parse(config, activeActive(GOOD, false),
                Map.of("P2S_RADIUS", "the other secret")::get));
        assertTrue(d.restartNeeded().stream().anyMatch(l -> l.startsWith("virtualNetworkGateway.activeActive: false -> true")), d.toString());
    }

    /** A prefix whose halves leave no room for clients is refused on an active-active gateway only, every such prefix named. */
    @Test
    void aPoolTooSmallToSplitIsRefusedWithTheMinimum() {
        String small = GOOD.replace("[172.16.201.0/24, \"fd00:201::/112\"]", "[172.16.201.0/30, \"fd00:201::/126\", 172.16.202.0/29, \"fd00:202::/125\"]");
        assertTrue(read("VpnGw2", small).warnings().stream().noneMatch(w -> w.contains("vpnClientConfiguration")), "one instance: the whole pool");
        String message = assertThrows(ConfigException.class, () -> ConfigReader.parse(config, activeActive(small, false),
                Map.of("P2S_RADIUS", "the other secret")::get)).getMessage();
        String why = " is too small to split between the active-active gateway's two instances, each of which leases from its half:"
                + " IPv4 /29 or shorter, IPv6 /125 or shorter";
        assertTrue(message.contains("vpnClientConfiguration.vpnClientAddressPool.addressPrefixes[0]: 172.16.201.0/30" + why), message);
        assertTrue(message.contains("vpnClientConfiguration.vpnClientAddressPool.addressPrefixes[1]: fd00:201::/126" + why), message);
        assertFalse(message.contains("172.16.202.0/29") || message.contains("fd00:202::/125"), "the smallest that split: " + message);
        GatewayConfig ok = ConfigReader.parse(config, activeActive(GOOD.replace("[172.16.201.0/24, \"fd00:201::/112\"]",
                "[172.16.202.0/29, \"fd00:202::/125\"]"), false), Map.of("P2S_RADIUS", "the other secret")::get);
        assertTrue(ok.warnings().toString().contains("gw1 172.16.202.0/30, fd00:202::/126; gw2 172.16.202.4/30, fd00:202::4/126"), ok.warnings().toString());
    }

    @Test
    void everyPoolProblemIsListedAtOnce() {
        String message = problem("VpnGw2", GOOD.replace("172.16.201.0/24,", "10.1.7.0/24, 192.168.20.128/25,"));
        assertTrue(message.contains("10.1.7.0/24 overlaps the gateway's addressSpace"), message);
        assertTrue(message.contains("192.168.20.128/25 overlaps branch's 192.168.20.0/24"), message);
    }
}
