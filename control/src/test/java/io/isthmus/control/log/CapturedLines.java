package io.isthmus.control.log;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What this process logs while open, through the same Logback context as the gateway's own
 * appender, each event encoded by a {@link LineEncoder} at the moment it is logged (on the
 * logging thread, as the gateway's appender does).
 */
public final class CapturedLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final LineEncoder encoder;
    private final List<ILoggingEvent> events = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();

    private CapturedLines(LineEncoder encoder) {
        this.encoder = encoder;
    }

    public static CapturedLines open(LineFormat format, boolean journal) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        CapturedLines c = new CapturedLines(new LineEncoder(format, journal));
        c.setContext(context);
        c.setName("test-capture");
        c.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(c);
        return c;
    }

    @Override
    protected synchronized void append(ILoggingEvent e) {
        events.add(e);
        texts.add(encoder.text(e));
    }

    /** The events, as Logback got them. */
    public synchronized List<ILoggingEvent> events() {
        return List.copyOf(events);
    }

    /** Each event as the encoder wrote it (a stack trace makes it several lines). */
    public synchronized List<String> texts() {
        return List.copyOf(texts);
    }

    /** Everything written, as one text. */
    public synchronized String all() {
        return String.join("", texts);
    }

    @Override
    public void close() {
        ((LoggerContext) getContext()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
        stop();
    }
}
