package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.IdPayload;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.Test;

/**
 * Identities matched as what they name, in both roles (issue 17): a peer whose certificate
 * subject is PrintableString-encoded (strongSwan's {@code pki}) against a configured name written
 * with other spacing and case; a configured subject alternative name for a peer that sends its
 * DN; {@code CN=*}; FQDNs without regard to case; and an ID payload whose DN is not DER.
 */
class IdentityMatchingTest extends EnginePair {
    static final String IKE = "aes256gcm16-prfsha384-ecp384";
    static final TestPki.Issued ROOT = TestPki.ca("C=CH, O=Isthmus Test, CN=Root CA", "ecp256");
    /** A's certificate as pki makes it: every value a PrintableString. */
    static final TestPki.Issued GW_A = TestPki.gateway(ROOT, TestPki.printable("C=CH, O=Isthmus Test, CN=gw-a"), "ecp256",
            "gw-a.example.net", "10.0.0.1", "ops@example.net");
    static final TestPki.Issued GW_B = TestPki.gateway(ROOT, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");

    static Authentication.Certificates credentials(TestPki.Issued own) {
        return new Authentication.Certificates(own.privateKey(), List.of(own.certificate()), List.of(ROOT.certificate()), false);
    }

    /** The identity strongSwan sends with no {@code id} set: its certificate's subject, byte for byte. */
    static Identity subjectOf(TestPki.Issued issued) {
        return Identity.of(new IdPayload(true, IdPayload.ID_DER_ASN1_DN, issued.certificate().getSubjectX500Principal().getEncoded()));
    }

    /** A sends {@code idA}; B expects {@code expectedAtB}; B sends its subject and A expects {@code expectedAtA}. */
    IkeSa establish(Identity idA, Identity expectedAtB, Identity expectedAtA) {
        configure(connectionA(IKE, "aes256gcm16").local(A, idA).remote(B, expectedAtA).authentication(credentials(GW_A)).build(),
                connectionB(IKE, "aes256gcm16").local(B, subjectOf(GW_B)).remote(A, expectedAtB).authentication(credentials(GW_B)).build());
        return initiate();
    }

    @Test
    void aPrintableStringSubjectMatchesTheNameWrittenWithOtherSpacingAndCase() throws IOException {
        Identity sent = subjectOf(GW_A);
        Identity configured = Identity.parse("c=ch,  o = ISTHMUS  test ,cn=GW-A");
        assertFalse(java.util.Arrays.equals(sent.data(), configured.data()), "the encodings differ: " + HexFormat.of().formatHex(sent.data()));
        //   IKE_AUTH SK{IDi(DN, PrintableString) CERT IDr AUTH SA TSi TSr}  -->
        //                                 <--  SK{IDr(DN, UTF8String) CERT AUTH SA TSi TSr}
        IkeSa sa = establish(sent, configured, Identity.parse("C=CH,O=Isthmus Test,CN=gw-b"));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertOneIkeSaPair();
        assertChildSasPair();
        assertEquals(configured, onlyIkeSa(engineB).peerIdentity());
        assertEquals("C=CH,O=Isthmus Test,CN=gw-a", onlyIkeSa(engineB).peerIdentity().toString());
    }

    @Test
    void anotherNameIsStillRefusedInBothRoles() {
        IkeSa sa = establish(subjectOf(GW_A), Identity.parse("C=CH, O=Isthmus Test, CN=gw-c"), null);
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
        assertEquals(1, engineB.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
    }

    @Test
    void theInitiatorMatchesTheResponderAsAName() {
        IkeSa sa = establish(subjectOf(GW_A), null, Identity.parse("C=ch, O=isthmus test, CN=GW-B"));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertOneIkeSaPair();
    }

    @Test
    void theInitiatorRefusesAResponderWithAnotherName() {
        IkeSa sa = establish(subjectOf(GW_A), null, Identity.parse("C=CH, O=Isthmus Test, CN=gw-c"));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertEquals(1, engineA.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
    }

    /** As strongSwan: {@code remote id = gw-a.example.net} admits a peer that sends its DN, since its certificate names it. */
    @Test
    void aConfiguredSubjectAlternativeNameAdmitsAPeerThatSendsItsDn() {
        for (String san : List.of("GW-A.example.net", "10.0.0.1", "ops@EXAMPLE.net")) {
            EnginePair pair = new EnginePair();
            pair.configure(connectionA(IKE, "aes256gcm16").local(A, subjectOf(GW_A)).remote(B, null).authentication(credentials(GW_A)).build(),
                    connectionB(IKE, "aes256gcm16").local(B, subjectOf(GW_B)).remote(A, Identity.parse(san)).authentication(credentials(GW_B))
                            .build());
            IkeSa sa = pair.initiate();
            assertEquals(IkeSaState.ESTABLISHED, sa.state(), san);
            assertEquals(subjectOf(GW_A), pair.onlyIkeSa(pair.engineB).peerIdentity(), "the identity the peer proved");
        }
    }

    @Test
    void aNameTheCertificateDoesNotCarryIsRefused() {
        IkeSa sa = establish(subjectOf(GW_A), Identity.parse("gw-x.example.net"), null);
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    /** The other way round: A sends its dNSName, B expects its subject as a name. */
    @Test
    void aConfiguredSubjectAdmitsAPeerThatSendsItsAlternativeName() {
        IkeSa sa = establish(Identity.parse("gw-a.example.net"), Identity.parse("C=CH,O=Isthmus Test,CN=gw-a"), null);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
    }

    @Test
    void aWildcardAdmitsEveryPeerCertifiedUnderItsOtherRdns() {
        IkeSa sa = establish(subjectOf(GW_A), Identity.parse("C=CH, O=Isthmus Test, CN=*"), Identity.parse("C=CH, O=Isthmus Test, CN=*"));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertOneIkeSaPair();
        assertEquals(subjectOf(GW_A), onlyIkeSa(engineB).peerIdentity());
        assertEquals(subjectOf(GW_B), onlyIkeSa(engineA).peerIdentity());
    }

    /** Two connections from one address: the one naming the peer wins over the CN=* one, whichever was configured first. */
    @Test
    void anExactNameWinsOverAWildcard() {
        engineA.addConnection(connectionA(IKE, "aes256gcm16").local(A, subjectOf(GW_A)).remote(B, null).authentication(credentials(GW_A)).build());
        engineB.addConnection(Connection.builder("wild").local(B, subjectOf(GW_B)).remote(A, Identity.parse("C=CH, O=Isthmus Test, CN=*"))
                .authentication(credentials(GW_B)).ike(IKE).esp("aes256gcm16").localTs("192.168.20.0/24").remoteTs("192.168.10.0/24").build());
        engineB.addConnection(connectionB(IKE, "aes256gcm16").local(B, subjectOf(GW_B)).remote(A, Identity.parse("c=CH, o=isthmus test, cn=gw-a"))
                .authentication(credentials(GW_B)).build());
        assertEquals(IkeSaState.ESTABLISHED, initiate().state());
        assertEquals("site", onlyIkeSa(engineB).connection().name(), "the exact match, not the wildcard configured before it");
    }

    @Test
    void aWildcardForAnotherOrganisationIsRefused() {
        IkeSa sa = establish(subjectOf(GW_A), Identity.parse("C=CH, O=Elsewhere, CN=*"), null);
        assertEquals(IkeSaState.DESTROYED, sa.state());
    }

    @Test
    void fqdnsMatchWithoutRegardToCase() {
        configure(connectionA(IKE, "aes256gcm16").local(A, Identity.parse("GW-A.Example.NET")).remote(B, Identity.parse("gw-b.example.net")).build(),
                connectionB(IKE, "aes256gcm16").local(B, Identity.parse("Gw-B.EXAMPLE.net")).remote(A, Identity.parse("gw-a.example.net")).build());
        assertEquals(IkeSaState.ESTABLISHED, initiate().state());
        assertOneIkeSaPair();
    }

    /**
     * An IDi whose DN is not DER, from a peer that knows the key (so only the identity is wrong),
     * even to a connection that accepts any identity: AUTHENTICATION_FAILED, counted, nothing thrown.
     */
    @Test
    void anIdPayloadWithMalformedDerIsRefusedAndCounted() {
        Identity garbage = new Identity(IdPayload.ID_DER_ASN1_DN, HexFormat.of().parseHex("3083ffffff310a300806035504031301"));
        configure(connectionA(IKE, "aes256gcm16").local(A, garbage).build(), connectionB(IKE, "aes256gcm16").remote(A, null).build());
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
        assertEquals(1, engineB.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
        assertEquals(1, engineA.counters().get("site").authenticationFailures(IkeCounters.Refuser.PEER));
        assertTrue(engineB.counters().get("site").lastFailure().why().contains("not a DER distinguished name"),
                engineB.counters().get("site").lastFailure().why());
    }

    @Test
    void identitiesAreEqualAsNamesAndHashAlike() throws IOException {
        Identity printable = Identity.of(new IdPayload(true, IdPayload.ID_DER_ASN1_DN,
                TestPki.printable("C=CH, O=HX Interop, CN=swan.hx").getEncoded()));
        Identity written = Identity.parse("C=CH, O=HX Interop, CN=swan.hx");
        assertEquals(printable, written);
        assertEquals(printable.hashCode(), written.hashCode());
        assertTrue(written.matches(printable));
        assertEquals(Identity.parse("gw.example.net"), Identity.parse("@GW.Example.Net"));
        assertEquals(Identity.parse("Ops@Example.net").hashCode(), Identity.parse("ops@example.net").hashCode());
        assertNotEquals(Identity.parse("gw.example.net"), Identity.parse("gw.example.net.evil"));
        // Only ASCII letters fold: Latin-1 bytes that differ stay different names.
        assertNotEquals(new Identity(IdPayload.ID_FQDN, new byte[] {(byte) 0xC0}), new Identity(IdPayload.ID_FQDN, new byte[] {(byte) 0xE0}));
        assertNotEquals(Identity.parse("10.0.0.1"), Identity.parse("10.0.0.2"));
        assertNotEquals(Identity.parse("keyid:0a0b"), Identity.parse("keyid:0a0c"));
        // Not DER: equal only to the same bytes.
        byte[] bad = HexFormat.of().parseHex("30ff");
        assertEquals(new Identity(IdPayload.ID_DER_ASN1_DN, bad), new Identity(IdPayload.ID_DER_ASN1_DN, bad.clone()));
        assertNotEquals(new Identity(IdPayload.ID_DER_ASN1_DN, bad), written);
        assertFalse(written.matches(new Identity(IdPayload.ID_DER_ASN1_DN, bad)));
        assertTrue(Identity.parse("C=CH, CN=*").hasWildcards());
        assertFalse(written.hasWildcards());
        assertEquals(new X500Name("C=CH,O=HX Interop,CN=swan.hx").toString(), printable.toString());
    }
}
