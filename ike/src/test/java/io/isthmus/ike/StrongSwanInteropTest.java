package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Isthmus and strongSwan with a pre-shared key: the proposal matrix in both roles, wrong keys,
 * EAP, deletes from either side, dead peer detection both ways, and IPv6.
 */
class StrongSwanInteropTest extends StrongSwanHarness {

    /** The four proposals of the interop matrix: IKE proposal | ESP proposal. */
    @ParameterizedTest(name = "Isthmus initiates {0}")
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519|aes128gcm16", "aes256-sha256-modp2048|aes256-sha256",
            "aes256gcm16-prfsha384-ecp384|aes256gcm16", "chacha20poly1305-prfsha256-x25519|chacha20poly1305"})
    void isthmusInitiates(String proposals) throws Exception {
        String[] p = proposals.split("\\|");
        start(new Swan().proposals(p[0], p[1]));
        initiate();
        assertEstablishedOnBothEnds();
    }

    @ParameterizedTest(name = "strongSwan initiates {0}")
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519|aes128gcm16", "aes256-sha256-modp2048|aes256-sha256",
            "aes256gcm16-prfsha384-ecp384|aes256gcm16", "chacha20poly1305-prfsha256-x25519|chacha20poly1305"})
    void strongSwanInitiates(String proposals) throws Exception {
        String[] p = proposals.split("\\|");
        start(new Swan().proposals(p[0], p[1]));
        String out = peer.swanctl("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(out.contains("initiate completed successfully"), out);
        assertEstablishedOnBothEnds();
    }

    /**
     * Several proposals, in opposite orders: strongSwan, responding, picks its favourite, which is
     * not the group of our first key share, so it answers INVALID_KE_PAYLOAD and we try again.
     * (ESN cannot be tried against this peer: kernel-libipsec says "ESN not supported".)
     */
    @Test
    void theResponderChoosesAmongSeveralProposals() throws Exception {
        Swan swan = new Swan().proposals("aes256-sha384-prfsha384-ecp384, aes128gcm16-prfsha256-x25519", "aes256gcm16, aes128gcm16");
        Connection ours = isthmus(new Swan().proposals("aes128gcm16-prfsha256-x25519, aes256-sha384-prfsha384-ecp384",
                "aes128gcm16, aes256gcm16")).build();
        start(swan, ours);
        initiate();
        assertEstablishedOnBothEnds();
        assertEquals("aes256-sha384-prfsha384-ecp384", ourIkeSa().proposal().toString());
        assertEquals("aes256gcm16", children.current().getFirst().inbound().suite().toString());
        assertTrue(peer.log().contains("IKE_SA_INIT response 0 [ N(INVAL_KE) ]"), "charon asked for its group");
    }

    @Test
    void aWrongKeyEstablishesNothing() throws Exception {
        Swan swan = new Swan();
        swan.secrets = "ike-1 { secret = \"not the same secret at all\" }";
        start(swan);
        IkeSa sa = initiate();
        await("the IKE SA to fail", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.events().isEmpty());
        assertTrue(peer.log().contains("MAC mismatched") && peer.log().contains("N(AUTH_FAILED)"), "charon refused us too");
        assertFalse(peer.swanctl("--list-sas").contains("ESTABLISHED"));
    }

    @Test
    void strongSwanWithAWrongKeyIsRefused() throws Exception {
        Swan swan = new Swan();
        swan.secrets = "ike-1 { secret = \"not the same secret at all\" }";
        start(swan);
        String out = peer.swanctlAllowingFailure("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(peer.log().contains("received AUTHENTICATION_FAILED notify error"), out);
        assertTrue(onLoop(() -> engine.ikeSas().isEmpty()));
        assertTrue(children.events().isEmpty());
    }

    /** EAP is parsed but refused: a gateway authenticates with a key or a certificate. */
    @Test
    void eapIsRefused() throws Exception {
        Swan swan = new Swan();
        swan.local = "auth = eap-md5\n eap_id = branch-user";
        swan.secrets = "eap-1 { id = branch-user\n secret = \"" + PSK + "\" }\n ike-1 { secret = \"" + PSK + "\" }";
        start(swan);
        String out = peer.swanctlAllowingFailure("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(peer.log().contains("received AUTHENTICATION_FAILED notify error"), out);
        assertTrue(onLoop(() -> engine.ikeSas().isEmpty()));
    }

    @Test
    void isthmusDeletesAndStrongSwanForgets() throws Exception {
        start(new Swan());
        initiate();
        assertEstablishedOnBothEnds();
        IkeSa sa = ourIkeSa();
        onLoop(() -> {
            sa.delete();
            return null;
        });
        // destroy() marks the SA first and then announces its children gone, on the IKE thread.
        await("our IKE SA and its child to go", Duration.ofSeconds(10),
                () -> sa.state() == IkeSaState.DESTROYED && children.current().isEmpty());
        awaitSwanctl("strongSwan to drop it", Duration.ofSeconds(10), sas -> !sas.contains("ESTABLISHED"));
    }

    @Test
    void strongSwanDeletesAndIsthmusForgets() throws Exception {
        start(new Swan().proposals("aes256-sha256-modp2048", "aes256-sha256"));
        initiate();
        assertEstablishedOnBothEnds();
        IkeSa sa = ourIkeSa();
        peer.swanctl("--terminate", "--ike", "isthmus", "--timeout", "10");
        // destroy() marks the SA first and then announces its children gone, on the IKE thread.
        await("our IKE SA and its child to go", Duration.ofSeconds(10),
                () -> sa.state() == IkeSaState.DESTROYED && children.current().isEmpty());
        assertEquals(2, children.events().size());
    }

    /** Child SAs come and go on a standing IKE SA: strongSwan deletes one, then makes another with CREATE_CHILD_SA. */
    @Test
    void childSasComeAndGoOnAStandingIkeSa() throws Exception {
        start(new Swan());
        initiate();
        assertEstablishedOnBothEnds();
        peer.swanctl("--terminate", "--child", "net", "--timeout", "10");
        await("our child SA to go", Duration.ofSeconds(10), () -> children.current().isEmpty());
        String out = peer.swanctl("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(out.contains("initiate completed successfully"), out);
        await("the new child SA", Duration.ofSeconds(10), () -> children.current().size() == 1);
        assertChildMatches(ourChildren().getFirst());
        // And ours: Isthmus adds a second child SA on the same IKE SA.
        IkeSa sa = ourIkeSa();
        onLoop(() -> {
            sa.createChild();
            return null;
        });
        await("our second child SA", Duration.ofSeconds(10), () -> children.current().size() == 2);
        awaitSwanctl("strongSwan to list two", Duration.ofSeconds(10), sas -> installedChildren(sas) == 2);
        assertChildMatches(ourChildren().getLast());
    }

    @Test
    void aKilledStrongSwanIsDetectedAsDead() throws Exception {
        Swan swan = new Swan();
        start(swan, isthmus(swan).timers(Connection.Timers.AZURE.withLiveness(Duration.ofSeconds(2), Duration.ofSeconds(6),
                Duration.ofMillis(500), 10)).build());
        initiate();
        assertEstablishedOnBothEnds();
        IkeSa sa = ourIkeSa();
        peer.kill();
        // Idle 2 s, then a liveness check unanswered for 6 s: gone within about 8 s.
        await("dead peer detection", Duration.ofSeconds(15), () -> sa.state() == IkeSaState.DESTROYED && children.current().isEmpty());
        assertNotNull(children.events().getLast());
    }

    /** The mirror case: Isthmus stops dead (its sockets close) and strongSwan's liveness checks find out. */
    @Test
    void strongSwanDetectsADeadIsthmus() throws Exception {
        Swan swan = new Swan();
        swan.connection = "dpd_delay = 2s";
        start(swan);
        initiate();
        assertEstablishedOnBothEnds();
        transport.close();
        transport = null;
        // Idle 2 s, then charon's check retransmitted at 1, 1.8, 3.2 s (retransmit_tries = 3) and given up.
        awaitSwanctl("charon to give up on us", Duration.ofSeconds(30), sas -> !sas.contains("ESTABLISHED"));
        assertTrue(peer.log().contains("giving up after 3 retransmits"), "charon's DPD declared us dead");
    }

    /** strongSwan's liveness checks (dpd_delay = 2s) get answers: after 8 s both SAs are still up. */
    @Test
    void strongSwansLivenessChecksAreAnswered() throws Exception {
        Swan swan = new Swan();
        swan.connection = "dpd_delay = 2s";
        start(swan);
        initiate();
        assertEstablishedOnBothEnds();
        Thread.sleep(8000);
        assertTrue(peer.log().contains("sending DPD request"), "charon checked on us");
        assertEstablishedOnBothEnds();
    }

    @Test
    void overIpv6() throws Exception {
        Swan swan = new Swan().proposals("aes256gcm16-prfsha384-ecp384", "aes256gcm16");
        swan.localAddress = PEER6;
        swan.remoteAddress = HOST6;
        swan.local = "auth = psk\n id = " + PEER6;
        swan.remote = "auth = psk\n id = " + HOST6;
        swan.localTs = "fd20::/64";
        swan.remoteTs = "fd10::/64";
        start(swan);
        initiate();
        assertEstablishedOnBothEnds();
        assertEquals("[fd20::/64]", children.current().getFirst().remoteSelectors().toString());
        peer.swanctl("--terminate", "--ike", "isthmus", "--timeout", "10");
        await("our IKE SA to go", Duration.ofSeconds(10), () -> children.current().isEmpty());
        String out = peer.swanctl("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(out.contains("initiate completed successfully"), out);
        assertEstablishedOnBothEnds();
    }
}
