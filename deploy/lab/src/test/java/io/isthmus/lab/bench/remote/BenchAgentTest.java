package io.isthmus.lab.bench.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * gateway-b's agent against requests that an authenticated but wrong (or buggy) gateway-a could
 * send: each is answered with what was wrong and changes nothing on the machine; the agent
 * stays up for the next request and ends on bye. Nothing here gets as far as a namespace, so it
 * needs no root.
 */
class BenchAgentTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    @Test
    void badRequestsAreAnsweredWithWhatWasWrongAndTheAgentCarriesOn() throws Exception {
        PipedInputStream toB = new PipedInputStream(1 << 16);
        PipedOutputStream aOut = new PipedOutputStream(toB);
        PipedInputStream toA = new PipedInputStream(1 << 16);
        PipedOutputStream bOut = new PipedOutputStream(toA);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        BenchAgent agent = new BenchAgent(new PrintStream(log, true));
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try {
                agent.serve(AgentChannel.agent(toB, bOut, TOKEN));
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        AgentChannel a = AgentChannel.driver(toA, aOut, TOKEN);

        assertEquals("'up' before hello", refused(a, AgentChannel.message("up").put("path", "plain-routing")));
        assertEquals("'usage' before hello", refused(a, AgentChannel.message("usage")));
        assertEquals("a: 'evil; rm -rf /' is not an IPv4 address",
                refused(a, AgentChannel.message("hello").put("a", "evil; rm -rf /").put("b", "192.0.2.2")));
        assertEquals("b: '' is not an IPv4 address", refused(a, AgentChannel.message("hello").put("a", "192.0.2.1")));
        assertEquals("a: 127.0.0.1 is not a unicast IPv4 address of a machine",
                refused(a, AgentChannel.message("hello").put("a", "127.0.0.1").put("b", "192.0.2.2")));
        // Echoed cut short: what comes in is not written back or logged at any length.
        assertEquals("'" + "x".repeat(60) + "...' before hello", refused(a, AgentChannel.message("x".repeat(100))));

        a.send(AgentChannel.message("bye"));
        JsonNode bye = a.receive();
        assertTrue(bye.path("ok").asBoolean(), bye.toString());
        served.get(10, TimeUnit.SECONDS);
        assertTrue(log.toString().contains("up failed: 'up' before hello"), log.toString());
    }

    private static String refused(AgentChannel a, com.fasterxml.jackson.databind.node.ObjectNode request) throws IOException {
        a.send(request);
        JsonNode answer = a.receive();
        assertFalse(answer.path("ok").asBoolean(true), answer.toString());
        return answer.path("error").asText();
    }
}
