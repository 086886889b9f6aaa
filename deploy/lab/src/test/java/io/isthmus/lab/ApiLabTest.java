package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The management API of a running gateway, used as an operator uses it: curl on the control
 * socket and the isthmus command, while curl and {@code isthmus monitor} follow the events. A
 * child SA and the IKE SA rekeyed through the API show up in both streams while the tunnel
 * carries on; a terminated connection stays down (and status says why) until it is initiated
 * again; an idle client holds up nobody; and the socket admits root, members of the configured
 * group (primary or supplementary), and nobody else: not through the file's mode, and not when
 * the mode has been loosened by hand either (SO_PEERCRED), which the gateway logs.
 */
class ApiLabTest extends LabTestBase {
    static final String CONNECTION = "to-site-b";
    /** Debian's nogroup: a group that exists on every machine, whose member the test becomes with setpriv. */
    static final int NOGROUP = 65534;

    @Test
    void everyVerbAsAnOperatorUsesItAndOnlyWhoMay() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-api"), false);
        String configA = LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("InitiatorOnly")) + "control:\n  group: nogroup\n";
        Path socket = LabGateways.startIsthmus(lab, Side.A, configA);
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withMode("ResponderOnly")));
        assertTrue(lab.awaitPath(Duration.ofSeconds(90), false), "no path from host-a to host-b; logs in " + lab.work());

        BlockingQueue<String> curlEvents = follow(List.of("curl", "-sS", "-N", "--unix-socket", socket.toString(), "http://isthmus/v1/events"));
        List<String> monitor = new ArrayList<>(LabGateways.javaCommand());
        monitor.addAll(List.of("io.isthmus.control.Isthmus", "monitor", "--control-socket", socket.toString()));
        BlockingQueue<String> monitorLines = follow(monitor);
        assertNotNull(await(curlEvents, l -> l.contains("\"FOLLOWING\"")), "curl's stream began");
        assertNotNull(await(monitorLines, l -> l.contains("FOLLOWING")), "isthmus monitor began");

        try (SocketChannel idle = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            // A client that connected and says nothing: the others are answered all the same.
            Answer child = curl(socket, "-X", "POST", "http://isthmus/v1/connections/" + CONNECTION + "/rekey?sa=child");
            assertEquals(200, child.status(), child.body());
            assertTrue(child.json().path("applied").asBoolean(), child.body());
            assertTrue(idle.isConnected());
        }
        String rekeyed = await(curlEvents, l -> l.contains("\"CHILD_REKEYED\"") && l.contains(CONNECTION));
        assertNotNull(rekeyed, "the stream shows the child rekey the API forced");
        assertNotNull(await(monitorLines, l -> l.contains("CHILD_REKEYED") && l.contains(CONNECTION)), "so does isthmus monitor");

        Cli ike = isthmus("connection", "rekey", CONNECTION, "--control-socket", socket.toString());
        assertEquals(0, ike.exit(), ike.err());
        assertTrue(ike.out().startsWith(CONNECTION + ": IKE SA rekeyed: replaces "), ike.out());
        assertNotNull(await(curlEvents, l -> l.contains("\"IKE_REKEYED\"")), "the stream shows the IKE rekey");
        assertTrue(lab.awaitPath(Duration.ofSeconds(5), false), "the tunnel carried on through both rekeys");

        Cli terminated = isthmus("connection", "terminate", CONNECTION, "--control-socket", socket.toString());
        assertEquals(0, terminated.exit(), terminated.err());
        assertNotNull(await(curlEvents, l -> l.contains("\"IKE_DOWN\"")), "the stream shows the IKE SA going");
        Thread.sleep(7000); // longer than a keep-up round (5 s): a terminated connection is not brought back
        JsonNode down = connection(socket);
        assertEquals("NotConnected", down.path("status").asText(), down.toPrettyString());
        assertTrue(down.path("lastFailure").asText().startsWith("terminated by the operator"), down.toPrettyString());

        Answer up = curl(socket, "-X", "POST", "http://isthmus/v1/connections/" + CONNECTION + "/initiate");
        assertEquals(200, up.status(), up.body());
        assertTrue(up.json().path("lines").get(0).asText().startsWith(CONNECTION + ": up: child SA "), up.body());
        assertTrue(lab.awaitPath(Duration.ofSeconds(10), false), "initiated again, the tunnel carries");
        JsonNode again = connection(socket);
        assertEquals("Connected", again.path("status").asText());
        JsonNode child = again.path("ikeSas").get(0).path("childSas").get(0);
        assertTrue(child.path("lastInSecondsAgo").asLong(99) <= 6 && child.path("lastOutSecondsAgo").asLong(99) <= 6,
                "the ping went through this child SA a moment ago: " + child.toPrettyString());

        Answer unknown = curl(socket, "-X", "POST", "http://isthmus/v1/connections/nowhere/reset");
        assertEquals(404, unknown.status(), unknown.body());

        // Who may: the group's members, by their primary group or a supplementary one; nobody else.
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals(200, curlAs(socket, "--reuid=" + NOGROUP, "--regid=" + NOGROUP, "--clear-groups").status());
        assertEquals(200, curlAs(socket, "--reuid=65533", "--regid=65533", "--groups=" + NOGROUP).status());
        Answer stranger = curlAs(socket, "--reuid=65533", "--regid=65533", "--clear-groups");
        assertEquals(7, stranger.curlExit(), "the file's mode refuses the connection: " + stranger.body());
        // An administrator loosens the mode by hand: the gateway still refuses, and says so in its log.
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        stranger = curlAs(socket, "--reuid=65533", "--regid=65533", "--clear-groups");
        assertEquals(403, stranger.status(), stranger.body());
        assertEquals("only root and group nogroup may use the management API", stranger.json().path("error").asText());
        String log = Files.readString(lab.work().resolve("gw-a.log"));
        assertTrue(log.contains("management API: refused uid 65533 (pid "), "the refusal is logged");
        assertTrue(log.contains("connection rekey " + CONNECTION + " (child SA): asked through the management API by uid 0, pid "),
                "who asked for a change is logged");
    }

    /** What curl got: its exit code, the HTTP status and the body. */
    record Answer(int curlExit, int status, String body) {
        JsonNode json() throws java.io.IOException {
            return io.isthmus.control.GatewayClient.parse(body);
        }
    }

    private Answer curl(Path socket, String... args) throws Exception {
        return run(List.of(), socket, args);
    }

    /** curl as another user, through setpriv: {@code --reuid=N --regid=N --clear-groups} and the like. */
    private Answer curlAs(Path socket, String... setpriv) throws Exception {
        List<String> prefix = new ArrayList<>(List.of("setpriv"));
        prefix.addAll(List.of(setpriv));
        return run(prefix, socket, "http://isthmus/v1/status");
    }

    private Answer run(List<String> prefix, Path socket, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}", "--unix-socket", socket.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(70, TimeUnit.SECONDS));
        int newline = out.lastIndexOf('\n');
        int status = newline < 0 ? 0 : Integer.parseInt(out.substring(newline + 1).strip());
        return new Answer(p.exitValue(), status, newline < 0 ? out : out.substring(0, newline));
    }

    private static JsonNode connection(Path socket) throws Exception {
        return status(socket).path("connections").get(0);
    }

    /** A process's output lines, as they come, in a queue (the process ends with the lab). */
    private BlockingQueue<String> follow(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        lab.own(p);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    System.out.println("event: " + line);
                    lines.add(line);
                }
            } catch (java.io.IOException ended) {
                // the process went
            }
        });
        return lines;
    }

    /** The first line that {@code matches}, dropping the ones before it; null after 30 s. */
    private static String await(BlockingQueue<String> lines, Predicate<String> matches) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            String l = lines.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (l != null && matches.test(l)) {
                return l;
            }
        }
        return null;
    }
}
