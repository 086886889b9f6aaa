package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.EspPacket;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import io.isthmus.esp.SaListener;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.TrafficSelector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two engines over an in-memory network with a manual clock. Each test draws the message flow it
 * expects.
 */
class TwoEnginesTest {
    static final InetAddress A = address("10.0.0.1");
    static final InetAddress B = address("10.0.0.2");
    static final byte[] PSK = "a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII);

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final InMemoryChildSaListener childrenA = new InMemoryChildSaListener();
    final InMemoryChildSaListener childrenB = new InMemoryChildSaListener();
    final IkeEngine engineA = new IkeEngine(network.transport(), clock, childrenA);
    final IkeEngine engineB = new IkeEngine(network.transport(), clock, childrenB);

    TwoEnginesTest() {
        network.attach(A, engineA);
        network.attach(B, engineB);
    }

    static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static Connection connection(InetAddress local, InetAddress remote, String localNet, String remoteNet, byte[] psk,
                                 List<String> ike, List<String> esp) {
        return new Connection("site", local, remote, Identity.parse(local.getHostAddress()), Identity.parse(remote.getHostAddress()),
                psk, ike.stream().map(IkeProposal::parse).toList(), esp.stream().map(ChildProposal::parse).toList(),
                List.of(TrafficSelector.ofPrefix(localNet)), List.of(TrafficSelector.ofPrefix(remoteNet)),
                Connection.Timers.AZURE, Connection.Mode.DEFAULT);
    }

    void configure(List<String> ikeA, List<String> ikeB, List<String> espA, List<String> espB) {
        engineA.addConnection(connection(A, B, "192.168.10.0/24", "192.168.20.0/24", PSK, ikeA, espA));
        engineB.addConnection(connection(B, A, "192.168.20.0/24", "192.168.10.0/24", PSK, ikeB, espB));
    }

    IkeSa initiate() {
        IkeSa sa = engineA.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        return sa;
    }

    /** The SAs both ends announced must be two halves of the same thing, and carry traffic. */
    void assertChildSasPair() {
        assertEquals(1, childrenA.current().size());
        assertEquals(1, childrenB.current().size());
        ChildSaDescription a = childrenA.current().getFirst();
        ChildSaDescription b = childrenB.current().getFirst();
        assertEquals(a.outbound().spi(), b.inbound().spi());
        assertEquals(a.inbound().spi(), b.outbound().spi());
        assertNotEquals(a.inbound().spi(), a.outbound().spi());
        assertArrayEquals(a.outbound().encryptionKey(), b.inbound().encryptionKey());
        assertArrayEquals(a.inbound().encryptionKey(), b.outbound().encryptionKey());
        assertArrayEquals(a.outbound().integrityKey(), b.inbound().integrityKey());
        assertEquals(a.localSelectors(), b.remoteSelectors());
        assertEquals(a.remoteSelectors(), b.localSelectors());
        for (ChildSaDescription[] dir : new ChildSaDescription[][] {{a, b}, {b, a}}) {
            OutboundSa out = new OutboundSa(dir[0].outbound(), SaListener.NONE);
            InboundSa in = new InboundSa(dir[1].inbound(), SaListener.NONE);
            byte[] packet = new byte[out.headerLength() + 100 + out.suite().maxTrailerLength()];
            packet[out.headerLength()] = 0x45;
            int n = out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4);
            assertEquals(100, in.open(packet, 0, n), "ESP with the negotiated keys");
        }
    }

    /*
     *   A                                   B
     *   IKE_SA_INIT  SA KE No N N   -->
     *                               <--  SA KE No N N
     *   IKE_AUTH SK{IDi IDr AUTH N SA TSi TSr} -->
     *                               <--  SK{IDr AUTH SA TSi TSr}
     */
    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519", "aes256-sha256-modp2048", "aes256gcm16-prfsha384-ecp384",
            "chacha20poly1305-prfsha256-x25519", "aes128-sha256-ecp256"})
    void pskAuthenticationWithTheFirstChildSa(String ike) {
        configure(List.of(ike), List.of(ike), List.of("aes128gcm16"), List.of("aes128gcm16"));
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(IkeProposal.parse(ike), sa.proposal());
        assertEquals(4, network.delivered);
        assertChildSasPair();
        assertEquals(IkeSaState.ESTABLISHED, engineB.ikeSas().iterator().next().state());
    }

    @Test
    void theResponderFollowsItsOwnOrderOfPreference() {
        configure(List.of("aes128-sha256-modp2048", "aes128gcm16-prfsha256-x25519"),
                List.of("aes128gcm16-prfsha256-x25519", "aes128-sha256-modp2048"),
                List.of("aes128-sha256", "aes256gcm16"), List.of("aes256gcm16", "aes128-sha256"));
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
        engineA.addConnection(connection(A, B, "192.168.10.0/24", "192.168.20.0/24", PSK,
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        engineB.addConnection(connection(B, A, "192.168.20.0/24", "192.168.10.0/24", "another secret entirely".getBytes(),
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        //   IKE_AUTH SK{IDi AUTH(wrong) ...}  -->
        //                                    <--  SK{N(AUTHENTICATION_FAILED)}
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.events().isEmpty());
        assertTrue(childrenB.events().isEmpty());
        assertTrue(engineA.ikeSas().isEmpty());
        assertTrue(engineB.ikeSas().isEmpty());
    }

    @Test
    void noCommonProposalIsRefused() {
        configure(List.of("aes128gcm16-prfsha256-x25519"), List.of("aes256-sha512-modp2048"),
                List.of("aes128gcm16"), List.of("aes128gcm16"));
        //   SA(aes128gcm16...) KE No  -->
        //                             <--  N(NO_PROPOSAL_CHOSEN)
        IkeSa sa = initiate();
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertEquals(2, network.delivered);
    }

    @Test
    void theResponderNarrowsTrafficSelectors() {
        engineA.addConnection(connection(A, B, "192.168.0.0/16", "10.0.0.0/8", PSK,
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        engineB.addConnection(connection(B, A, "10.20.0.0/16", "192.168.10.0/24", PSK,
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        initiate();
        ChildSaDescription a = childrenA.current().getFirst();
        assertEquals("[192.168.10.0/24]", a.localSelectors().toString());
        assertEquals("[10.20.0.0/16]", a.remoteSelectors().toString());
        assertChildSasPair();
    }

    @Test
    void disjointSelectorsLeaveTheIkeSaUpWithoutAChild() {
        engineA.addConnection(connection(A, B, "192.168.10.0/24", "192.168.20.0/24", PSK,
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        engineB.addConnection(connection(B, A, "172.16.0.0/24", "192.168.10.0/24", PSK,
                List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16")));
        //   IKE_AUTH SK{... TSi TSr}  -->
        //                             <--  SK{IDr AUTH N(TS_UNACCEPTABLE)}
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertTrue(childrenB.current().isEmpty());
    }

    @Test
    void lostMessagesAreRetransmittedAndDuplicatesAnsweredFromTheCache() {
        configure(List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16-prfsha256-x25519"),
                List.of("aes128gcm16"), List.of("aes128gcm16"));
        // Lose B's first IKE_AUTH response: A sends the same request again after 4 s, B answers
        // from its cache (it must not process the request twice).
        //   IKE_SA_INIT -->  <-- IKE_SA_INIT
        //   IKE_AUTH    -->  <-- IKE_AUTH (lost)
        //   ... 4 s ...
        //   IKE_AUTH (same bytes) -->  <-- IKE_AUTH (cached)
        int[] authResponses = {0};
        network.dropWhen(d -> {
            try {
                var m = IkeMessage.decode(d.bytes(), 0, d.bytes().length);
                return m.header().exchangeType() == ExchangeType.IKE_AUTH && m.header().isResponse() && authResponses[0]++ == 0;
            } catch (Exception e) {
                return false;
            }
        });
        IkeSa sa = initiate();
        assertEquals(IkeSaState.CONNECTING, sa.state());
        clock.advance(Duration.ofSeconds(4));
        network.deliverAll(clock);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(1, childrenB.events().size(), "the responder installed one child SA, not two");
        assertChildSasPair();
    }

    @Test
    void aSilentPeerIsDeclaredDeadAndItsSasRemoved() {
        configure(List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16-prfsha256-x25519"),
                List.of("aes128gcm16"), List.of("aes128gcm16"));
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        network.dropWhen(d -> true);
        // DPD after 15 s idle, then retransmissions at 4, 7.2, 13, 23.3, 42 s: gone within two minutes.
        for (int s = 0; s < 120; s++) {
            clock.advance(Duration.ofSeconds(1));
            network.deliverAll(clock);
        }
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertEquals(2, childrenA.events().size(), "installed, then deleted");
    }

    @Test
    void deletingTheIkeSaRemovesItOnBothEnds() {
        configure(List.of("aes128gcm16-prfsha256-x25519"), List.of("aes128gcm16-prfsha256-x25519"),
                List.of("aes128gcm16"), List.of("aes128gcm16"));
        IkeSa sa = initiate();
        //   INFORMATIONAL SK{D(IKE)}  -->
        //                             <--  SK{}
        sa.delete();
        network.deliverAll(clock);
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(childrenA.current().isEmpty());
        assertTrue(childrenB.current().isEmpty());
        assertTrue(engineA.ikeSas().isEmpty());
        assertTrue(engineB.ikeSas().isEmpty());
    }
}
