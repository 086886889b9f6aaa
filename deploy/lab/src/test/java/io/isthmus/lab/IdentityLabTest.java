package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Identities as a strongSwan user writes them (issue 17): strongSwan 5.9.8 (gw-b) initiates with a
 * certificate its {@code pki} tool made and no {@code id}, so its IDi is its subject as pki encodes
 * it (PrintableString); Isthmus (gw-a, responder) names that peer in {@code ikeIdentity} as an
 * operator would write it: the same text, other spacing and case, the certificate's dNSName, or
 * {@code CN=*}; and the other way round, Isthmus initiating with the respelt name, which it checks
 * the answer's IDr against (it sends no IDr for a name: strongSwan 5.9 compares one byte for byte). Each row must come up and carry traffic; the first two also rekey the child SA under
 * traffic (Isthmus, then strongSwan initiating) and check what the log says each old SA carried, and every row checks that status shows
 * no drops outside any tunnel before traffic (the kernel's MLD reports on the new TUN device).
 */
class IdentityLabTest extends LabTestBase {
    static final String SWAN_DN = "C=CH, O=HX Interop, CN=swan.hx";
    static final String ISTHMUS_DN = "C=CH, O=HX Interop, CN=isthmus.hx";
    private static final Pattern REMOVED = Pattern.compile("SA removed, in \\S+ out \\S+, ([\\d,]+) bytes in, ([\\d,]+) bytes out");

    @ParameterizedTest(name = "ikeIdentity \"{0}\"")
    @CsvSource(delimiter = '|', value = {
            "C=CH, O=HX Interop, CN=swan.hx | isthmus | strongswan",
            "c=ch,o=hx   interop ,  cn=SWAN.HX | strongswan | strongswan",
            "swan.hx | none | strongswan",
            "C=CH, O=HX Interop, CN=* | none | strongswan",
            "c=ch,o=hx   interop ,  cn=SWAN.HX | none | isthmus"})
    void strongSwanWithAPkiCertificateAndNoIdReachesIsthmus(String ikeIdentity, String rekeyedBy, String initiator) throws Exception {
        boolean rekey = !rekeyedBy.equals("none");
        boolean swanInitiates = initiator.equals("strongswan");
        lab = Lab.up(Path.of("/tmp/isthmus-lab-ident"), false);
        Path pki = Files.createDirectories(lab.work().resolve("pki"));
        certificates(pki);
        // Where swanctl looks beside its swanctl.conf, as in /etc/swanctl: x509, x509ca, ecdsa.
        Path swanctl = lab.work().resolve("sw-b");
        for (String[] f : new String[][] {{"swan.crt", "x509"}, {"ca.crt", "x509ca"}, {"swan.key", "ecdsa"}}) {
            Files.copy(pki.resolve(f[0]), Files.createDirectories(swanctl.resolve(f[1])).resolve(f[0]), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        String isthmus = isthmusConfig(pki, ikeIdentity, rekeyedBy.equals("isthmus"), swanInitiates ? "ResponderOnly" : "InitiatorOnly");
        String strongSwan = strongSwanConfig(rekeyedBy.equals("strongswan"), swanInitiates);
        Path a;
        if (swanInitiates) {
            a = LabGateways.startIsthmus(lab, Side.A, isthmus);
            Thread.sleep(1500); // Isthmus listening before charon's first IKE_SA_INIT
            LabGateways.startStrongSwan(lab, Side.B, strongSwan);
        } else {
            LabGateways.startStrongSwan(lab, Side.B, strongSwan);
            a = LabGateways.startIsthmus(lab, Side.A, isthmus);
        }

        JsonNode sa = established(a);
        assertEquals("C=CH,O=HX Interop,CN=swan.hx", sa.path("remoteId").asText(), "the identity strongSwan proved: " + sa);
        JsonNode drops = status(a).path("unattributedDrops");
        assertFalse(drops.has("NO_ROUTE"), "drops outside any tunnel before any traffic: " + drops);
        assertTrue(lab.awaitPath(Duration.ofSeconds(60), false), "no path from host-a to host-b; logs in " + lab.work());
        String swan = LabGateways.swanctl(lab, Side.B, "--list-sas");
        assertTrue(swan.contains("INSTALLED") && swan.contains(ISTHMUS_DN), "strongSwan's view: " + swan);
        if (rekey) {
            // A 12 s child lifetime at Isthmus or a 10 s rekey_time at strongSwan: a rekey falls in the ping; then wait out the old SA's grace.
            lab.in(Lab.HOST_A, "ping", "-c", "70", "-i", "0.25", "-W", "2", Lab.HOST_B_IP);
            Thread.sleep(4000);
            String log = Files.readString(lab.work().resolve("gw-a.log"));
            Matcher m = REMOVED.matcher(log);
            List<String> removed = new ArrayList<>();
            while (m.find()) {
                removed.add(m.group());
                assertTrue(Long.parseLong(m.group(2).replace(",", "")) > 0, "an SA that carried pings out logs 0 bytes out: " + m.group());
                assertTrue(Long.parseLong(m.group(1).replace(",", "")) > 0, m.group());
            }
            assertFalse(removed.isEmpty(), "no rekeyed SA was removed within the ping; log in " + lab.work());
            // Kept under its row's name: the next row's gateway writes gw-a.log anew.
            Files.writeString(lab.work().resolve("sa-removed-rekeyed-by-" + rekeyedBy + ".txt"), String.join("\n", removed) + "\n");
        }
    }

    /** A CA, strongSwan's certificate (subject SWAN_DN, dNSName swan.hx) and Isthmus's, all by pki, ECDSA P-256, PEM. */
    static void certificates(Path dir) throws IOException, InterruptedException {
        pki(dir, "ca.key", "pki --gen --type ecdsa --size 256 --outform pem");
        pki(dir, "ca.crt", "pki --self --ca --lifetime 30 --in ca.key --dn 'C=CH, O=HX Interop, CN=HX Lab CA' --outform pem");
        for (String[] gw : new String[][] {{"swan", SWAN_DN, "swan.hx", Lab.GW_B_WAN}, {"isthmus", ISTHMUS_DN, "isthmus.hx", "10.77.0.1"}}) {
            pki(dir, gw[0] + ".key", "pki --gen --type ecdsa --size 256 --outform pem");
            pki(dir, gw[0] + ".crt", "pki --pub --in " + gw[0] + ".key | pki --issue --lifetime 30 --cacert ca.crt --cakey ca.key --dn '"
                    + gw[1] + "' --san " + gw[2] + " --san " + gw[3] + " --outform pem");
        }
        Files.setPosixFilePermissions(dir.resolve("isthmus.key"), PosixFilePermissions.fromString("rw-------"));
        // The row's premise: pki writes O and CN as PrintableString, where the configured name reads as UTF8String.
        try (var in = Files.newInputStream(dir.resolve("swan.crt"))) {
            var cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
            var subject = org.bouncycastle.asn1.x500.X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
            for (var type : List.of(org.bouncycastle.asn1.x500.style.BCStyle.O, org.bouncycastle.asn1.x500.style.BCStyle.CN)) {
                var value = subject.getRDNs(type)[0].getFirst().getValue();
                assertTrue(value instanceof org.bouncycastle.asn1.DERPrintableString, type + " as pki encodes it: " + value.getClass().getSimpleName());
            }
        } catch (java.security.cert.CertificateException e) {
            throw new IOException(e);
        }
    }

    private static void pki(Path dir, String out, String command) throws IOException, InterruptedException {
        // pki prints its plugin chatter (no TPM here) on stderr; only stdout is the file.
        Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectOutput(dir.resolve(out).toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertEquals(0, p.waitFor(), command);
        assertTrue(Files.size(dir.resolve(out)) > 0, command);
    }

    static String isthmusConfig(Path pki, String ikeIdentity, boolean rekey, String connectionMode) {
        // The proposal strongSwan offers (aes128gcm16-prfsha256-ecp256); for the rekey row a 12 s child lifetime.
        String policy = """
                    ipsecPolicies:
                      - saLifeTimeSeconds: %s
                        ipsecEncryption: GCMAES128
                        ipsecIntegrity: GCMAES128
                        ikeEncryption: GCMAES128
                        ikeIntegrity: SHA256
                        dhGroup: ECP256
                        pfsGroup: ECP256
                """.formatted(rekey ? 12 : 3600);
        return """
                virtualNetworkGateway:
                  name: lab-gw-a
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.10.0/24, fd10::/64]
                  instances:
                    - name: lab-gw-a-0
                      publicIpAddress: 10.77.0.1
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                localNetworkGateways:
                  - name: site-b
                    gatewayIpAddress: %1$s
                    ikeIdentity: "%2$s"
                    addressPrefixes: [192.168.20.0/24, fd20::/64]
                connections:
                  - name: to-site-b
                    localNetworkGateway: site-b
                    connectionMode: %5$s
                    certificateAuthentication:
                      outboundAuthCertificate: %3$s/isthmus.crt
                      privateKey: %3$s/isthmus.key
                      inboundAuthCertificateChain: [%3$s/ca.crt]
                %4$s""".formatted(Lab.GW_B_WAN, ikeIdentity, pki, policy, connectionMode);
    }

    /** strongSwan with its pki certificate and no local id (its subject DN, as pki encoded it), initiating or responding. */
    static String strongSwanConfig(boolean rekeys, boolean initiates) {
        return """
                connections { lab {
                  local_addrs = %1$s
                  remote_addrs = 10.77.0.1
                  version = 2
                  proposals = aes128gcm16-prfsha256-ecp256
                  local { auth = pubkey
                    certs = swan.crt }
                  remote { auth = pubkey
                    id = "%2$s"
                    cacerts = ca.crt }
                  children { net {
                      local_ts = 192.168.20.0/24,fd20::/64
                      remote_ts = 192.168.10.0/24,fd10::/64
                      esp_proposals = aes128gcm16-ecp256
                      start_action = %4$s
                      %3$s
                      mode = tunnel } } } }
                """.formatted(Lab.GW_B_WAN, ISTHMUS_DN, rekeys ? "rekey_time = 10s\n  rand_time = 0s\n  life_time = 30s" : "", initiates ? "start" : "none");
    }

    /** The IKE SA once established, as gw-a's status shows it. */
    JsonNode established(Path socket) throws Exception {
        // Wide: on a loaded machine the gateway's JVM alone has taken 20 s to start, and charon retransmits at 4, 11, 24 s...
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            try {
                last = status(socket);
                JsonNode sas = last.path("connections").get(0).path("ikeSas");
                for (JsonNode sa : sas) {
                    if ("ESTABLISHED".equals(sa.path("state").asText())) {
                        return sa;
                    }
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no IKE SA established in 120 s: " + (last == null ? "no status" : last.toPrettyString())
                + "; logs in " + lab.work());
    }
}
