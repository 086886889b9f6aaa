package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.SaPayload;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 16, the IKE_SA_INIT cookie race, step by step: copies of one request meet a responder
 * both ways, one asked for a cookie while the responder is loaded, a later one answered in full
 * once the load fell, which makes the responder's SA. The initiator retries with the cookie, then
 * takes the late full answer, which does not say which request it answers, and signs its retry in
 * IKE_AUTH, the request it has on the wire. The responder must accept an AUTH over the request its
 * SA was made from or over that retry, whether the retry reached it or not, by every method.
 *
 * <pre>
 *   A                                            B
 *   SA KE Ni               (copy 1)   -->            (loaded: a cookie, please)
 *   SA KE Ni               (copy 2)   -->            (the load fell: B's SA, made from copy 2)
 *                                     <--  N(COOKIE)       (to copy 1)
 *                                     <--  SA KE Nr        (to copy 2, held back: it arrives late)
 *   N(COOKIE) SA KE Ni     (the retry)-->            (answered as copy 2 again, or lost on the way)
 *                                     <--  SA KE Nr        (the late answer: A takes it, its retry on the wire)
 *   IKE_AUTH SK{... AUTH over the retry ...}  -->    (over copy 2: no; over the retry: yes)
 *                                     <--  SK{... AUTH ...}
 * </pre>
 */
class CookieRaceTest extends EnginePair {
    static final String IKE = "aes256gcm16-prfsha384-ecp384";
    static final String ESP = "aes256gcm16";

    /** IKE_SA_INIT datagrams either way, held back for the test to deliver in its own order. */
    final List<InMemoryNetwork.Datagram> held = new ArrayList<>();
    /** B's connection, whose counters tell what B did. */
    String atB;

    /** Both ends configured to authenticate by {@code kind}; returns the name of A's connection. */
    String configure(String kind) {
        switch (kind) {
            case "psk" -> {
                configure(connectionA(IKE, ESP).build(), connectionB(IKE, ESP).build());
                atB = "site";
                return "site";
            }
            case "certificate" -> {
                TestPki.Issued root = CertificateAuthenticationTest.ROOT;
                TestPki.Issued a = TestPki.gateway(root, "C=CH, O=Isthmus Test, CN=gw-a", "ecp256", "gw-a.example.net");
                TestPki.Issued b = TestPki.gateway(root, "C=CH, O=Isthmus Test, CN=gw-b", "ecp256", "gw-b.example.net");
                Identity idA = Identity.parse("gw-a.example.net");
                Identity idB = Identity.parse("gw-b.example.net");
                configure(connectionA(IKE, ESP).local(A, idA).remote(B, idB)
                                .authentication(CertificateAuthenticationTest.credentials(a, List.of(), false, root)).build(),
                        connectionB(IKE, ESP).local(B, idB).remote(A, idA)
                                .authentication(CertificateAuthenticationTest.credentials(b, List.of(), false, root)).build());
                atB = "site";
                return "site";
            }
            case "eap" -> {
                eapGateway();
                TestPki.Issued unused = RemoteAccessTest.ALICE;
                engineA.addConnection(Connection.builder("rw").local(A, Identity.parse("alice@example.net")).remote(B, Identity.parse("gw.example.net"))
                        .authentication(new Authentication.Certificates(unused.privateKey(), List.of(unused.certificate()),
                                List.of(RemoteAccessTest.GATEWAY_ROOT.certificate()), false))
                        .ike(IKE).esp(ESP).localTs("0.0.0.0/0").remoteTs("10.1.0.0/16").virtualIp(address("0.0.0.0"))
                        .eapPeer(new EapRemoteAccessTest.TestEapPeer("correct horse")).build());
                atB = "p2s";
                return "rw";
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    /** B as a point-to-site gateway relaying EAP to a RADIUS server of the test's ({@link EapRemoteAccessTest}). */
    void eapGateway() {
        VirtualAddressPool pool = new VirtualAddressPool(List.of(address("172.16.201.0")), List.of(24), 10, Duration.ofMinutes(10),
                () -> clock.now().getEpochSecond() * 1_000_000_000L);
        engineB.addConnection(EapRemoteAccessTest.gatewayConnection(pool,
                new EapRemoteAccessTest.TestEapServer("alice@example.net", "correct horse"), IKE, ESP));
    }

    static boolean init(InMemoryNetwork.Datagram d) {
        return decode(d.bytes()).header().exchangeType() == ExchangeType.IKE_SA_INIT;
    }

    void holdInit() {
        network.dropWhen(d -> init(d) && held.add(d));
    }

    /** Hands {@code d} to the engine it was sent to, as the network would, and delivers what follows. */
    void pass(InMemoryNetwork.Datagram d) {
        (d.to().getAddress().equals(A) ? engineA : engineB).receive(d.bytes(), 0, d.bytes().length, d.to(), d.from());
        deliver();
    }

    List<InMemoryNetwork.Datagram> held(InetAddress from, Predicate<IkeMessage> what) {
        return held.stream().filter(d -> d.from().getAddress().equals(from) && what.test(decode(d.bytes()))).toList();
    }

    static boolean cookieFirst(IkeMessage m) {
        return m.payloads().getFirst() instanceof NotifyPayload n && n.notifyType() == NotifyType.COOKIE;
    }

    static boolean cookieAnswer(IkeMessage m) {
        return m.header().isResponse() && cookieFirst(m);
    }

    static byte[] cookieOf(InMemoryNetwork.Datagram d) {
        return ((NotifyPayload) decode(d.bytes()).payloads().getFirst()).data();
    }

    List<InMemoryNetwork.Datagram> retries() {
        return held(A, m -> !m.header().isResponse() && cookieFirst(m));
    }

    /** The retry B makes of {@code request} when none came. */
    static byte[] spliced(byte[] request, byte[] cookie) {
        List<byte[]> retries = new AnsweredInitRequest(decode(request), cookie).retries();
        assertEquals(1, retries.size());
        return retries.getFirst();
    }

    long atB(IkeCounters.Direction d, IkeCounters.Kind k) {
        return engineB.counters().get(atB).messages(IkeCounters.Exchange.IKE_SA_INIT, d, k);
    }

    /** How the race left things, nothing of it delivered yet but what the drawing shows before the retry. */
    record Race(IkeSa sa, InMemoryNetwork.Datagram request, InMemoryNetwork.Datagram cookieAnswer, InMemoryNetwork.Datagram lateAnswer,
                InMemoryNetwork.Datagram retry) {
    }

    /** The drawing up to A's retry, which is held. */
    Race race(String connection) {
        engineB.cookieThreshold(0);
        holdInit();
        IkeSa sa = engineA.initiate(connection, new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        deliver();
        clock.advance(Connection.Timers.AZURE.retransmitBase());
        deliver();
        List<InMemoryNetwork.Datagram> copies = held(A, m -> !m.header().isResponse());
        assertEquals(2, copies.size(), "the request and its retransmission");
        pass(copies.get(0));
        engineB.cookieThreshold(10);
        pass(copies.get(1));
        assertEquals(1, engineB.halfOpenSas(), "B's SA, made from copy 2");
        InMemoryNetwork.Datagram cookieAnswer = held(B, CookieRaceTest::cookieAnswer).getFirst();
        InMemoryNetwork.Datagram late = held(B, m -> m.first(SaPayload.class).isPresent()).getFirst();
        pass(cookieAnswer);
        for (int i = 0; i < 10 && retries().isEmpty(); i++) {
            clock.advance(Duration.ofSeconds(1));
            deliver();
        }
        assertEquals(1, retries().size(), "A retried with the cookie");
        assertEquals(IkeSaState.CONNECTING, sa.state());
        return new Race(sa, copies.get(1), cookieAnswer, late, retries().getFirst());
    }

    void assertEstablished(IkeSa sa) {
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(0, engineB.counters().get(atB).authenticationFailures(IkeCounters.Refuser.LOCAL), "B refused no AUTH");
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    /*
     * The retry reaches B's SA: B answers it as the request again (the same answer, counted as a
     * retransmission) and keeps it; the AUTH over it verifies.
     */
    @ParameterizedTest
    @ValueSource(strings = {"psk", "certificate", "eap"})
    void theRetryIsAnsweredAsTheRequestAndAnAuthOverItVerifies(String kind) {
        Race race = race(configure(kind));
        int before = held.size();
        pass(race.retry());
        assertEquals(before + 1, held.size(), "B answered the retry");
        assertArrayEquals(race.lateAnswer().bytes(), held.getLast().bytes(), "with its answer to the request");
        assertEquals(1, atB(IkeCounters.Direction.IN, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, atB(IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, engineB.halfOpenSas(), "and made no other SA for it");
        network.dropWhen(d -> false);
        pass(race.lateAnswer());
        assertEstablished(race.sa());
    }

    /*
     * The retry is lost on the way: B never saw it, yet A signed it. B tries the request its SA
     * was made from, then the retry as RFC 7296 §2.6 has it sent: the very bytes A sent.
     */
    @ParameterizedTest
    @ValueSource(strings = {"psk", "certificate", "eap"})
    void aRetryLostOnTheWayIsSplicedFromTheRequest(String kind) {
        Race race = race(configure(kind));
        network.dropWhen(d -> false);
        pass(race.lateAnswer());
        assertEquals(0, atB(IkeCounters.Direction.IN, IkeCounters.Kind.RETRANSMISSION), "B never saw the retry");
        assertEstablished(race.sa());
        assertArrayEquals(race.retry().bytes(), spliced(race.request().bytes(), cookieOf(race.cookieAnswer())),
                "the retry as B makes it from the request and its cookie");
    }

    /*
     * Anyone who saw the request can send B a "retry": one with a cookie not B's, or B's cookie
     * with anything else changed, gets no answer and is not kept as what A may sign (A's AUTH
     * over the retry it really sent, lost on the way, still verifies).
     */
    @Test
    void aForgedRetryGetsNoAnswerAndChangesNothing() {
        Race race = race(configure("psk"));
        byte[] retry = race.retry().bytes();
        byte[] otherCookie = retry.clone();
        otherCookie[28 + 8 + 5] ^= 1;
        byte[] otherPayloads = retry.clone();
        otherPayloads[otherPayloads.length - 1] ^= 1; // N(SIGNATURE_HASH_ALGORITHMS) names SHA2-512 no more
        byte[] otherMessageId = retry.clone();
        otherMessageId[23] = 1;
        assertNotNull(decode(otherPayloads));
        int sent = network.sent.size();
        for (byte[] forged : List.of(otherCookie, otherPayloads, otherMessageId)) {
            engineB.receive(forged, 0, forged.length, new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
            deliver();
        }
        assertEquals(sent, network.sent.size(), "no answer to a forged retry");
        assertEquals(0, atB(IkeCounters.Direction.IN, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, engineB.halfOpenSas());
        network.dropWhen(d -> false);
        pass(race.lateAnswer());
        assertEstablished(race.sa());
    }

    /*
     * A retry whose cookie Notify is encoded otherwise (its critical bit set, which a receiver of a
     * type it knows ignores) is the request again: answered, and kept as it came. The retry as the
     * RFC has it sent is still tried after it, so someone else's variant cannot spoil an AUTH over
     * the retry the initiator really sent, lost on the way.
     */
    @Test
    void aRetryEncodedOtherwiseIsAnsweredYetCannotSpoilTheOneSigned() {
        Race race = race(configure("psk"));
        byte[] variant = race.retry().bytes().clone();
        variant[28 + 1] = (byte) 0x80;
        AnsweredInitRequest answered = new AnsweredInitRequest(decode(race.request().bytes()), cookieOf(race.cookieAnswer()));
        assertTrue(answered.isCopy(decode(variant)));
        assertArrayEquals(variant, answered.retries().getFirst(), "kept as it came");
        assertArrayEquals(race.retry().bytes(), answered.retries().getLast(), "and the retry as the RFC has it sent");
        int before = held.size();
        engineB.receive(variant, 0, variant.length, new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
        deliver();
        assertEquals(before + 1, held.size(), "answered as a copy of the request");
        network.dropWhen(d -> false);
        pass(race.lateAnswer());
        assertEstablished(race.sa());
    }

    /*
     * When every copy sent was asked for a cookie, no full answer to the request can come: the
     * retry goes at once, not at the next retransmission.
     *
     *   SA KE Ni (copy 1, copy 2)   -->
     *                               <--  N(COOKIE), N(COOKIE)
     *   N(COOKIE) SA KE Ni          -->     (on the second cookie, no time passing)
     */
    @Test
    void aRetryGoesAtOnceWhenEveryCopySentWasAskedForACookie() {
        configure("psk");
        engineB.cookieThreshold(0);
        holdInit();
        IkeSa sa = initiate();
        clock.advance(Connection.Timers.AZURE.retransmitBase());
        deliver();
        List<InMemoryNetwork.Datagram> copies = held(A, m -> !m.header().isResponse());
        assertEquals(2, copies.size());
        copies.forEach(this::pass);
        List<InMemoryNetwork.Datagram> cookies = held(B, CookieRaceTest::cookieAnswer);
        assertEquals(2, cookies.size());
        pass(cookies.get(0));
        assertTrue(retries().isEmpty(), "copy 2 may still be answered in full");
        pass(cookies.get(1));
        assertEquals(1, retries().size(), "every copy was asked for a cookie: the retry at once");
        network.dropWhen(d -> false);
        pass(retries().getFirst());
        assertEstablished(sa);
    }

    /*
     * RFC 7296 §2.6: the retry is the request with the cookie first and "all other payloads
     * unchanged". With UDP encapsulation forced, the NAT detection source hash is faked, and must be
     * the same fake in both, or the responder cannot tell the retry for a copy of the request.
     */
    @Test
    void theRetryChangesNothingButTheCookieWhenUdpEncapsulationIsForced() {
        configure(connectionA(IKE, ESP).forceUdpEncapsulation(true).build(), connectionB(IKE, ESP).forceUdpEncapsulation(true).build());
        engineB.cookieThreshold(0);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        byte[] request = network.sent.get(0).bytes();
        InMemoryNetwork.Datagram cookieAnswer = network.sent.get(1);
        assertTrue(cookieFirst(decode(cookieAnswer.bytes())));
        assertArrayEquals(network.sent.get(2).bytes(), spliced(request, cookieOf(cookieAnswer)));
    }

    /** A request that came with a cookie is a retry itself: none is made of it. */
    @Test
    void aRequestThatBroughtACookieHasNoRetry() {
        configure("psk");
        engineB.cookieThreshold(0);
        initiate();
        assertTrue(new AnsweredInitRequest(decode(network.sent.get(2).bytes()), cookieOf(network.sent.get(1))).retries().isEmpty());
    }
}
