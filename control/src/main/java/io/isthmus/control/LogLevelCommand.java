package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code isthmus log-level [SUBSYSTEM LEVEL]}: a running gateway's log levels, or one of them changed. */
@Command(name = "log-level", description = {"Show the log level of each subsystem of a running gateway, or set one until the next reload or restart (a reload sets the file's levels again):",
        "isthmus log-level ike debug. Subsystems: ike, esp, dataplane, config, control, netty; levels: error, warning, info, debug, trace."})
final class LogLevelCommand implements Callable<Integer> {
    @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
    Path socket;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SUBSYSTEM", description = "The subsystem whose level to set.")
    String subsystem;

    @Parameters(index = "1", arity = "0..1", paramLabel = "LEVEL", description = "Its new level.")
    String level;

    @Override
    public Integer call() throws IOException {
        if (subsystem != null && level == null) {
            System.err.println("isthmus: log-level " + subsystem + ": which level? e.g. isthmus log-level " + subsystem + " debug");
            return 2;
        }
        Path s;
        try {
            s = socket != null ? socket : ControlSocket.onlySocketHere();
        } catch (IOException e) {
            System.err.println("isthmus: " + e.getMessage());
            return 1;
        }
        JsonNode tree;
        try {
            ApiClient.Response r = subsystem == null ? ApiClient.get(s, "/v1/log-level")
                    : ApiClient.call(s, io.netty.handler.codec.http.HttpMethod.PUT, "/v1/log-level/" + ApiClient.segment(subsystem),
                            ControlSocket.JSON.writeValueAsString(java.util.Map.of("level", level)), ApiClient.TIMEOUT);
            if (r.error() != null) {
                System.err.println("isthmus: the gateway at " + s + " answered: " + r.error());
                return r.status() == 400 ? 2 : 1;
            }
            tree = r.json();
        } catch (IOException e) {
            System.err.println("isthmus: cannot reach the gateway at " + s + ": " + e.getMessage());
            return 1;
        }
        JsonNode changed = tree.path("changed");
        if (!changed.isMissingNode()) {
            System.out.printf("%s: %s (was %s)%n", changed.path("subsystem").asText(), changed.path("to").asText(), changed.path("from").asText());
        } else {
            tree.path("levels").fields().forEachRemaining(e -> System.out.printf("%-10s %s%n", e.getKey(), e.getValue().asText()));
        }
        return 0;
    }
}
