package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InMemoryChildSaListener;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * IKE's lines about an SA carry its connection and SPIs as JSON fields, taken from the SA they
 * were logged with: two engines over memory set one up, rekey its child and delete it.
 */
class SaFieldsTest {
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");
    static final HexFormat HEX = HexFormat.of();

    @BeforeAll
    static void setUp() {
        LogOutput.install();
    }

    static Connection connection(String name, InetAddress me, InetAddress peer, String mine, String theirs) {
        return Connection.builder(name).local(me, null).remote(peer, Identity.of(peer))
                .preSharedKey("a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII)).ike("aes128gcm16-prfsha256-ecp256")
                .esp("aes128gcm16").localTs(mine).remoteTs(theirs).build();
    }

    @Test
    void linesAboutAnSaCarryItsConnectionAndSpis() throws IOException {
        ManualScheduler clock = new ManualScheduler();
        InMemoryNetwork network = new InMemoryNetwork();
        IkeEngine a = new IkeEngine(network.transport(), clock, new InMemoryChildSaListener());
        IkeEngine b = new IkeEngine(network.transport(), clock, new InMemoryChildSaListener());
        network.attach(A, a);
        network.attach(B, b);
        a.addConnection(connection("to-b", A, B, "192.168.10.0/24", "192.168.20.0/24"));
        b.addConnection(connection("to-a", B, A, "192.168.20.0/24", "192.168.10.0/24"));
        List<JsonNode> lines = new ArrayList<>();
        IkeSa sa;
        ChildSaDescription child;
        ChildSaDescription replacement;
        try (CapturedLines log = CapturedLines.open(LineFormat.JSON, false)) {
            sa = a.initiate("to-b", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
            network.deliverAll(clock);
            child = sa.childSas().getFirst();
            sa.rekeyChild(child.inbound().spi());
            network.deliverAll(clock);
            replacement = sa.childSas().getFirst();
            sa.delete();
            network.deliverAll(clock);
            for (String text : log.texts()) {
                lines.add(new ObjectMapper().readTree(text));
            }
        }
        String spiI = HEX.toHexDigits(sa.initiatorSpi());
        String spiR = HEX.toHexDigits(sa.responderSpi());
        JsonNode established = only(lines, "to-b[", "IKE SA established");
        assertEquals("to-b", established.path("connection").asText(), established.toString());
        assertEquals(spiI, established.path("initiatorSpi").asText());
        assertEquals(spiR, established.path("responderSpi").asText());
        JsonNode atB = only(lines, "to-a[", "IKE SA established");
        assertEquals("to-a", atB.path("connection").asText(), "each end's line names its own connection");
        assertEquals(spiI, atB.path("initiatorSpi").asText());

        JsonNode rekeyed = only(lines, "to-b[", "CHILD_SA rekeyed");
        assertEquals("to-b", rekeyed.path("connection").asText(), rekeyed.toString());
        assertEquals(spiI, rekeyed.path("initiatorSpi").asText());
        assertEquals(HEX.toHexDigits(replacement.inbound().spi()), rekeyed.path("inboundSpi").asText(), "the child SA named first: the new one");
        assertEquals(HEX.toHexDigits(replacement.outbound().spi()), rekeyed.path("outboundSpi").asText());

        List<JsonNode> aboutSas = lines.stream().filter(l -> l.path("message").asText().startsWith("to-b[")).toList();
        assertTrue(aboutSas.size() >= 3, lines.toString());
        for (JsonNode l : aboutSas) {
            assertEquals("to-b", l.path("connection").asText(), "every line that starts with the SA has its fields: " + l);
            assertEquals(spiI, l.path("initiatorSpi").asText(), l.toString());
        }
        JsonNode initiating = only(lines, "to-b: ", "initiating IKE SA");
        assertFalse(initiating.has("initiatorSpi"), "logged with the connection's name as text, before any SPI: no fields " + initiating);
    }

    private static JsonNode only(List<JsonNode> lines, String start, String text) {
        List<JsonNode> found = lines.stream().filter(l -> l.path("message").asText().startsWith(start) && l.path("message").asText().contains(text))
                .toList();
        assertEquals(1, found.size(), () -> "'" + text + "' in " + lines);
        return found.getFirst();
    }
}
