package io.isthmus.ike;

import java.text.MessageFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Log lines caused by packets anyone can send (IKE_SA_INIT answered or refused, cookies asked
 * for, messages for no SA): the first few of each kind per window are written as they come,
 * the rest are counted and summed up in one line when the window ends. Measured before this
 * existed: a spoofed IKE_SA_INIT flood wrote 479,158 lines (43 MB) in 20 s, and the lines
 * that mattered were lost in them. Single-threaded, on the engine's thread.
 */
public final class RateLimitedLog {
    private final System.Logger log;
    private final Scheduler scheduler;
    private final int linesPerWindow;
    private final Duration window;
    private final Map<String, Kind> kinds = new HashMap<>();

    /** One kind of line in the current window. */
    private static final class Kind {
        Instant windowStart;
        int written;
        long suppressed;
        System.Logger.Level level;
        String lastFormat;
        Object[] lastArgs;
        boolean summaryScheduled;
    }

    public RateLimitedLog(System.Logger log, Scheduler scheduler, int linesPerWindow, Duration window) {
        this.log = log;
        this.scheduler = scheduler;
        this.linesPerWindow = linesPerWindow;
        this.window = window;
    }

    /** Writes the line unless {@code kind} already had its share of this window; then it only counts it. */
    public void log(String kind, System.Logger.Level level, String format, Object... args) {
        if (!log.isLoggable(level)) {
            return;
        }
        Instant now = scheduler.now();
        Kind k = kinds.computeIfAbsent(kind, x -> new Kind());
        if (k.windowStart == null || !now.isBefore(k.windowStart.plus(window))) {
            summarize(kind, k);
            k.windowStart = now;
            k.written = 0;
        }
        if (k.written < linesPerWindow) {
            k.written++;
            log.log(level, format, args);
            return;
        }
        k.suppressed++;
        k.level = level;
        k.lastFormat = format;
        k.lastArgs = args;
        if (!k.summaryScheduled) {
            k.summaryScheduled = true;
            // So a flood that stops still gets its summary, not only when the next line of its kind comes.
            scheduler.schedule(Duration.between(now, k.windowStart.plus(window)), () -> {
                k.summaryScheduled = false;
                summarize(kind, k);
            });
        }
    }

    /** As {@link #log}, with the stack trace of {@code thrown} on the lines that are written (for our own bugs). */
    public void log(String kind, System.Logger.Level level, String message, Throwable thrown) {
        if (!log.isLoggable(level)) {
            return;
        }
        long before = suppressed(kind);
        log(kind, level, "{0}", message);
        if (suppressed(kind) == before) {
            log.log(level, "(stack trace of the line above)", thrown);
        }
    }

    /** Lines not written so far for {@code kind} in the current window (for tests and status). */
    public long suppressed(String kind) {
        Kind k = kinds.get(kind);
        return k == null ? 0 : k.suppressed;
    }

    private void summarize(String kind, Kind k) {
        if (k.suppressed == 0) {
            return;
        }
        String last = MessageFormat.format(k.lastFormat, k.lastArgs);
        log.log(k.level, "{0} more lines like this one ({1}) in {2} s were not written; the last: {3}", k.suppressed, kind,
                window.toSeconds(), last);
        k.suppressed = 0;
        k.lastArgs = null;
    }
}
