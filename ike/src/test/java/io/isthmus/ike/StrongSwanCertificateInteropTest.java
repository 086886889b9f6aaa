package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Certificates between Isthmus and strongSwan: RSA (PKCS#1 v1.5 and PSS) and ECDSA, in both
 * roles, through an intermediate CA, big enough that IKE_AUTH travels in RFC 7383 fragments, and
 * refused when the CA is not trusted.
 */
class StrongSwanCertificateInteropTest extends StrongSwanHarness {
    static final Path DIR = StrongSwanPeer.directory();

    /** One PKI per run: a root, an intermediate for the sites, and gateway certificates made per test. */
    final TestPki.Issued root = TestPki.ca("C=CH, O=Isthmus Interop, CN=Root CA", "rsa3072");
    final TestPki.Issued sites = TestPki.intermediate(root, "C=CH, O=Isthmus Interop, CN=Sites CA", "ecp384");

    /**
     * strongSwan with its certificate (issued by the intermediate), the root as its only trust
     * anchor and the intermediate loaded so it sends it along; Isthmus likewise.
     */
    void startWithCertificates(String swKey, String ourKey, boolean pss, String charon, int ourFragmentSize, TestPki.Issued ourIssuer)
            throws Exception {
        // swanctl loads private keys from the "private" folder next to swanctl.conf, not from the secrets section.
        Files.createDirectories(DIR.resolve("private"));
        TestPki.Issued sw = TestPki.gateway(sites, "C=CH, O=Isthmus Interop, CN=strongswan", swKey, "sw.example.net");
        TestPki.Issued ours = TestPki.gateway(ourIssuer, "C=CH, O=Isthmus Interop, CN=isthmus", ourKey, "isthmus.example.net");
        TestPki.pem(DIR.resolve("sw.pem"), sw.certificate());
        TestPki.pem(DIR.resolve("private/sw-key.pem"), sw.privateKey());
        TestPki.pem(DIR.resolve("root.pem"), root.certificate());
        TestPki.pem(DIR.resolve("sites.pem"), sites.certificate());
        Swan swan = new Swan().proposals("aes256gcm16-prfsha384-ecp384", "aes256gcm16");
        swan.local = "auth = pubkey\n certs = " + DIR.resolve("sw.pem") + "\n id = sw.example.net";
        swan.remote = "auth = pubkey\n id = isthmus.example.net";
        swan.secrets = "";
        swan.authorities = "root { cacert = " + DIR.resolve("root.pem") + " }\n sites { cacert = " + DIR.resolve("sites.pem") + " }";
        swan.charon = charon;
        List<java.security.cert.X509Certificate> chain = new ArrayList<>(List.of(ours.certificate()));
        if (ourIssuer == sites) {
            chain.add(sites.certificate());
        }
        Connection c = isthmus(swan).local(java.net.InetAddress.getByName(HOST), Identity.parse("isthmus.example.net"))
                .remote(java.net.InetAddress.getByName(PEER), Identity.parse("sw.example.net"))
                .authentication(new Authentication.Certificates(ours.privateKey(), chain, List.of(root.certificate()), pss))
                .fragmentSize(ourFragmentSize).build();
        start(swan, c);
    }

    @ParameterizedTest(name = "Isthmus {1}{2}, strongSwan {0}, {3} initiates")
    @CsvSource({"rsa2048, rsa2048, false, Isthmus", "rsa2048, rsa3072, false, strongSwan", "rsa2048, rsa2048, true, Isthmus",
            "rsa3072, rsa2048, true, strongSwan", "ecp256, ecp256, false, Isthmus", "ecp384, ecp384, false, strongSwan",
            "ecp256, rsa2048, false, Isthmus", "rsa2048, ecp384, false, strongSwan"})
    void signatures(String swKey, String ourKey, boolean pss, String initiator) throws Exception {
        startWithCertificates(swKey, ourKey, pss, pss ? "rsa_pss = yes" : "", Connection.DEFAULT_FRAGMENT_SIZE, sites);
        if (initiator.equals("Isthmus")) {
            initiate();
        } else {
            String out = peer.swanctl("--initiate", "--child", "net", "--timeout", "10");
            assertTrue(out.contains("initiate completed successfully"), out);
        }
        assertEstablishedOnBothEnds();
        String log = peer.log();
        assertTrue(log.contains("authentication of 'isthmus.example.net' with"), "charon verified our signature");
        assertTrue(log.contains("reached self-signed root ca with a path length of 1"), "charon built the path through our intermediate");
        if (pss) {
            assertTrue(log.contains("RSA_EMSA_PSS"), "RSA-PSS was used");
        }
    }

    /*
     *   Isthmus                                     strongSwan (fragment_size = 576)
     *   IKE_AUTH SKF(1/n) ... SKF(n/n)          -->
     *                                   <--  IKE_AUTH SKF(1/m) ... SKF(m/m)
     */
    @Test
    void bigCertificatesTravelInFragmentsBothWays() throws Exception {
        startWithCertificates("rsa3072", "rsa3072", false, "fragment_size = 576", 576, sites);
        initiate();
        assertEstablishedOnBothEnds();
        String log = peer.log();
        assertTrue(log.contains("received fragment #1 of"), "charon received our fragments");
        assertTrue(log.contains("splitting IKE message"), "charon fragmented its IKE_AUTH");
    }

    @Test
    void strongSwanRefusesACertificateFromAnotherCa() throws Exception {
        TestPki.Issued stranger = TestPki.ca("C=XX, O=Somebody Else, CN=Other CA", "ecp256");
        startWithCertificates("ecp256", "ecp256", false, "", Connection.DEFAULT_FRAGMENT_SIZE, stranger);
        IkeSa sa = initiate();
        await("the IKE SA to fail", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.events().isEmpty());
        assertTrue(peer.log().contains("no trusted") || peer.log().contains("constraint check failed")
                || peer.log().contains("AUTH_FAILED"), "charon refused our certificate");
        assertFalse(peer.swanctl("--list-sas").contains("ESTABLISHED"));
    }

    @Test
    void isthmusRefusesAStrongSwanCertificateFromAnotherCa() throws Exception {
        startWithCertificates("ecp256", "ecp256", false, "", Connection.DEFAULT_FRAGMENT_SIZE, sites);
        // Replace strongSwan's certificate with one from a CA we do not trust, same name.
        TestPki.Issued stranger = TestPki.ca("C=XX, O=Somebody Else, CN=Other CA", "ecp256");
        TestPki.Issued fake = TestPki.gateway(stranger, "C=CH, O=Isthmus Interop, CN=strongswan", "ecp256", "sw.example.net");
        TestPki.pem(DIR.resolve("sw.pem"), fake.certificate());
        TestPki.pem(DIR.resolve("private/sw-key.pem"), fake.privateKey());
        TestPki.pem(DIR.resolve("other.pem"), stranger.certificate());
        Files.writeString(DIR.resolve("swanctl.conf"), Files.readString(DIR.resolve("swanctl.conf"))
                .replace("authorities {", "authorities { other { cacert = " + DIR.resolve("other.pem") + " }\n"));
        peer.swanctl("--load-all", "--file", DIR.resolve("swanctl.conf").toString());
        String out = peer.swanctlAllowingFailure("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(peer.log().contains("received AUTHENTICATION_FAILED notify error"), out);
        assertTrue(onLoop(() -> engine.ikeSas().isEmpty()));
        assertTrue(children.events().isEmpty());
    }
}
