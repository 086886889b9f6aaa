package io.isthmus.control.log;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The process's log: Logback, configured here in code rather than by a logback.xml, with one
 * appender on standard error (where systemd connects the journal, and the lab its log files)
 * whose {@link LineEncoder} writes human or JSON lines, with journald priorities when stderr is
 * the journal. Every line of the process reaches it: Isthmus and the JDK log through
 * System.Logger, which slf4j-jdk-platform-logging (a System.LoggerFinder) hands to SLF4J; Netty
 * logs through SLF4J itself.
 *
 * <p>Levels are set per {@link Subsystem} on the subsystem's logger; everything else (the root)
 * stays at info.
 */
public final class LogOutput {
    static final String APPENDER = "isthmus";
    private final LoggerContext context;

    LogOutput(LoggerContext context) {
        this.context = context;
    }

    /** The log of this process, Logback's context behind SLF4J. */
    public static LogOutput process() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext c)) {
            throw new IllegalStateException("SLF4J is bound to " + LoggerFactory.getILoggerFactory().getClass().getName()
                    + ", not Logback: is another SLF4J provider on the class path?");
        }
        return new LogOutput(c);
    }

    /**
     * First thing in main: starts Logback (so the first line of the process already has its
     * format) and makes sure Netty logs to SLF4J, whichever logging libraries it would find.
     */
    public static LogOutput install() {
        LogOutput out = process();
        InternalLoggerFactory.setDefaultFactory(Slf4JLoggerFactory.INSTANCE);
        return out;
    }

    /**
     * What Logback's start does (through {@link LogbackConfigurator}): one appender, human lines
     * (with journald priorities if stderr is the journal), every level at its default. Logback
     * gets no shutdown hook of its own: {@link LogShutdown} stops it once the gateway has stopped.
     */
    void configureDefaults(boolean journal) {
        context.reset();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setTarget("System.err");
        LineEncoder encoder = new LineEncoder(LineFormat.HUMAN, journal);
        encoder.setContext(context);
        encoder.start();
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(LoggingSettings.DEFAULT_LEVEL.logback());
        root.addAppender(appender);
    }

    /** The configuration's logging section: its format, and its levels (a subsystem it does not name goes back to the default). */
    public void apply(LoggingSettings settings) {
        encoder().format(settings.format());
        for (Subsystem s : Subsystem.values()) {
            level(s, settings.level(s));
        }
    }

    /** Sets the level of {@code s}; returns the one it had. */
    public LogLevel level(Subsystem s, LogLevel level) {
        Logger logger = context.getLogger(s.loggerName());
        LogLevel before = LogLevel.of(logger.getEffectiveLevel());
        logger.setLevel(level.logback());
        return before;
    }

    public LogLevel level(Subsystem s) {
        return LogLevel.of(context.getLogger(s.loggerName()).getEffectiveLevel());
    }

    /** Every subsystem's level, in {@link Subsystem}'s order. */
    public Map<Subsystem, LogLevel> levels() {
        Map<Subsystem, LogLevel> m = new EnumMap<>(Subsystem.class);
        for (Subsystem s : Subsystem.values()) {
            m.put(s, level(s));
        }
        return m;
    }

    public LineFormat format() {
        return encoder().format();
    }

    /** Writes what is buffered and closes the output: the last thing the process logs. */
    public void stop() {
        context.stop();
    }

    private LineEncoder encoder() {
        Appender<ILoggingEvent> a = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
        if (a instanceof ConsoleAppender<ILoggingEvent> c && c.getEncoder() instanceof LineEncoder e) {
            return e;
        }
        throw new IllegalStateException("Logback is not set up by Isthmus (no appender '" + APPENDER + "' with its encoder): " + a);
    }
}
