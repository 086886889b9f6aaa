package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.exchange.Authenticator;
import io.isthmus.ike.message.AuthPayload;
import io.isthmus.ike.message.CertPayload;
import io.isthmus.ike.message.IdPayload;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Authentication with certificates: RSA with PKCS#1 v1.5 and RSA-PSS, ECDSA, chains through an
 * intermediate CA, identities bound to the certificate, and every way it must fail.
 */
class CertificateAuthenticationTest extends EnginePair {
    static final String IKE = "aes256gcm16-prfsha384-ecp384";
    static final TestPki.Issued ROOT = TestPki.ca("C=CH, O=Isthmus Test, CN=Root CA", "rsa2048");

    static Authentication.Certificates credentials(TestPki.Issued own, List<TestPki.Issued> intermediates, boolean pss,
                                                   TestPki.Issued... trusted) {
        var chain = new java.util.ArrayList<>(List.of(own.certificate()));
        intermediates.forEach(i -> chain.add(i.certificate()));
        return new Authentication.Certificates(own.privateKey(), chain,
                java.util.Arrays.stream(trusted).map(TestPki.Issued::certificate).toList(), pss);
    }

    IkeSa establish(Authentication a, Identity idA, Authentication b, Identity idB) {
        configure(connectionA(IKE, "aes256gcm16").local(A, idA).remote(B, idB).authentication(a).build(),
                connectionB(IKE, "aes256gcm16").local(B, idB).remote(A, idA).authentication(b).build());
        return initiate();
    }

    /*
     *   A                                          B
     *   IKE_SA_INIT ... N(SIGNATURE_HASH_ALGORITHMS) -->
     *                                  <-- ... CERTREQ N(SIGNATURE_HASH_ALGORITHMS)
     *   IKE_AUTH SK{IDi CERT CERTREQ IDr AUTH(14) ...}  -->
     *                                  <-- SK{IDr CERT AUTH(14) SA TSi TSr}
     */
    @ParameterizedTest(name = "A {0}{1}, B {2}{3}")
    @CsvSource({"rsa2048, false, rsa2048, false", "rsa3072, true, rsa2048, true", "ecp256, false, ecp384, false",
            "ecp521, false, rsa2048, true", "rsa2048, false, ecp256, false"})
    void signaturesOfEveryKind(String keyA, boolean pssA, String keyB, boolean pssB) {
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", keyA, "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", keyB, "gw-b.example.net");
        IkeSa sa = establish(credentials(a, List.of(), pssA, ROOT), Identity.parse("gw-a.example.net"),
                credentials(b, List.of(), pssB, ROOT), Identity.parse("gw-b.example.net"));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    @Test
    void aChainThroughIntermediatesAndADistinguishedNameIdentity() {
        TestPki.Issued ca2 = TestPki.intermediate(ROOT, "C=CH, O=Isthmus Test, CN=Sites CA", "ecp384");
        TestPki.Issued ca3 = TestPki.intermediate(ca2, "C=CH, O=Isthmus Test, CN=Branch CA", "rsa2048");
        TestPki.Issued a = TestPki.gateway(ca3, "C=CH, O=Isthmus Test, CN=gw-a", "ecp256");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "rsa2048", "10.0.0.2");
        // A's intermediates in the wrong order: the path is rebuilt by issuer.
        IkeSa sa = establish(credentials(a, List.of(ca2, ca3), false, ROOT), Identity.parse(a.subject()),
                credentials(b, List.of(), false, ROOT), Identity.of(B));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(Identity.parse("C=CH, O=Isthmus Test, CN=gw-a"), onlyIkeSa(engineB).peerIdentity());
        assertChildSasPair();
    }

    /*
     * A validated chain is remembered (ValidatedChains), the signature never is: the same
     * certificate presented again with AUTH signed by another key (a copied certificate, no
     * key) is refused, and the one with the key still gets in.
     *
     *   A (cert of gw-a, its key)             -->  B: chain validated, signature verified: up
     *   A (the same cert, another P-256 key)  -->  B: chain known, signature refused: AUTHENTICATION_FAILED
     */
    @Test
    void aChainValidatedBeforeStillNeedsTheSignatureOfItsKey() {
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", "ecp256", "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");
        IkeSa first = establish(credentials(a, List.of(), false, ROOT), Identity.parse("gw-a.example.net"),
                credentials(b, List.of(), false, ROOT), Identity.parse("gw-b.example.net"));
        assertEquals(IkeSaState.ESTABLISHED, first.state());
        first.delete();
        deliver();
        TestPki.Issued impostor = new TestPki.Issued(TestPki.keyPair("ecp256"), a.certificate());
        engineA.replaceConnection(connectionA(IKE, "aes256gcm16").local(A, Identity.parse("gw-a.example.net")).remote(B, Identity.parse("gw-b.example.net"))
                .authentication(credentials(impostor, List.of(), false, ROOT)).build());
        IkeSa copied = initiate();
        assertEquals(IkeSaState.DESTROYED, copied.state(), "refused with a certificate whose key it does not have");
        assertEquals(1, engineB.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
        engineA.replaceConnection(connectionA(IKE, "aes256gcm16").local(A, Identity.parse("gw-a.example.net")).remote(B, Identity.parse("gw-b.example.net"))
                .authentication(credentials(a, List.of(), false, ROOT)).build());
        assertEquals(IkeSaState.ESTABLISHED, initiate().state(), "the key's owner still gets in");
    }

    @Test
    void aCertificateFromAnUntrustedCaIsRefused() {
        TestPki.Issued other = TestPki.ca("C=XX, O=Somebody Else, CN=Other CA", "ecp256");
        TestPki.Issued a = TestPki.gateway(other, "C=XX, O=Somebody Else, CN=gw-a", "ecp256", "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");
        //   IKE_AUTH SK{IDi CERT(untrusted) AUTH ...}  -->
        //                                            <--  SK{N(AUTHENTICATION_FAILED)}
        IkeSa sa = establish(credentials(a, List.of(), false, ROOT), Identity.parse("gw-a.example.net"),
                credentials(b, List.of(), false, ROOT), Identity.parse("gw-b.example.net"));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
        assertTrue(childrenA.events().isEmpty() && childrenB.events().isEmpty());
    }

    @Test
    void aCertificateThatDoesNotNameTheIdentityIsRefused() {
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", "ecp256", "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");
        IkeSa sa = establish(credentials(a, List.of(), false, ROOT), Identity.parse("gw-b.example.net"),
                credentials(b, List.of(), false, ROOT), Identity.parse("gw-b.example.net"));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    @Test
    void theResponderAuthenticatesToo() {
        // B's certificate is fine for B but A only trusts another CA: B's answer fails at A.
        TestPki.Issued other = TestPki.ca("C=XX, O=Somebody Else, CN=Other CA", "ecp256");
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", "ecp256", "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");
        IkeSa sa = establish(credentials(a, List.of(), false, other), Identity.parse("gw-a.example.net"),
                credentials(b, List.of(), false, ROOT), Identity.parse("gw-b.example.net"));
        //   IKE_AUTH SK{IDi CERT AUTH ...}        -->
        //                                        <--  SK{IDr CERT(untrusted by A) AUTH SA TSi TSr}
        //   INFORMATIONAL SK{N(AUTHENTICATION_FAILED)}  -->
        //                                        <--  SK{}
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.events().isEmpty());
        assertTrue(engineB.ikeSas().isEmpty(), "B was told and dropped the SA it had established");
        assertTrue(childrenB.current().isEmpty());
    }

    @Test
    void aPreSharedKeyPeerCannotPassACertificateConnection() {
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "10.0.0.2");
        configure(connectionA(IKE, "aes256gcm16").build(),
                connectionB(IKE, "aes256gcm16").authentication(credentials(b, List.of(), false, ROOT)).build());
        assertEquals(IkeSaState.DESTROYED, initiate().state());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    // ------------------------------------------------------------------------------------------
    // The Authenticator on its own: the AUTH formats a peer without RFC 7427 gets, and the
    // AlgorithmIdentifier encodings of RFC 7427 Appendix A.
    // ------------------------------------------------------------------------------------------

    /** Both ends of one IKE_AUTH, with made-up IKE_SA_INIT messages and keys. */
    static Authenticator[] pair(Authentication a, Authentication b, List<Integer> peerHashes) {
        SecureRandom r = new SecureRandom();
        byte[][] k = new byte[7][32];
        for (byte[] key : k) {
            r.nextBytes(key);
        }
        IkeSaKeys keys = new IkeSaKeys(k[0], k[1], k[2], k[3], k[4], k[5], k[6]);
        byte[] init = new byte[300];
        byte[] response = new byte[300];
        byte[] ni = new byte[32];
        byte[] nr = new byte[32];
        r.nextBytes(init);
        r.nextBytes(response);
        r.nextBytes(ni);
        r.nextBytes(nr);
        IkeProposal p = IkeProposal.parse("aes256gcm16-prfsha256-x25519");
        Connection ca = connectionA(IKE, "aes256gcm16").authentication(a).build();
        Connection cb = connectionB(IKE, "aes256gcm16").authentication(b).build();
        return new Authenticator[] {new Authenticator(ca, p, keys, true, init, response, ni, nr, peerHashes),
                new Authenticator(cb, p, keys, false, init, response, ni, nr, peerHashes)};
    }

    /** RFC 7296's own methods: 1 (RSA, SHA-1), 9, 10, 11 (ECDSA per curve, r|s). */
    @ParameterizedTest
    @CsvSource({"rsa2048, 1", "ecp256, 9", "ecp384, 10", "ecp521, 11"})
    void methodsForPeersWithoutRfc7427(String key, int method) {
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", key, "10.0.0.1");
        TestPki.Issued b = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "10.0.0.2");
        Authenticator[] ends = pair(credentials(a, List.of(), false, ROOT), credentials(b, List.of(), false, ROOT), List.of());
        IdPayload idi = Identity.of(A).toPayload(true);
        AuthPayload auth = ends[0].sign(idi);
        assertEquals(method, auth.method());
        List<CertPayload> certs = Authenticator.certificates(credentials(a, List.of(), false, ROOT));
        assertNull(ends[1].verify(idi, auth, certs));
        byte[] tampered = auth.data();
        tampered[tampered.length / 2] ^= 1;
        assertNotNull(ends[1].verify(idi, new AuthPayload(method, tampered), certs));
    }

    /**
     * RFC 7427 Appendix A: the AlgorithmIdentifier bytes at the start of AUTH method 14 (for
     * RSASSA-PSS the DER form, without the default trailerField, as RFC 4055 §3.1 encodes it).
     */
    @ParameterizedTest
    @CsvSource({"rsa2048, false, 0f300d06092a864886f70d01010b0500", "ecp256, false, 0c300a06082a8648ce3d040302",
            "ecp384, false, 0c300a06082a8648ce3d040303",
            "rsa2048, true, 43304106092a864886f70d01010a3034a00f300d06096086480165030402010500"
                    + "a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120"})
    void rfc7427AlgorithmIdentifiers(String key, boolean pss, String prefix) {
        TestPki.Issued a = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-a", key, "10.0.0.1");
        Authenticator[] ends = pair(credentials(a, List.of(), pss, ROOT), credentials(a, List.of(), false, ROOT),
                List.of(Authenticator.SHA2_256, Authenticator.SHA2_384, Authenticator.SHA2_512));
        IdPayload idi = Identity.of(A).toPayload(true);
        AuthPayload auth = ends[0].sign(idi);
        assertEquals(AuthPayload.DIGITAL_SIGNATURE, auth.method());
        byte[] expected = HexFormat.of().parseHex(prefix);
        assertArrayEquals(expected, java.util.Arrays.copyOf(auth.data(), expected.length));
        assertNull(ends[1].verify(idi, auth, Authenticator.certificates(credentials(a, List.of(), pss, ROOT))));
    }
}
