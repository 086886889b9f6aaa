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
            assertEquals("unknown request 'reboot \"now\"'; try status, reload, reset NAME or log-level", unknown.path("error").asText());
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
}
