package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code isthmus capture start|stop|status}: Azure's start/stop packet capture for a running
 * gateway, written by its data plane as pcapng, optionally with the keys Wireshark decrypts it with.
 */
@Command(name = "capture", description = "Capture a running gateway's packets (outer: IKE and ESP as on the wire; inner: what the tunnels carry) "
        + "into a pcapng file of its capture directory.",
        subcommands = {CaptureCommand.Start.class, CaptureCommand.Stop.class, CaptureCommand.Status.class})
final class CaptureCommand {

    @Command(name = "start", description = {"Start a capture (one at a time) and print where it goes; with --wait, wait until it ends (Ctrl-C stops it) "
            + "and print what it holds.",
            "With --keys, the keys of the SAs it sees (those made during it too) are written beside it for Wireshark, mode 0600: "
                    + "anyone who reads them can decrypt the gateway's traffic. tshark -r FILE -o esp.enable_encryption_decode:TRUE, with the "
                    + "two tables in the Wireshark profile (esp_sa, ikev2_decryption_table)."})
    static final class Start extends Base {
        @Option(names = "--connection", paramLabel = "NAME", description = "Only this connection (default: the whole gateway).")
        String connection;

        @Option(names = "--layers", paramLabel = "both|outer|inner", description = "Outer packets (IKE, ESP), inner ones, or both (default).")
        String layers;

        @Option(names = "--direction", paramLabel = "both|ingress|egress", description = "Only from the peer (ingress) or towards it (egress).")
        String direction;

        @Option(names = "--source-subnet", paramLabel = "PREFIX", description = "Packets from this prefix (repeatable).")
        List<String> sources = new ArrayList<>();

        @Option(names = "--destination-subnet", paramLabel = "PREFIX", description = "Packets to this prefix (repeatable).")
        List<String> destinations = new ArrayList<>();

        @Option(names = "--source-port", paramLabel = "PORT", description = "Packets from this port (repeatable).")
        List<Integer> sourcePorts = new ArrayList<>();

        @Option(names = "--destination-port", paramLabel = "PORT", description = "Packets to this port (repeatable).")
        List<Integer> destinationPorts = new ArrayList<>();

        @Option(names = "--protocol", paramLabel = "PROTO", description = "tcp, udp, icmp, icmpv6, esp, gre, sctp or a number (repeatable).")
        List<String> protocols = new ArrayList<>();

        @Option(names = "--tcp-flags", paramLabel = "FLAGS", split = ",", description = "TCP packets with any of these: SYN,FIN,RST,PSH,ACK,URG.")
        List<String> tcpFlags = new ArrayList<>();

        @Option(names = "--snap-length", paramLabel = "BYTES", description = "Keep at most this much of each packet (default 65535).")
        Integer snapLength;

        @Option(names = "--max-size", paramLabel = "BYTES", description = "End the capture when its file is this big (default 100 MiB, at most 1 GiB).")
        Long maxBytes;

        @Option(names = "--duration", paramLabel = "SECONDS", description = "End the capture after this long (default 300, at most 3600).")
        Long seconds;

        @Option(names = "--keys", description = "Write the SAs' keys beside the capture for Wireshark (mode 0600).")
        boolean keys;

        @Option(names = "--wait", description = "Wait until the capture ends; Ctrl-C stops it.")
        boolean waitForEnd;

        @Override
        Integer run(Path s, PrintWriter out, PrintWriter err) throws IOException {
            ObjectNode body = ControlSocket.JSON.createObjectNode();
            if (connection != null) {
                body.put("connection", connection);
            }
            if (layers != null) {
                body.put("layers", layers);
            }
            if (direction != null) {
                body.put("direction", direction);
            }
            strings(body, "sourceSubnets", sources);
            strings(body, "destinationSubnets", destinations);
            numbers(body, "sourcePorts", sourcePorts);
            numbers(body, "destinationPorts", destinationPorts);
            ArrayNode p = body.putArray("protocols");
            protocols.forEach(x -> {
                if (x.matches("\\d+")) {
                    p.add(Integer.parseInt(x));
                } else {
                    p.add(x);
                }
            });
            strings(body, "tcpFlags", tcpFlags);
            if (snapLength != null) {
                body.put("snapLength", snapLength);
            }
            if (maxBytes != null) {
                body.put("maxBytes", maxBytes);
            }
            if (seconds != null) {
                body.put("durationSeconds", seconds);
            }
            body.put("keys", keys);
            ApiClient.Response r = ApiClient.call(s, HttpMethod.POST, "/v1/captures", body.toString(), ApiClient.TIMEOUT);
            if (r.error() != null) {
                err.println("isthmus: the gateway at " + s + " answered: " + r.error());
                return r.status() == 400 || r.status() == 404 ? 2 : 1;
            }
            JsonNode started = r.json();
            out.println("capturing into " + started.path("file").asText());
            if (started.has("espSa")) {
                out.println("keys (mode 0600) in " + started.path("espSa").asText() + " and " + started.path("ikev2DecryptionTable").asText());
            }
            out.flush();
            if (!waitForEnd) {
                return 0;
            }
            Thread stopOnCtrlC = new Thread(() -> {
                try {
                    ApiClient.post(s, "/v1/captures/stop", ApiClient.TIMEOUT);
                } catch (IOException ignored) {
                    // the gateway went, and its capture with it
                }
            });
            Runtime.getRuntime().addShutdownHook(stopOnCtrlC);
            try {
                while (true) {
                    JsonNode st = ApiClient.get(s, "/v1/captures").json();
                    if (!st.has("running")) {
                        out.println(summary(st.path("last")));
                        return 0;
                    }
                    Thread.sleep(500);
                }
            } catch (InterruptedException e) {
                return 1;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stopOnCtrlC);
                } catch (IllegalStateException shuttingDown) {
                    // Ctrl-C: the hook runs
                }
            }
        }

        private static void strings(ObjectNode body, String field, List<String> values) {
            ArrayNode a = body.putArray(field);
            values.forEach(a::add);
        }

        private static void numbers(ObjectNode body, String field, List<Integer> values) {
            ArrayNode a = body.putArray(field);
            values.forEach(a::add);
        }
    }

    @Command(name = "stop", description = "Stop the running capture and print what it holds.")
    static final class Stop extends Base {
        @Override
        Integer run(Path s, PrintWriter out, PrintWriter err) throws IOException {
            ApiClient.Response r = ApiClient.post(s, "/v1/captures/stop", ApiClient.TIMEOUT);
            if (r.error() != null) {
                err.println("isthmus: " + r.error());
                return 1;
            }
            out.println(summary(r.json()));
            return 0;
        }
    }

    @Command(name = "status", description = "Show the running capture (file, packets, bytes, time left) and the last one.")
    static final class Status extends Base {
        @Option(names = "--json", description = "As the API answers it.")
        boolean json;

        @Override
        Integer run(Path s, PrintWriter out, PrintWriter err) throws IOException {
            ApiClient.Response r = ApiClient.get(s, "/v1/captures");
            if (r.error() != null) {
                err.println("isthmus: the gateway at " + s + " answered: " + r.error());
                return 1;
            }
            JsonNode st = r.json();
            if (json) {
                out.println(ControlSocket.JSON.writeValueAsString(st));
                return 0;
            }
            JsonNode running = st.path("running");
            if (running.isMissingNode()) {
                out.println("no capture running");
            } else {
                out.printf("capturing into %s: %d packets, %d bytes, %d dropped, %d s left%s%n", running.path("file").asText(),
                        running.path("packets").asLong(), running.path("bytes").asLong(), running.path("dropped").asLong(),
                        running.path("secondsLeft").asLong(), running.path("keys").asBoolean() ? ", keys exported" : "");
            }
            if (st.has("last")) {
                out.println("last: " + summary(st.path("last")));
            }
            return 0;
        }
    }

    static String summary(JsonNode s) {
        return String.format("%s: %d packets, %d bytes, %d dropped; ended: %s%s", s.path("file").asText(), s.path("packets").asLong(),
                s.path("bytes").asLong(), s.path("dropped").asLong(), s.path("ended").asText(),
                s.has("failure") ? " (" + s.path("failure").asText() + ")" : "");
    }

    /** The socket found, errors said in one line. */
    abstract static class Base implements Callable<Integer> {
        @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
        Path socket;

        @Spec
        CommandSpec spec;

        abstract Integer run(Path socket, PrintWriter out, PrintWriter err) throws IOException;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                Path s = socket != null ? socket : ControlSocket.onlySocketHere();
                try {
                    return run(s, out, err);
                } catch (IOException e) {
                    err.println("isthmus: cannot reach the gateway at " + s + ": " + e.getMessage());
                    return 1;
                }
            } catch (IOException e) {
                err.println("isthmus: " + e.getMessage());
                return 1;
            } finally {
                out.flush();
                err.flush();
            }
        }
    }
}
