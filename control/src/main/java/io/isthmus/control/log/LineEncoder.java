package io.isthmus.control.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Writes each event as one line (its stack trace, if any, on the lines after it) in the
 * {@link LineFormat} of the moment, which the configuration may change while lines are written.
 *
 * <p>For journald (stderr is a journal stream) every line starts with its priority, {@code <N>},
 * which journald takes off and files the line under, and carries no time: journald stamps each
 * line itself. Lines of a stack trace carry the priority of their event, so
 * {@code journalctl -p err} shows a whole error.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {
    /** Local time, to the millisecond, as the gateway's lines always were. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static final JsonFactory JSON = new JsonFactory();

    private final boolean journal;
    private volatile LineFormat format;
    private volatile ZoneId zone = ZoneId.systemDefault();

    public LineEncoder(LineFormat format, boolean journal) {
        this.format = format;
        this.journal = journal;
    }

    public void format(LineFormat f) {
        this.format = f;
    }

    public LineFormat format() {
        return format;
    }

    /** For tests that compare a time. */
    void zone(ZoneId z) {
        this.zone = z;
    }

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent e) {
        return text(e).getBytes(StandardCharsets.UTF_8);
    }

    /** The line(s) for {@code e}, each ended by a newline. */
    String text(ILoggingEvent e) {
        LogLevel level = LogLevel.of(e.getLevel());
        String prefix = journal ? "<" + level.journalPriority() + ">" : "";
        StringBuilder out = new StringBuilder(160).append(prefix);
        if (format == LineFormat.JSON) {
            out.append(json(e, level)).append('\n');
            return out.toString();
        }
        if (!journal) {
            out.append(TIME.format(e.getInstant().atZone(zone))).append(' ').append(level.name()).append(' ');
        }
        out.append(EventText.source(e)).append(": ").append(EventText.message(e)).append('\n');
        for (String line : EventText.stackTrace(e)) {
            out.append(prefix).append(line).append('\n');
        }
        return out.toString();
    }

    private static String json(ILoggingEvent e, LogLevel level) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("time", e.getInstant().toString());
            g.writeStringField("level", level.word());
            Subsystem.ofLogger(e.getLoggerName()).ifPresent(s -> field(g, "subsystem", s.word()));
            g.writeStringField("logger", e.getLoggerName());
            g.writeStringField("thread", e.getThreadName());
            g.writeStringField("message", EventText.message(e));
            SaFields sa = SaFields.of(e.getArgumentArray());
            field(g, "connection", sa.connection());
            field(g, "initiatorSpi", sa.initiatorSpi());
            field(g, "responderSpi", sa.responderSpi());
            field(g, "inboundSpi", sa.inboundSpi());
            field(g, "outboundSpi", sa.outboundSpi());
            List<String> trace = EventText.stackTrace(e);
            if (!trace.isEmpty()) {
                g.writeStringField("exception", String.join("\n", trace));
            }
            g.writeEndObject();
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible); // a StringWriter does not fail
        }
        return w.toString();
    }

    private static void field(JsonGenerator g, String name, String value) {
        if (value == null) {
            return;
        }
        try {
            g.writeStringField(name, value);
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
    }
}
