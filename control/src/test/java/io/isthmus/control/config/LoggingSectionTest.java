package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.control.log.LineFormat;
import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.control.log.Subsystem;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The logging section of a gateway's file: a format and a level per subsystem, every mistake named by its field. */
class LoggingSectionTest {
    static GatewayConfig withLogging(String section) {
        return ConfigReaderTest.parse(ConfigReaderTest.GOOD + section);
    }

    static String problem(String section) {
        return assertThrows(ConfigException.class, () -> withLogging(section)).getMessage();
    }

    @Test
    void withoutASectionHumanLinesAtInfo() {
        LoggingSettings s = ConfigReaderTest.parse(ConfigReaderTest.GOOD).logging();
        assertEquals(LoggingSettings.DEFAULT, s);
        for (Subsystem sub : Subsystem.values()) {
            assertEquals(LogLevel.INFO, s.level(sub));
        }
    }

    @Test
    void levelsAndFormatAsWritten() {
        LoggingSettings s = withLogging("""
                logging:
                  format: JSON
                  levels:
                    ike: debug
                    dataplane: Warning
                    netty: warn
                    control: trace
                """).logging();
        assertEquals(LineFormat.JSON, s.format());
        assertEquals(Map.of(Subsystem.IKE, LogLevel.DEBUG, Subsystem.DATAPLANE, LogLevel.WARNING, Subsystem.NETTY, LogLevel.WARNING,
                Subsystem.CONTROL, LogLevel.TRACE), s.levels());
        assertEquals(LogLevel.INFO, s.level(Subsystem.ESP), "a subsystem not named keeps the default");
    }

    @Test
    void aBadLevelOrSubsystemIsNamedWithWhatIsAllowed() {
        assertEquals("/etc/isthmus/gw.yaml: logging.levels.ike: 'loud' is not allowed; one of error, warning, info, debug, trace",
                problem("logging:\n  levels:\n    ike: loud\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging.levels.ikev2: unknown subsystem; one of ike, esp, dataplane, config, control, netty",
                problem("logging:\n  levels:\n    ikev2: debug\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging.levels.ike: 'debug, trace' is not allowed; one of error, warning, info, debug, trace",
                problem("logging:\n  levels:\n    ike: 'debug, trace'\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging.levels.ike: expected one level, not a list; one of error, warning, info, debug, trace",
                problem("logging:\n  levels:\n    ike: [debug]\n"));
    }

    @Test
    void everyBadLevelAtOnce() {
        assertEquals("""
                /etc/isthmus/gw.yaml: logging.levels.ike: 'verbose' is not allowed; one of error, warning, info, debug, trace
                /etc/isthmus/gw.yaml: logging.levels.bgp: unknown subsystem; one of ike, esp, dataplane, config, control, netty""",
                problem("logging:\n  levels:\n    ike: verbose\n    esp: debug\n    bgp: info\n"));
    }

    @Test
    void aBadFormatOrFieldIsNamed() {
        assertEquals("/etc/isthmus/gw.yaml: logging.format: 'syslog' is not allowed; one of human, json", problem("logging:\n  format: syslog\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging.level: unknown field; allowed here: format, levels", problem("logging:\n  level: debug\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging: expected a mapping with format and levels", problem("logging: debug\n"));
        assertEquals("/etc/isthmus/gw.yaml: logging.levels: expected a mapping of subsystem to level, such as ike: debug",
                problem("logging:\n  levels: debug\n"));
    }
}
