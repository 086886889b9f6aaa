package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Azure's policy names become the same typed proposals the engine negotiated before, when the
 * reader wrote strongSwan proposal strings for the engine to parse again: each case is checked
 * against that string, parsed.
 */
class AzureAlgorithmsTest {
    static List<IkeProposal> ike(String strongSwan) {
        return Stream.of(strongSwan.split(",")).map(IkeProposal::parse).toList();
    }

    static List<ChildProposal> esp(String strongSwan) {
        return Stream.of(strongSwan.split(",")).map(ChildProposal::parse).toList();
    }

    @Test
    void theDefaultsAreTheProposalsOfBefore() {
        assertEquals(ike("aes256gcm16-prfsha384-ecp384,aes256-sha256-modp2048,aes128gcm16-prfsha256-x25519"), ConfigReader.DEFAULT_IKE);
        assertEquals(esp("aes256gcm16-esn,aes256gcm16,aes128gcm16-esn,aes128gcm16,aes256-sha256-esn,aes256-sha256"), ConfigReader.DEFAULT_ESP,
                "ESN offered first, then without, as a policy's esn: both");
    }

    static GatewayConfig.IpsecPolicy policy(String ikeEnc, String ikeInt, String dh, String espEnc, String espInt, String pfs) {
        return ProposalsConfigTest.connection("""
                ipsecPolicies:
                  - ikeEncryption: %s
                    ikeIntegrity: %s
                    dhGroup: %s
                    ipsecEncryption: %s
                    ipsecIntegrity: %s
                    pfsGroup: %s
                """.formatted(ikeEnc, ikeInt, dh, espEnc, espInt, pfs)).ipsecPolicies().getFirst();
    }

    @Test
    void everyKindOfPolicyMatchesItsProposalString() {
        String[][] cases = {
            // ikeEncryption, ikeIntegrity, dhGroup, ipsecEncryption, ipsecIntegrity, pfsGroup, IKE then ESP as strongSwan writes them
            {"GCMAES256", "GCMAES256", "ECP384", "GCMAES256", "GCMAES256", "ECP384", "aes256gcm16-prfsha384-ecp384", "aes256gcm16-ecp384"},
            {"GCMAES128", "GCMAES128", "ECP256", "GCMAES128", "GCMAES128", "None", "aes128gcm16-prfsha256-ecp256", "aes128gcm16"},
            {"GCMAES256", "SHA384", "X25519", "GCMAES192", "GCMAES192", "X25519", "aes256gcm16-prfsha384-x25519", "aes192gcm16-x25519"},
            {"AES256", "SHA384", "ECP384", "AES256", "SHA512", "PFS2048", "aes256-sha384-prfsha384-ecp384", "aes256-sha512-modp2048"},
            {"AES128", "SHA256", "DHGroup14", "AES128", "SHA256", "PFS14", "aes128-sha256-prfsha256-modp2048", "aes128-sha256-modp2048"},
            {"AES192", "SHA256", "DHGroup2048", "AES192", "SHA384", "ECP256", "aes192-sha256-prfsha256-modp2048", "aes192-sha384-ecp256"},
            {"CHACHA20POLY1305", "SHA256", "X25519", "CHACHA20POLY1305", "CHACHA20POLY1305", "None", "chacha20poly1305-prfsha256-x25519",
                "chacha20poly1305"},
        };
        for (String[] c : cases) {
            GatewayConfig.IpsecPolicy p = policy(c[0], c[1], c[2], c[3], c[4], c[5]);
            assertEquals(IkeProposal.parse(c[6]), p.ikeProposal(), String.join(" ", c));
            assertEquals(ChildProposal.parse(c[7]), p.espProposal(), String.join(" ", c));
        }
    }
}
