package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.IsthmusCommandLineTest.Run;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code isthmus reload} and {@code isthmus connection reset NAME}, and the management API's
 * {@code POST /v1/reload} and {@code POST /v1/connections/NAME/reset}, against a stand-in gateway (no root): what the
 * operator sees, the exit codes systemctl reload goes by, and requests that are not quite right.
 */
class ReloadCommandTest {
    @TempDir
    Path dir;

    /** A gateway whose reloads answer with {@code outcome}, and which knows one connection, to-b. */
    static final class StandIn implements ControlRequests {
        final List<String> requests = new ArrayList<>();
        Reload.Outcome outcome;

        StandIn(Reload.Outcome outcome) {
            this.outcome = outcome;
        }

        @Override
        public Object status() {
            return Map.of("gateway", "gw-test");
        }

        @Override
        public Object reload() {
            requests.add("reload");
            return outcome;
        }

        @Override
        public Object reset(String connection) {
            requests.add("reset " + connection);
            if (!connection.equals("to-b")) {
                throw new ControlRequests.NoSuchConnection("no connection '" + connection + "'; this gateway has: to-b");
            }
            return new Reload.Outcome(true, List.of("to-b: 1 IKE SA(s) deleted, the peer told; a new IKE SA initiated"));
        }
    }

    static final Reload.Outcome APPLIED = new Reload.Outcome(true, List.of("reloaded gw.yaml: 1 unchanged, 1 changed, 0 added, 0 removed",
            "to-b: unchanged, its SAs kept", "to-c: prefixes: routes and tunnel table updated; its SAs kept (route-based: any to any)"));
    static final Reload.Outcome REFUSED = new Reload.Outcome(false, List.of("reload refused, the running configuration stays:",
            "gw.yaml: connections[1].ipsecPolicies[0].dhGroup: 'DHGroup2' is not allowed; one of ECP384, ECP256, DHGroup14, DHGroup2048, X25519"));

    static ApiClient.Response post(Path socket, String path) throws Exception {
        return ApiClient.post(socket, path, Duration.ofSeconds(5));
    }

    @Test
    void reloadPrintsWhatItDidAndExitsZero() throws Exception {
        Path socket = dir.resolve("gw.sock");
        StandIn gateway = new StandIn(APPLIED);
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            Run run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", socket.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals(APPLIED.lines(), run.out().lines().toList());
            assertEquals("", run.err());
            assertEquals(List.of("reload"), gateway.requests);
        }
    }

    @Test
    void aRefusedReloadSaysWhyOnStderrAndExitsTwo() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, new StandIn(REFUSED))) {
            Run run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", socket.toString());
            assertEquals(2, run.exit());
            assertEquals("", run.out());
            assertEquals(REFUSED.lines().stream().map(l -> "isthmus: " + l).toList(), run.errLines());
        }
    }

    @Test
    void aPartlyAppliedReloadExitsThreeAndABusyOneFour() throws Exception {
        Path socket = dir.resolve("gw.sock");
        Reload.Outcome partly = new Reload.Outcome(false, List.of("reload of gw.yaml applied only partly (java.util.concurrent.TimeoutException);"
                + " check isthmus status, and restart the gateway if in doubt"), Reload.Result.PARTLY_APPLIED);
        Reload.Outcome busy = new Reload.Outcome(false, List.of(Reload.BUSY), Reload.Result.BUSY);
        Reload.Outcome stopping = new Reload.Outcome(false, List.of(Reload.STOPPING));
        StandIn gateway = new StandIn(partly);
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            Run run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", socket.toString());
            assertEquals(3, run.exit(), run.err());
            assertEquals(List.of("isthmus: " + partly.lines().getFirst()), run.errLines());
            gateway.outcome = busy;
            run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", socket.toString());
            assertEquals(4, run.exit(), run.err());
            assertEquals(List.of("isthmus: a reload or reset is already running; try again"), run.errLines());
            gateway.outcome = stopping;
            run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", socket.toString());
            assertEquals(2, run.exit(), run.err());
            assertEquals(List.of("isthmus: the gateway is stopping"), run.errLines());
        }
        Run help = IsthmusCommandLineTest.isthmus("reload", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("3 applied only partly"), help.out());
        assertTrue(help.out().replaceAll("\\s+", " ").contains("isthmus connection reset NAME"), help.out());
    }

    @Test
    void noGatewayThereExitsOne() {
        Run run = IsthmusCommandLineTest.isthmus("reload", "--control-socket", dir.resolve("nobody.sock").toString());
        assertEquals(1, run.exit());
        assertTrue(run.err().startsWith("isthmus: cannot reach the gateway at " + dir.resolve("nobody.sock")), run.err());
    }

    @Test
    void connectionResetNamesTheConnection() throws Exception {
        Path socket = dir.resolve("gw.sock");
        StandIn gateway = new StandIn(APPLIED);
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            Run run = IsthmusCommandLineTest.isthmus("connection", "reset", "to-b", "--control-socket", socket.toString());
            assertEquals(0, run.exit(), run.err());
            assertEquals("to-b: 1 IKE SA(s) deleted, the peer told; a new IKE SA initiated\n", run.out());

            Run unknown = IsthmusCommandLineTest.isthmus("connection", "reset", "to-x", "--control-socket", socket.toString());
            assertEquals(1, unknown.exit());
            assertEquals("isthmus: the gateway at " + socket + " answered: no connection 'to-x'; this gateway has: to-b\n", unknown.err());

            Run missing = IsthmusCommandLineTest.isthmus("connection", "reset", "--control-socket", socket.toString());
            assertEquals(2, missing.exit(), "picocli: a usage error");
            assertTrue(missing.err().contains("NAME"), missing.err());
            assertEquals(List.of("reset to-b", "reset to-x"), gateway.requests);
        }
    }

    @Test
    void theApiTakesReloadAndResetAndNothingLikeThem() throws Exception {
        Path socket = dir.resolve("gw.sock");
        StandIn gateway = new StandIn(APPLIED);
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            assertTrue(post(socket, "/v1/reload").json().path("applied").asBoolean());
            assertEquals(APPLIED.lines().getFirst(), post(socket, "/v1/reload").json().path("lines").get(0).asText());
            assertEquals("to-b: 1 IKE SA(s) deleted, the peer told; a new IKE SA initiated",
                    post(socket, "/v1/connections/to-b/reset").json().path("lines").get(0).asText());
            assertEquals("a connection's name is not blank", post(socket, "/v1/connections//reset").error());
            assertEquals(405, ApiClient.get(socket, "/v1/reload").status(), "a change is a POST");
            assertEquals("no /v1/reload/now; GET /v1 lists the verbs", post(socket, "/v1/reload/now").error());
            assertEquals("no /v1/RELOAD; GET /v1 lists the verbs", post(socket, "/v1/RELOAD").error());
            assertEquals("the API is under /v1 (GET /v1 lists the verbs)", post(socket, "/reload").error());
            ApiClient.Response spaced = post(socket, "/v1/connections/" + ApiClient.segment("a b") + "/reset");
            assertEquals(404, spaced.status());
            assertEquals("no connection 'a b'; this gateway has: to-b", spaced.error(), "a name may have spaces");
            // A newline in a name is part of the name, not a second request.
            assertEquals(404, post(socket, "/v1/connections/" + ApiClient.segment("to-b\nreload") + "/reset").status());
            assertEquals(List.of("reload", "reload", "reset to-b", "reset a b", "reset to-b\nreload"), gateway.requests);
        }
    }

    @Test
    void aSocketThatOnlyShowsStatusSaysSo() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, () -> Map.of("gateway", "gw-test"))) {
            ApiClient.Response reload = post(socket, "/v1/reload");
            assertEquals(501, reload.status());
            assertEquals("this gateway does not reload", reload.error());
            assertEquals("gw-test", ApiClient.get(socket, "/v1/status").json().path("gateway").asText());
        }
    }
}
