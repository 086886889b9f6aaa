package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
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
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("b", Pem.certificate(certs.resolve("b.pem")));
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
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(to.getAddress(), to.getPort());
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setSoTimeout((int) Node.PATIENCE.toMillis());
        return s;
    }
}
