package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import picocli.CommandLine;

/** The isthmus command line, run in this JVM with its output captured. */
class IsthmusCommandLineTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Run isthmus(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Isthmus.commandLine(false);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Every command's path below isthmus, e.g. [gateway, run]. */
    static List<List<String>> commandPaths(CommandLine c, List<String> path) {
        List<List<String>> all = new ArrayList<>();
        all.add(path);
        c.getSubcommands().forEach((name, sub) -> {
            List<String> p = new ArrayList<>(path);
            p.add(name);
            all.addAll(commandPaths(sub, p));
        });
        return all;
    }

    @Test
    void everyCommandTakesHelp() {
        List<List<String>> paths = commandPaths(Isthmus.commandLine(false), List.of());
        assertTrue(paths.contains(List.of("gateway", "run")) && paths.contains(List.of("help")), paths.toString());
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Run r = isthmus(args.toArray(String[]::new));
            assertEquals(0, r.exit(), args + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: isthmus" + (path.isEmpty() ? "" : " " + String.join(" ", path))), args + ": " + r.out());
            assertEquals("", r.err(), args.toString());
        }
    }

    @Test
    void helpShowsTheUsageOfACommandAtAnyDepth() {
        Run top = isthmus("help");
        assertEquals(0, top.exit());
        assertTrue(top.out().startsWith("Usage: isthmus [-hV] [COMMAND]"), top.out());
        Run run = isthmus("help", "gateway", "run");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().startsWith("Usage: isthmus gateway run"), run.out());
        assertTrue(run.out().contains("--instance"), run.out());
        Run wrong = isthmus("help", "gateway", "walk");
        assertEquals(2, wrong.exit());
        assertTrue(wrong.err().startsWith("'gateway walk': isthmus gateway has no command 'walk'; it has: run, check"), wrong.err());
    }

    @Test
    void versionIsThePomsVersion() throws Exception {
        String pom = pomVersion();
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"gateway", "run", "--version"})) {
            Run r = isthmus(args);
            assertEquals(0, r.exit());
            assertTrue(r.out().startsWith("isthmus " + pom + " on Java "), r.out());
        }
    }

    /** The version in control/pom.xml (its own, or its parent's), where Maven takes it from. */
    static String pomVersion() throws Exception {
        Path pom = Path.of(System.getProperty("basedir", ".")).resolve("pom.xml");
        Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
        String own = child(project, "version");
        return own != null ? own : child((Element) project.getElementsByTagName("parent").item(0), "version");
    }

    private static String child(Element e, String name) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) {
                return c.getTextContent().strip();
            }
        }
        return null;
    }

    /** The sample gateway (the demo's gateway A), with each {@code from} replaced by the {@code to} that follows it. */
    Path demoConfig(String... fromTo) throws Exception {
        String yaml;
        try (InputStream in = IsthmusCommandLineTest.class.getResourceAsStream("sample-gw.yaml")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (int i = 0; i < fromTo.length; i += 2) {
            assertTrue(yaml.contains(fromTo[i]), fromTo[i]);
            yaml = yaml.replace(fromTo[i], fromTo[i + 1]);
        }
        return Files.writeString(dir.resolve("gw.yaml"), yaml);
    }

    @Test
    void anUnknownInstanceIsOneLine() throws Exception {
        Path config = demoConfig("\n  tunnel:", "\n    - name: demo-gw-a-1\n      publicIpAddress: 10.77.0.3\n  tunnel:");
        Path socket = dir.resolve("gw.sock");
        Run r = isthmus("gateway", "run", "--config", config.toString(), "--instance", "x", "--control-socket", socket.toString());
        assertEquals(2, r.exit());
        assertEquals(List.of("isthmus: " + config + ": virtualNetworkGateway.instances: no instance 'x'; this file has: demo-gw-a-0, demo-gw-a-1"),
                r.errLines());
        assertFalse(Files.exists(socket), "nothing started, no control socket");
    }

    /**
     * 192.0.2.1 (TEST-NET-1) is on no host: the start-up checks say so, before the control socket,
     * IKE's port or the TUN device is made. (Were it to get as far as binding, that failure is one
     * line too: UdpTransportTest.) Other lines may follow, one per problem of this host (its
     * forwarding, say), each naming the file and field, none a stack trace.
     */
    @Test
    void anAddressNotOnThisHostIsOneLineAndLeavesNothingBehind() throws Exception {
        assertEquals("0", Files.readString(Path.of("/proc/sys/net/ipv4/ip_nonlocal_bind")).strip(),
                "net.ipv4.ip_nonlocal_bind is on: any address can be bound here, so this test cannot see a bind fail");
        String device = "isthbind" + ProcessHandle.current().pid() % 10_000;
        Path config = demoConfig("10.77.0.1", "192.0.2.1", "device: isthmus0", "device: " + device);
        Path socket = dir.resolve("gw.sock");
        Run r = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> isthmus("gateway", "run", "--config", config.toString(), "--control-socket", socket.toString()));
        assertEquals(GatewayCommand.HOST_NOT_READY, r.exit(), "the host's problem, which may pass (systemd restarts on 3): " + r.err());
        assertTrue(r.errLines().getFirst().startsWith("isthmus: " + config + ": virtualNetworkGateway.instances[0].publicIpAddress: 192.0.2.1 is"
                + " not an address of this host (it has "), r.err());
        for (String line : r.errLines().subList(1, r.errLines().size())) {
            assertTrue(line.startsWith(config + ": "), r.err());
        }
        assertFalse(Files.exists(socket), "no control socket");
        assertFalse(Files.exists(Path.of("/sys/class/net", device)), "no TUN device " + device);
    }

    @Test
    void anUnexpectedFailureIsOneLineThatSaysHowToSeeMore() {
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new Isthmus()).setExecutionExceptionHandler(new Isthmus.OneLineErrors(false));
        cmd.setErr(new PrintWriter(err, true));
        int exit = new Isthmus.OneLineErrors(false).handleExecutionException(new IllegalStateException("two\nlines"), cmd, null);
        assertEquals(1, exit);
        assertEquals("isthmus: java.lang.IllegalStateException: two; lines (ISTHMUS_DEBUG=1 prints the stack trace)\n", err.toString());
        StringWriter debugErr = new StringWriter();
        cmd.setErr(new PrintWriter(debugErr, true));
        new Isthmus.OneLineErrors(true).handleExecutionException(new IllegalStateException("boom"), cmd, null);
        assertTrue(debugErr.toString().startsWith("isthmus: java.lang.IllegalStateException: boom\njava.lang.IllegalStateException: boom\n\tat "),
                debugErr.toString());
    }
}
