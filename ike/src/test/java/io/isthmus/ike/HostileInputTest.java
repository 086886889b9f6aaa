package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.SaPayload;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * What an attacker who can send datagrams (and maybe saw our SPIs) can make an engine do:
 * forged retransmissions, IKE_SA_INIT floods with bad key exchange values, log floods, log
 * injection through identities; and what a peer that crashed and came back is owed
 * (INITIAL_CONTACT). Each was reproduced against the gateway before it was fixed.
 */
class HostileInputTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-ecp256";
    static final InetSocketAddress A500 = new InetSocketAddress(A, 500);
    static final InetSocketAddress B500 = new InetSocketAddress(B, 500);

    void establish() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        initiate();
        assertOneIkeSaPair();
    }

    static boolean is(InMemoryNetwork.Datagram d, int exchange, boolean response) {
        IkeHeader h = decode(d.bytes()).header();
        return h.exchangeType() == exchange && h.isResponse() == response;
    }

    /*
     *   A                                        B
     *   IKE_AUTH request 1 (genuine)       -->
     *                                      <--   IKE_AUTH response 1
     *   forged copy of request 1           -->   (its ICV does not verify: silence)
     *   genuine copy of request 1          -->
     *                                      <--   IKE_AUTH response 1 again
     */
    @Test
    void aForgedCopyOfTheLastRequestIsNotAnswered() {
        establish();
        byte[] request = network.sent.stream().filter(d -> d.to().getAddress().equals(B) && is(d, ExchangeType.IKE_AUTH, false))
                .findFirst().orElseThrow().bytes();
        byte[] response = network.sent.stream().filter(d -> d.to().getAddress().equals(A) && is(d, ExchangeType.IKE_AUTH, true))
                .findFirst().orElseThrow().bytes();
        int before = network.sent.size();
        for (int i = 0; i < 100; i++) {
            byte[] forged = request.clone();
            forged[forged.length - 1 - (i % 16)] ^= (byte) (1 + i);
            engineB.receive(forged, 0, forged.length, B500, A500);
        }
        assertEquals(before, network.sent.size(), "no answer to datagrams that only look like the last request");
        engineB.receive(request, 0, request.length, B500, A500);
        assertEquals(before + 1, network.sent.size(), "a genuine retransmission is answered");
        assertArrayEquals(response, network.sent.getLast().bytes());
    }

    /*
     * The next request's message ID with an SK payload too short to hold an ICV: the length is
     * wrong before anything is verified, so it is a forgery like any other. Answering it (with
     * INVALID_SYNTAX) would also move B's window, and A's genuine request with that ID would get
     * the cached INVALID_SYNTAX as if it were a retransmission.
     */
    @Test
    void aShortForgedRequestWithTheNextMessageIdIsDroppedAndTheWindowStays() {
        establish();
        IkeSa a = onlyIkeSa(engineA);
        int before = network.sent.size();
        for (int length : new int[] {0, 8, 20, 24}) {
            IkeHeader h = new IkeHeader(a.initiatorSpi(), a.responderSpi(), 0, 2, 0, ExchangeType.INFORMATIONAL, IkeHeader.FLAG_INITIATOR, 2, 0);
            byte[] forged = IkeMessage.encodeProtected(h, io.isthmus.ike.message.PayloadType.NONE, length, null);
            engineB.receive(forged, 0, forged.length, B500, A500);
        }
        assertEquals(before, network.sent.size(), "no answer to what does not verify");
        a.createChild(); // CREATE_CHILD_SA, message ID 2: B must still expect it
        deliver();
        assertChildSasPair(2);
    }

    /** An IKE_SA_INIT request from A to B with this KE value and the initiator SPI given. */
    static byte[] initRequest(long spi, KeyExchangeMethod group, byte[] keValue, byte[] cookie) {
        List<Payload> payloads = new ArrayList<>();
        if (cookie != null) {
            payloads.add(NotifyPayload.of(NotifyType.COOKIE, cookie));
        }
        payloads.add(new SaPayload(List.of(IkeProposal.parse(IKE).toProposal(1, new byte[0]))));
        payloads.add(new KePayload(group.ianaId(), keValue));
        payloads.add(new NoncePayload(new byte[32]));
        return IkeMessage.encode(new IkeHeader(spi, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR, 0, 0), payloads);
    }

    /** A P-256 "public value" that is not on the curve. */
    static byte[] offCurve() {
        byte[] v = new byte[64];
        Arrays.fill(v, (byte) 1);
        return v;
    }

    static int notifyOf(byte[] answer) {
        return decode(answer).payloads().stream().filter(p -> p instanceof NotifyPayload).map(p -> ((NotifyPayload) p).notifyType())
                .findFirst().orElse(-1);
    }

    @Test
    void aBadKeyExchangeValueIsRefusedBeforeAnyKeyPairIsMade() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        long keyPairs = KeyExchangeMethod.keyPairsGenerated();
        byte[] bad = initRequest(0x1111, KeyExchangeMethod.ECP_256, offCurve(), null);
        engineB.receive(bad, 0, bad.length, B500, A500);
        assertEquals(keyPairs, KeyExchangeMethod.keyPairsGenerated(), "no key pair for a value we cannot use");
        assertEquals(NotifyType.INVALID_SYNTAX, notifyOf(network.sent.getLast().bytes()));
        assertTrue(engineB.ikeSas().isEmpty());
    }

    /*
     * Spoofed as the real peer, requests that never become half-open SAs (here: a bad KE value)
     * must still engage cookies, by rate: after cookieRate of them in a second, every new one is
     * answered with a COOKIE (one hash, no state), and the genuine peer still gets through.
     */
    @Test
    void costlyRequestsAboveTheRateAreAskedForACookie() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineB.cookieRate(10);
        List<Integer> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] bad = initRequest(0x2000 + i, KeyExchangeMethod.ECP_256, offCurve(), null);
            engineB.receive(bad, 0, bad.length, B500, A500);
            answers.add(notifyOf(network.sent.getLast().bytes()));
            clock.advance(Duration.ofMillis(10));
        }
        assertEquals(List.of(NotifyType.INVALID_SYNTAX), answers.subList(0, 10).stream().distinct().toList(), answers.toString());
        assertEquals(List.of(NotifyType.COOKIE), answers.subList(10, 40).stream().distinct().toList(), answers.toString());
        assertEquals(30, engineB.cookiesSent());
        // The genuine initiator answers the cookie and gets its SA, still within the flood's second.
        network.sent.clear();
        initiate();
        assertOneIkeSaPair();
        assertTrue(network.sent.stream().anyMatch(d -> d.to().getAddress().equals(A) && notifyOf(d.bytes()) == NotifyType.COOKIE));
    }

    /*
     * A flooder that answers cookies (it uses its real address) gets ten costly requests a second
     * and holds no more than five half-open IKE SAs, its oldest giving way to its newest.
     */
    @Test
    void answeringCookiesBuysOnlyAFewHalfOpenSasAndTenRequestsASecond() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineB.cookieRate(1);
        byte[] ke = KeyExchangeMethod.ECP_256.generate().publicValue();
        long keyPairs = KeyExchangeMethod.keyPairsGenerated();
        for (int i = 0; i < 200; i++) {
            sendWithCookie(0x4000 + i, ke);
        }
        assertEquals(5, engineB.halfOpenSas());
        // The first came in before cookies were due (rate 1 a second); then ten that answered one.
        assertEquals(1 + IkeEngine.COOKIE_ANSWERS_PER_PEER, KeyExchangeMethod.keyPairsGenerated() - keyPairs, "key pairs for 200 requests");
        clock.advance(Duration.ofSeconds(1));
        for (int i = 0; i < 200; i++) {
            sendWithCookie(0x5000 + i, ke);
        }
        assertEquals(1 + 2L * IkeEngine.COOKIE_ANSWERS_PER_PEER, KeyExchangeMethod.keyPairsGenerated() - keyPairs, "ten more a second later");
        assertEquals(5, engineB.halfOpenSas());
    }

    /** Sends an IKE_SA_INIT from A, and again with the cookie if B asks for one. */
    void sendWithCookie(long spi, byte[] ke) {
        byte[] first = initRequest(spi, KeyExchangeMethod.ECP_256, ke, null);
        engineB.receive(first, 0, first.length, B500, A500);
        NotifyPayload cookie = decode(network.sent.getLast().bytes()).payloads().stream().filter(p -> p instanceof NotifyPayload)
                .map(NotifyPayload.class::cast).filter(n -> n.notifyType() == NotifyType.COOKIE).findFirst().orElse(null);
        if (cookie != null) {
            byte[] again = initRequest(spi, KeyExchangeMethod.ECP_256, ke, cookie.data());
            engineB.receive(again, 0, again.length, B500, A500);
        }
    }

    /*
     * A spoofer of A's address fills A's five half-open slots with requests it never completes
     * (and it cannot answer cookies, the answers go to A). The real A still gets its IKE SA: B
     * asks it for a cookie, A answers, and A's request replaces the oldest spoofed one.
     */
    @Test
    void aSpooferHoldingThePeersSlotsCannotLockThePeerOut() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        byte[] ke = KeyExchangeMethod.ECP_256.generate().publicValue();
        for (int i = 0; i < 5; i++) {
            byte[] spoofed = initRequest(0x6000 + i, KeyExchangeMethod.ECP_256, ke, null);
            engineB.receive(spoofed, 0, spoofed.length, B500, A500);
        }
        assertEquals(5, engineB.halfOpenSas());
        network.sent.clear();
        IkeSa a = initiate();
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        assertTrue(network.sent.stream().anyMatch(d -> d.to().getAddress().equals(A) && notifyOf(d.bytes()) == NotifyType.COOKIE));
        assertEquals(4, engineB.halfOpenSas(), "the oldest spoofed one gave way");
    }

    /** Records what the engine logs. */
    static final class Captured extends Handler {
        final List<LogRecord> records = new ArrayList<>();

        @Override
        public synchronized void publish(LogRecord r) {
            records.add(r);
        }

        synchronized List<String> messages() {
            return records.stream().map(r -> new java.util.logging.SimpleFormatter().formatMessage(r)).toList();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /*
     * 1,000 spoofed requests in a second: five lines of each kind are written, then the rest are
     * counted, and one line says how many were left out once the ten-second window ends.
     */
    @Test
    void aFloodWritesAFewLinesAndASummary() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineB.cookieRate(1_000_000);
        Logger ike = Logger.getLogger("io.isthmus.ike");
        Captured log = new Captured();
        ike.addHandler(log);
        try {
            for (int i = 0; i < 1000; i++) {
                byte[] bad = initRequest(0x3000 + i, KeyExchangeMethod.ECP_256, offCurve(), null);
                engineB.receive(bad, 0, bad.length, B500, A500);
            }
            assertEquals(1000, network.sent.size(), "each is still answered (RFC 7296 §2.21.1)");
            assertEquals(5, log.messages().size(), log.messages().toString());
            clock.advance(Duration.ofSeconds(11));
            clock.runDue();
            List<String> lines = log.messages();
            assertEquals(6, lines.size(), lines.toString());
            assertTrue(lines.getLast().startsWith("995 more lines like this one (init-refused) in 10 s were not written"), lines.getLast());
        } finally {
            ike.removeHandler(log);
        }
    }

    @Test
    void identitiesArePrintableInLogs() {
        String evil = "peer.example\n2026-12-02 01:00:00.000 INFO gateway stopped\u001b[2J\\";
        String shown = new IdPayload(true, IdPayload.ID_FQDN, evil.getBytes(StandardCharsets.ISO_8859_1)).toString();
        assertFalse(shown.contains("\n") || shown.contains("\u001b"), shown);
        assertEquals("peer.example\\x0a2026-12-02 01:00:00.000 INFO gateway stopped\\x1b[2J\\\\", shown);
        String rfc822 = new IdPayload(true, IdPayload.ID_RFC822_ADDR, new byte[] {'a', '@', (byte) 0xE9, '\r'}).toString();
        assertEquals("a@\\xe9\\x0d", rfc822);
    }

    /*
     * A crashed and came back (a new engine at the same address, no state). Its first IKE SA
     * says INITIAL_CONTACT; B drops the IKE SA it still held with the old A, after the new child
     * SA is in, so B's tunnel is never without one.
     *
     *   A (new)                                  B (holds SA1 with the old A)
     *   IKE_SA_INIT                        -->
     *                                      <--   IKE_SA_INIT
     *   IKE_AUTH N(INITIAL_CONTACT) ...    -->   child SA of SA2 installed, then SA1 destroyed
     *                                      <--   IKE_AUTH
     *                                      <--   INFORMATIONAL D(IKE SA1), sent once (A has forgotten it)
     */
    @Test
    void initialContactFromARestartedPeerDropsTheOldIkeSa() {
        establish();
        IkeSa old = onlyIkeSa(engineB);
        InMemoryChildSaListener childrenA2 = new InMemoryChildSaListener();
        IkeEngine engineA2 = new IkeEngine(network.transport(), clock, childrenA2);
        network.attach(A, engineA2);
        engineA2.addConnection(connectionA(IKE, "aes128gcm16").build());
        IkeSa fresh = engineA2.initiate("site", A500, B500);
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, fresh.state());
        IkeSa kept = onlyIkeSa(engineB);
        assertEquals(fresh.initiatorSpi(), kept.initiatorSpi(), "B keeps the new SA");
        assertEquals(IkeSaState.DESTROYED, old.state());
        List<InMemoryChildSaListener.Event> events = childrenB.events();
        assertEquals(InMemoryChildSaListener.Kind.INSTALLED, events.get(events.size() - 2).kind(), "the new child first");
        assertEquals(InMemoryChildSaListener.Kind.DELETED, events.getLast().kind(), "then the old one goes");
        assertEquals(1, childrenB.current().size());
        assertEquals(childrenA2.current().getFirst().outbound().spi(), childrenB.current().getFirst().inbound().spi());
    }

    /*
     * Both ends start at once and both initiate: each holds the other's half-open SA when it
     * sends its IKE_AUTH, so neither says INITIAL_CONTACT, and neither drops the other's SA
     * (which could leave each end with a different one). The daemon's duplicate rule settles it.
     */
    @Test
    void simultaneousInitiatorsDoNotTakeEachOthersSaForAStaleOne() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineA.initiate("site", A500, B500);
        engineB.initiate("site", B500, A500);
        deliver();
        assertEquals(2, engineA.ikeSas().size());
        assertEquals(2, engineB.ikeSas().size());
        assertTrue(engineA.ikeSas().stream().allMatch(s -> s.state() == IkeSaState.ESTABLISHED));
        assertTrue(engineB.ikeSas().stream().allMatch(s -> s.state() == IkeSaState.ESTABLISHED));
        assertChildSasPair(2);
    }

    /* A second IKE SA from an initiator that still has one carries no INITIAL_CONTACT: B keeps both. */
    @Test
    void aSecondIkeSaFromALivePeerLeavesTheFirstAlone() {
        establish();
        engineA.initiate("site", A500, B500);
        deliver();
        assertEquals(2, engineB.ikeSas().size());
        assertTrue(engineB.ikeSas().stream().allMatch(s -> s.state() == IkeSaState.ESTABLISHED));
    }

    /* The responder's IKE_SA_INIT answer is cached for retransmissions of the very same request only. */
    @Test
    void onlyAnIdenticalIkeSaInitRequestGetsTheCachedAnswer() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        network.dropWhen(d -> is(d, ExchangeType.IKE_AUTH, false)); // keep B half-open
        initiate();
        byte[] request = network.sent.stream().filter(d -> is(d, ExchangeType.IKE_SA_INIT, false)).findFirst().orElseThrow().bytes();
        network.dropWhen(d -> true);
        int before = network.sent.size();
        byte[] altered = request.clone();
        altered[altered.length - 1] ^= 1;
        engineB.receive(altered, 0, altered.length, B500, A500);
        assertEquals(before, network.sent.size(), "same SPI and address, different bytes: no cached answer");
        engineB.receive(request, 0, request.length, B500, A500);
        assertEquals(before + 1, network.sent.size());
    }

    /*
     * A rekeyed IKE SA numbers its requests from 0 again: its first one (here the Delete of it) must
     * not be taken as answered by an unprotected IKE_SA_INIT "response" with its SPIs, which anyone
     * who saw them can send.
     *   A  (new IKE SA) INFORMATIONAL request 0 SK{D}   -->   (lost)
     *   forged IKE_SA_INIT response, the new SA's SPIs  -->   A: nothing, the Delete still waits
     */
    @Test
    void aRekeyedIkeSasFirstRequestIsNotAnsweredByAnUnprotectedInitResponse() {
        establish();
        onlyIkeSa(engineA).rekey();
        deliver();
        IkeSa next = onlyIkeSa(engineA);
        network.dropWhen(d -> true);
        next.delete();
        deliver();
        assertEquals(0, next.window().outstandingRequestId());
        IkeHeader h = new IkeHeader(next.initiatorSpi(), next.responderSpi(), 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        byte[] forged = IkeMessage.encode(h, List.of(NotifyPayload.of(NotifyType.NAT_DETECTION_SOURCE_IP, new byte[20])));
        engineA.receive(forged, 0, forged.length, A500, B500);
        assertEquals(IkeSaState.DELETING, next.state());
        assertEquals(0, next.window().outstandingRequestId(), "the Delete still waits for B's answer");
    }

    @Test
    void curve25519SmallOrderPointsAreRefusedUpFront() {
        Random random = new Random(8031);
        for (String hex : List.of("0000000000000000000000000000000000000000000000000000000000000000",
                "0100000000000000000000000000000000000000000000000000000000000000",
                "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")) {
            byte[] u = java.util.HexFormat.of().parseHex(hex);
            try {
                KeyExchangeMethod.CURVE25519.peerPublicValue(u);
                throw new AssertionError(hex + " was accepted");
            } catch (io.isthmus.ike.message.IkeProtocolException expected) {
                assertEquals(NotifyType.INVALID_SYNTAX, expected.notifyType());
            }
        }
        byte[] fine = new byte[32];
        random.nextBytes(fine);
        try {
            KeyExchangeMethod.CURVE25519.peerPublicValue(fine);
        } catch (io.isthmus.ike.message.IkeProtocolException e) {
            throw new AssertionError(e);
        }
    }
}
