package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Pem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import io.isthmus.control.log.CapturedLines;
import io.isthmus.control.log.LineFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What reaches the listener that is not its partner speaking the protocol: plain TCP garbage, TLS
 * without a certificate, the partner's own key sending an oversize length prefix, a partner that
 * says HELLO and then nothing. Each closes that one connection; the real link carries on.
 */
class HostileInputTest {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;
    private Nodes nodes;

    @BeforeAll
    static void certificates() throws Exception {
        Nodes.certificates(certs, "a", "b");
    }

    @BeforeEach
    void nodes() {
        nodes = new Nodes(certs, dir);
    }

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    @Test
    void plainTcpGarbageIsRefusedAndTheLinkCarriesOn() throws Exception {
        Node[] p = nodes.connectedPair();
        Node b = p[1];
        try (Socket s = new Socket()) {
            s.connect(b.link.localAddress());
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10).getBytes());
            s.getOutputStream().flush();
            assertClosed(s.getInputStream());
        }
        b.await("the refusal", () -> b.link.status().refusedHandshakes() == 1);
        assertStillWorking(p[0], b);
    }

    @Test
    void tlsWithoutACertificateIsRefused() throws Exception {
        Node[] p = nodes.connectedPair();
        Node b = p[1];
        try (SSLSocket s = tlsClient(b.link.localAddress(), null)) {
            try {
                s.startHandshake();
                s.getOutputStream().write(new byte[] {0, 0, 0, 1, FrameCodec.HEARTBEAT});
                s.getOutputStream().flush();
            } catch (IOException expected) {
                // TLS 1.3: the server's verdict on the client certificate may come after the client finished.
            }
            assertClosed(s.getInputStream());
        }
        b.await("the refusal", () -> b.link.status().refusedHandshakes() == 1);
        assertStillWorking(p[0], b);
    }

    @Test
    void anOversizeLengthPrefixClosesThatConnection() throws Exception {
        Node[] p = nodes.connectedPair();
        Node b = p[1];
        try (SSLSocket s = tlsClient(b.link.localAddress(), "a")) {
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            // 2 GiB announced, far over the 1 MiB limit: refused before anything is buffered.
            out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3});
            out.flush();
            assertClosed(s.getInputStream());
        }
        assertStillWorking(p[0], b);
        assertEquals(0, b.count("disconnected"));
    }

    @Test
    void aPartnerThatFallsSilentIsDisconnected() throws Exception {
        Node b = nodes.start(Node.settings("b", "a", certs, dir, Node.unusedPort()));
        try (SSLSocket s = tlsClient(b.link.localAddress(), "a")) {
            s.startHandshake();
            ByteBuf hello = FrameCodec.encode(ByteBufAllocator.DEFAULT, new Frame.Hello(FrameCodec.VERSION, "a", Map.of()));
            byte[] bytes = new byte[hello.readableBytes()];
            hello.readBytes(bytes);
            hello.release();
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            b.await("connected", () -> b.events.contains("connected"));
            // Nothing more from this side, not even heartbeats: b gives up after the missed ones.
            assertClosed(s.getInputStream());
        }
        b.await("disconnected", () -> b.events.contains("disconnected"));
    }

    @Test
    void anUpdateLargerThanAFrameIsRefusedToTheCaller() throws Exception {
        Node[] p = nodes.connectedPair();
        Node a = p[0];
        a.call(() -> a.link.takeOver("ga"));
        byte[] huge = new byte[SyncSettings.MAX_FRAME_BYTES];
        Exception e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> a.call(() -> a.link.put("ga", Node.KIND, new byte[] {1}, huge)));
        assertTrue(e.getCause() instanceof IllegalArgumentException, e.toString());
        // The refused update took no sequence number: the next one is acknowledged as usual.
        assertStillWorking(a, p[1]);
    }

    /**
     * A partner that completes TLS and HELLO, keeps sending heartbeats (so it is not silent) and
     * reads nothing: b puts updates until more than the bound waits unsent for it, then closes the
     * connection, counts and logs it, and releases what waited for an acknowledgement (a held IKE
     * datagram goes out) as when the link goes down. The real a then connects and b's full sync
     * brings it level: the last value of every key, nothing of the dropped backlog in between.
     */
    @Test
    void aPartnerThatStopsReadingIsClosedAndTheNextConnectionBringsItLevel() throws Exception {
        int bound = 256 * 1024;
        // The raw partner never acknowledges: its deadline is put out of reach, this is about the unsent bound.
        Node b = nodes.start(Node.settings("b", "a", certs, dir, Node.unusedPort()),
                SyncBounds.DEFAULT.withMaxUnsentBytes(bound).withAckDeadline(Node.PATIENCE.multipliedBy(10)));
        b.call(() -> b.link.takeOver("gb"));
        List<byte[]> wire = new CopyOnWriteArrayList<>();
        Published published = new Published(b.link);
        HeldTransport held = b.call(() -> new HeldTransport((d, local, remote) -> wire.add(d), published, x -> true));
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, false);
             SSLSocket s = tlsClient(b.link.localAddress(), "a", 4096)) {
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            out.write(encoded(new Frame.Hello(FrameCodec.VERSION, "a", Map.of())));
            out.flush();
            heartbeats(beats, out);
            b.await("connected", () -> b.events.contains("connected"));

            // Round after round of the same 100 keys, 1 KiB each: b's own state stays 100 entries, its last values known.
            AtomicReference<Long> firstSequence = new AtomicReference<>();
            long deadline = System.nanoTime() + Node.PATIENCE.toNanos();
            int round = 0;
            while (b.link.status().slowPartnerCloses() == 0) {
                // The kernel's socket buffers take some before anything waits in b: a few MB, far below 500 rounds (50 MB).
                assertTrue(System.nanoTime() < deadline && round < 500, "no close for a partner that reads nothing after " + round
                        + " rounds");
                String value = Integer.toString(round++) + "-" + "x".repeat(1024);
                b.call(() -> {
                    for (int i = 0; i < 100; i++) {
                        b.own.computeIfAbsent("gb", g -> new ConcurrentHashMap<>()).put("k" + i, value);
                        long seq = published.put("gb", Node.KIND, Node.bytes("k" + i), Node.bytes(value));
                        firstSequence.compareAndSet(null, seq);
                    }
                    return null;
                });
                if (round == 1) {
                    // An IKE answer after the state it shows: held until the partner acknowledges, which it never does.
                    b.call(() -> {
                        held.send(new byte[] {42}, new InetSocketAddress("10.77.0.101", 500), new InetSocketAddress("10.77.0.2", 500));
                        return null;
                    });
                    assertEquals(1, b.call(held::waiting));
                    assertEquals(List.of(), wire);
                }
            }
            System.out.println("slow partner: closed after " + round + " rounds of 100 puts of 1 KiB, bound " + bound + " octets");
            b.await("disconnected", () -> b.events.contains("disconnected"));
            b.await("the held datagram released", () -> wire.size() == 1);
            assertEquals(0, b.call(held::waiting));
            assertFalse(b.link.acknowledged(firstSequence.get()), "released, not acknowledged");
            assertFalse(b.link.connected());
            assertEquals(1, b.link.status().slowPartnerCloses());
            long lines = log.events().stream().map(e -> e.getFormattedMessage())
                    .filter(m -> m.startsWith("sync link from a") && m.contains("fell behind") && m.contains("more than " + bound + " octets wait unsent")).count();
            assertEquals(1, lines, log.all());
            // The partner reads again: what the kernel still held, then the end (b closed beneath TLS: no close_notify).
            s.setSoTimeout((int) Node.PATIENCE.toMillis());
            assertEndsWithin(s.getInputStream());
        } finally {
            beats.shutdownNow();
        }

        // The partner itself comes back: the full sync carries the last value of each key and nothing else.
        Node a = nodes.startA(b);
        a.await("b's full sync", () -> a.events.contains("end [gb]"));
        Set<String> expected = new java.util.TreeSet<>();
        b.own.get("gb").forEach((k, v) -> expected.add(k + "=" + v));
        assertEquals(100, expected.size());
        assertEquals(expected, a.replicaOf("gb"));
        assertEquals(1, b.link.status().reconnects());
        long probe = b.put("gb", "probe", "1");
        CountDownLatch acked = new CountDownLatch(1);
        b.call(() -> {
            b.link.whenAcked(probe, acked::countDown);
            return null;
        });
        b.await("the probe acknowledged", () -> acked.getCount() == 0);
        assertTrue(b.link.acknowledged(probe));
        assertTrue(a.events.contains("put gb probe=1"), a.events.toString());
        assertEquals(1, b.link.status().slowPartnerCloses(), "a partner that keeps up is not closed");
    }

    /**
     * The same from the dialer's side: a posing as the listener b answers TLS and HELLO, sends
     * heartbeats and reads nothing; a closes the connection when the bound is reached, counts it,
     * and dials again.
     */
    @Test
    void aListenerThatStopsReadingIsClosedByTheDialer() throws Exception {
        int bound = 256 * 1024;
        SSLServerSocket server = (SSLServerSocket) context("b", "a").getServerSocketFactory().createServerSocket();
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
        try (server) {
            server.setReceiveBufferSize(4096);
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            server.setNeedClientAuth(true);
            server.setEnabledProtocols(new String[] {"TLSv1.3"});
            server.setSoTimeout((int) Node.PATIENCE.toMillis());
            Node a = nodes.start(Node.settings("a", "b", certs, dir, (InetSocketAddress) server.getLocalSocketAddress()),
                    SyncBounds.DEFAULT.withMaxUnsentBytes(bound).withAckDeadline(Node.PATIENCE.multipliedBy(10)));
            a.call(() -> a.link.takeOver("ga"));
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.startHandshake();
                OutputStream out = s.getOutputStream();
                out.write(encoded(new Frame.Hello(FrameCodec.VERSION, "b", Map.of())));
                out.flush();
                heartbeats(beats, out);
                a.await("connected", () -> a.events.contains("connected"));
                int round = 0;
                while (a.link.status().slowPartnerCloses() == 0) {
                    assertTrue(round++ < 500, "no close for a listener that reads nothing after " + round + " rounds");
                    a.call(() -> {
                        for (int i = 0; i < 100; i++) {
                            a.link.put("ga", Node.KIND, Node.bytes("k" + i), new byte[1024]);
                        }
                        return null;
                    });
                }
                a.await("disconnected", () -> a.events.contains("disconnected"));
                s.setSoTimeout((int) Node.PATIENCE.toMillis());
                assertEndsWithin(s.getInputStream());
            }
            // a dials again (after its back-off) and is taken this time: the closed connection did not stop the link.
            try (SSLSocket again = (SSLSocket) server.accept()) {
                again.startHandshake();
                assertEquals(1, a.link.status().slowPartnerCloses());
            }
        } finally {
            beats.shutdownNow();
        }
    }

    /**
     * The real partner b reads (its event loop is alive and sends heartbeats) but its daemon
     * hangs in the first put it applies, so it acknowledges nothing. a's IKE answer, held until
     * b acknowledges the state it shows, would wait for ever; past the acknowledgement deadline a
     * closes the connection, counts and logs it, the held datagram goes out unacknowledged, and
     * once b's daemon runs again the next connection's full sync brings b level.
     */
    @Test
    void aPartnerThatReadsButNeverAcknowledgesIsClosedAndTheHeldDatagramGoes() throws Exception {
        // A short deadline, so the test does not wait 2 s; nothing is asserted about how long it took.
        Node b = nodes.startB();
        Node a = nodes.start(Node.settings("a", "b", certs, dir, b.link.localAddress()),
                SyncBounds.DEFAULT.withAckDeadline(java.time.Duration.ofMillis(300)));
        a.await("connected", a.link::connected);
        b.await("connected", b.link::connected);
        a.call(() -> a.link.takeOver("ga"));
        List<byte[]> wire = new CopyOnWriteArrayList<>();
        Published published = new Published(a.link);
        HeldTransport held = a.call(() -> new HeldTransport((d, local, remote) -> wire.add(d), published, x -> true));
        b.putGate = new CountDownLatch(1);
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, false)) {
            long seq = a.call(() -> {
                a.own.computeIfAbsent("ga", g -> new ConcurrentHashMap<>()).put("k", "v1");
                long s = published.put("ga", Node.KIND, Node.bytes("k"), Node.bytes("v1"));
                held.send(new byte[] {42}, new InetSocketAddress("10.77.0.101", 500), new InetSocketAddress("10.77.0.2", 500));
                return s;
            });
            b.putEntered.await();
            // b's daemon is inside put: nothing can have acknowledged the update, the datagram waits.
            assertEquals(1, a.call(held::waiting));
            a.await("the unacknowledged close", () -> a.link.status().unacknowledgedCloses() == 1);
            a.await("disconnected", () -> a.events.contains("disconnected"));
            a.await("the held datagram released", () -> wire.size() == 1);
            assertEquals(0, a.call(held::waiting));
            assertFalse(a.link.acknowledged(seq), "released, not acknowledged");
            assertEquals(0, a.link.status().slowPartnerCloses());
            long lines = log.events().stream().map(e -> e.getFormattedMessage())
                    .filter(m -> m.startsWith("sync link to b") && m.contains("acknowledged nothing for")).count();
            assertEquals(1, lines, log.all());
        }
        // a's state moved on meanwhile; b's daemon runs again and the next connection's full sync carries the last value.
        a.put("ga", "k", "v2");
        b.putGate.countDown();
        a.await("reconnected", () -> a.link.status().reconnects() == 1 && a.link.connected());
        b.await("a's full sync", () -> b.events.lastIndexOf("end [ga]") > b.events.lastIndexOf("connected")
                && b.events.lastIndexOf("connected") > b.events.indexOf("connected"));
        assertEquals(Set.of("k=v2"), b.replicaOf("ga"));
        long probe = a.put("ga", "probe", "1");
        CountDownLatch acked = new CountDownLatch(1);
        a.call(() -> {
            a.link.whenAcked(probe, acked::countDown);
            return null;
        });
        a.await("the probe acknowledged", () -> acked.getCount() == 0);
        assertEquals(1, a.link.status().unacknowledgedCloses(), "a partner that acknowledges is not closed");
    }

    /**
     * An authenticated partner writes PUTs far faster than b's daemon applies them (b's daemon
     * first blocked, then slow): b stops reading above its bound of what waits unapplied and
     * resumes below the low mark, so what it handed over stays under the bound (plus the read
     * under way), while every update is applied in the end, in order, on the one connection.
     */
    @Test
    void aPartnerFloodingPutsIsPacedToTheApplier() throws Exception {
        int max = 64 * 1024;
        int resume = 16 * 1024;
        Node b = nodes.start(Node.settings("b", "a", certs, dir, Node.unusedPort()),
                SyncBounds.DEFAULT.withUnapplied(max, resume));
        // a's deadline out of reach: b's daemon is blocked on purpose here; this is about b's reading.
        Node a = nodes.start(Node.settings("a", "b", certs, dir, b.link.localAddress()),
                SyncBounds.DEFAULT.withAckDeadline(Node.PATIENCE.multipliedBy(10)));
        a.await("connected", a.link::connected);
        b.await("connected", b.link::connected);
        a.call(() -> a.link.takeOver("ga"));
        b.putGate = new CountDownLatch(1);
        int n = 20_000;
        String pad = "x".repeat(100);
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, false)) {
            long last = a.call(() -> {
                long s = 0;
                for (int i = 0; i < n; i++) {
                    s = a.link.put("ga", Node.KIND, Node.bytes("k" + i), Node.bytes(pad + i));
                }
                return s;
            });
            b.await("reading paused", () -> b.link.status().readPauses() >= 1);
            // Some time for a runaway reader to show itself (a's 20,000 puts are about 3 MB, all written at once).
            Thread.sleep(500);
            long waiting = b.link.status().unappliedBytes();
            // One read of the socket (64 KiB at most by Netty's allocator) and a TLS record may come after the stop.
            long slack = 128 * 1024;
            assertTrue(waiting > max && waiting <= max + slack, "unapplied now " + waiting);
            assertTrue(b.link.peakUnappliedBytes() <= max + slack, "peak unapplied " + b.link.peakUnappliedBytes());
            assertEquals(1, b.link.status().readPauses(), "paused once while the daemon applies nothing");

            b.putPauseNanos = 20_000;
            b.putGate.countDown();
            CountDownLatch acked = new CountDownLatch(1);
            a.call(() -> {
                a.link.whenAcked(last, acked::countDown);
                return null;
            });
            a.await("the flood acknowledged", () -> acked.getCount() == 0);
            assertTrue(a.link.acknowledged(last));
            assertTrue(b.link.peakUnappliedBytes() <= max + slack, "peak unapplied " + b.link.peakUnappliedBytes());
            b.await("nothing unapplied", () -> b.link.status().unappliedBytes() == 0);
            List<String> puts = b.puts();
            assertEquals(n, puts.size());
            for (int i = 0; i < n; i++) {
                assertEquals("put ga k" + i + "=" + pad + i, puts.get(i));
            }
            System.out.println("flood: " + n + " puts, reading paused " + b.link.status().readPauses() + " times, peak unapplied "
                    + b.link.peakUnappliedBytes() + " octets (bound " + max + ")");
            assertEquals(0, a.count("disconnected") + b.count("disconnected"));
            assertEquals(0, a.link.status().slowPartnerCloses() + a.link.status().unacknowledgedCloses());
            long lines = log.events().stream().map(e -> e.getFormattedMessage())
                    .filter(m -> m.startsWith("sync link from a") && m.contains("reading paused")).count();
            assertEquals(1, lines, "rate-limited to one line: " + log.all());
        }
    }

    /** Heartbeats every 50 ms on {@code out} until it fails (the far end closed): a partner that is not silent. */
    private static void heartbeats(ScheduledExecutorService beats, OutputStream out) {
        byte[] heartbeat = encoded(new Frame.Heartbeat());
        beats.scheduleAtFixedRate(() -> {
            try {
                out.write(heartbeat);
                out.flush();
            } catch (IOException closed) {
                throw new java.io.UncheckedIOException(closed); // ends the schedule
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
    }

    /** The link as the pair's logic sees it (last sequence number published), on b's daemon thread. */
    private static final class Published implements PairLink {
        private final SyncLink link;
        private long last;

        Published(SyncLink link) {
            this.link = link;
        }

        @Override
        public long put(String group, byte kind, byte[] key, byte[] value) {
            return last = link.put(group, kind, key, value);
        }

        @Override
        public long remove(String group, byte kind, byte[] key) {
            return last = link.remove(group, kind, key);
        }

        @Override
        public long lastPublished() {
            return last;
        }

        @Override
        public void whenAcked(long sequence, Runnable then) {
            link.whenAcked(sequence, then);
        }

        @Override
        public boolean acknowledged(long sequence) {
            return link.acknowledged(sequence);
        }

        @Override
        public boolean connected() {
            return link.connected();
        }
    }

    private static byte[] encoded(Frame frame) {
        ByteBuf buf = FrameCodec.encode(ByteBufAllocator.DEFAULT, frame);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        return bytes;
    }

    /** Reads until the end of the stream or a reset; a read that times out fails (the connection was not closed). */
    private static void assertEndsWithin(InputStream in) {
        byte[] buf = new byte[65536];
        try {
            while (in.read(buf) >= 0) {
                // the backlog the kernel held
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("the connection is still open after " + Node.PATIENCE.toSeconds() + " s", e);
        } catch (IOException closed) {
            // a reset, or TLS's complaint about the missing close_notify: closed
        }
    }

    /** Reads until the far end closes; what the connection delivered before does not matter. */
    private static void assertClosed(InputStream in) {
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {
                // Heartbeats and the HELLO of the listener, until it closes.
            }
        } catch (IOException closed) {
            // A reset or a TLS alert: closed too.
        }
    }

    private static void assertStillWorking(Node a, Node b) throws Exception {
        a.call(() -> a.link.owned().isEmpty() ? a.link.takeOver("probe") : 0L);
        String group = a.link.owned().keySet().iterator().next();
        long seq = a.put(group, "probe", "1");
        CountDownLatch acked = new CountDownLatch(1);
        a.call(() -> {
            a.link.whenAcked(seq, acked::countDown);
            return null;
        });
        a.await("the probe acknowledged", () -> acked.getCount() == 0);
        assertTrue(b.events.contains("put " + group + " probe=1"), b.events.toString());
        assertEquals(0, a.count("disconnected"));
    }

    /** A JDK TLS 1.3 client trusting b's certificate, presenting {@code name}'s (none if null). */
    private static SSLSocket tlsClient(InetSocketAddress to, String name) throws Exception {
        return tlsClient(to, name, 0);
    }

    /** As above, with this socket receive buffer (0: the system's), set before connecting so the window is that small. */
    private static SSLSocket tlsClient(InetSocketAddress to, String name, int receiveBuffer) throws Exception {
        SSLSocket s = (SSLSocket) context(name, "b").getSocketFactory().createSocket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(to, (int) Node.PATIENCE.toMillis());
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setSoTimeout((int) Node.PATIENCE.toMillis());
        return s;
    }

    /** TLS 1.3 presenting {@code name}'s certificate (none if null), trusting {@code trusted}'s. */
    private static SSLContext context(String name, String trusted) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(trusted, Pem.certificate(certs.resolve(trusted + ".pem")));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (name != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry(name, Pem.privateKey(certs.resolve(name + ".key")), new char[0],
                    new Certificate[] {Pem.certificate(certs.resolve(name + ".pem"))});
            kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(keys, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
