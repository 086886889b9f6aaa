package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code isthmus monitor}: the gateway's IKE events as they happen (as {@code swanctl --monitor-sa}
 * and vici's event stream show them), a line each, until Ctrl-C or the gateway stops.
 */
@Command(name = "monitor", description = {"Follow a running gateway's IKE events live: SAs up, down (and why), rekeyed, "
        + "authentication failures, dead peers, failed attempts. Ends with Ctrl-C, or when the gateway stops (exit 0).",
        "The same stream: curl -N --unix-socket /run/isthmus/GW.sock http://isthmus/v1/events"})
final class MonitorCommand implements Callable<Integer> {
    @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
    Path socket;

    @Option(names = "--connection", paramLabel = "NAME", description = "Only this connection's events.")
    String connection;

    @Option(names = "--json", description = "The events as the API sends them, a JSON object a line.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path s;
        try {
            s = socket != null ? socket : ControlSocket.onlySocketHere();
        } catch (IOException e) {
            err.println("isthmus: " + e.getMessage());
            err.flush();
            return 1;
        }
        try {
            ApiClient.Response end = ApiClient.follow(s, "/v1/events" + (connection == null ? "" : "?connection=" + ApiClient.segment(connection)),
                    line -> {
                        out.println(json ? line : render(line));
                        out.flush();
                    });
            if (end.status() != 200) {
                err.println("isthmus: the gateway at " + s + " answered: " + new ApiClient.Response(end.status(), end.body()).error());
                err.flush();
                return 1;
            }
            err.println("isthmus: the gateway at " + s + " closed the stream (it stopped)");
            err.flush();
            return 0;
        } catch (IOException e) {
            err.println("isthmus: cannot reach the gateway at " + s + ": " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    /** {@code 2026-12-02T23:10:04.512Z CHILD_REKEYED  to-hq  c1000001_i c2000002_o  replaced c1000000_i ...}. */
    static String render(String line) {
        try {
            JsonNode e = ControlSocket.JSON.readTree(line);
            StringBuilder b = new StringBuilder();
            b.append(e.path("at").asText()).append("  ").append(String.format("%-22s", e.path("kind").asText()));
            for (String f : new String[] {"connection", "ikeSa", "childSa", "detail"}) {
                if (e.hasNonNull(f)) {
                    b.append("  ").append(e.get(f).asText());
                }
            }
            return b.toString();
        } catch (IOException notJson) {
            return line;
        }
    }
}
