package io.isthmus.control.log;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The {@code logging:} section of a gateway's configuration: the line format, and a level for
 * each subsystem the operator named (the others stay at {@link #DEFAULT_LEVEL}).
 */
public record LoggingSettings(LineFormat format, Map<Subsystem, LogLevel> levels) {
    public static final LogLevel DEFAULT_LEVEL = LogLevel.INFO;
    /** What a configuration without a logging section means. */
    public static final LoggingSettings DEFAULT = new LoggingSettings(LineFormat.HUMAN, Map.of());

    public LoggingSettings {
        levels = levels.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(levels));
    }

    /** The level of {@code s}: as configured, else the default. */
    public LogLevel level(Subsystem s) {
        return levels.getOrDefault(s, DEFAULT_LEVEL);
    }
}
