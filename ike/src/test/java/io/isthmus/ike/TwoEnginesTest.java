package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * IKE_SA_INIT, IKE_AUTH with a pre-shared key, INFORMATIONAL: two engines over an in-memory
 * network with a manual clock. Each test draws the message flow it expects.
 */
class TwoEnginesTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    void configure(String ikeA, String ikeB, String espA, String espB) {
        configure(connectionA(ikeA, espA).build(), connectionB(ikeB, espB).build());
    }

    /*
     *   A                                   B
     *   IKE_SA_INIT  SA KE No N N N N   -->
     *                                   <--  SA KE No N N N N
     *   IKE_AUTH SK{IDi IDr AUTH N SA TSi TSr} -->
     *                                   <--  SK{IDr AUTH SA TSi TSr}
     */
    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519", "aes256-sha256-modp2048", "aes256gcm16-prfsha384-ecp384",
            "chacha20poly1305-prfsha256-x25519", "aes128-sha256-ecp256", "aes256-sha512-prfsha512-ecp384"})
    void pskAuthenticationWithTheFirstChildSa(String ike) {
        configure(ike, ike, "aes128gcm16", "aes128gcm16");
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(IkeProposal.parse(ike), sa.proposal());
        assertEquals(4, network.delivered);
        assertOneIkeSaPair();
        assertChildSasPair();
        // Counted for metrics, each message once, on each side.
        IkeCounters a = engineA.counters().get("site");
        IkeCounters b = engineB.counters().get("site");
        for (IkeCounters.Exchange e : List.of(IkeCounters.Exchange.IKE_SA_INIT, IkeCounters.Exchange.IKE_AUTH)) {
            assertEquals(1, a.messages(e, IkeCounters.Direction.OUT, IkeCounters.Kind.REQUEST), e.name());
            assertEquals(1, a.messages(e, IkeCounters.Direction.IN, IkeCounters.Kind.RESPONSE), e.name());
            assertEquals(1, b.messages(e, IkeCounters.Direction.IN, IkeCounters.Kind.REQUEST), e.name());
            assertEquals(1, b.messages(e, IkeCounters.Direction.OUT, IkeCounters.Kind.RESPONSE), e.name());
            assertEquals(0, a.messages(e, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION), e.name());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16", "aes256gcm16-esn", "chacha20poly1305", "aes128-sha256", "aes256-sha384-esn", "aes256-sha512"})
    void everyEspTransform(String esp) {
        configure(IKE, IKE, esp, esp);
        initiate();
        assertEquals(ChildProposal.parse(esp).cipher(), childrenA.current().getFirst().inbound().suite());
        assertEquals(esp.endsWith("-esn"), childrenA.current().getFirst().inbound().esn());
        assertChildSasPair();
    }

    @Test
    void theResponderFollowsItsOwnOrderOfPreference() {
        configure(connectionA("aes128-sha256-modp2048", "aes128-sha256").ike("aes128gcm16-prfsha256-x25519").esp("aes256gcm16").build(),
                connectionB("aes128gcm16-prfsha256-x25519", "aes256gcm16").ike("aes128-sha256-modp2048").esp("aes128-sha256").build());
        // B prefers x25519 but A sent a MODP key share: B asks for its group, A retries.
        //   A  SA KE(modp2048) ...        -->
        //                                 <--  N(INVALID_KE_PAYLOAD 31)
        //   A  SA KE(x25519) ...          -->
        //                                 <--  SA KE No ...
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals("aes128gcm16-prfsha256-x25519", sa.proposal().toString());
        assertEquals("aes256gcm16", childrenA.current().getFirst().inbound().suite().toString());
        assertChildSasPair();
    }

    @Test
    void aWrongKeyGetsAuthenticationFailedAndNoSa() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").preSharedKey("another secret entirely".getBytes()).build());
        //   IKE_AUTH SK{IDi AUTH(wrong) ...}  -->
        //                                    <--  SK{N(AUTHENTICATION_FAILED)}
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.events().isEmpty());
        assertTrue(childrenB.events().isEmpty());
        assertTrue(engineA.ikeSas().isEmpty());
        assertTrue(engineB.ikeSas().isEmpty());
        assertEquals(1, engineB.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
        assertEquals(1, engineA.counters().get("site").authenticationFailures(IkeCounters.Refuser.PEER));
        assertEquals(0, engineA.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
    }

    @Test
    void anIdentityOtherThanTheExpectedOneIsRefused() {
        configure(connectionA(IKE, "aes128gcm16").local(A, Identity.parse("gw-a.example.net")).build(),
                connectionB(IKE, "aes128gcm16").remote(A, Identity.parse("gw-x.example.net")).build());
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    /** Every identity type of RFC 7296 §3.5 that a gateway uses with a pre-shared key. */
    @ParameterizedTest
    @CsvSource({"gw-a.example.net, gw-b.example.net", "@gw-a.example.net, @gw-b.example.net", "vpn-a@example.net, vpn-b@example.net",
            "keyid:0a0b0c0d, keyid:01020304ff", "fd00::a, fd00::b", "'C=CH, O=Example, CN=gw-a', 'C=CH, O=Example, CN=gw-b'"})
    void identitiesOfEveryType(String idA, String idB) {
        configure(connectionA(IKE, "aes128gcm16").local(A, Identity.parse(idA)).remote(B, Identity.parse(idB)).build(),
                connectionB(IKE, "aes128gcm16").local(B, Identity.parse(idB)).remote(A, Identity.parse(idA)).build());
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(Identity.parse(idB), sa.peerIdentity());
        assertEquals(Identity.parse(idA), onlyIkeSa(engineB).peerIdentity());
        assertChildSasPair();
    }

    @Test
    void aResponderWithoutAFixedPeerAcceptsAnyAddressThatAuthenticates() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").remote(null, null).build());
        initiate();
        assertOneIkeSaPair();
        assertEquals(Identity.of(A), onlyIkeSa(engineB).peerIdentity());
    }

    @Test
    void overIpv6() {
        InetAddress a6 = address("2001:db8::a");
        InetAddress b6 = address("2001:db8::b");
        network.attach(a6, engineA);
        network.attach(b6, engineB);
        configure(connection(a6, b6, "fd10::/64", "fd20::/64", IKE, "aes256gcm16").build(),
                connection(b6, a6, "fd20::/64", "fd10::/64", IKE, "aes256gcm16").build());
        IkeSa sa = engineA.initiate("site", new InetSocketAddress(a6, 500), new InetSocketAddress(b6, 500));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals("[fd20::/64]", childrenA.current().getFirst().remoteSelectors().toString());
        assertChildSasPair();
    }

    @Test
    void noCommonProposalIsRefused() {
        configure("aes128gcm16-prfsha256-x25519", "aes256-sha512-modp2048", "aes128gcm16", "aes128gcm16");
        //   SA(aes128gcm16...) KE No  -->
        //                             <--  N(NO_PROPOSAL_CHOSEN)
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertEquals(2, network.delivered);
        // What isthmus status shows as each side's last failure: the notify, and on the responder what was offered.
        String initiator = engineA.counters().get("site").lastFailure().why();
        String responder = engineB.counters().get("site").lastFailure().why();
        assertTrue(initiator.contains("NO_PROPOSAL_CHOSEN"), initiator);
        assertTrue(responder.contains("NO_PROPOSAL_CHOSEN") && responder.contains("offered [aes128gcm16-prfsha256-x25519]"), responder);
    }

    @Test
    void theResponderNarrowsTrafficSelectors() {
        configure(connection(A, B, "192.168.0.0/16", "10.0.0.0/8", IKE, "aes128gcm16").build(),
                connection(B, A, "10.20.0.0/16", "192.168.10.0/24", IKE, "aes128gcm16").build());
        initiate();
        ChildSaDescription a = childrenA.current().getFirst();
        assertEquals("[192.168.10.0/24]", a.localSelectors().toString());
        assertEquals("[10.20.0.0/16]", a.remoteSelectors().toString());
        assertChildSasPair();
    }

    @Test
    void severalSelectorsPerSide() {
        configure(connectionA(IKE, "aes128gcm16").localTs("172.16.1.0/24").remoteTs("172.16.2.0/24").build(),
                connectionB(IKE, "aes128gcm16").localTs("172.16.2.0/24").remoteTs("172.16.1.0/24").build());
        initiate();
        ChildSaDescription a = childrenA.current().getFirst();
        assertEquals("[192.168.10.0/24, 172.16.1.0/24]", a.localSelectors().toString());
        assertEquals("[192.168.20.0/24, 172.16.2.0/24]", a.remoteSelectors().toString());
        assertChildSasPair();
    }

    @Test
    void disjointSelectorsLeaveTheIkeSaUpWithoutAChild() {
        configure(connectionA(IKE, "aes128gcm16").build(), connection(B, A, "172.16.0.0/24", "192.168.10.0/24", IKE, "aes128gcm16").build());
        //   IKE_AUTH SK{... TSi TSr}  -->
        //                             <--  SK{IDr AUTH N(TS_UNACCEPTABLE)}
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertTrue(childrenB.current().isEmpty());
        String initiator = engineA.counters().get("site").lastFailure().why();
        String responder = engineB.counters().get("site").lastFailure().why();
        assertTrue(initiator.contains("TS_UNACCEPTABLE"), initiator);
        assertTrue(responder.contains("TS_UNACCEPTABLE"), responder);
    }

    @Test
    void lostMessagesAreRetransmittedAndDuplicatesAnsweredFromTheCache() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        // Lose B's first IKE_AUTH response: A sends the same request again after 4 s, B answers
        // from its cache (it must not process the request twice).
        //   IKE_SA_INIT -->  <-- IKE_SA_INIT
        //   IKE_AUTH    -->  <-- IKE_AUTH (lost)
        //   ... 4 s ...
        //   IKE_AUTH (same bytes) -->  <-- IKE_AUTH (cached)
        int[] authResponses = {0};
        network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.IKE_AUTH && m.header().isResponse()
                && authResponses[0]++ == 0));
        IkeSa sa = initiate();
        assertEquals(IkeSaState.CONNECTING, sa.state());
        clock.advance(Duration.ofSeconds(4));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(1, childrenB.events().size(), "the responder installed one child SA, not two");
        assertChildSasPair();
        IkeCounters.Exchange auth = IkeCounters.Exchange.IKE_AUTH;
        assertEquals(1, engineA.counters().get("site").messages(auth, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, engineB.counters().get("site").messages(auth, IkeCounters.Direction.IN, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, engineB.counters().get("site").messages(auth, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION));
        assertEquals(1, engineB.counters().get("site").messages(auth, IkeCounters.Direction.IN, IkeCounters.Kind.REQUEST), "processed once");
    }

    @Test
    void cookiesOnceTooManySasAreHalfOpen() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        engineB.cookieThreshold(0);
        //   SA KE No N N      -->
        //                     <--  N(COOKIE)
        //   N(COOKIE) SA KE No N N  -->
        //                     <--  SA KE No N N
        //   IKE_AUTH ...
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        IkeMessage first = decode(network.sent.get(1).bytes());
        assertEquals(NotifyType.COOKIE, ((NotifyPayload) first.payloads().getFirst()).notifyType());
        IkeMessage retry = decode(network.sent.get(2).bytes());
        assertEquals(NotifyType.COOKIE, ((NotifyPayload) retry.payloads().getFirst()).notifyType(), "the cookie comes first");
        assertChildSasPair();
    }

    /** A responder's answer asking for {@code cookie}, as one under load sends it (SPIr zero). */
    static byte[] cookieAnswer(long initiatorSpi, byte[] cookie) {
        IkeHeader h = new IkeHeader(initiatorSpi, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        return IkeMessage.encode(h, List.of(NotifyPayload.of(NotifyType.COOKIE, cookie)));
    }

    @Test
    void aLateAnswerToAnEarlierCopyIsSignedAsTheRequestItAnswered() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        // The responder answers the first copy in full but slowly; a retransmission meets it asking
        // for cookies (strongSwan decides cookies before it looks for the SA; a loaded Isthmus once
        // did too). The full answer comes after the cookie: it answers the request without the
        // cookie, and IKE_AUTH must sign that one, or the responder refuses our AUTH.
        //   SA KE No       -->                 (B makes its SA, its answer is slow)
        //   SA KE No       -->   (retransmission)
        //                  <--  N(COOKIE)
        //                  <--  SA KE No        (the answer to the first copy)
        //   IKE_AUTH       -->  <-- IKE_AUTH
        List<InMemoryNetwork.Datagram> slow = new java.util.ArrayList<>();
        network.dropWhen(d -> {
            IkeMessage m = decode(d.bytes());
            if (m.header().exchangeType() == ExchangeType.IKE_SA_INIT && m.header().isResponse()) {
                slow.add(d);
                return true;
            }
            return false;
        });
        IkeSa sa = initiate();
        clock.advance(Duration.ofSeconds(4));
        deliver();
        assertEquals(2, network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT
                && !m.header().isResponse())).count(), "the request and its retransmission");
        network.dropWhen(d -> false);
        byte[] cookie = cookieAnswer(sa.initiatorSpi(), new byte[] {1, 2, 3, 4});
        engineA.receive(cookie, 0, cookie.length, new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        InMemoryNetwork.Datagram late = slow.getFirst();
        engineA.receive(late.bytes(), 0, late.bytes().length, late.to(), late.from());
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state(), "the late answer taken with the request it answered");
        assertTrue(network.sent.stream().noneMatch(message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT && !m.header().isResponse()
                && m.payloads().getFirst() instanceof NotifyPayload n && n.notifyType() == NotifyType.COOKIE)), "no cookie'd request went out");
        assertEquals(0, engineB.counters().get("site").authenticationFailures(IkeCounters.Refuser.LOCAL));
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    static java.util.function.Predicate<InMemoryNetwork.Datagram> cookiedRequest() {
        return message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT && !m.header().isResponse()
                && m.payloads().getFirst() instanceof NotifyPayload n && n.notifyType() == NotifyType.COOKIE);
    }

    @Test
    void cookieAnswersAskingForTheCookieSentAskForNothingMore() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        // Answers to every copy, replays, or forged ones by anyone who saw the SPI: the one that leaves
        // no copy sent unanswered sends the retry at once, and one that asks for the cookie the retry
        // brings (no responder asks a request for the cookie it brings) sends nothing more.
        network.dropWhen(d -> true);
        IkeSa sa = initiate();
        clock.advance(Duration.ofSeconds(4));
        deliver();
        byte[] cookie = cookieAnswer(sa.initiatorSpi(), new byte[] {1, 2, 3, 4});
        java.util.function.LongSupplier cookied = () -> network.sent.stream().filter(cookiedRequest()).count();
        long[] after = new long[3];
        for (int i = 0; i < 3; i++) {
            engineA.receive(cookie, 0, cookie.length, new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
            deliver();
            after[i] = cookied.getAsLong();
            clock.advance(Duration.ofMillis(400));
            deliver();
        }
        assertEquals("[0, 1, 1]", java.util.Arrays.toString(after), "retries sent after each of three cookie answers to two copies");
    }

    @Test
    void aCookieAskedOfOneOfTwoCopiesIsSentAtTheNextRetransmission() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        engineB.cookieThreshold(0);
        // The responder asks every copy for a cookie; the answer to the first is lost. For all the
        // initiator knows, the first copy may still be answered in full: the retry takes the place
        // of the next retransmission (4 s, then 7.2 s later), not sooner.
        int[] cookies = {0};
        network.dropWhen(message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT && m.header().isResponse()
                && cookies[0]++ == 0));
        IkeSa sa = initiate();
        clock.advance(Duration.ofSeconds(4));
        deliver();
        clock.advance(Duration.ofSeconds(7));
        deliver();
        assertEquals(IkeSaState.CONNECTING, sa.state(), "waiting for what the first copy may still get");
        assertEquals(0, network.sent.stream().filter(cookiedRequest()).count());
        clock.advance(Duration.ofMillis(200));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(3, network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT
                && !m.header().isResponse())).count(), "two copies, then the retry in place of the third");
        assertEquals(1, network.sent.stream().filter(cookiedRequest()).count());
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    @Test
    void aSilentPeerIsDeclaredDeadWithinTheDpdTimeout() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        List<IkeEvent> events = new java.util.ArrayList<>();
        engineA.addEventListener(events::add);
        network.dropWhen(d -> true);
        // Idle 15 s, then a liveness check retransmitted at 4, 11.2, 24.2 s until 45 s have passed
        // without an answer (Azure's DPD timeout): gone by 15 + 45 s.
        run(Duration.ofSeconds(59));
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        run(Duration.ofSeconds(2));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertEquals(2, childrenA.events().size(), "installed, then deleted");
        IkeCounters a = engineA.counters().get("site");
        assertEquals(1, a.timeouts(IkeCounters.Exchange.INFORMATIONAL), "one dead peer detection timeout");
        assertTrue(a.lastFailure().why().contains("did not answer INFORMATIONAL"), a.lastFailure().why());
        assertEquals(List.of(IkeEvent.Kind.DPD_TIMEOUT, IkeEvent.Kind.CHILD_DOWN, IkeEvent.Kind.IKE_DOWN), events.stream().map(IkeEvent::kind).toList());
        assertEquals(1, a.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.OUT, IkeCounters.Kind.REQUEST));
        assertTrue(a.messages(IkeCounters.Exchange.INFORMATIONAL, IkeCounters.Direction.OUT, IkeCounters.Kind.RETRANSMISSION) >= 3);
    }

    @Test
    void aLivePeerAnswersLivenessChecksForHours() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        initiate();
        network.run(clock, Duration.ofHours(2), Duration.ofSeconds(10));
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    @Test
    void deletingTheIkeSaRemovesItOnBothEnds() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        IkeSa sa = initiate();
        //   INFORMATIONAL SK{D(IKE)}  -->
        //                             <--  SK{}
        sa.delete();
        deliver();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertTrue(childrenB.current().isEmpty());
        assertTrue(engineA.ikeSas().isEmpty());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    /** What {@code isthmus monitor} follows: each SA up and down once, in order, with the connection and SPIs; a failure with its reason. */
    @Test
    void eventsTellEachSaUpAndDownAndWhyAnAttemptFailed() {
        configure(IKE, IKE, "aes128gcm16", "aes128gcm16");
        List<IkeEvent> a = new java.util.ArrayList<>();
        List<IkeEvent> b = new java.util.ArrayList<>();
        engineA.addEventListener(a::add);
        engineB.addEventListener(b::add);
        IkeSa sa = initiate();
        assertEquals(List.of(IkeEvent.Kind.IKE_UP, IkeEvent.Kind.CHILD_UP), a.stream().map(IkeEvent::kind).toList());
        assertEquals(List.of(IkeEvent.Kind.IKE_UP, IkeEvent.Kind.CHILD_UP), b.stream().map(IkeEvent::kind).toList());
        IkeEvent up = a.getFirst();
        assertEquals("site", up.connection());
        assertEquals(sa.spis(), up.ikeSa());
        assertTrue(a.get(1).childSa().matches("[0-9a-f]{8}_i [0-9a-f]{8}_o"), a.get(1).childSa());
        sa.rekeyChild(childrenA.current().getFirst().inbound().spi());
        deliver();
        assertEquals(IkeEvent.Kind.CHILD_REKEYED, a.get(2).kind());
        assertEquals(3, a.size(), "the replaced child SA's going is no CHILD_DOWN: " + a);
        sa.delete();
        deliver();
        assertEquals(List.of(IkeEvent.Kind.CHILD_DOWN, IkeEvent.Kind.IKE_DOWN), a.subList(3, a.size()).stream().map(IkeEvent::kind).toList());
        assertEquals(List.of(IkeEvent.Kind.CHILD_DOWN, IkeEvent.Kind.IKE_DOWN), b.subList(3, b.size()).stream().map(IkeEvent::kind).toList());
        // A listener that throws keeps no one else from hearing.
        engineA.addEventListener(e -> {
            throw new IllegalStateException("a broken listener");
        });
        network.dropWhen(d -> true);
        engineA.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        run(Duration.ofSeconds(60));
        IkeEvent failed = a.getLast();
        assertEquals(IkeEvent.Kind.FAILED, failed.kind());
        assertTrue(failed.detail().matches(".*did not answer IKE_SA_INIT request 0 in \\d+ s \\(\\d+ transmissions\\): giving up"), failed.detail());
        assertEquals(failed.detail(), engineA.counters().get("site").lastFailure().why(), "the status's last failure");
    }

    @Test
    void aRefusedAuthenticationIsItsOwnEvent() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").preSharedKey("another secret entirely".getBytes()).build());
        List<IkeEvent> a = new java.util.ArrayList<>();
        List<IkeEvent> b = new java.util.ArrayList<>();
        engineA.addEventListener(a::add);
        engineB.addEventListener(b::add);
        initiate();
        assertEquals(List.of(IkeEvent.Kind.AUTHENTICATION_FAILED), a.stream().map(IkeEvent::kind).toList(), a.toString());
        assertEquals(List.of(IkeEvent.Kind.AUTHENTICATION_FAILED), b.stream().map(IkeEvent::kind).toList(), b.toString());
        assertTrue(b.getFirst().detail().startsWith("AUTHENTICATION_FAILED: we refused the peer claiming"), b.getFirst().detail());
    }
}
