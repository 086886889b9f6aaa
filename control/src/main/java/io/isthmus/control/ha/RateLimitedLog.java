package io.isthmus.control.ha;

import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;

/**
 * At most one line per source and reason per interval, with the count of lines held back: a
 * scanner or a partner with the wrong certificate that retries every 100 ms would otherwise
 * write the same warning ten times a second.
 */
final class RateLimitedLog {
    private static final int MAX_SOURCES = 4096;

    private record Slot(long since, int held) {
    }

    private final System.Logger log;
    private final long intervalNanos;
    private final Map<String, Slot> slots = new HashMap<>();

    RateLimitedLog(System.Logger log, long intervalNanos) {
        this.log = log;
        this.intervalNanos = intervalNanos;
    }

    synchronized void log(Level level, String source, String message) {
        long now = System.nanoTime();
        Slot slot = slots.get(source);
        if (slot != null && now - slot.since < intervalNanos) {
            slots.put(source, new Slot(slot.since, slot.held + 1));
            return;
        }
        if (slots.size() >= MAX_SOURCES) {
            // Many sources at once (a scan): forget them all rather than grow; the log then says more, not less.
            slots.clear();
        }
        slots.put(source, new Slot(now, 0));
        String held = slot != null && slot.held > 0 ? " (" + slot.held + " more like it not logged)" : "";
        log.log(level, message + held);
    }
}
