package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.log.LineFormat;
import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.control.log.Subsystem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The {@code logging:} section of a gateway's configuration (an Isthmus addition to Azure's model):
 *
 * <pre>
 * logging:
 *   format: json          # or human, the default
 *   levels:
 *     ike: debug          # error, warning, info (the default), debug, trace
 *     dataplane: warning
 * </pre>
 *
 * Every bad subsystem or level in {@code levels} is reported at once, each with its field.
 */
final class LoggingSection {
    private static final String FIELD = "logging";

    private LoggingSection() {
    }

    static LoggingSettings read(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return LoggingSettings.DEFAULT;
        }
        if (!n.isObject()) {
            throw new ConfigException(file, FIELD, "expected a mapping with format and levels");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.equals("format") && !name.equals("levels")) {
                throw new ConfigException(file, FIELD + "." + name, "unknown field; allowed here: format, levels");
            }
        }
        return new LoggingSettings(format(file, n.get("format")), levels(file, n.get("levels")));
    }

    private static LineFormat format(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return LineFormat.HUMAN;
        }
        for (LineFormat f : LineFormat.values()) {
            if (n.isValueNode() && f.word().equalsIgnoreCase(n.asText().strip())) {
                return f;
            }
        }
        throw new ConfigException(file, FIELD + ".format", "'" + n.asText() + "' is not allowed; one of human, json");
    }

    private static Map<Subsystem, LogLevel> levels(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return Map.of();
        }
        String where = FIELD + ".levels";
        if (!n.isObject()) {
            throw new ConfigException(file, where, "expected a mapping of subsystem to level, such as ike: debug");
        }
        Map<Subsystem, LogLevel> levels = new EnumMap<>(Subsystem.class);
        List<ConfigException> problems = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String field = where + "." + e.getKey();
            var subsystem = Subsystem.byWord(e.getKey());
            if (subsystem.isEmpty()) {
                problems.add(new ConfigException(file, field, "unknown subsystem; one of " + Subsystem.words()));
                continue;
            }
            if (!e.getValue().isValueNode()) {
                problems.add(new ConfigException(file, field, "expected one level, not " + (e.getValue().isArray() ? "a list" : "a mapping")
                        + "; one of " + LogLevel.words()));
                continue;
            }
            var level = LogLevel.byWord(e.getValue().asText());
            if (level.isEmpty()) {
                problems.add(new ConfigException(file, field, "'" + e.getValue().asText() + "' is not allowed; one of " + LogLevel.words()));
                continue;
            }
            levels.put(subsystem.get(), level.get());
        }
        ConfigException.throwIfAny(problems);
        return levels;
    }
}
