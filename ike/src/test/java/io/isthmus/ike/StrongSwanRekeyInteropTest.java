package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.InMemoryChildSaListener.Kind;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rekeys between Isthmus and strongSwan, each driven by short lifetimes on one side: child SAs
 * with and without PFS, and the IKE SA. After each, both ends hold one IKE SA and one child SA
 * with the same keys, the old ones gone.
 */
class StrongSwanRekeyInteropTest extends StrongSwanHarness {

    /**
     * Lifetimes short enough for a test: Isthmus rekeys its IKE SA 6 s after it was made (the
     * checks after a rekey finish well before the next), its child SA 5 s after.
     */
    static Connection.Timers quickIke() {
        return new Connection.Timers(Duration.ofSeconds(12), Duration.ofHours(1), 0, Duration.ofSeconds(6), 0, Duration.ofSeconds(30),
                Duration.ofSeconds(45), Duration.ofSeconds(1), 5, Duration.ofSeconds(20));
    }

    static Connection.Timers quickChild() {
        return new Connection.Timers(Duration.ofHours(1), Duration.ofSeconds(10), 0, Duration.ofSeconds(5), 0, Duration.ofSeconds(30),
                Duration.ofSeconds(45), Duration.ofSeconds(1), 5, Duration.ofSeconds(20));
    }

    /** Waits until {@code n} rekeys of the child SA have completed at both ends. */
    void awaitChildRekeys(int n) throws Exception {
        await(n + " child rekeys", Duration.ofSeconds(30),
                () -> children.events(Kind.REKEYED).size() >= n && children.current().size() == 1);
        awaitSwanctl("strongSwan to drop the old child SA", Duration.ofSeconds(10), sas -> installedChildren(sas) == 1);
    }

    @ParameterizedTest(name = "strongSwan rekeys the child SA, ESP {0}")
    @ValueSource(strings = {"aes128gcm16", "aes128gcm16-x25519", "aes256-sha256-modp2048"})
    void strongSwanRekeysTheChildSa(String esp) throws Exception {
        Swan swan = new Swan().proposals("aes128gcm16-prfsha256-x25519", esp);
        swan.child = "rekey_time = 3s\n life_time = 60s\n rand_time = 0s";
        start(swan);
        initiate();
        assertEstablishedOnBothEnds();
        int first = children.current().getFirst().inbound().spi();
        //   strongSwan                                     Isthmus
        //   CREATE_CHILD_SA SK{N(REKEY_SA) SA No [KE] TSi TSr}  -->
        //                                                <--  SK{SA No [KE] TSi TSr}
        //   INFORMATIONAL SK{D(ESP)}                    -->
        //                                                <--  SK{D(ESP)}
        awaitChildRekeys(2);
        ChildSa now = ourChildren().getFirst();
        assertNotEquals(first, now.inboundSpi());
        assertTrue(!now.createdAsInitiator, "strongSwan initiated the rekey");
        assertChildMatches(now);
        assertEquals(esp.contains("-"), now.proposal.pfs() != null, "PFS as proposed");
        assertIkeSaMatches(ourIkeSa());
    }

    @ParameterizedTest(name = "Isthmus rekeys the child SA, ESP {0}")
    @ValueSource(strings = {"aes256gcm16", "aes256gcm16-ecp384", "chacha20poly1305-x25519"})
    void isthmusRekeysTheChildSa(String esp) throws Exception {
        Swan swan = new Swan().proposals("aes128gcm16-prfsha256-x25519", esp);
        start(swan, isthmus(swan).timers(quickChild()).build());
        initiate();
        assertEstablishedOnBothEnds();
        //   Isthmus                                        strongSwan
        //   CREATE_CHILD_SA SK{N(REKEY_SA) SA No [KE] TSi TSr}  -->   ... as above, roles swapped
        awaitChildRekeys(2);
        ChildSa now = ourChildren().getFirst();
        assertTrue(now.createdAsInitiator);
        assertChildMatches(now);
        assertIkeSaMatches(ourIkeSa());
    }

    @ParameterizedTest(name = "{0} rekeys the IKE SA")
    @ValueSource(strings = {"strongSwan", "Isthmus"})
    void theIkeSaIsRekeyed(String who) throws Exception {
        Swan swan = new Swan().proposals("aes256gcm16-prfsha384-ecp384", "aes256gcm16");
        boolean strongSwanRekeys = who.equals("strongSwan");
        if (strongSwanRekeys) {
            swan.connection = "rekey_time = 6s\n over_time = 30s\n rand_time = 0s";
        }
        start(swan, isthmus(swan).timers(strongSwanRekeys ? Connection.Timers.AZURE : quickIke()).build());
        IkeSa first = initiate();
        assertEstablishedOnBothEnds();
        ChildSaDescription child = children.current().getFirst();
        //   the rekey's initiator                          the other end
        //   CREATE_CHILD_SA SK{SA(IKE, SPIi') No KE}      -->
        //                                                <--  SK{SA(IKE, SPIr') No KE}
        //   (old SA) INFORMATIONAL SK{D(IKE)}             -->
        //                                                <--  SK{}
        await("the IKE SA rekey", Duration.ofSeconds(30), () -> first.state() == IkeSaState.DESTROYED);
        IkeSa next = ourIkeSa();
        assertNotEquals(first.initiatorSpi(), next.initiatorSpi());
        assertEquals(!strongSwanRekeys, next.isInitiator());
        awaitSwanctl("strongSwan to list only the new IKE SA", Duration.ofSeconds(10), sas -> sas.split("ESTABLISHED", -1).length == 2);
        assertIkeSaMatches(next);
        assertEquals(child, children.current().getFirst(), "the child SA carried over untouched");
        assertEquals(1, children.events().size());
        assertChildMatches(ourChildren().getFirst());
        // The new IKE SA carries on: a child rekey through it.
        onLoop(() -> {
            next.rekeyChild(child.inbound().spi());
            return null;
        });
        awaitChildRekeys(1);
        assertChildMatches(ourChildren().getFirst());
    }
}
