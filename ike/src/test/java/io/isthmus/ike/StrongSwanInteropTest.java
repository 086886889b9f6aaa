package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.message.TrafficSelector;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Isthmus against a real strongSwan 5.9.8 in a network namespace (see StrongSwanPeer), as
 * initiator and as responder. Every case checks both ends: our IKE SA and child SA, what
 * {@code swanctl --list-sas} shows, and that the child SA keys we derived are the ones charon
 * logged.
 */
class StrongSwanInteropTest {
    static final String HOST = "10.91.0.1";
    static final String PEER = "10.91.0.2";
    static final String PSK = "a shared secret that is long enough";

    private StrongSwanPeer peer;
    private UdpTransport transport;
    private IkeEngine engine;
    private final InMemoryChildSaListener children = new InMemoryChildSaListener();

    @BeforeAll
    static void requireRootAndStrongSwan() {
        String why = StrongSwanPeer.unavailableReason();
        assertNull(why, why); // fail, never skip: CI has both
    }

    @AfterEach
    void stop() throws IOException {
        if (transport != null) {
            transport.close();
        }
        if (peer != null) {
            peer.close();
        }
    }

    static String swanctlConf(String ike, String esp, String psk, String extra) {
        return """
                connections { isthmus { local_addrs = %s
                  remote_addrs = %s
                  version = 2
                  proposals = %s
                  %s
                  local { auth = psk
                    id = %s }
                  remote { auth = psk
                    id = %s }
                  children { net { local_ts = 192.168.20.0/24
                      remote_ts = 192.168.10.0/24
                      esp_proposals = %s
                      mode = tunnel } } } }
                secrets { ike-1 { secret = "%s" } }
                """.formatted(PEER, HOST, ike, extra, PEER, HOST, esp, psk);
    }

    void startBoth(String ike, String esp, String strongSwanPsk, String strongSwanExtra, Connection.Timers timers) throws Exception {
        peer = StrongSwanPeer.start("isthmus-sw", HOST + "/24", PEER + "/24", "192.168.20.1/24",
                swanctlConf(ike, esp, strongSwanPsk, strongSwanExtra));
        InetAddress host = InetAddress.getByName(HOST);
        transport = UdpTransport.bind(List.of(host), IkeEngine.IKE_PORT, IkeEngine.NAT_T_PORT);
        engine = new IkeEngine(transport, transport, children);
        transport.attach(engine);
        Connection c = new Connection("site", host, InetAddress.getByName(PEER), Identity.parse(HOST), Identity.parse(PEER),
                PSK.getBytes(), List.of(IkeProposal.parse(ike)), List.of(ChildProposal.parse(esp)),
                List.of(TrafficSelector.ofPrefix("192.168.10.0/24")), List.of(TrafficSelector.ofPrefix("192.168.20.0/24")),
                timers, Connection.Mode.DEFAULT);
        onLoop(() -> {
            engine.addConnection(c);
            return null;
        });
    }

    <T> T onLoop(Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        transport.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    IkeSa ourIkeSa() throws Exception {
        return onLoop(() -> engine.ikeSas().stream().findFirst().orElse(null));
    }

    /** Both ends agree: SAs listed by swanctl, SPIs crossed, child keys equal to charon's. */
    void assertEstablishedOnBothEnds(boolean isthmusInitiated) throws Exception {
        await("our child SA", Duration.ofSeconds(10), () -> !children.current().isEmpty());
        IkeSa sa = ourIkeSa();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        ChildSaDescription child = children.current().getFirst();
        String sas = peer.swanctl("--list-sas");
        HexFormat hex = HexFormat.of();
        assertTrue(sas.contains("ESTABLISHED") && sas.contains("INSTALLED"), sas);
        assertTrue(sas.contains("in  " + hex.toHexDigits(child.outbound().spi())), "strongSwan's inbound SPI is our outbound:\n" + sas);
        assertTrue(sas.contains("out " + hex.toHexDigits(child.inbound().spi())), "strongSwan's outbound SPI is our inbound:\n" + sas);

        var initiatorToResponder = isthmusInitiated ? child.outbound() : child.inbound();
        var responderToInitiator = isthmusInitiated ? child.inbound() : child.outbound();
        assertArrayEquals(peer.loggedKey("encryption initiator key"), initiatorToResponder.encryptionKey(), "ESP i->r key");
        assertArrayEquals(peer.loggedKey("encryption responder key"), responderToInitiator.encryptionKey(), "ESP r->i key");
        if (child.inbound().suite().integrity() != IntegrityAlgorithm.NONE) {
            assertArrayEquals(peer.loggedKey("integrity initiator key"), initiatorToResponder.integrityKey(), "ESP i->r integrity key");
            assertArrayEquals(peer.loggedKey("integrity responder key"), responderToInitiator.integrityKey(), "ESP r->i integrity key");
        }
        var keys = onLoop(sa::keys);
        assertArrayEquals(peer.loggedKey("Sk_d secret"), keys.skD(), "SK_d");
        assertArrayEquals(peer.loggedKey("Sk_ei secret"), keys.skEi(), "SK_ei");
        assertArrayEquals(peer.loggedKey("Sk_pr secret"), keys.skPr(), "SK_pr");
    }

    /** The four proposals of the interop matrix: IKE proposal | ESP proposal. */
    @ParameterizedTest(name = "Isthmus initiates {0}")
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519|aes128gcm16", "aes256-sha256-modp2048|aes256-sha256",
            "aes256gcm16-prfsha384-ecp384|aes256gcm16", "chacha20poly1305-prfsha256-x25519|chacha20poly1305"})
    void isthmusInitiates(String proposals) throws Exception {
        String[] p = proposals.split("\\|");
        startBoth(p[0], p[1], PSK, "", Connection.Timers.AZURE);
        onLoop(() -> engine.initiate("site", new InetSocketAddress(HOST, 500), new InetSocketAddress(PEER, 500)));
        assertEstablishedOnBothEnds(true);
    }

    @ParameterizedTest(name = "strongSwan initiates {0}")
    @ValueSource(strings = {"aes128gcm16-prfsha256-x25519|aes128gcm16", "aes256-sha256-modp2048|aes256-sha256",
            "aes256gcm16-prfsha384-ecp384|aes256gcm16", "chacha20poly1305-prfsha256-x25519|chacha20poly1305"})
    void strongSwanInitiates(String proposals) throws Exception {
        String[] p = proposals.split("\\|");
        startBoth(p[0], p[1], PSK, "", Connection.Timers.AZURE);
        String out = peer.swanctl("--initiate", "--child", "net", "--timeout", "10");
        assertTrue(out.contains("initiate completed successfully"), out);
        assertEstablishedOnBothEnds(false);
    }

    @Test
    void aWrongKeyEstablishesNothing() throws Exception {
        startBoth("aes128gcm16-prfsha256-x25519", "aes128gcm16", "not the same secret at all", "", Connection.Timers.AZURE);
        IkeSa sa = onLoop(() -> engine.initiate("site", new InetSocketAddress(HOST, 500), new InetSocketAddress(PEER, 500)));
        await("the IKE SA to fail", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.events().isEmpty());
        assertTrue(peer.log().contains("MAC mismatched") && peer.log().contains("N(AUTH_FAILED)"), "charon refused us too");
        assertTrue(!peer.swanctl("--list-sas").contains("ESTABLISHED"));
    }

    @Test
    void isthmusDeletesAndStrongSwanForgets() throws Exception {
        startBoth("aes128gcm16-prfsha256-x25519", "aes128gcm16", PSK, "", Connection.Timers.AZURE);
        onLoop(() -> engine.initiate("site", new InetSocketAddress(HOST, 500), new InetSocketAddress(PEER, 500)));
        assertEstablishedOnBothEnds(true);
        IkeSa sa = ourIkeSa();
        onLoop(() -> {
            sa.delete();
            return null;
        });
        await("our IKE SA to go", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.current().isEmpty());
        await("strongSwan to drop it", Duration.ofSeconds(10), () -> {
            try {
                return !peer.swanctl("--list-sas").contains("ESTABLISHED");
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void strongSwanDeletesAndIsthmusForgets() throws Exception {
        startBoth("aes256-sha256-modp2048", "aes256-sha256", PSK, "", Connection.Timers.AZURE);
        onLoop(() -> engine.initiate("site", new InetSocketAddress(HOST, 500), new InetSocketAddress(PEER, 500)));
        assertEstablishedOnBothEnds(true);
        IkeSa sa = ourIkeSa();
        peer.swanctl("--terminate", "--ike", "isthmus", "--timeout", "10");
        await("our IKE SA to go", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.current().isEmpty());
        assertEquals(2, children.events().size());
    }

    @Test
    void aKilledStrongSwanIsDetectedAsDead() throws Exception {
        Connection.Timers quick = new Connection.Timers(Duration.ofHours(8), Duration.ofHours(7), 0, Duration.ofMinutes(9), 0.1,
                Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofMillis(500), 3);
        startBoth("aes128gcm16-prfsha256-x25519", "aes128gcm16", PSK, "", quick);
        onLoop(() -> engine.initiate("site", new InetSocketAddress(HOST, 500), new InetSocketAddress(PEER, 500)));
        assertEstablishedOnBothEnds(true);
        IkeSa sa = ourIkeSa();
        peer.kill();
        // Idle 2 s, then a liveness check sent at 0, 0.5, 1.4 s: dead within about 5 s.
        await("dead peer detection", Duration.ofSeconds(15), () -> sa.state() == IkeSaState.DESTROYED);
        assertTrue(children.current().isEmpty());
        assertNotNull(children.events().getLast());
    }
}
