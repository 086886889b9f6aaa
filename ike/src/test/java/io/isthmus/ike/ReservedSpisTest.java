package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.SkProtection;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.SaPayload;
import io.isthmus.ike.message.TsPayload;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every inbound SPI an engine reserves comes back: once the network is quiet, each engine holds
 * exactly one per child SA it has, however the exchanges that offered the others ended (refused,
 * cancelled, lost with their IKE SA, or the losing side of a collision). A leaked SPI is never
 * handed out again for the engine's life, and nothing else would notice it.
 */
class ReservedSpisTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    /** Each engine reserves one SPI per child SA it holds, no more; and both hold {@code children}. */
    void assertSpisOfChildSasOnly(int children) {
        assertSpisOfChildSasOnly(this, children);
    }

    static void assertSpisOfChildSasOnly(EnginePair pair, int children) {
        assertSpisOfChildSasOnly("A", pair.engineA, pair.childrenA, children);
        assertSpisOfChildSasOnly("B", pair.engineB, pair.childrenB, children);
    }

    static void assertSpisOfChildSasOnly(String name, IkeEngine engine, InMemoryChildSaListener announced, int children) {
        int held = engine.ikeSas().stream().mapToInt(sa -> sa.childSas().size()).sum();
        assertEquals(children, held, name + "'s child SAs " + engine.ikeSas());
        assertEquals(children, announced.current().size(), name + "'s announced child SAs");
        assertEquals(children, engine.reservedInboundSpis(), name + "'s reserved inbound SPIs, with " + children + " child SAs");
    }

    IkeSa establish(Connection a, Connection b) {
        configure(a, b);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        return sa;
    }

    IkeSa establish() {
        IkeSa sa = establish(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        assertSpisOfChildSasOnly(1);
        return sa;
    }

    int inboundSpiA() {
        return childrenA.current().getFirst().inbound().spi();
    }

    /*
     * The peer refuses the child SA of IKE_AUTH, and then every CREATE_CHILD_SA, with the notify
     * named; the IKE SA stays up with no child SA (or with the first one, where only
     * CREATE_CHILD_SA's key exchange is refused).
     *   A  IKE_AUTH SK{IDi AUTH SA TSi TSr}         -->
     *                                               <--  SK{IDr AUTH [N(refusal)] | [SA TSi TSr]}
     *   A  CREATE_CHILD_SA SK{SA Ni TSi TSr}  (x3)  -->
     *                                               <--  SK{N(refusal)}
     */
    @ParameterizedTest(name = "{0}: {3} child SA(s) stay")
    @CsvSource(delimiter = '|', textBlock = """
            # refusal                              | B's ESP proposal   | B's local selectors | children
            NO_PROPOSAL_CHOSEN                     | aes256gcm16        | 192.168.20.0/24     | 0
            TS_UNACCEPTABLE                        | aes128gcm16        | 172.16.0.0/24       | 0
            NO_PROPOSAL_CHOSEN (B insists on PFS)  | aes128gcm16-ecp256 | 192.168.20.0/24     | 1
            """)
    void refusedChildSasGiveTheirSpisBack(String refusal, String espB, String selectorsB, int children) {
        establish(connectionA(IKE, "aes128gcm16").build(),
                connection(EnginePair.B, EnginePair.A, selectorsB, "192.168.10.0/24", IKE, espB).build());
        assertSpisOfChildSasOnly(children);
        for (int i = 0; i < 3; i++) {
            onlyIkeSa(engineA).createChild();
            deliver();
            assertSpisOfChildSasOnly(children);
        }
        assertEquals(IkeSaState.ESTABLISHED, onlyIkeSa(engineA).state());
    }

    /*
     * A rekey the peer cannot agree to (it insists on PFS, A offers none) is refused; the child
     * SA stays, and so does its SPI, but not the one the rekey offered.
     *   A  CREATE_CHILD_SA SK{N(REKEY_SA) SA Ni TSi TSr}  -->
     *                                                     <--  SK{N(NO_PROPOSAL_CHOSEN)}
     */
    @Test
    void aRefusedChildRekeyGivesItsSpiBack() {
        establish(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16-ecp256").build());
        for (int i = 0; i < 3; i++) {
            onlyIkeSa(engineA).rekeyChild(inboundSpiA());
            deliver();
            assertSpisOfChildSasOnly(1);
        }
        assertTrue(childrenA.events(InMemoryChildSaListener.Kind.REKEYED).isEmpty());
    }

    /*
     * A's rekey is asked to use another group and keeps its SPI for the retry; by the time the
     * retry's turn comes the child SA is deleted, so the retry is cancelled, never sent, and the
     * SPI it kept goes back.
     *   A  CREATE_CHILD_SA SK{N(REKEY_SA) SA Ni KE(modp2048) TSi TSr}  -->     (A's delete of the child SA queued behind it)
     *                                                                  <--  SK{N(INVALID_KE_PAYLOAD ecp256)}
     *   A  INFORMATIONAL SK{D(ESP)}                                    -->
     *                                                                  <--  SK{D(ESP)}
     *      (the retry, queued behind the delete, is cancelled: its child SA is gone)
     */
    @Test
    void aRekeyRetriedWithAnotherGroupButCancelledGivesItsSpiBack() {
        IkeSa a = establish(connectionA(IKE, "aes256gcm16-modp2048").esp("aes256gcm16-ecp256").build(),
                connectionB(IKE, "aes256gcm16-ecp256").build());
        assertSpisOfChildSasOnly(1);
        a.rekeyChild(inboundSpiA());
        a.deleteChild(inboundSpiA());
        deliver();
        assertEquals(1, network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.CREATE_CHILD_SA
                && !m.header().isResponse())).count(), "the retry was never sent");
        assertSpisOfChildSasOnly(0);
        assertEquals(IkeSaState.ESTABLISHED, a.state());
    }

    /*
     * IKE_AUTH is answered, and ends without a child SA on A either way:
     *   A  IKE_AUTH SK{IDi AUTH SA TSi TSr}  -->
     *      B's key differs:                  <--  SK{N(AUTHENTICATION_FAILED)}
     *      B is not who A expects:           <--  SK{IDr AUTH SA TSi TSr}
     *                                             A  INFORMATIONAL SK{N(AUTHENTICATION_FAILED)}  -->  (B drops its child SA)
     */
    @ParameterizedTest
    @ValueSource(strings = {"the peer refuses our AUTH", "we refuse the peer's identity"})
    void anIkeAuthRefusedEitherWayGivesItsSpiBack(String how) {
        Connection a = connectionA(IKE, "aes128gcm16").build();
        Connection b = connectionB(IKE, "aes128gcm16").build();
        if (how.equals("the peer refuses our AUTH")) {
            b = connectionB(IKE, "aes128gcm16").preSharedKey("another secret, just as long".getBytes()).build();
        } else {
            a = connectionA(IKE, "aes128gcm16").remote(EnginePair.B, Identity.parse("gw.example.net")).build();
        }
        configure(a, b);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertSpisOfChildSasOnly(0);
    }

    /*
     * IKE_AUTH is never answered (B's answers are lost): A gives up at the DPD timeout, or is
     * told to delete the IKE SA before then. Either way the request ends with the IKE SA.
     *   A  IKE_AUTH SK{IDi AUTH SA TSi TSr}  -->
     *                                        <--  (lost, and every answer to a retransmission)
     */
    @ParameterizedTest
    @ValueSource(strings = {"the peer never answers", "the IKE SA is deleted meanwhile"})
    void anIkeAuthEndedWithItsIkeSaGivesItsSpiBack(String how) {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.IKE_AUTH && m.header().isResponse()));
        IkeSa sa = initiate();
        assertEquals(IkeSaState.CONNECTING, sa.state());
        assertEquals(1, engineA.reservedInboundSpis(), "IKE_AUTH offered one");
        if (how.equals("the peer never answers")) {
            run(Duration.ofSeconds(60));
        } else {
            sa.delete();
            deliver();
        }
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertSpisOfChildSasOnly("A", engineA, childrenA, 0);
    }

    /*
     * B deletes the IKE SA while A's CREATE_CHILD_SA (a further child SA, or a rekey) is on the
     * wire. B, deleting, refuses it; A ends the IKE SA on B's Delete, before that answer comes,
     * so A's exchange ends unanswered with the IKE SA.
     *   A  CREATE_CHILD_SA SK{[N(REKEY_SA)] SA Ni TSi TSr}  -->
     *                                   <--  INFORMATIONAL SK{D(IKE)}                B
     *                                   <--  SK{N(TEMPORARY_FAILURE)}   (A has no IKE SA for it)
     *   A  SK{}                          -->
     */
    @ParameterizedTest
    @ValueSource(strings = {"a further child SA", "a child rekey"})
    void anIkeSaThePeerDeletesWhileOurCreateChildSaIsOutstandingGivesItsSpiBack(String what) {
        IkeSa sa = establish();
        if (what.equals("a child rekey")) {
            sa.rekeyChild(inboundSpiA());
        } else {
            sa.createChild();
        }
        assertEquals(2, engineA.reservedInboundSpis(), "the child SA's and the one on the wire");
        onlyIkeSa(engineB).delete();
        deliver();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineA.ikeSas().isEmpty() && engineB.ikeSas().isEmpty());
        assertSpisOfChildSasOnly(0);
    }

    /*
     * Both ends rekey the same child SA at once (RFC 7296 §2.8.1): each end reserves an SPI for
     * its own request and one for its answer to the other's; the redundant replacement goes, and
     * with it its SPIs on both ends, whichever exchange held the lowest nonce.
     */
    @ParameterizedTest(name = "lowest nonce {0}")
    @CsvSource(delimiter = '|', textBlock = """
            # lowest | A: Ni(A) Nr(A) | B: Ni(B) Nr(B)
            Ni(A)    | 00 ff          | ff ff
            Nr(B)    | ff ff          | ff 00
            Ni(B)    | ff ff          | 00 ff
            Nr(A)    | ff 00          | ff ff
            """)
    void simultaneousChildRekeysGiveTheLosersSpisBack(String lowest, String noncesOfA, String noncesOfB) {
        EnginePair pair = CreateChildSaTest.pairWithNonces(CreateChildSaTest.bytes(noncesOfA), CreateChildSaTest.bytes(noncesOfB));
        ChildSaDescription old = pair.childrenA.current().getFirst();
        pair.onlyIkeSa(pair.engineA).rekeyChild(old.inbound().spi());
        pair.onlyIkeSa(pair.engineB).rekeyChild(old.outbound().spi());
        pair.deliver();
        assertEquals(2, pair.childrenA.events(InMemoryChildSaListener.Kind.REKEYED).size(), "both replacements were made");
        assertSpisOfChildSasOnly(pair, 1);
        // The survivor is rekeyed and deleted as usual after that.
        pair.onlyIkeSa(pair.engineA).rekeyChild(pair.childrenA.current().getFirst().inbound().spi());
        pair.deliver();
        assertSpisOfChildSasOnly(pair, 1);
    }

    /*
     * An IKE rekey moves the child SAs, and the child exchange queued behind it, to the new IKE
     * SA; their SPIs go with them, reserved once. Deleting the new IKE SA gives all of them back.
     *   A  CREATE_CHILD_SA SK{SA(IKE) Ni KE}   -->     (a further child SA queued behind it)
     *                                         <--  SK{SA(IKE) Nr KE}
     *   A  (new SA) CREATE_CHILD_SA SK{SA Ni TSi TSr}  -->  and  (old SA) INFORMATIONAL SK{D(IKE)}  -->
     */
    @Test
    void anIkeRekeyMovesTheChildSasWithTheirSpis() {
        IkeSa old = establish();
        old.createChild();
        deliver();
        assertSpisOfChildSasOnly(2);
        old.rekey();
        old.createChild();
        deliver();
        assertEquals(IkeSaState.DESTROYED, old.state());
        assertOneIkeSaPair();
        assertSpisOfChildSasOnly(3);
        onlyIkeSa(engineA).rekeyChild(inboundSpiA());
        deliver();
        assertSpisOfChildSasOnly(3);
        onlyIkeSa(engineA).delete();
        deliver();
        assertSpisOfChildSasOnly(0);
    }

    /* Deleting an IKE SA, or destroying it when its peer is gone, ends all its child SAs and gives back all their SPIs. */
    @Test
    void anIkeSaDeletedWithItsChildSasGivesBackTheirSpis() {
        IkeSa sa = establish();
        sa.createChild();
        sa.createChild();
        deliver();
        assertSpisOfChildSasOnly(3);
        sa.delete();
        deliver();
        assertSpisOfChildSasOnly(0);
    }

    /*
     * The peer goes silent during a child rekey: A retransmits until the DPD timeout, then
     * destroys the IKE SA with its two child SAs; the rekey's SPI goes back with theirs.
     *   A  CREATE_CHILD_SA SK{N(REKEY_SA) SA Ni TSi TSr}  -->  (lost, and every retransmission)
     */
    @Test
    void anIkeSaDestroyedDuringAChildRekeyGivesBackEverySpi() {
        IkeSa sa = establish();
        sa.createChild();
        deliver();
        network.dropWhen(d -> true);
        sa.rekeyChild(inboundSpiA());
        assertEquals(3, engineA.reservedInboundSpis());
        run(Duration.ofSeconds(60));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertSpisOfChildSasOnly("A", engineA, childrenA, 0);
    }

    /*
     * B installs the further child SA A asks for, but A cannot use the answer (here a forged one
     * in B's name: an ESP proposal A never offered). The peer may send on A's SPI until it drops
     * its half, so the SPI stays reserved, held by the delete that tells it to, until that ends:
     * answered, or lost with the IKE SA.
     *   A  CREATE_CHILD_SA SK{SA Ni TSi TSr}  -->
     *                                        <--  SK{SA(aes256gcm16) Nr TSi TSr}   (B's real answer lost)
     *   A  INFORMATIONAL SK{D(ESP a's SPI)}   -->
     *                                        <--  SK{D(ESP B's SPI)}
     */
    @ParameterizedTest
    @ValueSource(strings = {"the peer answers the delete", "the IKE SA goes first"})
    void anUnusableResponsesSpiIsHeldUntilThePeerDropsItsHalf(String how) {
        IkeSa a = establish();
        IkeSa b = onlyIkeSa(engineB);
        network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.CREATE_CHILD_SA && m.header().isResponse()));
        a.createChild();
        deliver();
        IkeHeader request = network.sent.stream().map(d -> decode(d.bytes()).header())
                .filter(h -> h.exchangeType() == ExchangeType.CREATE_CHILD_SA && !h.isResponse()).findFirst().orElseThrow();
        assertEquals(2, childrenB.current().size(), "B installed it");
        assertEquals(2, engineA.reservedInboundSpis(), "A's child SA's, and the one its request offered");
        network.dropWhen(d -> false);
        if (how.equals("the IKE SA goes first")) {
            network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.INFORMATIONAL));
        }
        // As B would protect it: B is the responder of this IKE SA.
        SkProtection asB = new SkProtection(b.proposal().cipher(), b.keys(), false, false);
        IkeHeader header = new IkeHeader(b.initiatorSpi(), b.responderSpi(), 0, 2, 0, ExchangeType.CREATE_CHILD_SA, IkeHeader.FLAG_RESPONSE,
                request.messageId(), 0);
        byte[] unusable = asB.protect(header, List.of(
                new SaPayload(List.of(ChildProposal.parse("aes256gcm16").toProposal(1, 0x0badc0de, true))),
                new NoncePayload(new byte[IkeContext.NONCE_LENGTH]),
                new TsPayload(true, a.connection().localSelectors()),
                new TsPayload(false, a.connection().remoteSelectors())), 4096).getFirst();
        engineA.receive(unusable, 0, unusable.length, new InetSocketAddress(EnginePair.A, 500), new InetSocketAddress(EnginePair.B, 500));
        assertEquals(1, childrenA.current().size(), "A installed nothing");
        assertEquals(2, engineA.reservedInboundSpis(), "the peer may still send on it: the delete holds it");
        if (how.equals("the IKE SA goes first")) {
            run(Duration.ofSeconds(60));
            assertEquals(IkeSaState.DESTROYED, a.state());
            assertSpisOfChildSasOnly("A", engineA, childrenA, 0);
        } else {
            deliver();
            assertSpisOfChildSasOnly(1);
        }
    }
}
