package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.isthmus.ike.EapAuthenticator;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RADIUS client against Debian's FreeRADIUS (package freeradius, deploy/lib/packages.sh),
 * started here with a configuration directory and a port of the test's own: EAP-MSCHAPv2 end to
 * end with the test's peer ({@link EapMschapV2Peer}) relayed through {@link RadiusClient} as the
 * gateway relays it, the MSK from MS-MPPE keys compared with the one the peer derives, a wrong
 * password, an unreachable server, and failover from a dead server to FreeRADIUS.
 */
class FreeRadiusEapTest {
    static final String SECRET = "radius-test-secret";
    static Path dir;
    static Process server;
    static int port;
    static EapTlsPeer.Issued ca;
    static EapTlsPeer.Issued rogue;

    @BeforeAll
    static void startFreeRadius() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/sbin/freeradius"))) {
            fail("FreeRADIUS is not installed: apt-get install freeradius (deploy/lib/packages.sh ISTHMUS_RADIUS_PACKAGES)");
        }
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        dir = Files.createTempDirectory("radius-" + ProcessHandle.current().pid() + "-");
        // EAP-TLS: FreeRADIUS's certificate and the clients' from one CA; a rogue CA FreeRADIUS does not know.
        ca = EapTlsPeer.ca("C=CH, O=Isthmus Test, CN=EAP Root");
        rogue = EapTlsPeer.ca("C=CH, O=Rogue, CN=Rogue Root");
        EapTlsPeer.issue("C=CH, O=Isthmus Test, CN=radius.test", ca, KeyPurposeId.id_kp_serverAuth).write(dir.resolve("server.pem"), dir.resolve("server.key"));
        ca.write(dir.resolve("ca.pem"), dir.resolve("ca.key"));
        Files.writeString(dir.resolve("radiusd.conf"), config(dir, port));
        Files.writeString(dir.resolve("users"), """
                alice Cleartext-Password := "wonderland"
                \tFramed-IP-Address = 10.77.0.9
                bob Cleartext-Password := "builder"
                """);
        server = new ProcessBuilder("/usr/sbin/freeradius", "-X", "-d", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(dir.resolve("log")).contains("Ready to process requests")) {
            if (!server.isAlive() || System.nanoTime() > deadline) {
                fail("FreeRADIUS did not start: " + Files.readString(dir.resolve("log")));
            }
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stopFreeRadius() throws IOException {
        if (server != null) {
            server.destroy();
            try {
                server.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server.destroyForcibly();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static RadiusServer freeRadius(int score) {
        return new RadiusServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                new RadiusSecret(SECRET.getBytes(StandardCharsets.US_ASCII)), score);
    }

    /** The gateway's side of one EAP conversation: each EAP response in an Access-Request, State echoed, the server kept. */
    static RadiusAnswer converse(RadiusClient client, EapMschapV2Peer peer, String user) throws Exception {
        byte[] eap = peer.identity(0);
        Optional<byte[]> state = Optional.empty();
        Optional<RadiusServer> at = Optional.empty();
        for (int round = 0; round < 10; round++) {
            List<RadiusPacket.Attribute> attrs = new ArrayList<>();
            attrs.add(new RadiusPacket.Attribute(RadiusPacket.USER_NAME, user.getBytes(StandardCharsets.UTF_8)));
            attrs.add(new RadiusPacket.Attribute(RadiusPacket.NAS_IDENTIFIER, "isthmus-test".getBytes(StandardCharsets.US_ASCII)));
            attrs.addAll(RadiusPacket.split(RadiusPacket.EAP_MESSAGE, eap));
            state.ifPresent(s -> attrs.add(new RadiusPacket.Attribute(RadiusPacket.STATE, s)));
            RadiusAnswer a = client.accessRequest(attrs, at).get(60, TimeUnit.SECONDS);
            if (a.outcome() != RadiusAnswer.Outcome.CHALLENGE) {
                return a;
            }
            state = a.state();
            at = Optional.of(a.server());
            eap = peer.answer(a.eapMessage());
        }
        throw new AssertionError("no end after 10 rounds");
    }

    @Test
    void eapMschapV2IsAcceptedWithTheMskAndTheFramedAddress() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        try (RadiusClient client = RadiusClient.open(List.of(freeRadius(10)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(2), 3, counters)) {
            EapMschapV2Peer peer = new EapMschapV2Peer("alice", "wonderland");
            RadiusAnswer a = converse(client, peer, "alice");
            assertEquals(RadiusAnswer.Outcome.ACCEPT, a.outcome(), () -> log());
            assertTrue(peer.serverAuthenticated);
            assertEquals(EapMschapV2Peer.EAP_SUCCESS, a.eapMessage()[0]);
            assertEquals("10.77.0.9", a.framedIpAddress().orElseThrow().getHostAddress());
            byte[] msk = a.msk().orElseThrow();
            // MS-MPPE-Recv-Key then -Send-Key, each the RFC 3079 key the peer derives on its own (16 bytes each from FreeRADIUS 3.2).
            assertEquals(32, msk.length);
            assertArrayEquals(peer.serverRecvKey(), Arrays.copyOf(msk, 16), "MS-MPPE-Recv-Key");
            assertArrayEquals(peer.serverSendKey(), Arrays.copyOfRange(msk, 16, 32), "MS-MPPE-Send-Key");
            assertEquals(0, counters.badAuthenticator.get() + counters.malformed.get() + counters.unexpected.get());
        }
    }

    @Test
    void aWrongPasswordIsRejected() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        try (RadiusClient client = RadiusClient.open(List.of(freeRadius(10)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(2), 3, counters)) {
            EapMschapV2Peer peer = new EapMschapV2Peer("bob", "not-the-builder");
            RadiusAnswer a = converse(client, peer, "bob");
            assertEquals(RadiusAnswer.Outcome.REJECT, a.outcome());
            assertTrue(a.msk().isEmpty());
            assertEquals(1, counters.rejects.get());
        }
    }

    @Test
    void aWrongSecretIsNeverAnAnswer() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        RadiusServer wrong = new RadiusServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                new RadiusSecret("not-the-secret".getBytes(StandardCharsets.US_ASCII)), 10);
        try (RadiusClient client = RadiusClient.open(List.of(wrong), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(500), 2, counters)) {
            // FreeRADIUS drops a request whose Message-Authenticator does not verify under its secret: no answer at all.
            RadiusAnswer a = converse(client, new EapMschapV2Peer("alice", "wonderland"), "alice");
            assertEquals(RadiusAnswer.Outcome.UNREACHABLE, a.outcome());
        }
    }

    @Test
    void aDeadServerFailsOverToFreeRadiusAndNoServerIsUnreachable() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        int deadPort;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        RadiusServer dead = new RadiusServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), deadPort),
                new RadiusSecret(SECRET.getBytes(StandardCharsets.US_ASCII)), 30);
        try (RadiusClient client = RadiusClient.open(List.of(dead, freeRadius(5)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(500), 2, counters)) {
            RadiusAnswer a = converse(client, new EapMschapV2Peer("alice", "wonderland"), "alice");
            assertEquals(RadiusAnswer.Outcome.ACCEPT, a.outcome());
            assertEquals(1, counters.serverTimeouts.get());
        }
        try (RadiusClient client = RadiusClient.open(List.of(dead), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(500), 2, counters)) {
            assertEquals(RadiusAnswer.Outcome.UNREACHABLE, converse(client, new EapMschapV2Peer("alice", "wonderland"), "alice").outcome());
        }
    }

    /** The engine's side of the seam: EapAuthenticator steps until success or failure, as IKE_AUTH rounds would carry them. */
    static EapAuthenticator.Step conversation(EapAuthenticator authenticator, EapMschapV2Peer peer, String user) throws Exception {
        try (EapAuthenticator.Conversation c = authenticator.begin(user.getBytes(StandardCharsets.UTF_8))) {
            EapAuthenticator.Step step = c.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
            for (int round = 0; round < 10 && step instanceof EapAuthenticator.Request r; round++) {
                step = c.respond(peer.answer(r.eapMessage())).toCompletableFuture().get(60, TimeUnit.SECONDS);
            }
            return step;
        }
    }

    @Test
    void radiusEapAuthenticatorGivesTheEngineItsSteps() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        try (RadiusClient client = RadiusClient.open(List.of(freeRadius(10)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(2), 3, counters)) {
            RadiusEapAuthenticator authenticator = new RadiusEapAuthenticator(client, "isthmus-test");
            EapMschapV2Peer alice = new EapMschapV2Peer("alice", "wonderland");
            EapAuthenticator.Success ok = assertInstanceOf(EapAuthenticator.Success.class, conversation(authenticator, alice, "alice"));
            assertEquals(EapMschapV2Peer.EAP_SUCCESS, ok.eapMessage()[0]);
            byte[] expected = new byte[32];
            System.arraycopy(alice.serverRecvKey(), 0, expected, 0, 16);
            System.arraycopy(alice.serverSendKey(), 0, expected, 16, 16);
            assertArrayEquals(expected, ok.msk());
            assertEquals("10.77.0.9", ok.address().orElseThrow().getHostAddress());

            EapAuthenticator.Failure refused = assertInstanceOf(EapAuthenticator.Failure.class,
                    conversation(authenticator, new EapMschapV2Peer("bob", "wrong"), "bob"));
            assertEquals(false, refused.unreachable());
            assertEquals(EapMschapV2Peer.EAP_FAILURE, refused.eapMessage().orElseThrow()[0]);
        }
        RadiusServer nobody = new RadiusServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9), new RadiusSecret(new byte[] {1}), 1);
        try (RadiusClient client = RadiusClient.open(List.of(nobody), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofMillis(300), 2, counters)) {
            EapAuthenticator.Failure unreachable = assertInstanceOf(EapAuthenticator.Failure.class,
                    conversation(new RadiusEapAuthenticator(client, "isthmus-test"), new EapMschapV2Peer("alice", "wonderland"), "alice"));
            assertTrue(unreachable.unreachable());
            assertTrue(unreachable.eapMessage().isEmpty());
            assertEquals("asked 127.0.0.1:9", unreachable.why(), "the log says whom it asked");
        }
    }

    /** As {@link #conversation(EapAuthenticator, EapMschapV2Peer, String)} with an EAP-TLS peer. */
    static EapAuthenticator.Step conversation(EapAuthenticator authenticator, EapTlsPeer peer, String user) throws Exception {
        try (EapAuthenticator.Conversation c = authenticator.begin(user.getBytes(StandardCharsets.UTF_8))) {
            EapAuthenticator.Step step = c.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
            for (int round = 0; round < 40 && step instanceof EapAuthenticator.Request r; round++) {
                step = c.respond(peer.answer(r.eapMessage())).toCompletableFuture().get(60, TimeUnit.SECONDS);
            }
            return step;
        }
    }

    /**
     * EAP-TLS end to end through the relay: FreeRADIUS proposes MSCHAPv2 (its default), the peer
     * asks for TLS, the server's flight comes in one EAP message of more than a KB (fragment_size
     * 3000 here) spread over several EAP-Message attributes, the peer's flight goes in 300-byte
     * EAP-TLS fragments each acknowledged; the accept's MS-MPPE keys are the MSK the peer derives.
     */
    @Test
    void eapTlsWithATrustedCertificateIsAcceptedWithTheTlsMsk() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        try (RadiusClient client = RadiusClient.open(List.of(freeRadius(10)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(2), 3, counters)) {
            EapTlsPeer frank = new EapTlsPeer(EapTlsPeer.context(EapTlsPeer.issue("C=CH, O=Isthmus Test, CN=frank", ca, KeyPurposeId.id_kp_clientAuth), ca), 300);
            EapAuthenticator.Step step = conversation(new RadiusEapAuthenticator(client, "isthmus-test"), frank, "frank");
            EapAuthenticator.Success ok = assertInstanceOf(EapAuthenticator.Success.class, step, () -> step + " " + frank.tlsFailure + "\n" + log());
            assertTrue(frank.handshakeFinished);
            assertEquals(3, ok.eapMessage()[0], "EAP-Success");
            assertArrayEquals(frank.msk(), ok.msk(), "MS-MPPE-Recv-Key | MS-MPPE-Send-Key = the TLS MSK");
            assertTrue(frank.largestRequest > 3 * RadiusPacket.MAX_VALUE, "the server's flight spanned several attributes: " + frank.largestRequest);
            assertTrue(frank.requests > 5, "fragments acknowledged: " + frank.requests + " requests");
            assertEquals(0, counters.badAuthenticator.get() + counters.malformed.get() + counters.unexpected.get());
        }
    }

    /** A client certificate from a CA FreeRADIUS does not trust: Access-Reject with an EAP-Failure, not unreachable. */
    @Test
    void eapTlsWithAnUntrustedCertificateIsRejected() throws Exception {
        RadiusCounters counters = new RadiusCounters();
        try (RadiusClient client = RadiusClient.open(List.of(freeRadius(10)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Duration.ofSeconds(2), 3, counters)) {
            EapTlsPeer grace = new EapTlsPeer(EapTlsPeer.context(EapTlsPeer.issue("C=CH, O=Rogue, CN=grace", rogue, KeyPurposeId.id_kp_clientAuth), ca), 1000);
            EapAuthenticator.Step step = conversation(new RadiusEapAuthenticator(client, "isthmus-test"), grace, "grace");
            EapAuthenticator.Failure refused = assertInstanceOf(EapAuthenticator.Failure.class, step, () -> step + "\n" + log());
            assertFalse(refused.unreachable());
            assertEquals(4, refused.eapMessage().orElseThrow()[0], "EAP-Failure");
            assertEquals(1, counters.rejects.get());
        }
    }

    static String log() {
        try {
            String s = Files.readString(dir.resolve("log"));
            return s.substring(Math.max(0, s.length() - 4000));
        } catch (IOException e) {
            return e.toString();
        }
    }

    static String config(Path d, int port) {
        return """
                prefix = /usr
                exec_prefix = /usr
                sysconfdir = /etc
                localstatedir = /var
                sbindir = /usr/sbin
                raddbdir = %1$s
                confdir = %1$s
                modconfdir = %1$s
                logdir = %1$s
                run_dir = %1$s
                db_dir = %1$s
                radacctdir = %1$s
                libdir = /usr/lib/freeradius
                pidfile = %1$s/radiusd.pid
                name = freeradius
                max_request_time = 30
                cleanup_delay = 5
                max_requests = 1024
                hostname_lookups = no
                log {
                  destination = stdout
                }
                security {
                  allow_core_dumps = no
                  max_attributes = 200
                  reject_delay = 0
                  status_server = no
                }
                thread pool {
                  start_servers = 1
                  max_servers = 2
                  min_spare_servers = 1
                  max_spare_servers = 2
                }
                client gateway {
                  ipaddr = 127.0.0.1
                  secret = %3$s
                  require_message_authenticator = yes
                }
                modules {
                  eap {
                    default_eap_type = mschapv2
                    timer_expire = 60
                    max_sessions = 100
                    mschapv2 {
                    }
                    tls-config tls-common {
                      private_key_file = %1$s/server.key
                      certificate_file = %1$s/server.pem
                      ca_file = %1$s/ca.pem
                      cipher_list = "DEFAULT"
                      tls_min_version = "1.2"
                      tls_max_version = "1.2"
                      ecdh_curve = "prime256v1"
                      fragment_size = 3000
                    }
                    tls {
                      tls = tls-common
                    }
                  }
                  mschap {
                  }
                  files {
                    filename = %1$s/users
                  }
                }
                server default {
                  listen {
                    type = auth
                    ipaddr = 127.0.0.1
                    port = %2$d
                  }
                  authorize {
                    files
                    eap {
                      ok = return
                    }
                  }
                  authenticate {
                    eap
                    Auth-Type MS-CHAP {
                      mschap
                    }
                  }
                  post-auth {
                    Post-Auth-Type REJECT {
                      eap
                    }
                  }
                }
                """.formatted(d, port, SECRET);
    }
}
