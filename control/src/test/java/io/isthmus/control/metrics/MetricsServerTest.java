package io.isthmus.control.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.IkeCounters;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * /metrics over HTTP as Prometheus and as a hostile neighbour use it: a scrape, a slow scrape
 * that does not hold up the server, too many scrapes, pipelined requests, a slowloris, idle
 * sockets that would crowd out Prometheus, one address taking every slot, requests with a body
 * or a huge header, a path that is not there, and a port already taken.
 */
class MetricsServerTest {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final MetricsServer.Limits QUICK = new MetricsServer.Limits(4, 8, 2, Duration.ofMillis(500), Duration.ofMillis(500),
            Duration.ofMillis(200));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static PrometheusRegistry registry() {
        PrometheusRegistry r = new PrometheusRegistry();
        r.register(new GatewayMetrics("test", () -> new GatewayMetrics.Scrape(GatewayMetricsTest.status(null), new IkeCounters.ByConnection())));
        return r;
    }

    private HttpResponse<String> get(MetricsServer s, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private CompletableFuture<HttpResponse<String>> getLater(MetricsServer s, String path) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within 5 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void servesTheTextFormat() throws Exception {
        try (MetricsServer s = MetricsServer.start(ANY_PORT, registry())) {
            assertTrue(s.describe().startsWith("http://127.0.0.1:") && s.describe().endsWith("/metrics"), s.describe());
            HttpResponse<String> r = get(s, "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"), r.headers().toString());
            assertTrue(r.body().contains("isthmus_tunnel_ingress_bytes_total{connection="), r.body());
            // OpenMetrics when asked, as a Prometheus server asks.
            HttpResponse<String> om = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics"))
                    .header("Accept", "application/openmetrics-text; version=1.0.0").build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(om.headers().firstValue("content-type").orElse("").startsWith("application/openmetrics-text"), om.headers().toString());
            assertTrue(om.body().endsWith("# EOF\n"), om.body());
            assertEquals(404, get(s, "/secrets").statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    /**
     * A scrape waits for the IKE thread: the server answers others meanwhile, clients that come
     * during it share it (the IKE thread is asked once), more than the limit are turned away at
     * once, and a failed snapshot is a 503 whose reason stays in the log.
     */
    @Test
    void aSlowScrapeIsSharedAndBounded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger asked = new AtomicInteger();
        PrometheusRegistry r = new PrometheusRegistry();
        r.register(new GatewayMetrics("test", () -> {
            asked.incrementAndGet();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("no answer from the IKE thread within 10 s");
        }));
        try (MetricsServer s = MetricsServer.start(ANY_PORT, r, QUICK)) {
            var first = getLater(s, "/metrics");
            var second = getLater(s, "/metrics");
            // Both admitted, not merely connected: a third read before the second would take its place.
            await("both scrapes under way", () -> asked.get() == 1 && s.scrapesUnderWay() == 2);
            HttpResponse<String> third = get(s, "/metrics");
            assertEquals(503, third.statusCode(), "beyond " + QUICK.scrapes() + " scrapes at once");
            assertEquals(200, get(s, "/").statusCode(), "the server is not held up");
            release.countDown();
            for (var f : List.of(first, second)) {
                HttpResponse<String> failed = f.get(20, TimeUnit.SECONDS);
                assertEquals(503, failed.statusCode());
                assertEquals("scrape failed; the gateway's log says why\n", failed.body());
            }
            assertEquals(1, asked.get(), "the two shared one snapshot");
        }
    }

    /** Requests sent back to back on one connection are answered in order, each whole. */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (MetricsServer s = MetricsServer.start(ANY_PORT, registry(), QUICK); Socket k = new Socket("127.0.0.1", s.port())) {
            k.setSoTimeout(5000);
            String request = "GET %s HTTP/1.1\r\nHost: x\r\n\r\n";
            k.getOutputStream().write((request.formatted("/") + request.formatted("/metrics") + request.formatted("/nope"))
                    .getBytes(StandardCharsets.US_ASCII));
            String answers = readUntil(k.getInputStream(), "not found; metrics are at /metrics\n");
            int root = answers.indexOf("Isthmus: metrics at /metrics");
            int metrics = answers.indexOf("isthmus_build_info");
            int missing = answers.indexOf("HTTP/1.1 404");
            assertTrue(root > 0 && metrics > root && missing > metrics, answers);
        }
    }

    /** A request dribbled in byte by byte is cut off at the deadline; an idle connection at the idle limit. */
    @Test
    void slowAndIdleConnectionsAreClosed() throws Exception {
        try (MetricsServer s = MetricsServer.start(ANY_PORT, registry(), QUICK); Socket slow = new Socket("127.0.0.1", s.port());
             Socket idle = new Socket("127.0.0.1", s.port())) {
            slow.setSoTimeout(5000);
            idle.setSoTimeout(5000);
            long began = System.nanoTime();
            for (char c : "GET /metr".toCharArray()) {
                slow.getOutputStream().write(c);
                Thread.sleep(40);
            }
            assertEquals(-1, readOrReset(slow), "cut off");
            assertEquals(-1, readOrReset(idle), "closed");
            assertTrue(System.nanoTime() - began < Duration.ofSeconds(4).toNanos());
            await("both gone", () -> s.connections() == 0);
        }
    }

    /**
     * Idle sockets up to the limit do not lock Prometheus out: a newcomer takes the place of the
     * one idle longest. One address cannot take more than its share.
     */
    @Test
    void idleSocketsGiveWayAndOneAddressHasItsShare() throws Exception {
        MetricsServer.Limits limits = new MetricsServer.Limits(4, 3, 2, Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(30));
        try (MetricsServer s = MetricsServer.start(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0), registry(), limits)) {
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    idle.add(new Socket(InetAddress.getByName("127.0.0.1"), s.port()));
                }
                await("three connections", () -> s.connections() == 3);
                Socket fourth = new Socket(InetAddress.getByName("127.0.0.1"), s.port());
                idle.add(fourth);
                fourth.setSoTimeout(5000);
                assertEquals(-1, readOrReset(fourth), "a fourth from one address is refused");
                // Another address (loopback has all of 127/8): it takes the place of the idlest.
                idle.add(new Socket(InetAddress.getByName("127.0.0.1"), s.port(), InetAddress.getByName("127.0.0.2"), 0));
                await("four connections", () -> s.connections() == 4);
                Socket newcomer = new Socket(InetAddress.getByName("127.0.0.1"), s.port(), InetAddress.getByName("127.0.0.3"), 0);
                idle.add(newcomer);
                newcomer.setSoTimeout(5000);
                newcomer.getOutputStream().write("GET /metrics HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readUntil(newcomer.getInputStream(), "isthmus_build_info").startsWith("HTTP/1.1 200"));
                idle.getFirst().setSoTimeout(5000);
                assertEquals(-1, readOrReset(idle.getFirst()), "the idlest gave way");
            } finally {
                for (Socket k : idle) {
                    k.close();
                }
            }
        }
    }

    @Test
    void aBodyOrAHugeHeaderIsRefused() throws Exception {
        try (MetricsServer s = MetricsServer.start(ANY_PORT, registry(), QUICK)) {
            String withBody = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
            String answer = raw(s, withBody);
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            String huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Junk: " + "a".repeat(20_000) + "\r\n\r\n";
            answer = raw(s, huge);
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), answer);
            assertEquals(200, get(s, "/metrics").statusCode());
        }
    }

    /** The port taken: the gateway runs on, the server says why, and serves once the port is free. */
    @Test
    void aTakenPortIsTriedAgain() throws Exception {
        ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        InetSocketAddress there = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
        try (MetricsServer s = MetricsServer.start(there, registry(), QUICK)) {
            assertEquals(-1, s.port());
            assertTrue(s.describe().startsWith("not served: cannot bind 127.0.0.1 port " + taken.getLocalPort()), s.describe());
            taken.close();
            await("bound once the port is free", () -> s.port() == there.getPort());
            assertEquals(200, get(s, "/metrics").statusCode());
        } finally {
            taken.close();
        }
    }

    private static String raw(MetricsServer s, String request) throws IOException {
        try (Socket k = new Socket("127.0.0.1", s.port())) {
            k.setSoTimeout(5000);
            k.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            byte[] b = new byte[4096];
            try {
                int n = k.getInputStream().read(b);
                return n <= 0 ? "" : new String(b, 0, n, StandardCharsets.US_ASCII);
            } catch (IOException reset) {
                return "";
            }
        }
    }

    /** -1 when the server closed (or reset) the connection; fails if it sends or says nothing. */
    private static int readOrReset(Socket k) throws IOException {
        try {
            return k.getInputStream().read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("still open after 5 s");
        } catch (IOException reset) {
            return -1;
        }
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        int n;
        while (!all.toString(StandardCharsets.UTF_8).contains(end) && (n = in.read(b)) > 0) {
            all.write(b, 0, n);
        }
        return all.toString(StandardCharsets.UTF_8);
    }
}
