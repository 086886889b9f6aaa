package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a connection can say about what it offers, beyond Azure's one policy: SHA512, an explicit
 * IKE PRF, ESN, several policies in order, the IKE SA lifetime and the DPD delay. Each new field
 * read, and each mistake in it named by field and what is allowed.
 */
public class ProposalsConfigTest {
    /** One instance, the site branch and its connection to-branch, whose further fields (4 spaces in) take the place of %s. */
    public static final String FILE = """
            virtualNetworkGateway:
              name: gw
              vpnType: RouteBased
              sku: VpnGw1
              instances:
                - publicIpAddress: 203.0.113.10
            localNetworkGateways:
              - name: branch
                gatewayIpAddress: 198.51.100.7
                addressPrefixes: [10.20.0.0/16]
            connections:
              - name: to-branch
                localNetworkGateway: branch
                sharedKey: k
            %s""";

    /** A policy entry, its lines indented under {@code ipsecPolicies:}. */
    static final String GCM = """
              - ikeEncryption: GCMAES256
                ikeIntegrity: GCMAES256
                dhGroup: X25519
                ipsecEncryption: GCMAES256
                ipsecIntegrity: GCMAES256
            """;
    static final String CBC = """
              - ikeEncryption: AES256
                ikeIntegrity: SHA512
                dhGroup: ECP384
                ipsecEncryption: AES256
                ipsecIntegrity: SHA512
                pfsGroup: ECP384
            """;

    /** The connection's extra lines (4 spaces in), e.g. {@code ipsecPolicies:} and its entries. */
    static GatewayConfig.Connection connection(String lines) {
        String indented = lines.lines().map(l -> "    " + l).reduce("", (a, b) -> a + b + "\n");
        return ConfigReader.parse(Path.of("/etc/isthmus/gw.yaml"), FILE.formatted(indented), k -> null).connections().getFirst();
    }

    static String error(String lines) {
        return assertThrows(ConfigException.class, () -> connection(lines)).getMessage();
    }

    @Test
    void sha512NamesBothTheHmacAndThePrf() {
        GatewayConfig.IpsecPolicy p = connection("ipsecPolicies:\n" + CBC).ipsecPolicies().getFirst();
        assertEquals(IkeProposal.parse("aes256-sha512-prfsha512-ecp384"), p.ikeProposal());
        assertEquals(ChildProposal.parse("aes256-sha512-ecp384"), p.espProposal());
    }

    /** GCMAES256 as IKE integrity silently meant PRF-SHA384; ikePrf says which one, and the common strongSwan proposal is reachable. */
    @Test
    void ikePrfChoosesThePrfOfGcmIntegrity() {
        assertEquals("aes256gcm16-prfsha384-x25519", connection("ipsecPolicies:\n" + GCM).ipsecPolicies().getFirst().ikeProposal().toString());
        assertEquals("aes256gcm16-prfsha512-x25519", connection("ipsecPolicies:\n" + GCM + "    ikePrf: SHA512\n").ipsecPolicies().getFirst()
                .ikeProposal().toString());
        assertEquals("aes256gcm16-prfsha256-x25519", connection("ipsecPolicies:\n" + GCM + "    ikePrf: sha256\n").ipsecPolicies().getFirst()
                .ikeProposal().toString(), "case-insensitive, as Azure's names are");
        // With a SHA name the PRF is already named: the same one is allowed, another is refused.
        assertEquals("aes256-sha512-prfsha512-ecp384", connection("ipsecPolicies:\n" + CBC + "    ikePrf: SHA512\n").ipsecPolicies().getFirst()
                .ikeProposal().toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "ikePrf: SHA1|ipsecPolicies[0].ikePrf: 'SHA1' is not allowed; one of SHA256, SHA384, SHA512",
            "ikePrf: SHA384|ipsecPolicies[0].ikePrf: 'SHA384' disagrees with ikeIntegrity SHA512, which names prfsha512",
            "esn: sometimes|ipsecPolicies[0].esn: 'sometimes' is not allowed; one of both, enabled, disabled",
            "colour: blue|ipsecPolicies[0].colour: unknown field"})
    void mistakesInAPolicysNewFields(String line, String expected) {
        String e = error("ipsecPolicies:\n" + CBC + "    " + line + "\n");
        assertTrue(e.contains("connections[0]." + expected), e);
    }

    @Test
    void esnIsOfferedAlongsideNoEsnByDefault() {
        assertEquals(List.of(ChildProposal.parse("aes256gcm16-esn"), ChildProposal.parse("aes256gcm16")),
                connection("ipsecPolicies:\n" + GCM).ipsecPolicies().getFirst().espProposals(), "both: ESN first");
        assertEquals(List.of(ChildProposal.parse("aes256gcm16-esn")),
                connection("ipsecPolicies:\n" + GCM + "    esn: enabled\n").ipsecPolicies().getFirst().espProposals());
        assertEquals(List.of(ChildProposal.parse("aes256gcm16")),
                connection("ipsecPolicies:\n" + GCM + "    esn: Disabled\n").ipsecPolicies().getFirst().espProposals());
    }

    @Test
    void severalPoliciesInTheFilesOrder() {
        List<GatewayConfig.IpsecPolicy> p = connection("ipsecPolicies:\n" + CBC + GCM).ipsecPolicies();
        assertEquals(List.of("aes256-sha512-prfsha512-ecp384", "aes256gcm16-prfsha384-x25519"), p.stream().map(x -> x.ikeProposal().toString())
                .toList());
        assertEquals(List.of("aes256gcm16-prfsha384-x25519", "aes256-sha512-prfsha512-ecp384"),
                connection("ipsecPolicies:\n" + GCM + CBC).ipsecPolicies().stream().map(x -> x.ikeProposal().toString()).toList());
    }

    @Test
    void atMostEightPolicies() {
        assertEquals(8, connection("ipsecPolicies:\n" + GCM.repeat(8)).ipsecPolicies().size());
        assertTrue(error("ipsecPolicies:\n" + GCM.repeat(9)).contains("connections[0].ipsecPolicies: expected a list of 0 to 8 entries"));
    }

    /** The engine has one child lifetime per connection: the first entry's; a later entry that says another is refused, not ignored. */
    @Test
    void laterPoliciesMayNotDisagreeOnTheLifetime() {
        GatewayConfig.Connection c = connection("ipsecPolicies:\n" + CBC + "    saLifeTimeSeconds: 3600\n" + GCM);
        assertEquals(Duration.ofHours(1), c.ipsecPolicies().get(0).saLifeTime());
        String e = error("ipsecPolicies:\n" + CBC + GCM + "    saLifeTimeSeconds: 3600\n");
        assertTrue(e.contains("connections[0].ipsecPolicies[1].saLifeTimeSeconds: 3600 differs from ipsecPolicies[0]'s 27000"), e);
        e = error("ipsecPolicies:\n" + CBC + GCM + "    saDataSizeKilobytes: 4096\n");
        assertTrue(e.contains("connections[0].ipsecPolicies[1].saDataSizeKilobytes: 4096 differs from ipsecPolicies[0]'s 102400000"), e);
        // The same value written out again is fine.
        assertEquals(2, connection("ipsecPolicies:\n" + CBC + "    saLifeTimeSeconds: 3600\n" + GCM + "    saLifeTimeSeconds: 3600\n")
                .ipsecPolicies().size());
    }

    @Test
    void ikeSaLifetimeAndDpdDelayDefaultToAzuresAndCanBeSet() {
        GatewayConfig.Connection d = connection("");
        assertEquals(Duration.ofSeconds(28_800), d.ikeSaLifeTime());
        assertEquals(Duration.ofSeconds(15), d.dpdDelay());
        GatewayConfig.Connection c = connection("ikeSaLifeTimeSeconds: 3600\ndpdDelaySeconds: 30\n");
        assertEquals(Duration.ofHours(1), c.ikeSaLifeTime());
        assertEquals(Duration.ofSeconds(30), c.dpdDelay());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "ikeSaLifeTimeSeconds: 5|connections[0].ikeSaLifeTimeSeconds: '5' is not allowed; a whole number from 10 to 86400",
            "ikeSaLifeTimeSeconds: 86401|connections[0].ikeSaLifeTimeSeconds: '86401' is not allowed; a whole number from 10 to 86400",
            "ikeSaLifeTimeSeconds: 8h|connections[0].ikeSaLifeTimeSeconds: '8h' is not allowed; a whole number from 10 to 86400",
            "dpdDelaySeconds: 1|connections[0].dpdDelaySeconds: '1' is not allowed; a whole number from 2 to 3600",
            "dpdDelaySeconds: 3601|connections[0].dpdDelaySeconds: '3601' is not allowed; a whole number from 2 to 3600",
            "ikeSaLifetimeSeconds: 600|connections[0].ikeSaLifetimeSeconds: unknown field"})
    void mistakesInTheConnectionsNewFields(String line, String expected) {
        String e = error(line + "\n");
        assertTrue(e.startsWith("/etc/isthmus/gw.yaml: "), e);
        assertTrue(e.contains(expected), e);
    }
}
