package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.ike.message.IkeHeader;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The three ways a line is written: for a person, for journald, as JSON. */
class LineEncoderTest {
    static final Instant AT = Instant.parse("2026-12-01T10:00:00.123456Z");
    final LoggerContext context = new LoggerContext();

    LoggingEvent event(String logger, Level level, String message, Throwable thrown, Object... args) {
        LoggingEvent e = new LoggingEvent(LineEncoderTest.class.getName(), context.getLogger(logger), level, message, thrown, args);
        e.setInstant(AT);
        e.setThreadName("ike-thread");
        return e;
    }

    static String text(LineEncoder encoder, LoggingEvent e) {
        encoder.zone(ZoneOffset.UTC);
        return encoder.text(e);
    }

    @Test
    void aPersonReadsTimeLevelSubsystemAndMessage() {
        LineEncoder human = new LineEncoder(LineFormat.HUMAN, false);
        assertEquals("2026-12-01 10:00:00.123 WARNING ike: to-b[0001_i 0002_r]: CREATE_CHILD_SA refused\n",
                text(human, event("io.isthmus.ike.exchange", Level.WARN, "to-b[0001_i 0002_r]: CREATE_CHILD_SA refused", null)));
        assertEquals("2026-12-01 10:00:00.123 INFO jdk.event.security: X509Certificate: Alg:SHA256withRSA\n",
                text(human, event("jdk.event.security", Level.INFO, "X509Certificate: Alg:SHA256withRSA", null)), "a logger of no subsystem: its name");
    }

    /** sd-daemon(3): err 3, warning 4, info 6, debug 7; journald stamps the time itself. */
    @Test
    void forJournaldEachLineStartsWithItsPriorityAndHasNoTime() {
        LineEncoder journal = new LineEncoder(LineFormat.HUMAN, true);
        Map<Level, String> expected = Map.of(Level.ERROR, "<3>", Level.WARN, "<4>", Level.INFO, "<6>", Level.DEBUG, "<7>", Level.TRACE, "<7>");
        expected.forEach((level, prefix) -> assertEquals(prefix + "dataplane: offloads: none\n",
                text(journal, event("io.isthmus.dataplane", level, "offloads: none", null)), level.toString()));
    }

    @Test
    void forJournaldEveryLineOfAStackTraceHasTheEventsPriority() {
        LineEncoder journal = new LineEncoder(LineFormat.HUMAN, true);
        Exception e = new IllegalStateException("outer", new IllegalArgumentException("inner"));
        String text = text(journal, event("io.isthmus.control", Level.ERROR, "status failed", e));
        List<String> lines = text.lines().toList();
        assertTrue(lines.size() > 4, text);
        assertEquals("<3>control: status failed", lines.getFirst());
        assertEquals("<3>java.lang.IllegalStateException: outer", lines.get(1));
        assertTrue(lines.stream().allMatch(l -> l.startsWith("<3>")), text);
        assertTrue(lines.stream().anyMatch(l -> l.equals("<3>Caused by: java.lang.IllegalArgumentException: inner")), text);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("<3>\tat io.isthmus.control.log.LineEncoderTest.")), text);
    }

    /** A message that reached the log with a line break in it (a slip past PeerText) cannot start a forged line, nor a forged priority. */
    @Test
    void aMessageStaysOneLineWhateverItHolds() {
        String forged = "peer says hi\n<3>control: gateway stopped\r\u001b[2J\u2028end";
        for (boolean journal : new boolean[] {false, true}) {
            String text = text(new LineEncoder(LineFormat.HUMAN, journal), event("io.isthmus.ike", Level.INFO, forged, null));
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.endsWith("peer says hi\\x0a<3>control: gateway stopped\\x0d\\x1b[2J\\u2028end\n"), text);
        }
        String exception = text(new LineEncoder(LineFormat.HUMAN, false),
                event("io.isthmus.ike", Level.WARN, "bad", new IllegalStateException("line one\nline two")));
        assertTrue(exception.contains("java.lang.IllegalStateException: line one\\x0aline two\n"), exception);
    }

    @Test
    void jsonLinesParseWithTheirFields() throws IOException {
        LineEncoder json = new LineEncoder(LineFormat.JSON, false);
        IkeHeader header = new IkeHeader(0x0123456789abcdefL, 0xfedcba9876543210L, 0, 2, 0, 34, 0x08, 0, 28);
        String text = text(json, event("io.isthmus.ike", Level.DEBUG, "no IKE SA for " + header, new IllegalStateException("why\nnot"), header));
        assertEquals(1, text.lines().count(), text);
        JsonNode line = new ObjectMapper().readTree(text);
        assertEquals("2026-12-01T10:00:00.123456Z", line.path("time").asText());
        assertEquals("debug", line.path("level").asText());
        assertEquals("ike", line.path("subsystem").asText());
        assertEquals("io.isthmus.ike", line.path("logger").asText());
        assertEquals("ike-thread", line.path("thread").asText());
        assertEquals("no IKE SA for " + header, line.path("message").asText());
        assertEquals("0123456789abcdef", line.path("initiatorSpi").asText());
        assertEquals("fedcba9876543210", line.path("responderSpi").asText());
        assertFalse(line.has("connection"), "a header names no connection: " + text);
        assertTrue(line.path("exception").asText().startsWith("java.lang.IllegalStateException: why\\x0anot\n\tat "), text);

        JsonNode plain = new ObjectMapper().readTree(text(json, event("io.netty.channel", Level.WARN, "x", null)));
        assertEquals("netty", plain.path("subsystem").asText());
        assertFalse(plain.has("exception") || plain.has("initiatorSpi"), plain.toString());
    }

    @Test
    void jsonForJournaldCarriesThePriorityInFront() throws IOException {
        String text = text(new LineEncoder(LineFormat.JSON, true), event("io.isthmus.control", Level.WARN, "w", null));
        assertTrue(text.startsWith("<4>{"), text);
        assertEquals("warning", new ObjectMapper().readTree(text.substring(3)).path("level").asText());
    }

    @Test
    void theFormatChangesWhileTheEncoderIsInUse() {
        LineEncoder encoder = new LineEncoder(LineFormat.HUMAN, true);
        LoggingEvent e = event("io.isthmus.control", Level.INFO, "m", null);
        assertEquals("<6>control: m\n", text(encoder, e));
        encoder.format(LineFormat.JSON);
        assertTrue(text(encoder, e).startsWith("<6>{\"time\":"), text(encoder, e));
    }
}
