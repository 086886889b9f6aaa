package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * A request that changes a running gateway ({@code POST /v1/reload}, {@code POST
 * /v1/connections/NAME/reset}, ...), sent to its management API, and its {@link Reload.Outcome} shown: what was done on stdout (exit 0), or
 * on stderr why it was refused (exit 2, as for a configuration mistake at start, and while the
 * gateway stops), that it was applied only partly (exit 3), or that another reload or reset was
 * running and nothing was done (exit 4: try again); a gateway that cannot be reached or answers
 * with an error exits 1. See {@link #EXIT_CODES}.
 */
final class OutcomeRequest {
    static final int APPLIED = 0;
    static final int UNREACHABLE = 1;
    static final int REFUSED = 2;
    static final int PARTLY_APPLIED = 3;
    static final int BUSY = 4;
    /** For the commands' help. */
    static final String EXIT_CODES = "Exit codes: 0 applied; 1 the gateway could not be reached (or answered with an error); 2 refused, "
            + "nothing changed (also while the gateway stops); 3 applied only partly (see isthmus status; restart if in doubt); "
            + "4 another reload or reset was running, nothing changed: try again.";

    private OutcomeRequest() {
    }

    static int send(Path socket, String path, CommandLine cmd) {
        return send(socket, path, ApiClient.TIMEOUT, cmd);
    }

    /** {@code POST path}; {@code timeout}: how long the verb may take (an initiate waits for the peer). */
    static int send(Path socket, String path, java.time.Duration timeout, CommandLine cmd) {
        PrintWriter out = cmd.getOut();
        PrintWriter err = cmd.getErr();
        try {
            Path s = socket != null ? socket : ControlSocket.onlySocketHere();
            ApiClient.Response answer;
            try {
                answer = ApiClient.post(s, path, timeout);
            } catch (IOException e) {
                throw new IOException("cannot reach the gateway at " + s + ": " + e.getMessage());
            }
            JsonNode tree = answer.json();
            if (tree.has("error")) {
                throw new IOException("the gateway at " + s + " answered: " + tree.path("error").asText());
            }
            boolean applied = tree.path("applied").asBoolean();
            PrintWriter to = applied ? out : err;
            for (JsonNode line : tree.path("lines")) {
                to.println(applied ? line.asText() : "isthmus: " + line.asText());
            }
            to.flush();
            if (applied) {
                return APPLIED;
            }
            return switch (tree.path("result").asText()) {
                case "PARTLY_APPLIED" -> PARTLY_APPLIED;
                case "BUSY" -> BUSY;
                default -> REFUSED;
            };
        } catch (IOException e) {
            err.println("isthmus: " + e.getMessage());
            err.flush();
            return UNREACHABLE;
        }
    }
}
