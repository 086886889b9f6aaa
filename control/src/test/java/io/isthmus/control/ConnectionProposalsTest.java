package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.ProposalsConfigTest;
import io.isthmus.control.config.SwanctlProposals;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeProposal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection's policies as the engine gets them (every entry's proposals, in the file's order,
 * ESN as each says; the IKE SA lifetime and DPD delay in its timers) and as {@code isthmus gateway
 * check} prints them in strongSwan's syntax for the peer's swanctl.conf.
 */
class ConnectionProposalsTest {
    static final String FILE = ProposalsConfigTest.FILE.formatted("""
                ikeSaLifeTimeSeconds: 600
                dpdDelaySeconds: 5
                ipsecPolicies:
                  - ikeEncryption: GCMAES256
                    ikeIntegrity: GCMAES256
                    ikePrf: SHA512
                    dhGroup: X25519
                    ipsecEncryption: GCMAES256
                    ipsecIntegrity: GCMAES256
                    saLifeTimeSeconds: 300
                  - ikeEncryption: AES256
                    ikeIntegrity: SHA256
                    dhGroup: DHGroup14
                    ipsecEncryption: AES256
                    ipsecIntegrity: SHA256
                    pfsGroup: PFS14
                    esn: disabled
                  - ikeEncryption: GCMAES128
                    ikeIntegrity: GCMAES128
                    dhGroup: ECP256
                    ipsecEncryption: GCMAES128
                    ipsecIntegrity: GCMAES128
                    esn: enabled
              - name: to-branch-defaults
                localNetworkGateway: branch
                sharedKey: "a shared key long enough"
            """);

    static GatewayConfig config() {
        return ConfigReader.parse(Path.of("gw.yaml"), FILE, k -> null);
    }

    static List<IkeProposal> ike(String s) {
        return Stream.of(s.split(",")).map(IkeProposal::parse).toList();
    }

    static List<ChildProposal> esp(String s) {
        return Stream.of(s.split(",")).map(ChildProposal::parse).toList();
    }

    @Test
    void everyPolicyIsOfferedInTheFilesOrder() throws Exception {
        GatewayConfig c = config();
        Connection built = IkeConnections.of(c, c.instance(null), c.connections().getFirst());
        assertEquals(ike("aes256gcm16-prfsha512-x25519,aes256-sha256-modp2048,aes128gcm16-prfsha256-ecp256"), built.ikeProposals());
        assertEquals(esp("aes256gcm16-esn,aes256gcm16,aes256-sha256-modp2048,aes128gcm16-esn"), built.childProposals());
        assertEquals(Duration.ofSeconds(600), built.timers().ikeLifetime());
        assertEquals(Duration.ofSeconds(5), built.timers().dpdDelay());
        assertEquals(Duration.ofSeconds(300), built.timers().childLifetime(), "the first policy's lifetime");
        assertEquals(Duration.ofSeconds(60), built.timers().rekeyMargin(), "a fifth of the shorter lifetime");
        Connection defaults = IkeConnections.of(c, c.instance(null), c.connections().get(1));
        assertEquals(ConfigReader.DEFAULT_IKE, defaults.ikeProposals());
        assertEquals(Duration.ofSeconds(28_800), defaults.timers().ikeLifetime());
        assertEquals(Duration.ofSeconds(15), defaults.timers().dpdDelay());
        assertEquals(Duration.ofSeconds(45), defaults.timers().dpdTimeout());
    }

    @Test
    void aRepeatedProposalIsOfferedOnce() {
        String first = FILE.substring(FILE.indexOf("      - ikeEncryption: GCMAES256"), FILE.indexOf("      - ikeEncryption: AES256"))
                .replace("        saLifeTimeSeconds: 300\n", "");
        // The first entry again, without ESN: its IKE proposal is offered once, its ESP proposal without ESN once.
        GatewayConfig c = ConfigReader.parse(Path.of("gw.yaml"), FILE.replace("      - ikeEncryption: AES256",
                first + "        esn: disabled\n      - ikeEncryption: AES256"), k -> null);
        assertEquals(4, c.connections().getFirst().ipsecPolicies().size());
        assertEquals(ike("aes256gcm16-prfsha512-x25519,aes256-sha256-modp2048,aes128gcm16-prfsha256-ecp256"),
                IkeConnections.ikeProposals(c.connections().getFirst()));
        assertEquals(esp("aes256gcm16-esn,aes256gcm16,aes256-sha256-modp2048,aes128gcm16-esn"), IkeConnections.espProposals(c.connections().getFirst()));
    }

    @Test
    void swanctlSyntaxJoinsAnEsnPair() {
        assertEquals("aes256gcm16-esn-noesn,aes256-sha256-modp2048-noesn,aes128gcm16-esn",
                SwanctlProposals.esp(esp("aes256gcm16-esn,aes256gcm16,aes256-sha256-modp2048,aes128gcm16-esn")));
        assertEquals("aes128gcm16-noesn,aes256gcm16-esn", SwanctlProposals.esp(esp("aes128gcm16,aes256gcm16-esn")), "different ciphers stay apart");
        assertEquals("aes256gcm16-prfsha512-x25519,aes256-sha256-prfsha256-modp2048",
                SwanctlProposals.ike(ike("aes256gcm16-prfsha512-x25519,aes256-sha256-modp2048")));
    }

    /** What check prints parses back, with strongSwan's own keywords, into what the engine offers. */
    @Test
    void checkPrintsWhatIsOfferedInStrongSwansSyntax(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("gw.yaml"), FILE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        GatewayCommandTest.Result r = GatewayCommandTest.run("check", "--config", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("  to-branch -> branch (198.51.100.7) [10.20.0.0/16], DEFAULT, route-based, IKE SA 600 s, DPD 5 s (timeout 45 s)\n"
                + "    proposals = aes256gcm16-prfsha512-x25519,aes256-sha256-prfsha256-modp2048,aes128gcm16-prfsha256-ecp256\n"
                + "    esp_proposals = aes256gcm16-esn-noesn,aes256-sha256-modp2048-noesn,aes128gcm16-esn\n"), r.out());
        assertTrue(r.out().contains("  to-branch-defaults -> branch (198.51.100.7) [10.20.0.0/16], DEFAULT, route-based, IKE SA 28800 s, DPD 15 s"
                + " (timeout 45 s)\n"
                + "    proposals = aes256gcm16-prfsha384-ecp384,aes256-sha256-prfsha256-modp2048,aes128gcm16-prfsha256-x25519\n"
                + "    esp_proposals = aes256gcm16-esn-noesn,aes128gcm16-esn-noesn,aes256-sha256-esn-noesn\n"), r.out());
        // What a strongSwan peer would be given, read back with the engine's own parsers, is what the
        // gateway offers: strongSwan's "-esn-noesn" is one proposal offering both, the engine's two.
        GatewayConfig c = config();
        Connection built = IkeConnections.of(c, c.instance(null), c.connections().getFirst());
        List<String> lines = r.out().lines().dropWhile(l -> !l.startsWith("  to-branch ->")).skip(1).limit(2).toList();
        assertEquals(built.ikeProposals(), Stream.of(lines.get(0).substring("    proposals = ".length()).split(",")).map(IkeProposal::parse).toList());
        assertEquals(built.childProposals(), Stream.of(lines.get(1).substring("    esp_proposals = ".length()).split(","))
                .flatMap(p -> p.endsWith("-esn-noesn") ? Stream.of(p.replace("-esn-noesn", "-esn"), p.replace("-esn-noesn", "")) : Stream.of(p))
                .map(ChildProposal::parse).toList());
    }

    /** The packaged example's comment names the proposals check prints for it. */
    @Test
    void thePackagedExamplesCommentSaysWhatCheckPrints(@TempDir Path dir) throws Exception {
        Path example = Path.of(System.getProperty("basedir", ".")).resolve("../deploy/package/root/etc/isthmus/example.yaml");
        String text = Files.readString(example);
        Path file = Files.writeString(dir.resolve("example.yaml"), text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        GatewayCommandTest.Result r = GatewayCommandTest.run("check", "--config", file.toString());
        assertEquals(0, r.code(), r.err());
        String proposals = r.out().lines().filter(l -> l.startsWith("    proposals = ")).findFirst().orElseThrow().substring(16);
        String esp = r.out().lines().filter(l -> l.startsWith("    esp_proposals = ")).findFirst().orElseThrow().substring(20);
        assertTrue(text.contains("# strongSwan: proposals = " + proposals + ", esp_proposals = " + esp), r.out());
    }

    @Test
    void theTestHookTakesANumberAndIsRefusedInAPair() {
        assertEquals(0, EsnTestHook.apply(null, null, false));
        assertEquals(0, EsnTestHook.apply(" ", null, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EsnTestHook.apply("near 2^32", null, false));
        assertTrue(e.getMessage().startsWith("ISTHMUS_TEST_ESN_FIRST_SEQUENCE='near 2^32' is not a sequence number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EsnTestHook.apply("0xffffff00", null, true));
        assertTrue(e.getMessage().contains("a pair's nodes take their sequence numbers from leases"), e.getMessage());
    }
}
