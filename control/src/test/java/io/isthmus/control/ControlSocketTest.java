package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket on a bad day; a stand-in gateway answers, so no root is needed. */
class ControlSocketTest {
    static final ControlRequests GATEWAY = () -> Map.of("gateway", "gw-test");

    @TempDir
    Path dir;

    static JsonNode status(Path socket) throws IOException {
        return ControlSocket.JSON.readTree(ControlSocket.ask(socket, "status", Duration.ofSeconds(5)));
    }

    static SocketChannel connect(Path socket) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** Reads until the server closes; how long that took. */
    static Duration untilClosed(SocketChannel c) throws IOException {
        long start = System.nanoTime();
        ByteBuffer b = ByteBuffer.allocate(1024);
        while (c.read(b) >= 0) {
            b.clear();
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Test
    void aClientThatSendsNothingDoesNotDelayAnothersStatus() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY); SocketChannel idle = connect(socket)) {
            // Served one at a time, the status request would wait behind the idle client for ever.
            JsonNode st = assertTimeoutPreemptively(Duration.ofSeconds(1), () -> status(socket));
            assertEquals("gw-test", st.path("gateway").asText());
            assertTrue(idle.isConnected());
        }
    }

    @Test
    void aClientThatDoesNotSendItsRequestInTimeIsCutOff() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Duration deadline = Duration.ofMillis(500);
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY, 4, deadline); SocketChannel slow = connect(socket)) {
            slow.write(ByteBuffer.wrap("sta".getBytes(StandardCharsets.US_ASCII))); // and never the rest
            Duration open = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> untilClosed(slow));
            assertTrue(open.compareTo(deadline.minusMillis(100)) >= 0, "cut off after " + open + ", before the deadline");
            // The client sees the close first; the server's thread counts it as it unwinds, a moment later.
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                while (control.cutOffClients() == 0) {
                    Thread.sleep(10);
                }
            });
            assertEquals(1, control.cutOffClients());
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
        assertTrue(ControlSocket.REQUEST_DEADLINE.compareTo(Duration.ofSeconds(10)) <= 0, "a few seconds: " + ControlSocket.REQUEST_DEADLINE);
    }

    @Test
    void clientsBeyondTheLimitAreClosedUnservedAndCounted() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY, 2, Duration.ofSeconds(1));
             SocketChannel first = connect(socket); SocketChannel second = connect(socket); SocketChannel third = connect(socket)) {
            Duration open = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> untilClosed(third));
            assertTrue(open.compareTo(Duration.ofMillis(900)) < 0, "the third client waited " + open + " instead of being closed");
            assertEquals(1, control.refusedClients());
            // Once the idle two are cut off, the slots are free again.
            untilClosed(first);
            untilClosed(second);
            assertEquals("gw-test", status(socket).path("gateway").asText());
        }
    }

    @Test
    void aRequestIsOneShortLine() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, GATEWAY)) {
            JsonNode tooLong = ControlSocket.JSON.readTree(ControlSocket.ask(socket, "s".repeat(10_000), Duration.ofSeconds(5)));
            assertEquals("request longer than 256 bytes", tooLong.path("error").asText());
            JsonNode unknown = ControlSocket.JSON.readTree(ControlSocket.ask(socket, "reboot \"now\"", Duration.ofSeconds(5)));
            assertEquals("unknown request 'reboot \"now\"'; try status, reload, reset NAME, log-level, handover or resume", unknown.path("error").asText());
        }
    }

    @Test
    void aStatusThatFailsIsAnsweredAsAnError() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, () -> {
            throw new IllegalStateException("the gateway is still starting");
        })) {
            assertEquals("status failed: the gateway is still starting", status(socket).path("error").asText());
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
    void askGivesUpOnAGatewayThatDoesNotAnswer() throws Exception {
        Path socket = dir.resolve("hung.sock");
        try (ServerSocketChannel hung = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            hung.bind(UnixDomainSocketAddress.of(socket));
            // Accepted by the kernel (the backlog), never answered.
            IOException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> assertThrows(IOException.class, () -> ControlSocket.ask(socket, "status", Duration.ofMillis(300))));
            assertEquals("no answer within 300 ms", e.getMessage());
        }
    }
    /** A stand-in that answers status and records every reset it is asked for. */
    static final class Resets implements ControlRequests {
        final java.util.List<String> names = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public Object status() {
            return Map.of("gateway", "gw-test");
        }

        @Override
        public Object reset(String connection) {
            names.add(connection);
            return Map.of("applied", true, "lines", java.util.List.of("reset " + connection));
        }
    }

    /** Sends raw bytes as one write (as a client would that frames its own request) and returns the answer. */
    static JsonNode raw(Path socket, String bytes) throws IOException {
        try (SocketChannel c = connect(socket)) {
            c.write(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.UTF_8)));
            c.shutdownOutput();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (c.read(b) >= 0) {
                out.write(b.array(), 0, b.position());
                b.clear();
            }
            return ControlSocket.JSON.readTree(out.toByteArray());
        }
    }

    @Test
    void aRequestWithASecondLineOrAControlCharacterIsRefusedAndNotActedOn() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Resets gateway = new Resets();
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            assertEquals("a request is one line; this one has a second (U+000A at character 14)",
                    raw(socket, "reset to-peer\nstatus\n").path("error").asText());
            assertEquals("the request carries a control character (U+0007 at character 9)",
                    raw(socket, "reset to\u0007peer\n").path("error").asText());
            assertEquals(java.util.List.of(), gateway.names, "nothing was reset");
            // What an operator's ordinary line ending leaves is still one line.
            raw(socket, "reset to-peer\r\n");
            assertEquals(java.util.List.of("to-peer"), gateway.names);
        }
    }

    @Test
    void theClientDoesNotSendARequestWithASecondLine() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Resets gateway = new Resets();
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ControlSocket.ask(socket, "reset to-peer\nstatus", Duration.ofSeconds(5)));
            assertEquals("not sent: a request is one line; this one has a second (U+000A at character 14); a request is one line of printable text",
                    e.getMessage());
            IsthmusCommandLineTest.Run run = IsthmusCommandLineTest.isthmus("connection", "reset", "to-peer\nstatus", "--control-socket", socket.toString());
            assertEquals(2, run.exit(), run.err());
            assertEquals("isthmus: " + e.getMessage(), run.err().strip());
            assertEquals(java.util.List.of(), gateway.names, "nothing was reset");
        }
    }

    @Test
    void aHandlerThatThrowsAnErrorIsAnsweredAndTheServerServesTheNextClient() throws Exception {
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
        };
        try (ControlSocket control = ControlSocket.open(socket, failing)) {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertEquals("internal error: java.lang.StackOverflowError", ControlSocket.JSON.readTree(
                        ControlSocket.ask(socket, "reset to-peer", Duration.ofSeconds(5))).path("error").asText());
                assertEquals("internal error: java.lang.AssertionError", ControlSocket.JSON.readTree(
                        ControlSocket.ask(socket, "reload", Duration.ofSeconds(5))).path("error").asText());
                assertEquals("gw-test", status(socket).path("gateway").asText());
            });
        }
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
}
