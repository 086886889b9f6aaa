package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigReaderTest {
    static final Path FILE = Path.of("/etc/isthmus/gw.yaml");

    static final String GOOD = """
            virtualNetworkGateway:
              name: gw-west
              vpnType: RouteBased
              sku: VpnGw2
              addressSpace: [10.1.0.0/16]
              instances:
                - name: gw-west-0
                  publicIpAddress: 203.0.113.10
                  privateIpAddress: 10.1.255.4
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 198.51.100.7
                addressPrefixes: [192.168.20.0/24, fd20::/64]
            connections:
              - name: west-to-branch
                localNetworkGateway: branch
                sharedKey: "a long and secret shared key"
                ipsecPolicies:
                  - saLifeTimeSeconds: 3600
                    saDataSizeKilobytes: 2048000
                    ipsecEncryption: GCMAES256
                    ipsecIntegrity: GCMAES256
                    ikeEncryption: AES256
                    ikeIntegrity: SHA384
                    dhGroup: ECP384
                    pfsGroup: ECP256
            """;

    static GatewayConfig parse(String text) {
        return ConfigReader.parse(FILE, text, Map.of("BRANCH_KEY", "key from the environment")::get);
    }

    @Test
    void aGoodFileInAzuresTerms() {
        GatewayConfig c = parse(GOOD);
        assertEquals("gw-west", c.gateway().name());
        assertEquals(GatewayConfig.Sku.VPN_GW2, c.gateway().sku());
        assertEquals("10.1.255.4", c.instance(null).bindAddress().getHostAddress());
        var policy = c.connections().getFirst().ipsecPolicies().getFirst();
        assertEquals("aes256-sha384-prfsha384-ecp384", policy.ikeProposal().toString());
        assertEquals("aes256gcm16-ecp256", policy.espProposal().toString());
        assertEquals(Duration.ofHours(1), policy.saLifeTime());
        assertEquals(GatewayConfig.ConnectionMode.DEFAULT, c.connections().getFirst().connectionMode());
        assertEquals("isthmus0", c.gateway().tunnel().device());
        assertTrue(!c.connections().getFirst().toString().contains("secret"), "the key is never printed");
    }

    @Test
    void jsonIsReadToo() {
        GatewayConfig c = parse("""
                {"virtualNetworkGateway": {"name": "g", "vpnType": "PolicyBased", "sku": "VpnGw1", "addressSpace": ["10.1.0.0/16"],
                  "instances": [{"publicIpAddress": "203.0.113.10"}]},
                 "localNetworkGateways": [{"name": "b", "gatewayIpAddress": "198.51.100.7", "addressPrefixes": ["192.168.20.0/24"]}],
                 "connections": [{"name": "c", "localNetworkGateway": "b", "sharedKeyEnv": "BRANCH_KEY", "connectionMode": "ResponderOnly"}]}
                """);
        assertTrue(c.connections().getFirst().usePolicyBasedTrafficSelectors());
        assertArrayEquals("key from the environment".getBytes(StandardCharsets.US_ASCII), c.connections().getFirst().sharedKey());
        assertEquals(GatewayConfig.ConnectionMode.RESPONDER_ONLY, c.connections().getFirst().connectionMode());
        assertEquals("g-0", c.gateway().instances().getFirst().name());
    }

    @Test
    void aSharedKeyFromAFileNextToTheConfiguration(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("branch.psk"), "key in a file\n");
        Files.setPosixFilePermissions(dir.resolve("branch.psk"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, GOOD.replace("sharedKey: \"a long and secret shared key\"", "sharedKeyFile: branch.psk"));
        assertArrayEquals("key in a file".getBytes(StandardCharsets.US_ASCII), ConfigReader.read(file).connections().getFirst().sharedKey());
    }

    /** The gateway that owns the configuration wipes its keys when it closes; the IKE connection shares the array. */
    @Test
    void theKeyIsWipedWhenItsOwnerCloses() {
        GatewayConfig c = parse(GOOD);
        byte[] key = c.connections().getFirst().sharedKey();
        assertArrayEquals("a long and secret shared key".getBytes(StandardCharsets.US_ASCII), key);
        assertSame(key, c.connections().getFirst().sharedKey(), "one live copy, not a fresh one per call");
        c.destroySecrets();
        assertArrayEquals(new byte[key.length], key);
    }

    @Test
    void theKeyNeverAppearsInTheConfigurationsText() {
        GatewayConfig c = parse(GOOD);
        byte[] key = c.connections().getFirst().sharedKey();
        for (String text : List.of(c.toString(), c.connections().toString(), c.connections().getFirst().toString())) {
            assertTrue(!text.contains("secret"), text);
            assertTrue(!text.contains(java.util.Arrays.toString(key)), text);
            assertTrue(!text.contains(java.util.HexFormat.of().formatHex(key)), text);
        }
    }

    /** SnakeYAML quotes the line it stumbled on; when that is the key's, only line and column are told. */
    @Test
    void aSyntaxErrorOnTheKeysLineDoesNotShowTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(GOOD.replace("sharedKey: \"a long and secret shared key\"",
                "sharedKey: \"a long and secret shared key")));
        assertTrue(e.getMessage().startsWith("/etc/isthmus/gw.yaml: not valid YAML or JSON: while scanning a quoted scalar\n at line 17, column 16"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("secret"), e.getMessage());
        ConfigException e2 = assertThrows(ConfigException.class, () -> parse(GOOD.replace("sharedKey: \"a long and secret shared key\"",
                "sharedKey: a long: and secret shared key")));
        assertTrue(!e2.getMessage().contains("secret"), e2.getMessage());
        assertTrue(e2.getMessage().contains("line 17"), e2.getMessage());
    }

    @Test
    void aKeyFileMustHoldPrintableAscii(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("branch.psk");
        Files.write(key, new byte[] {'k', 'e', 'y', (byte) 0xC3, (byte) 0xA9, '\n'});
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, GOOD.replace("sharedKey: \"a long and secret shared key\"", "sharedKeyFile: branch.psk"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(file));
        assertTrue(e.getMessage().endsWith("connections[0].sharedKeyFile: a shared key is 1 to 128 printable ASCII characters"), e.getMessage());
        Files.write(key, "\t  key with spaces inside \r\n".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals("key with spaces inside".getBytes(StandardCharsets.US_ASCII), ConfigReader.read(file).connections().getFirst().sharedKey());
    }

    /** Each mistake is named by file, field and what is allowed. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "vpnType: RouteBased | vpnType: RouteBsed | virtualNetworkGateway.vpnType: 'RouteBsed' is not allowed; one of RouteBased, PolicyBased",
            "sku: VpnGw2 | sku: Premium | virtualNetworkGateway.sku: 'Premium' is not allowed; one of Basic, VpnGw1",
            "ikeEncryption: AES256 | ikeEncryption: DES3 | connections[0].ipsecPolicies[0].ikeEncryption: 'DES3' is not allowed; one of GCMAES256",
            "dhGroup: ECP384 | dhGroup: DHGroup2 | connections[0].ipsecPolicies[0].dhGroup: 'DHGroup2' is not allowed; one of ECP384, ECP256",
            "ipsecIntegrity: GCMAES256 | ipsecIntegrity: SHA256 | connections[0].ipsecPolicies[0].ipsecIntegrity: 'SHA256' does not go with ipsecEncryption GCMAES256",
            "saLifeTimeSeconds: 3600 | saLifeTimeSeconds: 5 | connections[0].ipsecPolicies[0].saLifeTimeSeconds: '5' is not allowed; a whole number from 10 to 172799",
            "publicIpAddress: 203.0.113.10 | publicIpAddress: gw.example.net | virtualNetworkGateway.instances[0].publicIpAddress: 'gw.example.net' is not an IPv4 or IPv6 address",
            "[192.168.20.0/24, fd20::/64] | [192.168.20.1/24] | localNetworkGateways[0].addressPrefixes[0]: '192.168.20.1/24' is not an address prefix: 192.168.20.1/24 has host bits set",
            "localNetworkGateway: branch | localNetworkGateway: brnach | connections[0].localNetworkGateway: 'brnach' is not one of the localNetworkGateways [branch]",
            "sku: VpnGw2 | skew: VpnGw2 | virtualNetworkGateway.skew: unknown field; allowed here: name, gatewayType, vpnType, sku",
            "sharedKey: \"a long and secret shared key\" | sharedKeyEnv: NOT_SET | connections[0].sharedKeyEnv: environment variable NOT_SET is not set"})
    void mistakesAreNamed(String good, String bad, String expected) {
        String text = GOOD.replace(good, bad.replace("\\n", "\n"));
        assertTrue(!text.equals(GOOD), "the test changes the file");
        ConfigException e = assertThrows(ConfigException.class, () -> parse(text));
        assertTrue(e.getMessage().startsWith("/etc/isthmus/gw.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void ikeV1IsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(GOOD.replace("localNetworkGateway: branch",
                "localNetworkGateway: branch\n    connectionProtocol: IKEv1")));
        assertTrue(e.getMessage().contains("connections[0].connectionProtocol: 'IKEv1' is not allowed; one of IKEv2"), e.getMessage());
    }

    @Test
    void moreTunnelsThanTheSkuTakes() {
        StringBuilder text = new StringBuilder(GOOD.substring(0, GOOD.indexOf("connections:")).replace("sku: VpnGw2", "sku: Basic"));
        text.append("connections:\n");
        for (int i = 0; i < 11; i++) {
            text.append("  - name: c").append(i).append("\n    localNetworkGateway: branch\n    sharedKey: k\n");
        }
        ConfigException e = assertThrows(ConfigException.class, () -> parse(text.toString()));
        assertTrue(e.getMessage().contains("11 connections, but SKU Basic takes at most 10"), e.getMessage());
    }

    @Test
    void notYamlAtAll() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("virtualNetworkGateway: [unclosed"));
        assertTrue(e.getMessage().startsWith("/etc/isthmus/gw.yaml: not valid YAML or JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("line"), e.getMessage());
    }

    @Test
    void twoWaysToAuthenticateAreOneTooMany() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(GOOD.replace("sharedKey: \"a long and secret shared key\"",
                "sharedKey: x\n    sharedKeyEnv: BRANCH_KEY")));
        assertEquals("connections[0]", e.field());
        assertTrue(e.getMessage().contains("only one of [sharedKey, sharedKeyEnv]"), e.getMessage());
        assertNull(null);
    }
    // --- The file itself: what is read, and how much (a reload must not hang or run out of memory) ---

    static String readProblem(Path file) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(ConfigException.class, () -> ConfigReader.read(file)).getMessage());
    }

    @Test
    void aLinkToDevZeroIsRefusedAtOnceUnread(@TempDir Path dir) throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("gw.yaml"), Path.of("/dev/zero"));
        assertEquals(link + ": not a regular file (a character device)", readProblem(link));
    }

    @Test
    void aFifoIsRefusedWithoutWaitingForAWriter(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("gw.yaml");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertEquals(fifo + ": not a regular file (a FIFO)", readProblem(fifo));
    }

    @Test
    void aDirectoryIsRefused(@TempDir Path dir) {
        assertEquals(dir + ": not a regular file (a directory)", readProblem(dir));
    }

    @Test
    void aFileOverSixteenMebibytesIsRefusedAndOneOfExactlyThatIsRead(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("gw.yaml");
        // Comment lines of 64 bytes: one comment line of 16 MiB took the YAML scanner 78 s (of CI's 3 minutes for control).
        String line = "#".repeat(63) + "\n";
        int room = (16 << 20) - GOOD.length();
        byte[] padded = (GOOD + line.repeat(room / line.length()) + "#".repeat(room % line.length())).getBytes(StandardCharsets.UTF_8);
        Files.write(big, padded);
        assertEquals(16 << 20, Files.size(big));
        assertEquals("gw-west", ConfigReader.read(big).gateway().name());
        Files.write(big, new byte[] {'#'}, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(big + ": larger than 16 MiB (16777216 bytes), the most a configuration may hold", readProblem(big));
    }

    @Test
    void bytesThatAreNotUtf8AreNamedByPosition(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xff, '\n'});
        assertEquals(file + ": not UTF-8 (byte 4)", readProblem(file));
    }

    @Test
    void aMissingFileIsSaidSo(@TempDir Path dir) {
        Path file = dir.resolve("ga.yaml");
        assertEquals(file + ": no such file", readProblem(file));
    }

    /** The mode judged is the one of the file that was parsed, not of whatever the path names a moment later. */
    @Test
    void theModeIsTheReadFilesEvenIfThePathIsSwappedMeanwhile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, GOOD);
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path tidy = dir.resolve("tidy.yaml");
        Files.writeString(tidy, "not: even: yaml");
        Files.setPosixFilePermissions(tidy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        ConfigFile.Contents read = ConfigFile.read(file, () -> {
            try {
                Files.move(tidy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(GOOD, read.text());
        assertEquals("0644", read.access().mode());
        assertTrue(read.access().readableByOthers());
    }
}
