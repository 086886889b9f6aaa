package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.InMemoryChildSaListener.Kind;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.ExchangeType;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CREATE_CHILD_SA between two engines: further child SAs, child and IKE rekeys with and without
 * PFS, rekeys driven by lifetimes, lost messages, and both ends rekeying at once.
 */
class CreateChildSaTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    IkeSa establish(String espA, String espB) {
        return establish(connectionA(IKE, espA).build(), connectionB(IKE, espB).build());
    }

    IkeSa establish(Connection a, Connection b) {
        configure(a, b);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertChildSasPair();
        return sa;
    }

    int inboundSpiA() {
        return childrenA.current().getFirst().inbound().spi();
    }

    /** A CREATE_CHILD_SA request went over the network, seen as B received it. */
    long createChildRequests() {
        return network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.CREATE_CHILD_SA
                && !m.header().isResponse())).count();
    }

    /*
     *   A                                          B
     *   CREATE_CHILD_SA SK{N(REKEY_SA) SA No TSi TSr}  -->
     *                                              <--  SK{SA No TSi TSr}
     *   INFORMATIONAL SK{D(ESP old_A)}             -->
     *                                              <--  SK{D(ESP old_B)}
     */
    @Test
    void aChildSaRekeyReplacesItMakeBeforeBreak() {
        IkeSa sa = establish("aes128gcm16", "aes128gcm16");
        ChildSaDescription old = childrenA.current().getFirst();
        sa.rekeyChild(old.inbound().spi());
        deliver();
        assertChildSasPair();
        ChildSaDescription now = childrenA.current().getFirst();
        assertNotEquals(old.inbound().spi(), now.inbound().spi());
        // Both ends: installed, then the replacement announced while the old one lived, then the old one deleted.
        for (InMemoryChildSaListener l : List.of(childrenA, childrenB)) {
            assertEquals(List.of(Kind.INSTALLED, Kind.REKEYED, Kind.DELETED), l.events().stream().map(InMemoryChildSaListener.Event::kind).toList());
            assertEquals(l.events().get(0).sa(), l.events().get(1).replaced());
            assertEquals(l.events().get(0).sa(), l.events().get(2).sa());
        }
        // A asked for the rekey, so B had the new SA before A did: A sends on it at once, B
        // only once A deletes the old one (it cannot know when A installed the new one).
        assertTrue(childrenA.events(Kind.REKEYED).getFirst().outboundNow());
        assertTrue(!childrenB.events(Kind.REKEYED).getFirst().outboundNow());
        assertOneIkeSaPair();
    }

    /*
     *   A (wants modp2048 PFS first)                 B (only ecp256 PFS)
     *   CREATE_CHILD_SA SK{N(REKEY_SA) SA No KE(14) TSi TSr}  -->
     *                                              <--  SK{N(INVALID_KE_PAYLOAD 19)}
     *   CREATE_CHILD_SA SK{N(REKEY_SA) SA No KE(19) TSi TSr}  -->
     *                                              <--  SK{SA No KE(19) TSi TSr}
     *   INFORMATIONAL SK{D}  -->  <-- SK{D}
     */
    @Test
    void aRekeyWithPfsRetriesWithTheGroupThePeerWants() {
        IkeSa sa = establish(connectionA(IKE, "aes256gcm16-modp2048").esp("aes256gcm16-ecp256").build(),
                connectionB(IKE, "aes256gcm16-ecp256").build());
        sa.rekeyChild(inboundSpiA());
        deliver();
        assertChildSasPair();
        assertEquals(2, createChildRequests());
        assertEquals(KeyExchangeMethod.ECP_256, onlyIkeSa(engineA).children().list().getFirst().proposal.pfs());
        assertEquals(KeyExchangeMethod.ECP_256, onlyIkeSa(engineB).children().list().getFirst().proposal.pfs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16-x25519", "aes256-sha256-modp2048", "chacha20poly1305-ecp384-esn"})
    void rekeysWithPfs(String esp) {
        IkeSa sa = establish(esp, esp);
        for (int i = 0; i < 3; i++) {
            sa.rekeyChild(inboundSpiA());
            deliver();
            assertChildSasPair();
        }
        assertEquals(3, childrenA.events(Kind.REKEYED).size());
        assertEquals(3, childrenB.events(Kind.DELETED).size());
        assertEquals(3, engineA.counters().get("site").childRekeys(), "counted for metrics on both ends");
        assertEquals(3, engineB.counters().get("site").childRekeys());
    }

    @Test
    void theResponderCanRekeyToo() {
        IkeSa sa = establish("aes128gcm16", "aes128gcm16");
        IkeSa b = onlyIkeSa(engineB);
        b.rekeyChild(childrenB.current().getFirst().inbound().spi());
        deliver();
        assertChildSasPair();
        assertEquals(1, childrenA.events(Kind.REKEYED).size());
        assertSame(sa, onlyIkeSa(engineA));
    }

    /*
     *   A                                          B
     *   CREATE_CHILD_SA SK{SA No TSi TSr}          -->
     *                                              <--  SK{SA No TSi TSr}
     */
    @Test
    void aFurtherChildSa() {
        IkeSa sa = establish("aes128gcm16", "aes128gcm16");
        sa.createChild();
        deliver();
        assertChildSasPair(2);
        assertEquals(2, childrenA.events(Kind.INSTALLED).size());
    }

    /*
     *   A                                          B
     *   INFORMATIONAL SK{D(ESP spi_A)}             -->
     *                                              <--  SK{D(ESP spi_B)}
     */
    @Test
    void deletingAChildSaLeavesTheIkeSa() {
        IkeSa sa = establish("aes128gcm16", "aes128gcm16");
        sa.createChild();
        deliver();
        onlyIkeSa(engineB).deleteChild(childrenB.current().getFirst().inbound().spi());
        deliver();
        assertChildSasPair(1);
        assertOneIkeSaPair();
    }

    /*
     *   A                                          B
     *   CREATE_CHILD_SA SK{SA(IKE, new SPIi) No KE}  -->
     *                                              <--  SK{SA(IKE, new SPIr) No KE}
     *   (children move to the new IKE SA)
     *   INFORMATIONAL (old SA) SK{D(IKE)}          -->
     *                                              <--  SK{}
     */
    @Test
    void anIkeSaRekeyMovesTheChildrenToTheNewIkeSa() {
        IkeSa old = establish("aes128gcm16", "aes128gcm16");
        IkeSa oldB = onlyIkeSa(engineB);
        List<ChildSaDescription> children = childrenA.current();
        old.rekey();
        deliver();
        assertEquals(IkeSaState.DESTROYED, old.state());
        assertEquals(IkeSaState.DESTROYED, oldB.state());
        assertOneIkeSaPair();
        IkeSa next = onlyIkeSa(engineA);
        assertNotEquals(old.initiatorSpi(), next.initiatorSpi());
        assertTrue(next.isInitiator());
        assertEquals(children, next.childSas());
        assertEquals(children, childrenA.current(), "the child SAs were neither deleted nor announced again");
        assertEquals(1, childrenA.events().size());
        // The new IKE SA works: it rekeys the child and answers liveness checks.
        next.rekeyChild(inboundSpiA());
        deliver();
        assertChildSasPair();
        run(Duration.ofMinutes(2));
        assertOneIkeSaPair();
        assertEquals(1, engineA.counters().get("site").ikeRekeys(), "counted for metrics on both ends");
        assertEquals(1, engineB.counters().get("site").ikeRekeys());
        assertEquals(1, engineA.counters().get("site").childRekeys());
    }

    /*
     * The IKE SA is deleted while A's rekey of it is on the wire. B has moved its child SAs to the
     * new IKE SA by the time A hears back, so A deletes that one too: nothing is left on either
     * end, as the delete asked (before, the new IKE SA lived on with the child SAs).
     *   A  CREATE_CHILD_SA SK{SA(IKE) No KE}       -->
     *      delete(): D(IKE) queued on the old SA
     *                                              <--  SK{SA(IKE) No KE}   B: child SAs on the new SA
     *   A  INFORMATIONAL (new SA) SK{D(IKE)}       -->
     *   A  INFORMATIONAL (old SA) SK{D(IKE)}       -->
     *                                              <--  SK{}, SK{}
     */
    @Test
    void anIkeSaDeletedWhileItsRekeyIsUnderWayLeavesNothing() {
        IkeSa old = establish("aes128gcm16", "aes128gcm16");
        old.rekey();
        assertEquals(IkeSaState.REKEYING, old.state());
        old.delete();
        deliver();
        assertTrue(engineA.ikeSas().isEmpty(), "A: " + engineA.ikeSas());
        assertTrue(engineB.ikeSas().isEmpty(), "B: " + engineB.ikeSas());
        assertTrue(childrenA.current().isEmpty() && childrenB.current().isEmpty());
    }

    @Test
    void theOriginalResponderRekeysTheIkeSaAndBecomesItsInitiator() {
        establish("aes128gcm16", "aes128gcm16");
        onlyIkeSa(engineB).rekey();
        deliver();
        assertOneIkeSaPair();
        assertTrue(onlyIkeSa(engineB).isInitiator());
        assertTrue(!onlyIkeSa(engineA).isInitiator());
        onlyIkeSa(engineA).rekeyChild(inboundSpiA());
        deliver();
        assertChildSasPair();
    }

    /*
     * A prefers x25519, B ecp384; IKE_SA_INIT settles on B's choice. When B rekeys the IKE SA it
     * offers the current group, but A, responding, follows its own order:
     *   B  CREATE_CHILD_SA SK{SA(IKE) No KE(ecp384)}  -->
     *                                               <--  SK{N(INVALID_KE_PAYLOAD 31)}   A
     *   B  CREATE_CHILD_SA SK{SA(IKE) No KE(x25519)}  -->
     *                                               <--  SK{SA(IKE) No KE(x25519)}
     */
    @Test
    void anIkeRekeyAnsweredWithInvalidKeIsRetriedWithThatGroup() {
        establish(connectionA("aes128gcm16-prfsha256-x25519", "aes128gcm16").ike("aes256gcm16-prfsha384-ecp384").build(),
                connectionB("aes256gcm16-prfsha384-ecp384", "aes128gcm16").ike("aes128gcm16-prfsha256-x25519").build());
        assertEquals(KeyExchangeMethod.ECP_384, onlyIkeSa(engineA).proposal().keyExchange());
        network.sent.clear();
        onlyIkeSa(engineB).rekey();
        deliver();
        assertOneIkeSaPair();
        assertEquals(KeyExchangeMethod.CURVE25519, onlyIkeSa(engineA).proposal().keyExchange());
        assertEquals(2, createChildRequests());
        assertChildSasPair();
    }

    /*
     * A has lost a child SA B still has (say A was restarted with the IKE SA restored, or a
     * delete got lost): B's rekey gets CHILD_SA_NOT_FOUND, so B drops it and makes a new one.
     *   B  CREATE_CHILD_SA SK{N(REKEY_SA spi) SA No TSi TSr}  -->
     *                                                      <--  SK{N(CHILD_SA_NOT_FOUND)}   A
     *   B  CREATE_CHILD_SA SK{SA No TSi TSr}                  -->
     *                                                      <--  SK{SA No TSi TSr}
     */
    @Test
    void aRekeyOfAChildSaThePeerLostMakesANewOne() {
        IkeSa a = establish("aes128gcm16", "aes128gcm16");
        ChildSa lost = a.children().list().getFirst();
        a.children().remove(lost, "lost for the test");
        onlyIkeSa(engineB).rekeyChild(childrenB.current().getFirst().inbound().spi());
        deliver();
        assertChildSasPair();
        assertEquals(2, createChildRequests());
        assertTrue(childrenB.events(Kind.REKEYED).isEmpty());
        assertEquals(2, childrenB.events(Kind.INSTALLED).size());
    }

    /** Two engines whose nonces start with the bytes given, in the order each engine makes them. */
    static EnginePair pairWithNonces(int[] noncesOfA, int[] noncesOfB) {
        ScriptedNonces a = new ScriptedNonces(7296);
        ScriptedNonces b = new ScriptedNonces(8031);
        EnginePair pair = new EnginePair(a, b);
        pair.configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        pair.initiate();
        a.nextNoncesStartWith(noncesOfA);
        b.nextNoncesStartWith(noncesOfB);
        return pair;
    }

    static int[] bytes(String hex) {
        return java.util.Arrays.stream(hex.trim().split(" +")).mapToInt(h -> Integer.parseInt(h, 16)).toArray();
    }

    /*
     * Both ends rekey the same child SA at once (RFC 7296 §2.8.1); each answers the other's
     * request, so there are two replacements: "a" made by A's exchange, "b" by B's.
     *
     *   A                                                    B
     *   CREATE_CHILD_SA SK{N(REKEY_SA) SA Ni(A) TSi TSr}  -->
     *                  <--  CREATE_CHILD_SA SK{N(REKEY_SA) SA Ni(B) TSi TSr}
     *   SK{SA Nr(A) TSi TSr}   (A installs b)             -->
     *                  <--  SK{SA Nr(B) TSi TSr}   (B installed a)
     *   The exchange holding the lowest of the four nonces made the redundant replacement: its
     *   initiator deletes it, the other initiator deletes the old SA.
     *   INFORMATIONAL SK{D(ESP redundant)}                -->          (A's exchange lowest)
     *                  <--  INFORMATIONAL SK{D(ESP old)}
     *
     * Each row sets the first byte of the nonces each engine makes (its request's, then its
     * answer's), as strongSwan's test_child_rekey.c does; the rest comes from a fixed seed.
     */
    @ParameterizedTest(name = "lowest nonce {0}: the replacement made by {3}'s exchange stays")
    @CsvSource(delimiter = '|', textBlock = """
            # lowest | A: Ni(A) Nr(A) | B: Ni(B) Nr(B) | survivor made by
            Ni(A)    | 00 ff          | ff ff          | B
            Nr(B)    | ff ff          | ff 00          | B
            Ni(B)    | ff ff          | 00 ff          | A
            Nr(A)    | ff 00          | ff ff          | A
            """)
    void simultaneousChildRekeysLeaveOnePair(String lowest, String noncesOfA, String noncesOfB, String survivorBy) {
        EnginePair pair = pairWithNonces(bytes(noncesOfA), bytes(noncesOfB));
        ChildSaDescription old = pair.childrenA.current().getFirst();
        pair.onlyIkeSa(pair.engineA).rekeyChild(old.inbound().spi());
        pair.onlyIkeSa(pair.engineB).rekeyChild(old.outbound().spi());
        pair.deliver();
        pair.assertChildSasPair(1);
        pair.assertOneIkeSaPair();
        assertEquals(2, pair.childrenA.events(Kind.REKEYED).size(), "both replacements were made");
        assertTrue(pair.childrenA.current().stream().noneMatch(c -> c.equals(old)));
        // On A, the replacement of A's own exchange was announced to carry outbound traffic at once, B's not.
        ChildSaDescription survivor = pair.childrenA.events(Kind.REKEYED).stream()
                .filter(e -> e.outboundNow() == survivorBy.equals("A")).findFirst().orElseThrow().sa();
        assertEquals(List.of(survivor), pair.childrenA.current());
        assertEquals(survivorBy.equals("A"), pair.onlyIkeSa(pair.engineA).children().list().getFirst().createdAsInitiator);
        assertEquals(1, pair.engineA.counters().get(old.connection()).childRekeys(), "one rekey, though it made two replacements");
        assertEquals(1, pair.engineB.counters().get(old.connection()).childRekeys());
    }

    /*
     * Both ends rekey the IKE SA at once (§2.8.2): two new IKE SAs; the one made by the exchange
     * holding the lowest nonce is deleted by its initiator, who moves the child SAs to the other.
     *
     *   A                                                 B
     *   CREATE_CHILD_SA SK{SA(IKE, SPIi a) Ni(A) KE}  -->
     *                  <--  CREATE_CHILD_SA SK{SA(IKE, SPIi b) Ni(B) KE}
     *   SK{SA(IKE) Nr(A) KE}   (A made new SA "b")    -->
     *                  <--  SK{SA(IKE) Nr(B) KE}       (B made new SA "a")
     *   INFORMATIONAL (on the redundant SA) SK{D(IKE)} and (on the old SA) SK{D(IKE)}, each from
     *   the initiator the rule gives it to; one new IKE SA is left, with the child SAs.
     */
    @ParameterizedTest(name = "lowest nonce {0}: the IKE SA made by {3}'s exchange stays")
    @CsvSource(delimiter = '|', textBlock = """
            # lowest | A: Ni(A) Nr(A) | B: Ni(B) Nr(B) | survivor made by
            Ni(A)    | 00 ff          | ff ff          | B
            Nr(B)    | ff ff          | ff 00          | B
            Ni(B)    | ff ff          | 00 ff          | A
            Nr(A)    | ff 00          | ff ff          | A
            """)
    void simultaneousIkeRekeysLeaveOneIkeSa(String lowest, String noncesOfA, String noncesOfB, String survivorBy) {
        EnginePair pair = pairWithNonces(bytes(noncesOfA), bytes(noncesOfB));
        IkeSa old = pair.onlyIkeSa(pair.engineA);
        List<ChildSaDescription> children = pair.childrenA.current();
        old.rekey();
        pair.onlyIkeSa(pair.engineB).rekey();
        pair.deliver();
        pair.assertOneIkeSaPair();
        IkeSa now = pair.onlyIkeSa(pair.engineA);
        assertNotEquals(old.initiatorSpi(), now.initiatorSpi());
        // The initiator of the exchange that made an IKE SA is that SA's original initiator.
        assertEquals(survivorBy.equals("A"), now.isInitiator());
        assertEquals(children, now.childSas());
        assertEquals(1, pair.onlyIkeSa(pair.engineB).childSas().size());
        assertEquals(1, pair.engineA.counters().get(now.connection().name()).ikeRekeys(), "one IKE rekey");
        assertEquals(1, pair.engineB.counters().get(now.connection().name()).ikeRekeys());
        pair.assertChildSasPair(1);
        now.rekeyChild(pair.childrenA.current().getFirst().inbound().spi());
        pair.deliver();
        pair.assertChildSasPair(1);
    }

    /*
     * B rekeys the IKE SA while A rekeys the child: each is busy with its own exchange, so each
     * answers the other with TEMPORARY_FAILURE (RFC 7296 §2.25). A, which held up the IKE rekey,
     * rekeys the IKE SA itself once its child exchange is done, and tries the child rekey again
     * later, on the new IKE SA.
     */
    @Test
    void aChildRekeyDuringAnIkeRekeyIsRetried() {
        IkeSa a = establish("aes128gcm16", "aes128gcm16");
        onlyIkeSa(engineB).rekey();
        a.rekeyChild(inboundSpiA());
        deliver();
        // Both were refused; the child rekey comes again 2 to 5 s later, and B's own retry of
        // the IKE rekey finds it done.
        network.run(clock, Duration.ofSeconds(10), Duration.ofMillis(50));
        assertOneIkeSaPair();
        assertChildSasPair();
        assertEquals(1, childrenA.events(Kind.REKEYED).size());
    }

    /** Randomness from a seed, except every random fraction (rekey jitter, retry delays): always {@code fraction}. */
    record FixedFractions(SplittableRandom seeded, double fraction) implements RandomGenerator {
        @Override
        public long nextLong() {
            return seeded.nextLong();
        }

        @Override
        public double nextDouble() {
            return fraction;
        }
    }

    /*
     * The same meeting, where the two retries come at the same moment (both ends draw the same
     * delay here; on a network, whenever they come within a round trip of each other). Retried on
     * their own, they met and were refused again and again, until the child SA's lifetime ran out:
     * the one-in-a-few-hundred failure of lifetimesRekeyBothKindsOfSaOnTime. A, which held up B's
     * IKE rekey, now rekeys the IKE SA itself as soon as its own exchange is done, and its child
     * rekey, retried later, goes on the new IKE SA:
     *
     *   B  CREATE_CHILD_SA SK{SA(IKE) No KE}              -->  A: a child exchange under way
     *   A  CREATE_CHILD_SA SK{N(REKEY_SA) SA No TSi TSr}  -->  B: rekeying the IKE SA
     *   each                                             <--  SK{N(TEMPORARY_FAILURE)}
     *   A  CREATE_CHILD_SA SK{SA(IKE) No KE}              -->
     *                                                    <--  SK{SA(IKE) No KE}   (old IKE SA deleted)
     *   2 to 5 s later, on the new IKE SA (B's own retry finds the IKE SA rekeyed):
     *   A  CREATE_CHILD_SA SK{N(REKEY_SA) SA No TSi TSr}  -->
     *                                                    <--  SK{SA No TSi TSr}   (old child SA deleted)
     */
    @Test
    void anIkeRekeyAndAChildRekeyWhoseRetriesMeetAgainBothComplete() {
        EnginePair pair = new EnginePair(new FixedFractions(new SplittableRandom(7296), 0.5), new FixedFractions(new SplittableRandom(8031), 0.5));
        pair.configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        IkeSa old = pair.initiate();
        ChildSaDescription child = pair.childrenA.current().getFirst();
        pair.onlyIkeSa(pair.engineB).rekey();
        old.rekeyChild(child.inbound().spi());
        pair.run(Duration.ofSeconds(25));
        assertEquals(IkeSaState.DESTROYED, old.state(), "the IKE SA was rekeyed");
        pair.assertOneIkeSaPair();
        pair.assertChildSasPair();
        assertEquals(1, pair.childrenA.events(Kind.REKEYED).size(), "the child SA was rekeyed, once");
        assertEquals(4, pair.network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.CREATE_CHILD_SA
                && !m.header().isResponse())).count(), "the two that met, A's IKE rekey, A's child rekey");
    }

    /*
     * The response to a rekey is lost: A retransmits the same request, B answers from its cache
     * and does not make a second child SA.
     */
    @Test
    void aLostRekeyResponseIsAnsweredFromTheCache() {
        IkeSa a = establish("aes128gcm16", "aes128gcm16");
        int[] responses = {0};
        network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.CREATE_CHILD_SA && m.header().isResponse()
                && responses[0]++ == 0));
        a.rekeyChild(inboundSpiA());
        deliver();
        assertEquals(2, childrenB.current().size(), "B made the replacement and still has the old one");
        run(Duration.ofSeconds(5));
        assertChildSasPair();
        assertEquals(1, childrenB.events(Kind.REKEYED).size(), "B answered the retransmission from its cache");
    }

    /* Lifetimes drive the rekeys: 60 s IKE, 30 s child, 10 s margin; an hour later all is well. */
    @Test
    void lifetimesRekeyBothKindsOfSaOnTime() {
        Connection.Timers t = Connection.Timers.AZURE.withLifetimes(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(10));
        IkeSa first = establish(connectionA(IKE, "aes128gcm16-x25519").timers(t).build(), connectionB(IKE, "aes128gcm16-x25519").timers(t).build());
        ChildSaDescription firstChild = childrenA.current().getFirst();
        // The child rekey is due between 30 - 10 - 5 = 15 s and 20 s after it was made.
        run(Duration.ofSeconds(14));
        assertEquals(firstChild, childrenA.current().getFirst());
        run(Duration.ofSeconds(7));
        assertTrue(childrenA.current().stream().noneMatch(firstChild::equals), "rekeyed by 21 s");
        run(Duration.ofSeconds(30));
        assertEquals(IkeSaState.DESTROYED, first.state(), "the IKE SA was rekeyed by 51 s");
        // Make-before-break all along: never a moment without a child SA, never a pile of them.
        for (int second = 0; second < 3600; second++) {
            run(Duration.ofSeconds(1));
            int a = childrenA.current().size();
            int b = childrenB.current().size();
            assertTrue(a >= 1 && a <= 3 && b >= 1 && b <= 3, "at " + second + " s: " + a + " and " + b + " child SAs");
        }
        assertOneIkeSaPair();
        assertChildSasPair();
        assertTrue(childrenA.events(Kind.REKEYED).size() >= 3600 / 20, childrenA.events(Kind.REKEYED).size() + " child rekeys in an hour");
    }

    /*
     * Rekeys that the peer refuses leave the child SA to its lifetime: A offers no PFS, B insists
     * on it, so every CREATE_CHILD_SA gets NO_PROPOSAL_CHOSEN (the first child came through
     * IKE_AUTH, which has no key exchange). At 30 s both delete it; the IKE SA stays.
     */
    @Test
    void aChildSaThatCannotBeRekeyedExpires() {
        Connection.Timers t = Connection.Timers.AZURE.withLifetimes(Duration.ofHours(8), Duration.ofSeconds(30), Duration.ofSeconds(10));
        establish(connectionA(IKE, "aes128gcm16").timers(t).build(), connectionB(IKE, "aes128gcm16-ecp256").timers(t).build());
        run(Duration.ofSeconds(29));
        assertChildSasPair(1);
        assertTrue(createChildRequests() >= 2, "both ends tried to rekey");
        run(Duration.ofSeconds(2));
        assertChildSasPair(0);
        assertTrue(childrenA.events(Kind.REKEYED).isEmpty());
        assertOneIkeSaPair();
    }

    @Test
    void theDataPlanesSoftLifetimeRekeysAndItsHardLifetimeDeletes() {
        establish("aes128gcm16", "aes128gcm16");
        ChildSaDescription old = childrenA.current().getFirst();
        engineA.rekeyChild(old.inbound().spi());
        deliver();
        assertChildSasPair();
        ChildSaDescription now = childrenA.current().getFirst();
        engineA.expireChild(now.inbound().spi());
        deliver();
        assertChildSasPair(0);
        assertOneIkeSaPair();
        engineA.rekeyChild(12345); // an SA that is gone already: ignored
    }
}
