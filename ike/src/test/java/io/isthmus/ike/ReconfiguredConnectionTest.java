package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.CipherSuite;
import io.isthmus.ike.InMemoryChildSaListener.Kind;
import io.isthmus.ike.message.TrafficSelector;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection configured anew while its SAs run (a reload), through
 * {@link io.isthmus.ike.engine.IkeEngine#replaceConnection}: what was negotiated stays (SPIs,
 * keys, child SAs); new proposals come with the next rekey, a new key with the next IKE_AUTH (see
 * {@link ReauthenticationTest} for the reauthentication at the next IKE rekey);
 * new traffic selectors bring a new child SA that replaces the old one, make-before-break.
 */
class ReconfiguredConnectionTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    static List<TrafficSelector> ts(String... prefixes) {
        return java.util.Arrays.stream(prefixes).map(TrafficSelector::ofPrefix).toList();
    }

    static Connection.Builder a(String... remote) {
        return aWith(IKE, "aes128gcm16", remote);
    }

    static Connection.Builder b(String... local) {
        return bWith(IKE, "aes128gcm16", local);
    }

    /** A's connection to B: its own network, B's (as A has it configured), proposals. */
    static Connection.Builder aWith(String ike, String esp, String... remote) {
        Connection.Builder b = Connection.builder("site").local(A, null).remote(B, Identity.of(B)).preSharedKey(PSK.clone()).ike(ike)
                .esp(esp).localTs("192.168.10.0/24");
        for (String r : remote) {
            b.remoteTs(r);
        }
        return b;
    }

    static Connection.Builder bWith(String ike, String esp, String... local) {
        Connection.Builder b = Connection.builder("site").local(B, null).remote(A, Identity.of(A)).preSharedKey(PSK.clone()).ike(ike)
                .esp(esp).remoteTs("192.168.10.0/24");
        for (String l : local) {
            b.localTs(l);
        }
        return b;
    }

    IkeSa establish(Connection atA, Connection atB) {
        configure(atA, atB);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertChildSasPair();
        return sa;
    }

    List<Kind> kinds(InMemoryChildSaListener l) {
        return l.events().stream().map(InMemoryChildSaListener.Event::kind).toList();
    }

    @Test
    void whatWasNegotiatedStaysAndANewPolicyComesWithTheNextRekeys() {
        IkeSa sa = establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        long spiI = sa.initiatorSpi();
        long spiR = sa.responderSpi();
        ChildSaDescription child = childrenA.current().getFirst();
        int sent = network.sent.size();

        engineA.replaceConnection(aWith("aes256gcm16-prfsha384-ecp384", "aes256gcm16", "192.168.20.0/24").build());
        engineB.replaceConnection(bWith("aes256gcm16-prfsha384-ecp384", "aes256gcm16", "192.168.20.0/24").build());
        deliver();
        assertEquals(sent, network.sent.size(), "nothing is negotiated because of it");
        assertEquals(List.of(child), childrenA.current());
        assertEquals(spiI, onlyIkeSa(engineA).initiatorSpi());
        assertEquals(spiR, onlyIkeSa(engineB).responderSpi());
        assertSame(engineA.connection("site").orElseThrow(), sa.connection(), "the SA follows the new connection");

        // Neither end has the old proposals any more: the rekeys can only agree on the new ones.
        sa.rekeyChild(child.inbound().spi());
        deliver();
        assertChildSasPair();
        assertEquals(CipherSuite.AES256_GCM16, childrenA.current().getFirst().inbound().suite(), "the rekey offered the new policy");
        sa.rekey();
        deliver();
        IkeSa rekeyed = onlyIkeSa(engineA);
        assertNotEquals(spiI, rekeyed.initiatorSpi());
        assertEquals(IkeProposal.parse("aes256gcm16-prfsha384-ecp384"), rekeyed.proposal(), "the IKE rekey offered the new policy");
        assertChildSasPair();
    }

    @Test
    void aNewKeyIsUsedAtTheNextIkeAuthNotBefore() {
        IkeSa sa = establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        byte[] newKey = "another shared secret, also long enough".getBytes(StandardCharsets.US_ASCII);
        engineA.replaceConnection(a("192.168.20.0/24").preSharedKey(newKey.clone()).build());
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state(), "the running IKE SA is not authenticated again");
        assertChildSasPair();

        IkeSa second = engineA.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        deliver();
        assertNotEquals(IkeSaState.ESTABLISHED, second.state(), "A authenticates with the new key, which B does not have yet");
        assertEquals(IkeSaState.ESTABLISHED, sa.state());

        engineB.replaceConnection(b("192.168.20.0/24").preSharedKey(newKey.clone()).build());
        IkeSa third = engineA.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, third.state(), "both ends have the new key");
    }

    /*
     * B already has the wider selectors; A's are widened:
     *
     *   A                                                 B
     *   CREATE_CHILD_SA SK{SA Ni TSi(10/24) TSr(20/24, 21/24)}  -->
     *                                                     <--  SK{SA Nr TSi(10/24) TSr(20/24, 21/24)}
     *   INFORMATIONAL SK{D(ESP old_A)}                    -->
     *                                                     <--  SK{D(ESP old_B)}
     */
    @Test
    void newSelectorsBringANewChildSaThatReplacesTheOldMakeBeforeBreak() {
        IkeSa sa = establish(a("192.168.20.0/24").build(), b("192.168.20.0/24", "192.168.21.0/24").build());
        ChildSaDescription old = childrenA.current().getFirst();
        assertEquals(ts("192.168.20.0/24"), old.remoteSelectors(), "B narrowed to what A asked for");
        long spiI = sa.initiatorSpi();

        engineA.replaceConnection(a("192.168.20.0/24", "192.168.21.0/24").build());
        deliver();
        assertChildSasPair();
        ChildSaDescription now = childrenA.current().getFirst();
        assertEquals(ts("192.168.20.0/24", "192.168.21.0/24"), now.remoteSelectors());
        assertNotEquals(old.inbound().spi(), now.inbound().spi());
        for (InMemoryChildSaListener l : List.of(childrenA, childrenB)) {
            assertEquals(List.of(Kind.INSTALLED, Kind.INSTALLED, Kind.DELETED), kinds(l), "the new one before the old one goes");
            assertEquals(l.events().get(0).sa(), l.events().get(2).sa());
        }
        // A asked for it after B had installed it: A sends on it at once; B, which cannot know when A has it, once A deletes the old one.
        assertTrue(childrenA.events().get(1).outboundNow());
        assertTrue(!childrenB.events().get(1).outboundNow());
        assertEquals(spiI, onlyIkeSa(engineA).initiatorSpi(), "the IKE SA stays");
        assertEquals(spiI, onlyIkeSa(engineB).initiatorSpi());
    }

    @Test
    void aPeerStillWithTheOldSelectorsNarrowsTheNewOnes() {
        establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        ChildSaDescription old = childrenA.current().getFirst();
        engineA.replaceConnection(a("192.168.20.0/24", "192.168.21.0/24").build());
        deliver();
        assertChildSasPair();
        ChildSaDescription now = childrenA.current().getFirst();
        assertNotEquals(old.inbound().spi(), now.inbound().spi());
        assertEquals(ts("192.168.20.0/24"), now.remoteSelectors(), "what B has: the peer decides its side");

        // Then B is reloaded too: it renews from its end, and the two agree on the wider selectors.
        engineB.replaceConnection(b("192.168.20.0/24", "192.168.21.0/24").build());
        deliver();
        assertChildSasPair();
        assertEquals(ts("192.168.20.0/24", "192.168.21.0/24"), childrenA.current().getFirst().remoteSelectors());
    }

    @Test
    void aPeerThatRefusesTheNewSelectorsLeavesTheOldChildSaRunning() {
        establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        ChildSaDescription old = childrenA.current().getFirst();
        engineA.replaceConnection(a("192.168.30.0/24").build());
        deliver();
        assertEquals(List.of(old), childrenA.current(), "B has nothing for 192.168.30.0/24 (TS_UNACCEPTABLE): the old one stays");
        assertChildSasPair();
        assertEquals(List.of(Kind.INSTALLED), kinds(childrenA));
    }

    @Test
    void bothEndsRenewingAtOnceLeaveNoChildSaWithTheOldSelectors() {
        establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        ChildSaDescription old = childrenA.current().getFirst();
        engineA.replaceConnection(a("192.168.20.0/24", "192.168.21.0/24").build());
        engineB.replaceConnection(b("192.168.20.0/24", "192.168.21.0/24").build());
        deliver();
        List<ChildSaDescription> now = childrenA.current();
        assertTrue(!now.contains(old) && !now.isEmpty() && now.size() <= 2, "each end made one; the old one is gone: " + now);
        assertChildSasPair(now.size());
        for (ChildSaDescription c : now) {
            assertEquals(ts("192.168.20.0/24", "192.168.21.0/24"), c.remoteSelectors());
        }
    }

    /*
     * A second reload while the first one's replacement is out: the first one's answer is for
     * selectors the connection no longer has. Its child SA is not kept, the second's replacement
     * brings the right ones, and the log says so without a warning.
     */
    @Test
    void aSecondReloadNarrowingTheSelectorsOvertakesTheReplacementInFlight() {
        overtaken(List.of("192.168.21.0/24"));
    }

    @Test
    void aSecondReloadWideningTheSelectorsOvertakesTheReplacementInFlight() {
        overtaken(List.of("192.168.20.0/24", "192.168.21.0/24", "192.168.22.0/24"));
    }

    void overtaken(List<String> second) {
        {
            establish(a("192.168.20.0/24").build(), b("192.168.20.0/24", "192.168.21.0/24", "192.168.22.0/24").build());
            java.util.logging.Logger ike = java.util.logging.Logger.getLogger("io.isthmus.ike");
            HostileInputTest.Captured log = new HostileInputTest.Captured();
            ike.addHandler(log);
            try {
                engineA.replaceConnection(a("192.168.20.0/24", "192.168.21.0/24").build());
                engineA.replaceConnection(a(second.toArray(String[]::new)).build());
                deliver();
            } finally {
                ike.removeHandler(log);
            }
            assertChildSasPair();
            assertEquals(1, childrenA.current().size(), second + ": " + childrenA.current());
            assertEquals(ts(second.toArray(String[]::new)), childrenA.current().getFirst().remoteSelectors());
            assertTrue(log.records.stream().noneMatch(r -> r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()),
                    second + ": " + log.messages());
            assertTrue(log.messages().stream().anyMatch(l -> l.contains("asked for with selectors [192.168.10.0/24] === [192.168.20.0/24, "
                    + "192.168.21.0/24] is not installed")), second + ": " + log.messages());
        }
    }

    @Test
    void unchangedSelectorsStartNothing() {
        establish(a("192.168.20.0/24", "192.168.21.0/24").build(), b("192.168.20.0/24", "192.168.21.0/24").build());
        int sent = network.sent.size();
        // The same selectors in another order are the same selectors.
        engineA.replaceConnection(a("192.168.21.0/24", "192.168.20.0/24").build());
        deliver();
        assertEquals(sent, network.sent.size());
        assertEquals(List.of(Kind.INSTALLED), kinds(childrenA));
    }

    @Test
    void onlyAConnectionOfTheSameNameCanBeReplaced() {
        IkeSa sa = establish(a("192.168.20.0/24").build(), b("192.168.20.0/24").build());
        Connection other = Connection.builder("elsewhere").local(A, null).remote(B, Identity.of(B)).preSharedKey(PSK.clone()).ike(IKE)
                .esp("aes128gcm16").localTs("192.168.10.0/24").remoteTs("192.168.20.0/24").build();
        assertThrows(IllegalArgumentException.class, () -> engineA.replaceConnection(other));
        assertThrows(IllegalArgumentException.class, () -> sa.reconfigure(other));
        assertEquals("site", sa.connection().name());
        assertTrue(engineA.connection("elsewhere").isEmpty());
    }
}
