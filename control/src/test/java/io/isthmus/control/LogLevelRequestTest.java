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

    static JsonNode levels(Path socket) throws IOException {
        return ApiClient.get(socket, "/v1/log-level").json();
    }

    static ApiClient.Response set(Path socket, String subsystem, String body) throws IOException {
        return ApiClient.call(socket, io.netty.handler.codec.http.HttpMethod.PUT, "/v1/log-level/" + subsystem, body, Duration.ofSeconds(5));
    }

    static JsonNode set(Path socket, String subsystem, String level, int expectedStatus) throws IOException {
        ApiClient.Response r = set(socket, subsystem, "{\"level\": \"" + level + "\"}");
        assertEquals(expectedStatus, r.status(), r.body());
        return r.json();
    }

    @Test
    void theSocketAnswersTheLevelsAndSetsOne() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY); CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            assertEquals("{\"ike\":\"info\",\"esp\":\"info\",\"dataplane\":\"info\",\"config\":\"info\",\"control\":\"info\",\"netty\":\"info\"}",
                    levels(socket).path("levels").toString());

            JsonNode set = set(socket, "ike", "debug", 200);
            assertEquals("{\"subsystem\":\"ike\",\"from\":\"info\",\"to\":\"debug\"}", set.path("changed").toString());
            assertEquals("debug", set.path("levels").path("ike").asText());
            assertTrue(System.getLogger("io.isthmus.ike.exchange").isLoggable(System.Logger.Level.DEBUG), "IKE's own loggers log at debug now");
            assertFalse(System.getLogger("io.isthmus.dataplane").isLoggable(System.Logger.Level.DEBUG));
            assertEquals(List.of("<6>control: log level of ike set to debug (was info) through the management API\n"), log.texts());
        }
    }

    @Test
    void turningControlDownStillLogsTheChange() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY); CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            assertEquals("error", set(socket, "control", "error", 200).path("changed").path("to").asText());
            assertEquals(List.of("<6>control: log level of control set to error (was info) through the management API\n"), log.texts());
            assertEquals(LogLevel.ERROR, LogOutput.process().level(Subsystem.CONTROL));
        }
    }

    @Test
    void aWrongRequestIsAnsweredWithWhatIsAllowedAndChangesNothing() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, ControlSocketTest.GATEWAY)) {
            assertEquals("unknown subsystem 'ikev2'; one of ike, esp, dataplane, config, control, netty",
                    set(socket, "ikev2", "debug", 400).path("error").asText());
            assertEquals("unknown level 'loud'; one of error, warning, info, debug, trace", set(socket, "ike", "loud", 400).path("error").asText());
            assertEquals("the body needs \"level\" as a string, e.g. {\"level\": \"debug\"}", set(socket, "ike", "{\"level\": 3}").error());
            assertEquals("a JSON body is needed: {\"level\": ...}", set(socket, "ike", null).error());
            assertTrue(set(socket, "ike", "{level").error().startsWith("the body is not JSON: "));
            assertEquals("no /v1/log-levels; GET /v1 lists the verbs", ApiClient.get(socket, "/v1/log-levels").error());
            assertEquals(405, ApiClient.post(socket, "/v1/log-level/ike", Duration.ofSeconds(5)).status());
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
            assertEquals(2, wrong.code(), "a wrong word is the operator's mistake");
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
