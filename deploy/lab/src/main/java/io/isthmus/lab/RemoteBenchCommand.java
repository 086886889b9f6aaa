package io.isthmus.lab;

import io.isthmus.lab.bench.remote.AgentChannel;
import io.isthmus.lab.bench.remote.BenchAgent;
import io.isthmus.lab.bench.remote.RemoteBench;
import io.isthmus.lab.bench.remote.RemoteLink;
import io.isthmus.lab.bench.remote.RemotePath;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench remote}: the throughput benchmark across two machines (see {@link RemoteBench}). */
@Command(name = "remote", mixinStandardHelpOptions = true,
        description = {"The throughput benchmark across two machines, one gateway on each, iperf3 and ping from a site namespace behind "
                + "gateway-a to one behind gateway-b: plain routing, Isthmus, strongSwan and wireguard-go where both have them, "
                + "the namespace bench's table and JSON. Run as root on gateway-a; gateway-b is reached over SSH (--ssh), or started "
                + "by hand (--role gateway-b) and reached with --connect and its token.",
                "Example: isthmus bench remote --peer 192.0.2.2 --ssh root@192.0.2.2"})
final class RemoteBenchCommand implements Callable<Integer> {
    static final int DEFAULT_PORT = 7360;

    @Option(names = "--role", defaultValue = "gateway-a", description = "gateway-a (drives the run; the default) or gateway-b (started by hand "
            + "on the other machine, waits for gateway-a).")
    String role;

    @Option(names = "--peer", description = "gateway-a: gateway-b's address, where the tunnel goes (its interface towards this machine).")
    String peer;

    @Option(names = "--ssh", paramLabel = "[USER@]HOST", description = "gateway-a: start gateway-b there over SSH (as root, or a user "
            + "whose --remote-isthmus runs as root).")
    String ssh;

    @Option(names = "--ssh-command", defaultValue = "ssh -o BatchMode=yes", description = "How to run ssh, split at spaces "
            + "(default '${DEFAULT-VALUE}'; e.g. 'ssh -o BatchMode=yes -p 2222 -i KEY').")
    String sshCommand;

    @Option(names = "--remote-isthmus", description = "The command that runs isthmus on gateway-b, as its shell reads it (default: this very "
            + "Java and class path, for a build tree at the same path on both machines; e.g. /srv/isthmus/deploy/isthmus, or sudo ...).")
    String remoteIsthmus;

    @Option(names = "--connect", paramLabel = "HOST[:PORT]", description = "gateway-a: connect to a gateway-b started by hand (default port "
            + DEFAULT_PORT + ").")
    String connect;

    @Option(names = "--token", defaultValue = "${env:ISTHMUS_BENCH_TOKEN}", description = "The token gateway-b printed (gateway-a with "
            + "--connect), or the one it is to take (gateway-b; made and printed if not given). Default: $ISTHMUS_BENCH_TOKEN.")
    String token;

    @Option(names = "--listen", paramLabel = "ADDRESS[:PORT]", defaultValue = "0.0.0.0:" + DEFAULT_PORT,
            description = "gateway-b: where to wait for gateway-a (default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--wait", defaultValue = "600", description = "gateway-b: seconds to wait for gateway-a (default ${DEFAULT-VALUE}).")
    int waitSeconds;

    @Option(names = "--stdio", hidden = true, description = "gateway-b: the control link on standard input and output (how --ssh starts it).")
    boolean stdio;

    @Option(names = "--paths", split = ",", description = "Which paths, comma-separated (default: all): plain-routing, isthmus-aes128gcm, "
            + "isthmus-raw-esp, isthmus-aes256gcm, isthmus-chacha20poly1305, isthmus-strongswan, strongswan-strongswan, wireguard-go.")
    List<String> paths;

    @Option(names = "--seconds", defaultValue = "10", description = "Length of each iperf3 measurement (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--pings", defaultValue = "500", description = "Pings, 10 ms apart, for the round-trip times (default ${DEFAULT-VALUE}).")
    int pings;

    @Option(names = "--json", defaultValue = "isthmus-bench-remote.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
    Path json;

    @Option(names = "--keep-logs", description = "Keep each machine's gateway logs in /tmp/isthmus-bench-remote-* after the run "
            + "(the configurations, which hold the run's key, are removed all the same).")
    boolean keepLogs;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the two-machine bench starts gateways and changes routes: run it as root on both machines");
            return 1;
        }
        if (role.equals("gateway-b")) {
            return gatewayB();
        }
        List<String> problems = new ArrayList<>();
        if (!role.equals("gateway-a")) {
            problems.add("--role: '" + role + "' is not allowed; gateway-a or gateway-b");
        }
        if (peer == null) {
            problems.add("--peer: gateway-b's address is needed");
        }
        if ((ssh == null) == (connect == null)) {
            problems.add("one of --ssh [USER@]HOST (gateway-b started over SSH) or --connect HOST[:PORT] (gateway-b started by hand) is needed");
        }
        if (connect != null && (token == null || token.isBlank())) {
            problems.add("--token: with --connect, the token gateway-b printed is needed");
        }
        if (connect != null && address(connect) == null) {
            problems.add("--connect: '" + connect + "' is not HOST or HOST:PORT (port 1 to 65535)");
        }
        if (seconds < 1 || pings < 1) {
            problems.add("--seconds and --pings: 1 or more");
        }
        List<RemotePath> chosen = new ArrayList<>();
        for (String p : paths == null ? RemotePath.DEFAULT.stream().map(RemotePath::id).toList() : paths) {
            try {
                chosen.add(RemotePath.parse(p));
            } catch (IllegalArgumentException e) {
                problems.add("--paths: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            problems.forEach(p -> System.err.println("isthmus bench remote: " + p));
            return 2;
        }
        try {
            RemoteLink link = ssh != null
                    ? RemoteLink.overSsh(List.of(sshCommand.strip().split("\\s+")), ssh, remoteIsthmus != null ? remoteIsthmus : thisIsthmus(),
                            System.out)
                    : RemoteLink.overTcp(address(connect), token);
            RemoteBench.Result r = new RemoteBench(peer, seconds, pings, keepLogs, System.out).runAndReport(link, chosen, json, System.out);
            return r.complete() ? 0 : 1;
        } catch (java.io.IOException e) {
            // Both machines are cleaned up by now; what went wrong is one line, not a stack trace.
            System.err.println("isthmus bench remote: " + e.getMessage());
            return 1;
        }
    }

    private int gatewayB() throws Exception {
        BenchAgent agent = new BenchAgent(System.err);
        if (stdio) {
            try {
                agent.serveStdio(new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out));
                return 0;
            } catch (java.io.IOException e) {
                // gateway-a gone without a bye (Ctrl-C, killed): the machine is clean again, and this is why.
                System.err.println("isthmus bench remote: " + e.getMessage());
                return 1;
            }
        }
        boolean made = token == null || token.isBlank();
        String t = made ? AgentChannel.newToken() : token;
        if (t.length() < 16) {
            System.err.println("isthmus bench remote: --token: at least 16 characters");
            return 2;
        }
        InetSocketAddress at = address(listen);
        if (at == null) {
            System.err.println("isthmus bench remote: --listen: '" + listen + "' is not ADDRESS or ADDRESS:PORT (port 1 to 65535)");
            return 2;
        }
        if (made) {
            // For the user to give gateway-a; one given by the user is theirs already and is not printed.
            System.err.println("gateway-b: token " + t);
        }
        try {
            agent.serveTcp(at, t, waitSeconds);
            return 0;
        } catch (java.io.IOException e) {
            System.err.println("isthmus bench remote: " + e.getMessage());
            return 1;
        }
    }

    /** HOST or HOST:PORT (the default port if none), or null if it is neither. */
    static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        String port = colon < 0 ? Integer.toString(DEFAULT_PORT) : hostPort.substring(colon + 1);
        if (host.isBlank() || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return null;
        }
        return new InetSocketAddress(host, Integer.parseInt(port));
    }

    /** This JVM's command, main class included, quoted for a POSIX shell: right where gateway-b has the same tree at the same path. */
    static String thisIsthmus() {
        List<String> command = new ArrayList<>(LabGateways.javaCommand());
        command.add(IsthmusLab.class.getName());
        return command.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }
}
