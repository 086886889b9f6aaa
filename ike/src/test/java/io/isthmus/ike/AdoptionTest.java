package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.SkProtection;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Active-active: B's IKE SA with A taken over by a third engine, B2, at B's address, from B's
 * record, with no exchange; the observer that keeps the partner's copy up to date before every
 * datagram; RFC 6311 message ID synchronisation after a takeover from a stale record. Every
 * engine's transport checks, before each datagram, that its observer holds the current record of
 * every SA that is up, as a partner acknowledging records would.
 */
class AdoptionTest {
    static final String IKE = "aes128gcm16-prfsha256-x25519";
    static final String ESP = "aes128gcm16";
    static final InetSocketAddress A_IKE = new InetSocketAddress(EnginePair.A, 500);
    static final InetSocketAddress B_IKE = new InetSocketAddress(EnginePair.B, 500);

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final InMemoryChildSaListener childrenA = new InMemoryChildSaListener();
    final InMemoryChildSaListener childrenB = new InMemoryChildSaListener();
    final InMemoryChildSaListener childrenB2 = new InMemoryChildSaListener();
    final Partner partnerA = new Partner();
    final Partner partnerB = new Partner();
    final Partner partnerB2 = new Partner();
    final IkeEngine engineA = engine(childrenA, partnerA);
    final IkeEngine engineB = engine(childrenB, partnerB);
    final IkeEngine engineB2 = engine(childrenB2, partnerB2);

    AdoptionTest() {
        engineA.addConnection(EnginePair.connectionA(IKE, ESP).build());
        engineB.addConnection(EnginePair.connectionB(IKE, ESP).build());
        engineB2.addConnection(EnginePair.connectionB(IKE, ESP).build());
        network.attach(EnginePair.A, engineA);
        network.attach(EnginePair.B, engineB);
    }

    /** What the daemon's pair partner would hold: the last record it was given of each SA. */
    static final class Partner implements IkeSaObserver {
        final Map<IkeSa, byte[]> records = new IdentityHashMap<>();
        final List<String> violations = new ArrayList<>();
        int changes;
        int removals;

        @Override
        public void changed(IkeSa sa) {
            IkeSaRecord r = sa.record();
            records.put(sa, r.encode());
            r.destroy();
            changes++;
        }

        @Override
        public void removed(IkeSa sa) {
            if (records.remove(sa) == null) {
                violations.add("removed without having been announced: " + sa);
            }
            removals++;
        }

        /** Before a datagram leaves: every SA that is up is held as it is now. */
        void check(IkeEngine engine) {
            for (IkeSa sa : engine.ikeSas()) {
                if (sa.isUp()) {
                    IkeSaRecord now = sa.record();
                    if (!Arrays.equals(records.get(sa), now.encode())) {
                        violations.add("a datagram left before the partner had " + now);
                    }
                    now.destroy();
                }
            }
        }
    }

    private IkeEngine engine(InMemoryChildSaListener listener, Partner partner) {
        IkeEngine[] self = new IkeEngine[1];
        Transport wire = network.transport();
        Transport checked = new Transport() {
            @Override
            public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
                partner.check(self[0]);
                wire.send(datagram, local, remote);
            }
        };
        self[0] = new IkeEngine(checked, clock, listener);
        self[0].observer(partner);
        return self[0];
    }

    void deliver() {
        network.deliverAll(clock);
    }

    IkeSa initiate() {
        IkeSa a = engineA.initiate("site", A_IKE, B_IKE);
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        return a;
    }

    static IkeSa only(IkeEngine engine) {
        assertEquals(1, engine.ikeSas().size(), "IKE SAs: " + engine.ikeSas());
        return engine.ikeSas().iterator().next();
    }

    /** B hands its SA away (sending nothing, telling no one), and B2 takes over B's address with the record. */
    IkeSa takeOver(IkeSa b, IkeSaRecord record) throws MalformedRecordException {
        int sent = network.sent.size();
        int events = childrenB.events().size();
        int removals = partnerB.removals;
        engineB.release(b);
        assertEquals(sent, network.sent.size(), "release sends nothing");
        assertEquals(events, childrenB.events().size(), "release tells the listener nothing");
        assertEquals(removals, partnerB.removals, "release tells the observer nothing");
        assertTrue(engineB.ikeSas().isEmpty());
        assertEquals(0, engineB.reservedInboundSpis(), "the child SAs' inbound SPIs are free again");
        network.attach(EnginePair.B, engineB2);
        IkeSaRecord decoded = IkeSaRecord.decode(record.encode());
        IkeSa b2 = engineB2.adopt(decoded);
        decoded.destroy();
        assertEquals(sent, network.sent.size(), "adoption sends nothing");
        assertTrue(childrenB2.events().isEmpty(), "the daemon installs adopted child SAs itself");
        assertEquals(IkeSaState.ESTABLISHED, b2.state());
        return b2;
    }

    /*
     *   A                          B2 (B's record, at B's address)
     *   IKE_AUTH request 1 again  -->  the recorded answer, byte for byte
     *   INFORMATIONAL {} 2        -->  / <--  INFORMATIONAL {} 0      (DPD both ways)
     *   CREATE_CHILD_SA N(REKEY_SA) ... -->   then INFORMATIONAL D(ESP)
     *   CREATE_CHILD_SA SA(IKE) KE No   -->   then INFORMATIONAL D(IKE) on the old SA
     *   INFORMATIONAL D(IKE)       -->    (the new SA deleted)
     */
    @Test
    void anAdoptedSaCarriesOnWhereTheOtherInstanceLeftIt() throws Exception {
        IkeSa a = initiate();
        IkeSa b = only(engineB);
        InMemoryNetwork.Datagram lastRequest = network.sent.stream().filter(d -> d.to().equals(B_IKE)).reduce((x, y) -> y).orElseThrow();
        InMemoryNetwork.Datagram lastAnswer = network.sent.stream().filter(d -> d.to().equals(A_IKE)).reduce((x, y) -> y).orElseThrow();
        IkeSa b2 = takeOver(b, b.record());
        assertEquals(1, b2.childSas().size());
        assertEquals(childrenB.current().getFirst(), b2.childSas().getFirst());

        engineB2.receive(lastRequest.bytes(), 0, lastRequest.bytes().length, lastRequest.to(), lastRequest.from());
        assertArrayEquals(lastAnswer.bytes(), network.sent.getLast().bytes(), "the peer's retransmission gets the recorded answer");
        deliver();

        clock.advance(Duration.ofSeconds(10));
        a.probe();
        deliver();
        assertEquals(clock.now(), a.lastHeard(), "B2 answered A's DPD");
        clock.advance(Duration.ofSeconds(10));
        b2.probe();
        deliver();
        assertEquals(clock.now(), b2.lastHeard(), "A answered B2's DPD");

        a.rekeyChild(childrenA.current().getFirst().inbound().spi());
        deliver();
        assertEquals(1, childrenB2.events(InMemoryChildSaListener.Kind.REKEYED).size());
        assertEquals(1, childrenB2.events(InMemoryChildSaListener.Kind.DELETED).size(), "the adopted child SA, deleted by A after its rekey");
        assertEquals(1, b2.childSas().size());
        ChildSaDescription newA = childrenA.current().getFirst();
        ChildSaDescription newB2 = childrenB2.current().getFirst();
        assertEquals(newA.inbound().spi(), newB2.outbound().spi());
        EnginePair.assertCarriesTraffic(childrenA.keys(newA), childrenB2.keys(newB2));
        EnginePair.assertCarriesTraffic(childrenB2.keys(newB2), childrenA.keys(newA));

        a.rekey();
        deliver();
        IkeSa a2 = only(engineA);
        IkeSa b3 = only(engineB2);
        assertNotSame(a, a2);
        assertEquals(IkeSaState.ESTABLISHED, b3.state());
        assertEquals(a2.initiatorSpi(), b3.initiatorSpi());
        assertEquals(a2.responderSpi(), b3.responderSpi());
        assertEquals(1, b3.childSas().size());

        a2.delete();
        deliver();
        assertTrue(engineA.ikeSas().isEmpty());
        assertTrue(engineB2.ikeSas().isEmpty());
        assertTrue(childrenB2.current().isEmpty());
        assertEquals(0, engineB2.reservedInboundSpis());
        assertEquals(List.of(), partnerA.violations);
        assertEquals(List.of(), partnerB.violations);
        assertEquals(List.of(), partnerB2.violations);
        assertTrue(partnerB2.records.isEmpty(), "B2's partner heard that both SAs went");
        assertTrue(partnerA.records.isEmpty());
    }

    @Test
    void adoptionRefusesAnUnknownConnectionAndADuplicate() throws Exception {
        initiate();
        IkeSaRecord record = only(engineB).record();
        IkeEngine stranger = new IkeEngine(network.transport(), clock, new InMemoryChildSaListener());
        assertThrows(IllegalArgumentException.class, () -> stranger.adopt(record));
        assertTrue(stranger.ikeSas().isEmpty());
        assertThrows(IllegalStateException.class, () -> engineB.adopt(record), "B still has it");
        assertEquals(1, engineB.ikeSas().size());
        assertEquals(1, engineB.reservedInboundSpis());
    }

    @Test
    void theObserverHearsOfEveryChangeBeforeTheDatagramThatShowsIt() {
        IkeSa a = initiate();
        IkeSa b = only(engineB);
        b.rekeyChild(childrenB.current().getFirst().inbound().spi());
        deliver();
        a.createChild();
        deliver();
        b.rekey();
        deliver();
        clock.advance(Duration.ofSeconds(5));
        only(engineA).probe();
        deliver();
        only(engineB).deleteChild(childrenB.current().getFirst().inbound().spi());
        deliver();
        only(engineA).delete();
        deliver();
        assertEquals(List.of(), partnerA.violations);
        assertEquals(List.of(), partnerB.violations);
        assertTrue(partnerA.changes >= 6 && partnerB.changes >= 6, partnerA.changes + " / " + partnerB.changes);
        assertEquals(2, partnerA.removals, "the rekeyed SA and its replacement");
        assertTrue(partnerA.records.isEmpty() && partnerB.records.isEmpty());
    }

    @Test
    void aHalfOpenSaIsNotObserved() {
        network.dropWhen(EnginePair.message(m -> m.header().exchangeType() == ExchangeType.IKE_AUTH));
        engineA.initiate("site", A_IKE, B_IKE);
        deliver();
        assertEquals(1, engineB.halfOpenSas());
        assertEquals(0, partnerB.changes);
        assertEquals(0, partnerA.changes);
    }

    /*
     *   B's record taken after IKE_AUTH; then A probes twice and B once: the record is behind.
     *   B2 adopts it, then
     *   B2  INFORMATIONAL(0) N(IKEV2_MESSAGE_ID_SYNC nonce, M1 = 1 + 64, P1 = 2)  -->
     *                        <--  N(IKEV2_MESSAGE_ID_SYNC nonce, P2 = 4, M2 = 65)
     *   and both directions go on from there.
     */
    @Test
    void messageIdSyncBringsAStaleAdopterBackInStep() throws Exception {
        IkeSa a = initiate();
        IkeSa b = only(engineB);
        IkeSaRecord stale = b.record();
        clock.advance(Duration.ofSeconds(1));
        a.probe();
        deliver();
        a.probe();
        deliver();
        b.probe();
        deliver();
        IkeSa b2 = takeOver(b, stale);
        assertTrue(a.peerSupportsMessageIdSync() && b2.peerSupportsMessageIdSync());
        assertNotEquals(a.window().nextRequestId(), b2.window().expectedRequestId(), "the record is behind");
        assertNotEquals(b2.window().nextRequestId(), a.window().expectedRequestId(), "the record is behind");

        IkeCounters atA = engineA.counters().of(a.connection().name());
        IkeCounters atB2 = engineB2.counters().of(b2.connection().name());
        long requestsInA = atA.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.IN, IkeCounters.Kind.REQUEST);
        long responsesInB2 = atB2.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.IN, IkeCounters.Kind.RESPONSE);
        assertTrue(b2.syncMessageIds());
        deliver();
        assertEquals(requestsInA + 1, atA.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.IN, IkeCounters.Kind.REQUEST),
                "the sync request is counted where it is taken, beside the window");
        assertEquals(responsesInB2 + 1, atB2.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.IN, IkeCounters.Kind.RESPONSE));
        assertEquals(a.window().nextRequestId(), b2.window().expectedRequestId());
        assertEquals(b2.window().nextRequestId(), a.window().expectedRequestId());

        clock.advance(Duration.ofSeconds(1));
        a.probe();
        deliver();
        assertEquals(clock.now(), a.lastHeard(), "B2 takes A's next request");
        clock.advance(Duration.ofSeconds(1));
        b2.probe();
        deliver();
        assertEquals(clock.now(), b2.lastHeard(), "A takes B2's next request");
        a.rekeyChild(childrenA.current().getFirst().inbound().spi());
        deliver();
        assertEquals(1, childrenB2.events(InMemoryChildSaListener.Kind.REKEYED).size());
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        assertEquals(List.of(), partnerB2.violations);
        assertEquals(List.of(), partnerA.violations);
    }

    /*
     *   Forged at B, as if from A:
     *   INFORMATIONAL(0) N(IKEV2_MESSAGE_ID_SYNC) with a broken ICV         --> dropped
     *   INFORMATIONAL(0) {} with a good ICV (no notify)                     --> dropped
     *   INFORMATIONAL(0) N(IKEV2_MESSAGE_ID_SYNC, M1 below B's expected)    --> dropped (RFC 6311 §5.1)
     *   then a genuine one moves both counters, and its retransmission gets the same answer.
     */
    @Test
    void aForgedOrStrayMessageIdSyncChangesNothing() {
        IkeSa a = initiate();
        IkeSa b = only(engineB);
        int next = b.window().nextRequestId();
        int expected = b.window().expectedRequestId();
        int sent = network.sent.size();
        SkProtection asA = new SkProtection(a.proposal().cipher(), a.keys(), true, false);
        IkeHeader zero = new IkeHeader(a.initiatorSpi(), a.responderSpi(), 0, 2, 0, ExchangeType.INFORMATIONAL, IkeHeader.FLAG_INITIATOR, 0, 0);
        byte[] genuine = asA.protect(zero, List.of(sync(new byte[] {1, 2, 3, 4}, 1000, 7)), 1400).getFirst();

        byte[] badIcv = genuine.clone();
        badIcv[badIcv.length - 1] ^= 1;
        toB(badIcv);
        toB(asA.protect(zero, List.<Payload>of(), 1400).getFirst());
        toB(asA.protect(zero, List.of(sync(new byte[] {5, 6, 7, 8}, expected - 1, 7)), 1400).getFirst());
        toB(asA.protect(zero, List.of(NotifyPayload.of(NotifyType.IKEV2_MESSAGE_ID_SYNC, new byte[11])), 1400).getFirst());
        assertEquals(sent, network.sent.size(), "no answer to any of them");
        assertEquals(next, b.window().nextRequestId());
        assertEquals(expected, b.window().expectedRequestId());
        assertEquals(0, partnerB.violations.size());

        toB(genuine);
        assertEquals(sent + 1, network.sent.size());
        assertEquals(1000, b.window().expectedRequestId());
        assertEquals(7, b.window().nextRequestId());
        byte[] answer = network.sent.getLast().bytes();
        toB(genuine);
        assertArrayEquals(answer, network.sent.getLast().bytes(), "a retransmission gets the same answer");
        assertEquals(1000, b.window().expectedRequestId());
        assertEquals(List.of(), partnerB.violations);
    }

    private void toB(byte[] datagram) {
        engineB.receive(datagram, 0, datagram.length, B_IKE, A_IKE);
    }

    private static NotifyPayload sync(byte[] nonce, int send, int receive) {
        return NotifyPayload.of(NotifyType.IKEV2_MESSAGE_ID_SYNC, ByteBuffer.allocate(12).put(nonce).putInt(send).putInt(receive).array());
    }
}
