package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.engine.IkeEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * Isthmus on real sockets against a real strongSwan 5.9.8 charon in a network namespace (see
 * {@link StrongSwanPeer}). Isthmus is 10.91.N.1 (site 192.168.10.0/24), strongSwan 10.91.N.2 (N chosen per run)
 * (site 192.168.20.0/24). Every check looks at both ends: our SAs, {@code swanctl --list-sas},
 * and the keys charon logged at {@code ike = 4, chd = 4}.
 */
abstract class StrongSwanHarness {
    /** A /24 of 10.91/16 no address of this host is in, so two test runs on one machine do not meet. */
    static final int SUBNET = StrongSwanPeer.freeSubnet();
    static final String HOST = "10.91." + SUBNET + ".1";
    static final String PEER = "10.91." + SUBNET + ".2";
    static final String HOST6 = "fd91:" + SUBNET + "::1";
    static final String PEER6 = "fd91:" + SUBNET + "::2";
    static final String PSK = "a shared secret that is long enough";

    StrongSwanPeer peer;
    Swan swan;
    UdpTransport transport;
    IkeEngine engine;
    final InMemoryChildSaListener children = new InMemoryChildSaListener();

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

    /** strongSwan's side of the connection, in swanctl.conf words. */
    static final class Swan {
        String ike = "aes128gcm16-prfsha256-x25519";
        String esp = "aes128gcm16";
        String local = "auth = psk\n id = " + PEER;
        String remote = "auth = psk\n id = " + HOST;
        String connection = "";
        String child = "";
        String secrets = "ike-1 { secret = \"" + PSK + "\" }";
        String authorities = "";
        String charon = "";
        String localAddress = PEER;
        String remoteAddress = HOST;
        String localTs = "192.168.20.0/24";
        String remoteTs = "192.168.10.0/24";

        Swan proposals(String ikeProposal, String espProposal) {
            this.ike = ikeProposal;
            this.esp = espProposal;
            return this;
        }

        String conf() {
            return """
                    connections { isthmus {
                      local_addrs = %s
                      remote_addrs = %s
                      version = 2
                      proposals = %s
                      %s
                      local { %s }
                      remote { %s }
                      children { net {
                          local_ts = %s
                          remote_ts = %s
                          esp_proposals = %s
                          mode = tunnel
                          %s } } } }
                    secrets { %s }
                    authorities { %s }
                    """.formatted(localAddress, remoteAddress, ike, connection, local, remote, localTs, remoteTs, esp, child, secrets,
                    authorities);
        }
    }

    /** Isthmus's side: PSK, the same proposals strongSwan has. */
    static Connection.Builder isthmus(Swan swan) throws IOException {
        return Connection.builder("site").local(InetAddress.getByName(swan.remoteAddress), null)
                .remote(InetAddress.getByName(swan.localAddress), Identity.parse(swan.localAddress))
                .preSharedKey(PSK.getBytes()).ike(swan.ike).esp(swan.esp).localTs(swan.remoteTs).remoteTs(swan.localTs);
    }

    void start(Swan swan, Connection ours) throws Exception {
        this.swan = swan;
        String hostCidr = swan.remoteAddress + (swan.remoteAddress.contains(":") ? "/64" : "/24");
        String peerCidr = swan.localAddress + (swan.localAddress.contains(":") ? "/64" : "/24");
        String site = swan.localTs.contains(":") ? "fd20::1/64" : "192.168.20.1/24";
        peer = StrongSwanPeer.prepare();
        Files.writeString(peer.dir.resolve("charon-extra.conf"), swan.charon);
        peer.start(hostCidr, peerCidr, site, swan.conf());
        InetAddress host = InetAddress.getByName(swan.remoteAddress);
        transport = UdpTransport.bind(List.of(host), IkeEngine.IKE_PORT, IkeEngine.NAT_T_PORT);
        engine = new IkeEngine(transport, transport, children);
        transport.attach(engine);
        onLoop(() -> {
            engine.addConnection(ours);
            return null;
        });
    }

    void start(Swan swan) throws Exception {
        start(swan, isthmus(swan).build());
    }

    IkeSa initiate() throws Exception {
        InetAddress local = InetAddress.getByName(swan.remoteAddress);
        InetAddress remote = InetAddress.getByName(swan.localAddress);
        return onLoop(() -> engine.initiate("site", new InetSocketAddress(local, 500), new InetSocketAddress(remote, 500)));
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

    /** Like {@link #await} for a condition that asks swanctl. */
    void awaitSwanctl(String what, Duration limit, java.util.function.Predicate<String> listSas) throws InterruptedException {
        await(what, limit, () -> {
            try {
                return listSas.test(peer.swanctl("--list-sas"));
            } catch (IOException e) {
                return false;
            }
        });
    }

    IkeSa ourIkeSa() throws Exception {
        return onLoop(() -> engine.ikeSas().stream().filter(s -> s.state() == IkeSaState.ESTABLISHED).findFirst().orElse(null));
    }

    List<ChildSa> ourChildren() throws Exception {
        return onLoop(() -> engine.ikeSas().stream().flatMap(s -> s.children().stream()).toList());
    }

    /**
     * Both ends hold this one child SA: swanctl lists it with crossed SPIs, and its keys are the
     * ones charon derived last (the exchange's initiator's direction first, as charon logs them).
     */
    void assertChildMatches(ChildSa child) throws Exception {
        ChildSaDescription d = child.description;
        HexFormat hex = HexFormat.of();
        String sas = peer.swanctl("--list-sas");
        assertTrue(sas.contains("INSTALLED"), sas);
        assertTrue(sas.contains("in  " + hex.toHexDigits(d.outbound().spi())), "strongSwan's inbound SPI is our outbound:\n" + sas);
        assertTrue(sas.contains("out " + hex.toHexDigits(d.inbound().spi())), "strongSwan's outbound SPI is our inbound:\n" + sas);
        ChildSaKeys keys = children.keys(d);
        var initiatorToResponder = child.createdAsInitiator ? keys.outbound() : keys.inbound();
        var responderToInitiator = child.createdAsInitiator ? keys.inbound() : keys.outbound();
        assertArrayEquals(peer.loggedKey("encryption initiator key"), initiatorToResponder.encryptionKey(), "ESP i->r key");
        assertArrayEquals(peer.loggedKey("encryption responder key"), responderToInitiator.encryptionKey(), "ESP r->i key");
        if (d.inbound().suite().integrity() != IntegrityAlgorithm.NONE) {
            assertArrayEquals(peer.loggedKey("integrity initiator key"), initiatorToResponder.integrityKey(), "ESP i->r integrity key");
            assertArrayEquals(peer.loggedKey("integrity responder key"), responderToInitiator.integrityKey(), "ESP r->i integrity key");
        }
    }

    /** Our IKE SA is the one swanctl lists, with the keys charon derived last. */
    void assertIkeSaMatches(IkeSa sa) throws Exception {
        HexFormat hex = HexFormat.of();
        String sas = peer.swanctl("--list-sas");
        assertTrue(sas.contains("ESTABLISHED"), sas);
        assertTrue(sas.contains(hex.toHexDigits(sa.initiatorSpi()) + "_i") && sas.contains(hex.toHexDigits(sa.responderSpi()) + "_r"),
                "swanctl lists our IKE SA's SPIs:\n" + sas);
        var keys = onLoop(sa::keys);
        assertArrayEquals(peer.loggedKey("Sk_d secret"), keys.skD(), "SK_d");
        assertArrayEquals(peer.loggedKey("Sk_ei secret"), keys.skEi(), "SK_ei");
        assertArrayEquals(peer.loggedKey("Sk_er secret"), keys.skEr(), "SK_er");
        assertArrayEquals(peer.loggedKey("Sk_pr secret"), keys.skPr(), "SK_pr");
    }

    /** One IKE SA and one child SA, the same at both ends. */
    void assertEstablishedOnBothEnds() throws Exception {
        await("our child SA", Duration.ofSeconds(15), () -> !children.current().isEmpty());
        IkeSa sa = ourIkeSa();
        assertNotNull(sa);
        assertIkeSaMatches(sa);
        List<ChildSa> ours = ourChildren();
        assertEquals(1, ours.size(), ours.toString());
        assertChildMatches(ours.getFirst());
    }

    /** How many child SAs strongSwan lists as installed. */
    static int installedChildren(String listSas) {
        return listSas.split("INSTALLED", -1).length - 1;
    }
}
