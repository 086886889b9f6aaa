package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client against small servers in this JVM that answer, stay silent, or forge. */
class RadiusClientTest {
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    final List<AutoCloseable> closing = new ArrayList<>();
    final RadiusCounters counters = new RadiusCounters();

    /** A server on loopback: {@code answer} turns a request into answer datagrams (none: silence). */
    final class FakeServer implements AutoCloseable {
        final DatagramSocket socket = new DatagramSocket(0, LOOPBACK);
        final RadiusSecret secret;
        final List<RadiusPacket> requests = new CopyOnWriteArrayList<>();
        final Thread thread;

        FakeServer(String secret, BiFunction<RadiusPacket, byte[], List<byte[]>> answer) throws SocketException {
            this.secret = new RadiusSecret(secret.getBytes(StandardCharsets.US_ASCII));
            thread = Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[5000];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        socket.receive(p);
                        byte[] data = Arrays.copyOf(p.getData(), p.getLength());
                        RadiusPacket request = RadiusPacket.decode(data, data.length);
                        requests.add(request);
                        for (byte[] out : answer.apply(request, data)) {
                            socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                        }
                    } catch (Exception e) {
                        // closed
                    }
                }
            });
            closing.add(this);
        }

        RadiusServer server(int score) {
            return new RadiusServer(new InetSocketAddress(LOOPBACK, socket.getLocalPort()), secret, score);
        }

        byte[] answer(RadiusPacket request, int code, List<RadiusPacket.Attribute> attributes) {
            return secret.signAnswer(new RadiusPacket(code, request.identifier(), new byte[16], attributes), request.authenticator());
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    RadiusClient client(List<RadiusServer> servers, int tries) throws Exception {
        RadiusClient c = RadiusClient.open(servers, new InetSocketAddress(LOOPBACK, 0), Duration.ofMillis(300), tries, counters);
        closing.add(c);
        return c;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    static RadiusAnswer await(java.util.concurrent.CompletableFuture<RadiusAnswer> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    @Test
    void challengeCarriesEapAndStateAndAcceptCarriesTheMskAndAddress() throws Exception {
        byte[] bigEap = new byte[700];
        Arrays.fill(bigEap, (byte) 7);
        FakeServer s = new FakeServer("s3cret", (req, raw) -> {
            boolean second = req.first(RadiusPacket.STATE).isPresent();
            if (!second) {
                List<RadiusPacket.Attribute> attrs = new ArrayList<>(RadiusPacket.split(RadiusPacket.EAP_MESSAGE, bigEap));
                attrs.add(new RadiusPacket.Attribute(RadiusPacket.STATE, "st-1".getBytes()));
                return List.of(signed(req, RadiusPacket.ACCESS_CHALLENGE, attrs));
            }
            return List.of(signed(req, RadiusPacket.ACCESS_ACCEPT, List.of(
                    new RadiusPacket.Attribute(RadiusPacket.EAP_MESSAGE, new byte[] {3, 1, 0, 4}),
                    new RadiusPacket.Attribute(RadiusPacket.FRAMED_IP_ADDRESS, new byte[] {10, 9, 0, 7}),
                    RadiusSecretTest.vsa(RadiusSecret.MS_MPPE_RECV_KEY, secretOf("s3cret").encryptMppeKey(new byte[32], req.authenticator(), new byte[] {(byte) 0x80, 1})),
                    RadiusSecretTest.vsa(RadiusSecret.MS_MPPE_SEND_KEY, secretOf("s3cret").encryptMppeKey(filled(32, 9), req.authenticator(), new byte[] {(byte) 0x80, 2})))));
        });
        RadiusClient c = client(List.of(s.server(5)), 3);
        RadiusAnswer first = await(c.accessRequest(List.of(new RadiusPacket.Attribute(RadiusPacket.USER_NAME, "alice".getBytes())), Optional.empty()));
        assertEquals(RadiusAnswer.Outcome.CHALLENGE, first.outcome());
        assertArrayEquals(bigEap, first.eapMessage());
        assertArrayEquals("st-1".getBytes(), first.state().orElseThrow());
        RadiusAnswer second = await(c.accessRequest(List.of(new RadiusPacket.Attribute(RadiusPacket.STATE, first.state().get())), Optional.of(first.server())));
        assertEquals(RadiusAnswer.Outcome.ACCEPT, second.outcome());
        assertEquals("10.9.0.7", second.framedIpAddress().orElseThrow().getHostAddress());
        byte[] msk = second.msk().orElseThrow();
        assertArrayEquals(new byte[32], Arrays.copyOf(msk, 32));
        assertArrayEquals(filled(32, 9), Arrays.copyOfRange(msk, 32, 64));
        // Every request carried a Message-Authenticator the server can verify.
        for (RadiusPacket r : s.requests) {
            assertEquals(16, r.first(RadiusPacket.MESSAGE_AUTHENTICATOR).orElseThrow().length);
        }
        assertEquals(1, counters.challenges.get());
        assertEquals(1, counters.accepts.get());
    }

    @Test
    void forgedAnswersAreDroppedAndTheRealOneStillAccepted() throws Exception {
        FakeServer s = new FakeServer("s3cret", (req, raw) -> {
            RadiusSecret wrong = secretOf("guess");
            byte[] wrongSecret = wrong.signAnswer(new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, req.identifier(), new byte[16], List.of()), req.authenticator());
            byte[] wrongId = signed(new RadiusPacket(1, (req.identifier() + 1) & 0xFF, req.authenticator(), List.of()), RadiusPacket.ACCESS_ACCEPT, List.of());
            byte[] truncated = Arrays.copyOf(signed(req, RadiusPacket.ACCESS_ACCEPT, List.of()), 19);
            byte[] oversized = new byte[4500];
            oversized[1] = (byte) req.identifier();
            byte[] badCode = signed(req, 4, List.of());
            return List.of(wrongSecret, wrongId, truncated, oversized, badCode, signed(req, RadiusPacket.ACCESS_REJECT, List.of()));
        });
        RadiusClient c = client(List.of(s.server(5)), 1);
        RadiusAnswer a = await(c.accessRequest(List.of(), Optional.empty()));
        assertEquals(RadiusAnswer.Outcome.REJECT, a.outcome());
        assertEquals(1, counters.badAuthenticator.get());
        assertEquals(1, counters.unexpected.get());
        assertEquals(2, counters.malformed.get());
        assertEquals(1, counters.badCode.get());
        assertEquals(1, counters.rejects.get());
    }

    @Test
    void retransmitsThenFailsOverByScoreAndRemembersTheDeadServer() throws Exception {
        AtomicInteger silentSaw = new AtomicInteger();
        FakeServer silent = new FakeServer("one", (req, raw) -> {
            silentSaw.incrementAndGet();
            return List.of();
        });
        FakeServer backup = new FakeServer("two", (req, raw) -> List.of(signed2(req)));
        FakeServer low = new FakeServer("three", (req, raw) -> List.of());
        RadiusClient c = client(List.of(low.server(1), backup.server(10), silent.server(20)), 3);
        RadiusAnswer a = await(c.accessRequest(List.of(), Optional.empty()));
        assertEquals(RadiusAnswer.Outcome.ACCEPT, a.outcome());
        assertEquals(backup.socket.getLocalPort(), a.server().address().getPort());
        assertEquals(3, silentSaw.get());
        assertEquals(2, counters.retransmissions.get());
        assertEquals(1, counters.serverTimeouts.get());
        assertTrue(low.requests.isEmpty());
        // The next request goes straight to the backup: the silent one is marked down.
        await(c.accessRequest(List.of(), Optional.empty()));
        assertEquals(3, silentSaw.get());
        assertEquals(2, backup.requests.size());
    }

    @Test
    void noServerAnsweringIsUnreachableAndAConversationStaysWithItsServer() throws Exception {
        FakeServer a = new FakeServer("one", (req, raw) -> List.of());
        FakeServer b = new FakeServer("two", (req, raw) -> List.of(signed2(req)));
        RadiusClient c = client(List.of(a.server(20), b.server(10)), 2);
        // Bound to a: b (which would answer) is not asked.
        assertEquals(RadiusAnswer.Outcome.UNREACHABLE, await(c.accessRequest(List.of(), Optional.of(a.server(20)))).outcome());
        assertTrue(b.requests.isEmpty());
        assertEquals(1, counters.unreachable.get());
        b.close();
        assertEquals(RadiusAnswer.Outcome.UNREACHABLE, await(c.accessRequest(List.of(), Optional.empty())).outcome());
    }

    @Test
    void aFloodOfForgeriesDoesNotStopTheAnswer() throws Exception {
        FakeServer s = new FakeServer("s3cret", (req, raw) -> {
            List<byte[]> out = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                byte[] junk = signed(req, RadiusPacket.ACCESS_ACCEPT, List.of());
                junk[20 + (i % 4)] ^= (byte) (1 + i); // a byte of the authenticator or Message-Authenticator header wrong
                junk[4 + (i % 16)] ^= 1;
                out.add(junk);
            }
            out.add(signed(req, RadiusPacket.ACCESS_ACCEPT, List.of()));
            return out;
        });
        RadiusClient c = client(List.of(s.server(5)), 3);
        assertEquals(RadiusAnswer.Outcome.ACCEPT, await(c.accessRequest(List.of(), Optional.empty())).outcome());
        assertEquals(1, counters.accepts.get());
        assertTrue(counters.badAuthenticator.get() + counters.malformed.get() > 0);
    }

    byte[] signed(RadiusPacket req, int code, List<RadiusPacket.Attribute> attrs) {
        return secretOf("s3cret").signAnswer(new RadiusPacket(code, req.identifier(), new byte[16], attrs), req.authenticator());
    }

    static byte[] signed2(RadiusPacket req) {
        return secretOf("two").signAnswer(new RadiusPacket(RadiusPacket.ACCESS_ACCEPT, req.identifier(), new byte[16], List.of()), req.authenticator());
    }

    static RadiusSecret secretOf(String s) {
        return new RadiusSecret(s.getBytes(StandardCharsets.US_ASCII));
    }

    static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
