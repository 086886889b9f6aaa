package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.SkfPayload;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IKE fragmentation (RFC 7383) and NAT traversal (RFC 7296 §2.23, RFC 3948) between two engines. */
class FragmentationAndNatTest extends EnginePair {
    static final String IKE = "aes256-sha256-modp2048";
    static final TestPki.Issued ROOT = TestPki.ca("C=CH, O=Isthmus Test, CN=Root CA", "rsa3072");
    static final TestPki.Issued SITES = TestPki.intermediate(ROOT, "C=CH, O=Isthmus Test, CN=Sites CA", "rsa3072");

    /** Certificates with a 3072-bit chain make IKE_AUTH about 3 KB; 576-byte datagrams need several fragments. */
    void configureBigAuth(int fragmentSize) {
        TestPki.Issued a = TestPki.gateway(SITES, "C=CH, O=Isthmus Test, CN=gw-a", "rsa3072", "gw-a.example.net");
        TestPki.Issued b = TestPki.gateway(SITES, "C=CH, O=Isthmus Test, CN=gw-b", "rsa3072", "gw-b.example.net");
        configure(connectionA(IKE, "aes256-sha256").local(A, Identity.parse("gw-a.example.net")).remote(B, Identity.parse("gw-b.example.net"))
                        .authentication(CertificateAuthenticationTest.credentials(a, List.of(SITES), false, ROOT)).fragmentSize(fragmentSize).build(),
                connectionB(IKE, "aes256-sha256").local(B, Identity.parse("gw-b.example.net")).remote(A, Identity.parse("gw-a.example.net"))
                        .authentication(CertificateAuthenticationTest.credentials(b, List.of(SITES), false, ROOT)).fragmentSize(fragmentSize).build());
    }

    static boolean isFragment(IkeMessage m) {
        return m.payloads().getLast() instanceof SkfPayload;
    }

    /*
     *   A                                          B
     *   IKE_SA_INIT ... N(IKEV2_FRAGMENTATION_SUPPORTED)  -->
     *                          <--  ... N(IKEV2_FRAGMENTATION_SUPPORTED)
     *   IKE_AUTH SKF(1/n) ... SKF(n/n)             -->
     *                          <--  IKE_AUTH SKF(1/m) ... SKF(m/m)
     */
    @Test
    void bigIkeAuthMessagesTravelInFragments() {
        configureBigAuth(576);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertChildSasPair();
        var auth = network.sent.stream().map(d -> decode(d.bytes())).filter(m -> m.header().exchangeType() == ExchangeType.IKE_AUTH).toList();
        assertTrue(auth.size() > 6 && auth.stream().allMatch(FragmentationAndNatTest::isFragment), auth.size() + " IKE_AUTH datagrams");
        assertTrue(network.sent.stream().allMatch(d -> d.bytes().length <= 576 - 28), "every datagram fits 576 bytes with its IP and UDP headers");
        SkfPayload first = (SkfPayload) auth.getFirst().payloads().getLast();
        assertEquals(1, first.fragmentNumber());
        assertTrue(first.totalFragments() > 3);
    }

    @Test
    void withoutNeedNothingIsFragmented() {
        configureBigAuth(Connection.DEFAULT_FRAGMENT_SIZE * 8);
        initiate();
        assertChildSasPair();
        assertTrue(network.sent.stream().map(d -> decode(d.bytes())).noneMatch(FragmentationAndNatTest::isFragment));
    }

    /* One fragment of the request is lost: A sends all of them again, B puts the message together. */
    @Test
    void aLostFragmentIsRecoveredByRetransmission() {
        configureBigAuth(576);
        boolean[] lost = {false};
        network.dropWhen(message(m -> {
            if (!lost[0] && isFragment(m) && !m.header().isResponse() && ((SkfPayload) m.payloads().getLast()).fragmentNumber() == 2) {
                lost[0] = true;
                return true;
            }
            return false;
        }));
        IkeSa sa = initiate();
        assertEquals(IkeSaState.CONNECTING, sa.state());
        clock.advance(Duration.ofSeconds(4));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertChildSasPair();
    }

    /* The response is lost: the retransmitted request's first fragment (only) makes B send its response again. */
    @Test
    void aLostFragmentedResponseIsSentAgainOnce() {
        configureBigAuth(576);
        boolean[] lost = {false};
        network.dropWhen(message(m -> {
            if (!lost[0] && isFragment(m) && m.header().isResponse() && ((SkfPayload) m.payloads().getLast()).fragmentNumber() == 1) {
                lost[0] = true;
                return true;
            }
            return false;
        }));
        IkeSa sa = initiate();
        long responsesBefore = network.sent.stream().map(d -> decode(d.bytes())).filter(m -> m.header().isResponse() && isFragment(m)).count();
        clock.advance(Duration.ofSeconds(4));
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        long responsesAfter = network.sent.stream().map(d -> decode(d.bytes())).filter(m -> m.header().isResponse() && isFragment(m)).count();
        assertEquals(2 * responsesBefore, responsesAfter, "the whole response once more, not once per request fragment");
        assertEquals(1, childrenB.events().size());
    }

    /*
     * A sits behind a NAT that maps 10.0.0.1 to 198.51.100.7 and picks the ports:
     *   A 10.0.0.1:500  -> NAT 198.51.100.7:40000 ->  B 10.0.0.2:500    IKE_SA_INIT, hashes disagree
     *   A 10.0.0.1:4500 -> NAT 198.51.100.7:40001 ->  B 10.0.0.2:4500   IKE_AUTH and on, ESP in UDP
     * A knows it is behind the NAT and keeps the mapping open with a keepalive every 20 s.
     */
    @Test
    void behindANat() {
        InetAddress outside = address("198.51.100.7");
        network.natBehind(A, outside);
        configure(connectionA(IKE, "aes256gcm16").build(), connectionB(IKE, "aes256gcm16").remote(null, Identity.of(A)).build());
        IkeSa a = initiate();
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        IkeSa b = onlyIkeSa(engineB);
        assertTrue(a.behindNat() && a.natDetected());
        assertTrue(b.natDetected() && !b.behindNat());
        assertEquals(4500, a.localAddress().getPort());
        assertEquals(4500, a.remoteAddress().getPort());
        assertEquals(outside, b.remoteAddress().getAddress());
        assertEquals(40001, b.remoteAddress().getPort());
        assertTrue(childrenA.current().getFirst().udpEncapsulation() && childrenB.current().getFirst().udpEncapsulation());
        assertEquals(b.remoteAddress(), childrenB.current().getFirst().remoteAddress(), "ESP goes to the NAT's mapping");
        assertChildSasPair();

        run(Duration.ofSeconds(61));
        assertEquals(3, network.keepalives.size(), "A sends a keepalive every 20 s");
        assertTrue(network.keepalives.stream().allMatch(k -> k.from().getPort() == 4500 && k.to().getPort() == 4500));
        a.rekeyChild(childrenA.current().getFirst().inbound().spi());
        a.rekey();
        deliver();
        assertOneIkeSaPair();
        assertChildSasPair();
        assertTrue(onlyIkeSa(engineA).behindNat(), "a rekeyed IKE SA is still behind the NAT");
    }

    /* One end forces UDP encapsulation (a path that drops IP protocol 50): both see a "NAT", both use 4500. */
    @Test
    void udpEncapsulationForcedByOneEnd() {
        configure(connectionA(IKE, "aes256gcm16").forceUdpEncapsulation(true).build(), connectionB(IKE, "aes256gcm16").build());
        IkeSa a = initiate();
        IkeSa b = onlyIkeSa(engineB);
        assertTrue(a.natDetected() && b.natDetected());
        assertFalse(a.behindNat() || b.behindNat(), "nobody needs keepalives");
        assertEquals(4500, a.localAddress().getPort());
        assertEquals(4500, b.remoteAddress().getPort());
        assertTrue(childrenA.current().getFirst().udpEncapsulation() && childrenB.current().getFirst().udpEncapsulation());
        assertChildSasPair();
    }

    @Test
    void withoutNatNothingMovesAndNoKeepalives() {
        configure(connectionA(IKE, "aes256gcm16").build(), connectionB(IKE, "aes256gcm16").build());
        IkeSa a = initiate();
        assertFalse(a.natDetected());
        assertEquals(500, a.localAddress().getPort());
        assertFalse(childrenA.current().getFirst().udpEncapsulation());
        run(Duration.ofSeconds(61));
        assertTrue(network.keepalives.isEmpty());
    }
}
