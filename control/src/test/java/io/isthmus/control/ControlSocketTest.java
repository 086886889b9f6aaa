package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.ike.IkeEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The management API on a bad day; a stand-in gateway answers, so no root is needed. */
class ControlSocketTest {
    static final ControlRequests GATEWAY = () -> Map.of("gateway", "gw-test");
    static final ControlSocket.Limits SHORT = new ControlSocket.Limits(4, 2, Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(1), 1024);

    @TempDir
    Path dir;

    static JsonNode status(Path socket) throws IOException {
        return ApiClient.get(socket, "/v1/status").json();
    }

    static SocketChannel connect(Path socket) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** Reads until the server closes: what it sent. */
    static String untilClosed(SocketChannel c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(1024);
        while (c.read(b) >= 0) {
            out.write(b.array(), 0, b.position());
            b.clear();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Sends raw bytes as one write and returns all the server answered. */
    static String raw(Path socket, String bytes) throws IOException {
        try (SocketChannel c = connect(socket)) {
            c.write(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.UTF_8)));
            return untilClosed(c);
        }
    }

    static ControlSocket open(Path socket, ControlRequests requests) throws IOException {
        return ControlSocket.open(socket, requests, ControlAccess.ownerOnly(), SHORT);
    }

    @Test
    void curlSpeaksToIt() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY)) {
            Process curl = new ProcessBuilder("curl", "-sS", "-w", "\n%{http_code}", "--unix-socket", socket.toString(), "http://isthmus/v1/status")
                    .redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(curl.waitFor(10, TimeUnit.SECONDS));
            assertTrue(out.strip().endsWith("\n200"), out);
            assertEquals("gw-test", ControlSocket.JSON.readTree(out.substring(0, out.lastIndexOf('\n'))).path("gateway").asText());
            JsonNode verbs = ApiClient.get(socket, "/v1").json();
            assertEquals(1, verbs.path("version").asInt());
            assertTrue(verbs.path("verbs").toString().contains("GET /v1/events"), verbs.toString());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)), "root and the owner only");
        }
    }

    @Test
    void aClientThatSendsNothingDoesNotDelayAnothersStatus() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY); SocketChannel idle = connect(socket)) {
            idle.write(ByteBuffer.wrap("GET /v1/sta".getBytes(StandardCharsets.US_ASCII))); // and no more for now
            JsonNode st = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> status(socket));
            assertEquals("gw-test", st.path("gateway").asText());
            assertTrue(idle.isConnected());
        }
    }

    @Test
    void aSlowVerbDoesNotHoldUpAnotherClient() throws Exception {
        Path socket = dir.resolve("gw.sock");
        CountDownLatch release = new CountDownLatch(1);
        ControlRequests slowReload = new ControlRequests() {
            @Override
            public Object status() {
                return Map.of("gateway", "gw-test");
            }

            @Override
            public Object reload() throws Exception {
                release.await(); // as a reload waits for the IKE thread
                return new Reload.Outcome(true, List.of("reloaded"));
            }
        };
        try (ControlSocket control = ControlSocket.open(socket, slowReload)) {
            var reload = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return ApiClient.post(socket, "/v1/reload", Duration.ofSeconds(10));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(200);
            // Two clients at once besides the waiting reload.
            var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> call(() -> status(socket)));
            var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> call(() -> status(socket)));
            assertEquals("gw-test", first.get(2, TimeUnit.SECONDS).path("gateway").asText());
            assertEquals("gw-test", second.get(2, TimeUnit.SECONDS).path("gateway").asText());
            assertFalse(reload.isDone());
            release.countDown();
            assertEquals(200, reload.get(5, TimeUnit.SECONDS).status());
        }
    }

    private static <T> T call(java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aClientThatDoesNotSendItsRequestInTimeIsCutOff() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = open(socket, GATEWAY); SocketChannel slow = connect(socket)) {
            long start = System.nanoTime();
            slow.write(ByteBuffer.wrap("GET /v1/sta".getBytes(StandardCharsets.US_ASCII))); // and never the rest
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> untilClosed(slow));
            Duration open = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(open.compareTo(SHORT.requestDeadline().minusMillis(100)) >= 0, "cut off after " + open + ", before the deadline");
            assertEquals(1, control.cutOffClients());
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
        assertTrue(ControlSocket.Limits.DEFAULT.requestDeadline().compareTo(Duration.ofSeconds(10)) <= 0);
    }

    @Test
    void clientsBeyondTheLimitAreAnswered503AndCounted() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = open(socket, GATEWAY)) {
            List<SocketChannel> idle = new java.util.ArrayList<>();
            // This test is root or the socket's owner: it has the reserved slots too.
            for (int i = 0; i < SHORT.clients() + ControlSocket.RESERVED_FOR_ROOT; i++) {
                idle.add(connect(socket));
            }
            // Accepted, not merely connected: on a loaded machine the server may not have taken them all yet.
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (control.clientsServed() < idle.size() && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            ApiClient.Response r = ApiClient.get(socket, "/v1/status");
            assertEquals(503, r.status(), r.body());
            assertEquals("4 clients are being served already; try again", r.error());
            assertEquals(1, control.refusedClients());
            // Once the idle ones are cut off, the slots are free again.
            for (SocketChannel c : idle) {
                untilClosed(c);
                c.close();
            }
            Thread.sleep(100);
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
    }

    @Test
    void badRequestsAreAnsweredAndActOnNothing() throws Exception {
        Path socket = dir.resolve("gw.sock");
        ControlSocketTest.Resets gateway = new ControlSocketTest.Resets();
        try (ControlSocket control = open(socket, gateway)) {
            String big = "{\"level\": \"" + "x".repeat(5000) + "\"}";
            ApiClient.Response tooBig = ApiClient.call(socket, io.netty.handler.codec.http.HttpMethod.PUT, "/v1/log-level/ike", big, Duration.ofSeconds(5));
            assertEquals(413, tooBig.status());
            assertTrue(raw(socket, "this is not http\r\n\r\n").startsWith("HTTP/1.1 400 "), "garbage is answered 400");
            String pipelined = raw(socket, "POST /v1/connections/to-peer/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                    + "POST /v1/connections/to-peer/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            assertTrue(pipelined.startsWith("HTTP/1.1 200 "), pipelined);
            assertEquals(List.of("to-peer"), gateway.names, "one request per connection: the second is not acted on");
            assertTrue(raw(socket, "GET /v1/status HTTP/1.1\r\nHost: x\r\n" + "X-Long: " + "y".repeat(10_000) + "\r\n\r\n")
                    .startsWith("HTTP/1.1 4"), "an oversized header is refused");
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
    }

    @Test
    void aHandlerThatThrowsIsAnsweredAndTheServerServesTheNextClient() throws Exception {
        Path socket = dir.resolve("gw.sock");
        ControlRequests failing = new ControlRequests() {
            @Override
            public Object status() {
                return Map.of("gateway", "gw-test");
            }

            @Override
            public Object reset(String connection) {
                throw new StackOverflowError();
            }

            @Override
            public Object reload() {
                throw new AssertionError("a bug");
            }

            @Override
            public Object terminate(String connection) {
                throw new IllegalStateException("the IKE thread did not answer");
            }
        };
        try (ControlSocket control = ControlSocket.open(socket, failing)) {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                ApiClient.Response r = ApiClient.post(socket, "/v1/connections/to-peer/reset", Duration.ofSeconds(5));
                assertEquals(500, r.status());
                assertEquals("internal error: java.lang.StackOverflowError", r.error());
                assertEquals("internal error: java.lang.AssertionError", ApiClient.post(socket, "/v1/reload", Duration.ofSeconds(5)).error());
                assertEquals("connections/to-peer/terminate failed: the IKE thread did not answer",
                        ApiClient.post(socket, "/v1/connections/to-peer/terminate", Duration.ofSeconds(5)).error());
                assertEquals("gw-test", status(socket).path("gateway").asText());
            });
        }
    }

    @Test
    void aStatusThatFailsIsAnsweredAsAnError() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, () -> {
            throw new IllegalStateException("the gateway is still starting");
        })) {
            ApiClient.Response r = ApiClient.get(socket, "/v1/status");
            assertEquals(500, r.status());
            assertEquals("status failed: the gateway is still starting", r.error());
        }
    }

    @Test
    void aGatewayStillStartingAnswers503ToEveryVerb() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, new GatewayRequests())) {
            for (ApiClient.Response r : List.of(ApiClient.get(socket, "/v1/status"), ApiClient.get(socket, "/v1/connections/to-b"),
                    ApiClient.get(socket, "/v1/counters"), ApiClient.get(socket, "/v1/captures"), ApiClient.post(socket, "/v1/reload", Duration.ofSeconds(5)),
                    ApiClient.post(socket, "/v1/connections/to-b/terminate", Duration.ofSeconds(5)))) {
                assertEquals(503, r.status(), r.body());
                assertTrue(r.error().startsWith("the gateway is still starting"), r.body());
            }
        }
    }

    @Test
    void oneConnectionAndTheCountersComeFromTheStatus() throws Exception {
        Path socket = dir.resolve("gw.sock");
        ControlRequests gateway = () -> ControlSocket.JSON.readTree("""
                {"gateway": "gw-test", "connections": [
                  {"name": "to hq", "status": "Connected", "metrics": {"TunnelIngressBytes": 10}, "drops": {"REPLAY": 2}},
                  {"name": "to-b", "status": "NotConnected", "metrics": {}, "drops": {}}],
                 "unattributedDrops": {"NO_SA": 5}}""");
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            JsonNode one = ApiClient.get(socket, "/v1/connections/to%20hq").json();
            assertEquals("Connected", one.path("status").asText());
            ApiClient.Response none = ApiClient.get(socket, "/v1/connections/to-x");
            assertEquals(404, none.status());
            assertEquals("no connection 'to-x'; this gateway has: to hq, to-b", none.error());
            JsonNode counters = ApiClient.get(socket, "/v1/counters").json();
            assertEquals(10, counters.path("connections").path("to hq").path("metrics").path("TunnelIngressBytes").asLong());
            assertEquals(2, counters.path("connections").path("to hq").path("drops").path("REPLAY").asLong());
            assertEquals(5, counters.path("unattributedDrops").path("NO_SA").asLong());
        }
    }

    @Test
    void captureVerbsAnswerWhatTheGatewaySaysWithTheirStatus() throws Exception {
        Path socket = dir.resolve("gw.sock");
        List<String> filters = new java.util.concurrent.CopyOnWriteArrayList<>();
        ControlRequests gateway = new ControlRequests() {
            boolean running;

            @Override
            public Object status() {
                return Map.of("gateway", "gw-test");
            }

            @Override
            public synchronized Object captureStart(JsonNode body) {
                CaptureRequest r = CaptureRequest.parse(body); // the gateway's own parsing: a wrong field is a 400
                if (running) {
                    throw new Captures.Busy("a capture is running already");
                }
                running = true;
                filters.add(r.filter().layers().name());
                return Map.of("file", "/var/lib/isthmus/captures/gw.pcapng");
            }

            @Override
            public synchronized Object captureStop() {
                if (!running) {
                    throw new IllegalStateException("no capture is running");
                }
                running = false;
                return Map.of("file", "/var/lib/isthmus/captures/gw.pcapng", "ended", "stopped");
            }

            @Override
            public Object captureStatus() {
                return Map.of();
            }
        };
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            var post = io.netty.handler.codec.http.HttpMethod.POST;
            assertEquals(200, ApiClient.call(socket, post, "/v1/captures", "{\"layers\": \"inner\"}", Duration.ofSeconds(5)).status());
            ApiClient.Response again = ApiClient.call(socket, post, "/v1/captures", null, Duration.ofSeconds(5));
            assertEquals(409, again.status());
            assertEquals("a capture is running already", again.error());
            ApiClient.Response wrong = ApiClient.call(socket, post, "/v1/captures", "{\"file\": \"/etc/passwd\"}", Duration.ofSeconds(5));
            assertEquals(400, wrong.status());
            assertTrue(wrong.error().startsWith("unknown field 'file'"), wrong.error());
            assertEquals(200, ApiClient.post(socket, "/v1/captures/stop", Duration.ofSeconds(5)).status());
            assertEquals(409, ApiClient.post(socket, "/v1/captures/stop", Duration.ofSeconds(5)).status());
            assertEquals(200, ApiClient.get(socket, "/v1/captures").status());
            assertEquals(List.of("INNER"), filters);
        }
    }

    /** A stand-in whose IKE events the test makes. */
    static final class Events implements ControlRequests {
        volatile IkeEvent.Listener listener;

        @Override
        public Object status() {
            return Map.of("gateway", "gw-test");
        }

        @Override
        public void listen(IkeEvent.Listener l) {
            listener = l;
        }

        void emit(IkeEvent.Kind kind, String connection, String detail) {
            listener.event(new IkeEvent(Instant.now(), kind, connection, "0102030405060708_i 1112131415161718_r", null, detail));
        }
    }

    @Test
    void theEventStreamFollowsEventsFiltersByConnectionAndEndsWithTheGateway() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Events gateway = new Events();
        BlockingQueue<String> all = new LinkedBlockingQueue<>();
        BlockingQueue<String> onlyB = new LinkedBlockingQueue<>();
        ControlSocket control = ControlSocket.open(socket, gateway);
        try {
            Thread a = Thread.ofVirtual().start(() -> call(() -> ApiClient.follow(socket, "/v1/events", all::add)));
            Thread b = Thread.ofVirtual().start(() -> call(() -> ApiClient.follow(socket, "/v1/events?connection=to-b", onlyB::add)));
            assertTrue(all.poll(5, TimeUnit.SECONDS).contains("\"FOLLOWING\""));
            assertTrue(onlyB.poll(5, TimeUnit.SECONDS).contains("connection to-b"));
            gateway.emit(IkeEvent.Kind.IKE_REKEYED, "to-a", "replaces 01_i 02_r");
            gateway.emit(IkeEvent.Kind.AUTHENTICATION_FAILED, "to-b", "the peer refused our AUTH");
            JsonNode first = ControlSocket.JSON.readTree(all.poll(5, TimeUnit.SECONDS));
            assertEquals("IKE_REKEYED", first.path("kind").asText());
            assertEquals("to-a", first.path("connection").asText());
            assertEquals("replaces 01_i 02_r", first.path("detail").asText());
            assertEquals("AUTHENTICATION_FAILED", ControlSocket.JSON.readTree(all.poll(5, TimeUnit.SECONDS)).path("kind").asText());
            JsonNode b1 = ControlSocket.JSON.readTree(onlyB.poll(5, TimeUnit.SECONDS));
            assertEquals("to-b", b1.path("connection").asText(), "the filter keeps to-a's rekey out");
            // A status in between is not held up by the streams.
            assertEquals("gw-test", status(socket).path("gateway").asText());
            control.close();
            a.join(5000);
            b.join(5000);
            assertFalse(a.isAlive() || b.isAlive(), "the streams end when the gateway stops");
        } finally {
            control.close();
        }
    }

    @Test
    void aFollowerThatDoesNotReadMissesEventsAndIsToldHowMany() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Events gateway = new Events();
        try (ControlSocket control = open(socket, gateway); SocketChannel lazy = connect(socket)) {
            lazy.write(ByteBuffer.wrap("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            Thread.sleep(200);
            String detail = "d".repeat(2000);
            long start = System.nanoTime();
            for (int i = 0; i < 20_000; i++) {
                gateway.emit(IkeEvent.Kind.FAILED, "to-a", detail); // the IKE thread: never waits for the client
            }
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 5, "publishing waited for a client that does not read");
            // Now it reads: what it got, then a note of what it missed.
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = Thread.ofVirtual().start(() -> call(() -> {
                ByteBuffer b = ByteBuffer.allocate(1 << 16);
                StringBuilder text = new StringBuilder();
                while (lazy.read(b) >= 0) {
                    text.append(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
                    b.clear();
                    if (text.indexOf("\"MISSED\"") >= 0) {
                        lines.add(text.substring(text.indexOf("\"MISSED\"") - 60));
                        return null;
                    }
                }
                return null;
            }));
            Thread.sleep(300);
            gateway.emit(IkeEvent.Kind.IKE_UP, "to-a", null); // the next event after the gap carries the note
            String missed = lines.poll(5, TimeUnit.SECONDS);
            assertTrue(missed != null && missed.contains("event(s) dropped: this client did not read them in time"), String.valueOf(missed));
            reader.interrupt();
        }
    }

    @Test
    void aSecondGatewayOnALiveSocketIsRefusedAndTheFirstKeepsIt() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket first = ControlSocket.open(socket, GATEWAY)) {
            BindException e = assertThrows(BindException.class, () -> ControlSocket.open(socket, () -> Map.of("gateway", "intruder")));
            assertEquals("another gateway is running on control socket " + socket + " (stop it first, or give this one another --control-socket)",
                    e.getMessage());
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
        assertFalse(Files.exists(socket), "close removes the socket file");
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception {
        Path socket = dir.resolve("gw.sock");
        // A gateway killed with SIGKILL leaves its socket file behind, with nobody listening.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket));
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY)) {
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
    }

    @Test
    void aFileThatIsNotASocketIsLeftAlone() throws Exception {
        Path notASocket = Files.writeString(dir.resolve("gw.sock"), "someone's notes");
        BindException e = assertThrows(BindException.class, () -> ControlSocket.open(notASocket, GATEWAY));
        assertEquals("control socket " + notASocket + " exists and is not a socket; remove it or choose another --control-socket", e.getMessage());
        assertEquals("someone's notes", Files.readString(notASocket));
    }

    @Test
    void theClientGivesUpOnAGatewayThatDoesNotAnswer() throws Exception {
        Path socket = dir.resolve("hung.sock");
        try (ServerSocketChannel hung = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            hung.bind(UnixDomainSocketAddress.of(socket));
            // Accepted by the kernel (the backlog), never answered.
            IOException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> assertThrows(IOException.class, () -> ApiClient.call(socket, io.netty.handler.codec.http.HttpMethod.GET, "/v1/status", null,
                            Duration.ofMillis(300))));
            assertEquals("no answer within 300 ms", e.getMessage());
        }
    }

    @Test
    void accessIsRootTheOwnerAndTheGroupsMembers() throws Exception {
        ControlAccess owner = new ControlAccess(1000, null, -1);
        assertTrue(owner.admits(0, 0, 1));
        assertTrue(owner.admits(1000, 1000, 1));
        assertFalse(owner.admits(1001, 1000, 1), "another user, even of the owner's group");
        assertTrue(new ControlAccess(1000, java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName("root"), 4242)
                .admits(1001, 4242, 1), "a member by its primary group");
        assertFalse(new ControlAccess(1000, java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName("root"), 4242)
                .admits(1001, 100, Integer.MAX_VALUE), "no such process: nothing proves membership");
        IOException unknown = assertThrows(IOException.class, () -> ControlAccess.withGroup("no-such-group-here"));
        assertEquals("control socket: no group 'no-such-group-here' on this machine (groupadd no-such-group-here, or change control.group)",
                unknown.getMessage());
    }

    /* Without --control-socket, the commands take the one socket in the directory, or say in one line why not. */
    @Test
    void theOnlySocketInTheDirectoryIsTheGatewaysAndNoneOrSeveralAreSaid() throws Exception {
        Path run = dir.resolve("run");
        IOException missing = assertThrows(IOException.class, () -> ControlSocket.onlySocketIn(run));
        assertEquals("no gateway is running here (no " + run + ")", missing.getMessage());
        Files.createDirectory(run);
        Files.createFile(run.resolve("notes.txt"));
        assertTrue(assertThrows(IOException.class, () -> ControlSocket.onlySocketIn(run)).getMessage().startsWith("no gateway is running here (no "));
        Files.createFile(run.resolve("gw-a.sock"));
        assertEquals(run.resolve("gw-a.sock"), ControlSocket.onlySocketIn(run));
        Files.createFile(run.resolve("gw-b.sock"));
        assertTrue(assertThrows(IOException.class, () -> ControlSocket.onlySocketIn(run)).getMessage()
                .startsWith("several gateways run here; choose one with --control-socket: "));
    }

    /** A stand-in that answers status and records every reset it is asked for. */
    static final class Resets implements ControlRequests {
        final List<String> names = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public Object status() {
            return Map.of("gateway", "gw-test");
        }

        @Override
        public Object reset(String connection) {
            names.add(connection);
            return new Reload.Outcome(true, List.of("reset " + connection));
        }
    }
}
