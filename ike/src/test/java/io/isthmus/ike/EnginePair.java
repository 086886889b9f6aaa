package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.isthmus.esp.EspPacket;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import io.isthmus.esp.SaListener;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.IkeMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * Two engines, A (10.0.0.1, site 192.168.10.0/24) and B (10.0.0.2, site 192.168.20.0/24), over an
 * in-memory network with a manual clock: the fixture of the in-process IKE tests.
 */
class EnginePair {
    static final InetAddress A = address("10.0.0.1");
    static final InetAddress B = address("10.0.0.2");
    static final byte[] PSK = "a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII);

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final InMemoryChildSaListener childrenA = new InMemoryChildSaListener();
    final InMemoryChildSaListener childrenB = new InMemoryChildSaListener();
    final IkeEngine engineA;
    final IkeEngine engineB;

    EnginePair() {
        this(new java.security.SecureRandom(), new java.security.SecureRandom());
    }

    /** With each engine's source of randomness (for tests that decide which nonce is lowest). */
    EnginePair(java.util.random.RandomGenerator randomA, java.util.random.RandomGenerator randomB) {
        engineA = new IkeEngine(network.transport(), clock, childrenA, randomA);
        engineB = new IkeEngine(network.transport(), clock, childrenB, randomB);
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

    /** A connection from {@code local} to {@code remote}, PSK, Azure timers, identities = addresses. */
    static Connection.Builder connection(InetAddress local, InetAddress remote, String localNet, String remoteNet, String ike, String esp) {
        return Connection.builder("site").local(local, null).remote(remote, Identity.of(remote)).preSharedKey(PSK)
                .ike(ike).esp(esp).localTs(localNet).remoteTs(remoteNet);
    }

    static Connection.Builder connectionA(String ike, String esp) {
        return connection(A, B, "192.168.10.0/24", "192.168.20.0/24", ike, esp);
    }

    static Connection.Builder connectionB(String ike, String esp) {
        return connection(B, A, "192.168.20.0/24", "192.168.10.0/24", ike, esp);
    }

    void configure(Connection a, Connection b) {
        engineA.addConnection(a);
        engineB.addConnection(b);
    }

    IkeSa initiate() {
        IkeSa sa = engineA.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        return sa;
    }

    void deliver() {
        network.deliverAll(clock);
    }

    /** Lets {@code total} of virtual time pass in one-second steps. */
    void run(Duration total) {
        network.run(clock, total, Duration.ofSeconds(1));
    }

    IkeSa onlyIkeSa(IkeEngine engine) {
        assertEquals(1, engine.ikeSas().size(), "IKE SAs: " + engine.ikeSas());
        return engine.ikeSas().iterator().next();
    }

    /** Both engines hold one IKE SA each, the same one. */
    void assertOneIkeSaPair() {
        IkeSa a = onlyIkeSa(engineA);
        IkeSa b = onlyIkeSa(engineB);
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        assertEquals(IkeSaState.ESTABLISHED, b.state());
        assertEquals(a.initiatorSpi(), b.initiatorSpi());
        assertEquals(a.responderSpi(), b.responderSpi());
        assertNotEquals(a.isInitiator(), b.isInitiator());
        assertArrayEquals(a.keys().skD(), b.keys().skD());
    }

    /** The SAs both ends announced and still hold must be two halves of the same thing, and carry traffic. */
    void assertChildSasPair(int expected) {
        List<ChildSaDescription> as = childrenA.current();
        List<ChildSaDescription> bs = childrenB.current();
        assertEquals(expected, as.size(), "A's child SAs " + as);
        assertEquals(expected, bs.size(), "B's child SAs " + bs);
        for (ChildSaDescription a : as) {
            ChildSaDescription b = bs.stream().filter(x -> x.inbound().spi() == a.outbound().spi()).findFirst()
                    .orElseThrow(() -> new AssertionError("B has no SA matching " + a));
            assertEquals(a.inbound().spi(), b.outbound().spi());
            assertNotEquals(a.inbound().spi(), a.outbound().spi());
            ChildSaKeys ka = childrenA.keys(a);
            ChildSaKeys kb = childrenB.keys(b);
            assertArrayEquals(ka.outbound().encryptionKey(), kb.inbound().encryptionKey());
            assertArrayEquals(ka.inbound().encryptionKey(), kb.outbound().encryptionKey());
            assertArrayEquals(ka.outbound().integrityKey(), kb.inbound().integrityKey());
            assertEquals(a.localSelectors(), b.remoteSelectors());
            assertEquals(a.remoteSelectors(), b.localSelectors());
            assertCarriesTraffic(ka, kb);
            assertCarriesTraffic(kb, ka);
        }
    }

    void assertChildSasPair() {
        assertChildSasPair(1);
    }

    static void assertCarriesTraffic(ChildSaKeys from, ChildSaKeys to) {
        OutboundSa out = new OutboundSa(from.outbound(), SaListener.NONE);
        InboundSa in = new InboundSa(to.inbound(), SaListener.NONE);
        byte[] packet = new byte[out.headerLength() + 100 + out.suite().maxTrailerLength()];
        packet[out.headerLength()] = 0x45;
        int n = out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4);
        assertEquals(100, in.open(packet, 0, n), "ESP with the negotiated keys");
    }

    static IkeMessage decode(byte[] datagram) {
        try {
            return IkeMessage.decode(datagram, 0, datagram.length);
        } catch (io.isthmus.ike.message.IkeProtocolException e) {
            throw new AssertionError(e);
        }
    }

    /** Matches datagrams by their decoded header. */
    static Predicate<InMemoryNetwork.Datagram> message(Predicate<IkeMessage> test) {
        return d -> {
            try {
                return test.test(IkeMessage.decode(d.bytes(), 0, d.bytes().length));
            } catch (Exception e) {
                return false;
            }
        };
    }
}
