package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.log.CapturedLines;
import io.isthmus.control.log.LineFormat;
import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.control.log.Subsystem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Log levels at run time, through a gateway's control socket and {@code isthmus log-level}. */
class LogLevelRequestTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        LogOutput.install();
    }

    @AfterEach
    void defaultLevels() {
        LogOutput.process().apply(LoggingSettings.DEFAULT);
    }

    static JsonNode ask(Path socket, String request) throws IOException {
        return ControlSocket.JSON.readTree(ControlSocket.ask(socket, request, Duration.ofSeconds(5)));
    }

    @Test
    void theSocketAnswersTheLevelsAndSetsOne() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY); CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            assertEquals("{\"ike\":\"info\",\"esp\":\"info\",\"dataplane\":\"info\",\"config\":\"info\",\"control\":\"info\",\"netty\":\"info\"}",
                    ask(socket, "log-level").path("levels").toString());

            JsonNode set = ask(socket, "log-level ike debug");
            assertEquals("{\"subsystem\":\"ike\",\"from\":\"info\",\"to\":\"debug\"}", set.path("changed").toString());
            assertEquals("debug", set.path("levels").path("ike").asText());
            assertTrue(System.getLogger("io.isthmus.ike.exchange").isLoggable(System.Logger.Level.DEBUG), "IKE's own loggers log at debug now");
            assertFalse(System.getLogger("io.isthmus.dataplane").isLoggable(System.Logger.Level.DEBUG));
            assertEquals(List.of("<6>control: log level of ike set to debug (was info) through the control socket\n"), log.texts());
        }
    }

    @Test
    void turningControlDownStillLogsTheChange() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY); CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            assertEquals("error", ask(socket, "log-level control error").path("changed").path("to").asText());
            assertEquals(List.of("<6>control: log level of control set to error (was info) through the control socket\n"), log.texts());
            assertEquals(LogLevel.ERROR, LogOutput.process().level(Subsystem.CONTROL));
        }
    }

    @Test
    void aWrongRequestIsAnsweredWithWhatIsAllowedAndChangesNothing() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY)) {
            assertEquals("unknown subsystem 'ikev2'; one of ike, esp, dataplane, config, control, netty",
                    ask(socket, "log-level ikev2 debug").path("error").asText());
            assertEquals("unknown level 'loud'; one of error, warning, info, debug, trace", ask(socket, "log-level ike loud").path("error").asText());
            assertEquals("usage: log-level [SUBSYSTEM LEVEL], e.g. log-level ike debug", ask(socket, "log-level ike").path("error").asText());
            assertEquals("unknown request 'log-levels'; try status, reload, reset NAME, log-level, handover or resume", ask(socket, "log-levels").path("error").asText());
        }
        LogOutput.process().levels().forEach((s, l) -> assertEquals(LogLevel.INFO, l, s.word()));
    }

    /** The command's exit code and what it printed. */
    record Result(int code, String out, String err) {
    }

    static Result isthmus(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = Isthmus.commandLine(false).execute(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void theCommandShowsAndSetsLevels() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY)) {
            Result set = isthmus("log-level", "--control-socket", socket.toString(), "dataplane", "trace");
            assertEquals(0, set.code(), set.err());
            assertEquals("dataplane: trace (was info)\n", set.out());

            Result shown = isthmus("log-level", "--control-socket", socket.toString());
            assertEquals(0, shown.code(), shown.err());
            assertEquals("""
                    ike        info
                    esp        info
                    dataplane  trace
                    config     info
                    control    info
                    netty      info
                    """, shown.out());

            Result wrong = isthmus("log-level", "--control-socket", socket.toString(), "ike", "loud");
            assertEquals(1, wrong.code());
            assertEquals("isthmus: the gateway at " + socket + " answered: unknown level 'loud'; one of error, warning, info, debug, trace\n",
                    wrong.err());

            Result half = isthmus("log-level", "--control-socket", socket.toString(), "ike");
            assertEquals(2, half.code());
            assertEquals("isthmus: log-level ike: which level? e.g. isthmus log-level ike debug\n", half.err());
        }
        Result none = isthmus("log-level", "--control-socket", dir.resolve("nobody.sock").toString());
        assertEquals(1, none.code());
        assertTrue(none.err().startsWith("isthmus: cannot reach the gateway at "), none.err());
    }
}
