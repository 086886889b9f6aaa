package io.isthmus.lab.bench.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The two-machine bench's control link: the two ends agree only if both hold the token, and
 * after that a line that is not the other end's next one (changed, replayed, reflected, too
 * long) ends the link instead of reaching gateway-b's request handler.
 */
class AgentChannelTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    /** Two ends joined by pipes, with a tap on what gateway-a sends so tests can tamper with it. */
    private static final class Wire {
        final PipedInputStream toB = new PipedInputStream(1 << 20);
        final PipedOutputStream aOut;
        final PipedInputStream toA = new PipedInputStream(1 << 20);
        final PipedOutputStream bOut;

        Wire() throws IOException {
            aOut = new PipedOutputStream(toB);
            bOut = new PipedOutputStream(toA);
        }
    }

    private static AgentChannel[] connect(Wire w, String tokenA, String tokenB) throws Exception {
        CompletableFuture<AgentChannel> b = CompletableFuture.supplyAsync(() -> {
            try {
                return AgentChannel.agent(w.toB, w.bOut, tokenB);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        AgentChannel a = AgentChannel.driver(w.toA, w.aOut, tokenA);
        return new AgentChannel[] {a, b.get(10, TimeUnit.SECONDS)};
    }

    @Test
    void bothEndsWithTheTokenTalkAndDeriveTheSameKey() throws Exception {
        Wire w = new Wire();
        AgentChannel[] ends = connect(w, TOKEN, TOKEN);
        ends[0].send(AgentChannel.message("hello").put("a", "192.0.2.1"));
        JsonNode got = ends[1].receive();
        assertEquals("hello", got.path("op").asText());
        assertEquals("192.0.2.1", got.path("a").asText());
        ends[1].send(AgentChannel.message("answer").put("ok", true));
        assertTrue(ends[0].receive().path("ok").asBoolean());
        assertEquals(ends[0].presharedKey(), ends[1].presharedKey());
        assertTrue(ends[0].presharedKey().length() >= 40, ends[0].presharedKey());
        // A second run has another key, even with the same token.
        Wire w2 = new Wire();
        assertNotEquals(ends[0].presharedKey(), connect(w2, TOKEN, TOKEN)[0].presharedKey());
    }

    @Test
    void aWrongTokenIsRefusedAtBothEnds() throws Exception {
        Wire w = new Wire();
        CompletableFuture<Throwable> b = CompletableFuture.supplyAsync(() -> {
            try {
                AgentChannel.agent(w.toB, w.bOut, TOKEN);
                return null;
            } catch (IOException e) {
                return e;
            }
        });
        IOException a = assertThrows(IOException.class, () -> AgentChannel.driver(w.toA, w.aOut, "another token entirely, 32 chars"));
        assertEquals("gateway-b refused the token", a.getMessage());
        assertEquals("the bench driver's token is wrong", b.get(10, TimeUnit.SECONDS).getMessage());
    }

    @Test
    void anAgentWithoutTheTokenCannotPassAsGatewayB() throws Exception {
        // An impostor answers the driver's proof with a guess: the driver stops before sending anything.
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        InputStream impostor = new ByteArrayInputStream(("isthmus-bench-agent 1 " + "ab".repeat(32) + "\n" + "cd".repeat(32) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> AgentChannel.driver(impostor, sent, TOKEN));
        assertEquals("gateway-b does not hold the token", e.getMessage());
    }

    @Test
    void somethingElseOnThePortIsNotTakenForGatewayB() {
        InputStream http = new ByteArrayInputStream("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class, () -> AgentChannel.driver(http, OutputStream.nullOutputStream(), TOKEN));
        assertTrue(e.getMessage().startsWith("gateway-b did not answer as a bench agent"), e.getMessage());
    }

    @Test
    void changedReplayedAndReflectedLinesEndTheLink() throws Exception {
        for (String attack : List.of("changed", "replayed", "reflected", "unsigned", "too long")) {
            Wire w = new Wire();
            AgentChannel[] ends = connect(w, TOKEN, TOKEN);
            // A genuine line first, as it crosses: what an attacker on the path sees.
            String line = ends[0].seal(AgentChannel.message("usage"));
            w.aOut.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            assertEquals("usage", ends[1].receive().path("op").asText());
            String forged = switch (attack) {
                case "changed" -> line.replace("usage", "bye!!");
                case "replayed" -> line;
                // gateway-b's own next line, sent back to it as if from gateway-a.
                case "reflected" -> ends[1].seal(AgentChannel.message("usage"));
                case "unsigned" -> "{\"op\":\"up\",\"path\":\"plain-routing\"}";
                default -> "a".repeat(AgentChannel.MAX_LINE + 10);
            };
            w.aOut.write((forged + "\n").getBytes(StandardCharsets.UTF_8));
            IOException e = assertThrows(IOException.class, ends[1]::receive, attack);
            assertTrue(e.getMessage().contains(attack.equals("too long") ? "longer than" : "not the other end's next one"), attack + ": " + e.getMessage());
        }
    }

    @Test
    void theLinkEndingMidLineIsSaidSo() {
        IOException e = assertThrows(IOException.class,
                () -> AgentChannel.readLine(new ByteArrayInputStream("half a li".getBytes(StandardCharsets.UTF_8))));
        assertEquals("the control link ended in the middle of a line", e.getMessage());
    }

    @Test
    void addressesFromTheOtherMachineAreCheckedNotLookedUp() {
        for (String bad : List.of("", "gateway-b.example", "300.1.1.1", "1.2.3", "1.2.3.4.5", "0.0.0.0", "127.0.0.1", "224.0.0.1",
                "10.0.0.1; reboot", "01.2.3.4x")) {
            assertThrows(IOException.class, () -> MachineFacts.ipv4("a", bad), bad);
        }
        try {
            assertEquals("192.0.2.7", MachineFacts.ipv4("a", "192.0.2.7"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
