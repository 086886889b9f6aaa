package io.isthmus.control.log;

import ch.qos.logback.classic.Level;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A log level as the operator writes it, with the Logback level it is and the priority journald
 * files it under (sd-daemon(3): {@code <3>} err, {@code <4>} warning, {@code <6>} info,
 * {@code <7>} debug), so that {@code journalctl -p warning} shows warnings and errors.
 */
public enum LogLevel {
    ERROR("error", Level.ERROR, 3),
    WARNING("warning", Level.WARN, 4),
    INFO("info", Level.INFO, 6),
    DEBUG("debug", Level.DEBUG, 7),
    /** journald has nothing below debug. */
    TRACE("trace", Level.TRACE, 7);

    private final String word;
    private final Level logback;
    private final int journalPriority;

    LogLevel(String word, Level logback, int journalPriority) {
        this.word = word;
        this.logback = logback;
        this.journalPriority = journalPriority;
    }

    public String word() {
        return word;
    }

    Level logback() {
        return logback;
    }

    public int journalPriority() {
        return journalPriority;
    }

    /** "warn" is taken for "warning": it is SLF4J's and Logback's word, and what many operators type. */
    public static Optional<LogLevel> byWord(String word) {
        String w = word.strip();
        if (w.equalsIgnoreCase("warn")) {
            return Optional.of(WARNING);
        }
        return Arrays.stream(values()).filter(l -> l.word.equalsIgnoreCase(w)).findFirst();
    }

    static LogLevel of(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> ERROR;
            case Level.WARN_INT -> WARNING;
            case Level.INFO_INT -> INFO;
            case Level.DEBUG_INT -> DEBUG;
            default -> level.toInt() < Level.DEBUG_INT ? TRACE : ERROR;
        };
    }

    public static String words() {
        return Arrays.stream(values()).map(LogLevel::word).collect(Collectors.joining(", "));
    }
}
