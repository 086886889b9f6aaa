package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.LoggerContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configuration's logging section applied to a Logback context of its own (not the process's). */
class LogOutputTest {
    final LoggerContext context = new LoggerContext();
    final LogOutput log = new LogOutput(context);

    LogOutputTest() {
        log.configureDefaults(false);
    }

    @Test
    void defaultsAreHumanLinesAtInfo() {
        assertEquals(LineFormat.HUMAN, log.format());
        log.levels().forEach((s, l) -> assertEquals(LogLevel.INFO, l, s.word()));
    }

    @Test
    void aConfigurationSetsFormatAndLevelsAndTheNextOneResetsWhatItDoesNotName() {
        log.apply(new LoggingSettings(LineFormat.JSON, Map.of(Subsystem.IKE, LogLevel.DEBUG, Subsystem.NETTY, LogLevel.WARNING)));
        assertEquals(LineFormat.JSON, log.format());
        assertEquals(LogLevel.DEBUG, log.level(Subsystem.IKE));
        assertEquals(LogLevel.WARNING, log.level(Subsystem.NETTY));
        assertEquals(LogLevel.INFO, log.level(Subsystem.DATAPLANE));
        assertEquals(LogLevel.DEBUG, LogLevel.of(context.getLogger("io.isthmus.ike.exchange").getEffectiveLevel()), "its children follow");
        assertEquals(LogLevel.WARNING, LogLevel.of(context.getLogger("io.netty.channel.epoll.EpollDatagramChannel").getEffectiveLevel()));

        log.apply(new LoggingSettings(LineFormat.HUMAN, Map.of(Subsystem.DATAPLANE, LogLevel.TRACE)));
        assertEquals(LineFormat.HUMAN, log.format());
        assertEquals(LogLevel.INFO, log.level(Subsystem.IKE), "no longer named: back to the default");
        assertEquals(LogLevel.TRACE, log.level(Subsystem.DATAPLANE));
    }

    @Test
    void settingOneLevelSaysWhatItWas() {
        assertEquals(LogLevel.INFO, log.level(Subsystem.CONTROL, LogLevel.ERROR));
        assertEquals(LogLevel.ERROR, log.level(Subsystem.CONTROL, LogLevel.DEBUG));
        assertEquals(LogLevel.DEBUG, log.level(Subsystem.CONTROL));
    }
}
