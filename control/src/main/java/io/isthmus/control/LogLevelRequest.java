package io.isthmus.control;

import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.Subsystem;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The control socket's {@code log-level} request: alone, it answers every subsystem's level;
 * {@code log-level SUBSYSTEM LEVEL} sets one, until the gateway restarts (or a reload applies the
 * configuration's levels again), and says what it was. The change is logged: who turned IKE to
 * trace is a question someone asks later.
 */
final class LogLevelRequest {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final String NAME = "log-level";

    private LogLevelRequest() {
    }

    static boolean is(String request) {
        return request.equals(NAME) || request.startsWith(NAME + " ");
    }

    /** {"levels": {"ike": "info", ...}}, with "changed" after a change, or {"error": ...}. */
    static Map<String, Object> answer(String request, LogOutput log) {
        String[] words = request.strip().split("\\s+");
        if (words.length == 1) {
            return Map.of("levels", levels(log));
        }
        if (words.length != 3) {
            return Map.of("error", "usage: log-level [SUBSYSTEM LEVEL], e.g. log-level ike debug");
        }
        Optional<Subsystem> subsystem = Subsystem.byWord(words[1]);
        if (subsystem.isEmpty()) {
            return Map.of("error", "unknown subsystem '" + words[1] + "'; one of " + Subsystem.words());
        }
        Optional<LogLevel> level = LogLevel.byWord(words[2]);
        if (level.isEmpty()) {
            return Map.of("error", "unknown level '" + words[2] + "'; one of " + LogLevel.words());
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
        LOG.log(System.Logger.Level.INFO, "log level of {0} set to {1} (was {2}) through the control socket", s.word(), now.word(), before.word());
    }

    private static Map<String, String> levels(LogOutput log) {
        Map<String, String> m = new LinkedHashMap<>();
        log.levels().forEach((s, l) -> m.put(s.word(), l.word()));
        return m;
    }
}
