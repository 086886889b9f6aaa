package io.isthmus.control;

import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.Subsystem;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The API's log levels: {@code GET /v1/log-level} answers every subsystem's level;
 * {@code PUT /v1/log-level/SUBSYSTEM} with {@code {"level": "debug"}} sets one, until the gateway restarts (or a reload applies the
 * configuration's levels again), and says what it was. The change is logged: who turned IKE to
 * trace is a question someone asks later.
 */
final class LogLevelRequest {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private LogLevelRequest() {
    }

    /** Every subsystem's level: {"levels": {"ike": "info", ...}}. */
    static Map<String, Object> all(LogOutput log) {
        return Map.of("levels", levels(log));
    }

    /**
     * {@code subsystem} set to {@code level}: {"levels": ..., "changed": {...}}; an unknown word is
     * an IllegalArgumentException naming the words there are.
     */
    static Map<String, Object> set(String subsystemWord, String levelWord, LogOutput log) {
        Optional<Subsystem> subsystem = Subsystem.byWord(subsystemWord);
        if (subsystem.isEmpty()) {
            throw new IllegalArgumentException("unknown subsystem '" + subsystemWord + "'; one of " + Subsystem.words());
        }
        Optional<LogLevel> level = LogLevel.byWord(levelWord == null ? "" : levelWord);
        if (level.isEmpty()) {
            throw new IllegalArgumentException("unknown level '" + levelWord + "'; one of " + LogLevel.words());
        }
        LogLevel before = log.level(subsystem.get());
        // Logged at the level in force after the change, unless the change silences this very line: then before it.
        boolean silencesThisLine = subsystem.get() == Subsystem.CONTROL && level.get().compareTo(LogLevel.INFO) < 0;
        if (silencesThisLine) {
            logChange(subsystem.get(), level.get(), before);
        }
        log.level(subsystem.get(), level.get());
        if (!silencesThisLine) {
            logChange(subsystem.get(), level.get(), before);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("levels", levels(log));
        answer.put("changed", new Change(subsystem.get().word(), before.word(), level.get().word()));
        return answer;
    }

    /** What a request changed, as the answer's "changed" field. */
    record Change(String subsystem, String from, String to) {
    }

    private static void logChange(Subsystem s, LogLevel now, LogLevel before) {
        LOG.log(System.Logger.Level.INFO, "log level of {0} set to {1} (was {2}) through the management API", s.word(), now.word(), before.word());
    }

    private static Map<String, String> levels(LogOutput log) {
        Map<String, String> m = new LinkedHashMap<>();
        log.levels().forEach((s, l) -> m.put(s.word(), l.word()));
        return m;
    }
}
