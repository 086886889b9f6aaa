package io.isthmus.lab.bench.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;

/**
 * gateway-b of the two-machine bench: does on its machine what gateway-a asks over the control
 * link, one request at a time, until gateway-a says bye or the link ends (gateway-a stopped,
 * killed, or its machine gone); then everything it started is stopped and removed
 * ({@link BenchMachine#close()}). One run per start.
 *
 * <p>Requests ({@code op}): {@code hello} (gateway-a's address and gateway-b's as a knows it; b
 * checks, builds its site and answers its {@link MachineFacts}), {@code up} (the path's gateway,
 * answering its WireGuard public key where it has one), {@code usage} (CPU ticks and peak RSS of
 * the gateway), {@code logs}, {@code down}, {@code bye}. Every value that comes in is checked: it
 * ends up in commands and configurations.
 */
public final class BenchAgent {
    private final PrintStream log;
    private BenchMachine machine;
    private MachineFacts facts;
    private String peer;
    private String key;
    private int idleSeconds = 600;

    public BenchAgent(PrintStream log) {
        this.log = log;
    }

    /**
     * Serves one run over SSH: the token is the first line gateway-a writes (inside SSH's
     * channel, never on a command line), then the control link on the same streams. Whatever is
     * printed to standard output by anything else would break the link, so it goes to standard
     * error from here on.
     */
    public void serveStdio(InputStream stdin, OutputStream stdout) throws IOException, InterruptedException {
        System.setOut(System.err);
        InputStream in = AgentChannel.buffered(stdin);
        String first = AgentChannel.readLine(in);
        if (!first.startsWith("token ") || first.length() < 6 + 16) {
            throw new IOException("gateway-a did not send a token first");
        }
        serve(AgentChannel.agent(in, stdout, first.substring(6)));
    }

    /**
     * Serves one run over TCP: waits up to {@code waitSeconds} for a gateway-a that holds the
     * token; one that does not is told so and the wait goes on.
     */
    public void serveTcp(InetSocketAddress listen, String token, int waitSeconds) throws IOException, InterruptedException {
        long end = System.nanoTime() + waitSeconds * 1_000_000_000L;
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(listen);
            log.printf("gateway-b: waiting for gateway-a on %s, %d s at most%n", listen, waitSeconds);
            while (true) {
                long left = (end - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new IOException("no gateway-a with the token came in " + waitSeconds + " s");
                }
                server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    continue;
                }
                AgentChannel channel;
                try {
                    // A connection that says nothing must not hold the door.
                    s.setSoTimeout(10_000);
                    channel = AgentChannel.agent(s.getInputStream(), s.getOutputStream(), token);
                } catch (IOException e) {
                    log.printf("gateway-b: refused %s: %s%n", s.getRemoteSocketAddress(), e.getMessage());
                    s.close();
                    continue;
                }
                log.printf("gateway-b: gateway-a connected from %s%n", s.getRemoteSocketAddress());
                try (s) {
                    s.setKeepAlive(true);
                    s.setSoTimeout(0);
                    serve(channel, s);
                }
                return;
            }
        }
    }

    /** The request loop on a link already made (package-private for the tests). */
    void serve(AgentChannel channel) throws IOException, InterruptedException {
        serve(channel, null);
    }

    /** The request loop; the machine is cleaned up however it ends. */
    private void serve(AgentChannel channel, Socket socket) throws IOException, InterruptedException {
        key = channel.presharedKey();
        try {
            while (true) {
                JsonNode request;
                try {
                    request = channel.receive();
                } catch (SocketTimeoutException e) {
                    throw new IOException("gateway-a sent nothing for " + idleSeconds + " s: it is taken for gone");
                }
                String op = request.path("op").asText("");
                ObjectNode answer;
                try {
                    answer = handle(op, request);
                    answer.put("ok", true);
                } catch (IOException | RuntimeException e) {
                    answer = AgentChannel.JSON.createObjectNode().put("ok", false).put("error", String.valueOf(e.getMessage()));
                    log.printf("gateway-b: %s failed: %s%n", MachineFacts.abbreviate(op), e.getMessage());
                }
                channel.send(answer);
                if (op.equals("bye")) {
                    return;
                }
                if (socket != null && op.equals("hello")) {
                    socket.setSoTimeout(idleSeconds * 1000);
                }
            }
        } finally {
            if (machine != null) {
                machine.close();
            }
        }
    }

    private ObjectNode handle(String op, JsonNode r) throws IOException, InterruptedException {
        ObjectNode answer = AgentChannel.JSON.createObjectNode();
        if (!op.equals("hello") && !op.equals("bye") && machine == null) {
            throw new IOException("'" + MachineFacts.abbreviate(op) + "' before hello");
        }
        switch (op) {
            case "hello" -> {
                if (machine != null) {
                    throw new IOException("hello twice");
                }
                peer = MachineFacts.ipv4(r, "a");
                String me = MachineFacts.ipv4(r, "b");
                int seconds = r.path("seconds").asInt(10);
                idleSeconds = 300 + 8 * Math.max(1, Math.min(seconds, 3600));
                facts = MachineFacts.probe(peer);
                if (!facts.address().equals(me)) {
                    throw new IOException("gateway-a named this machine " + me + ", but it reaches " + peer + " from " + facts.address()
                            + " (" + facts.device() + "): give gateway-a that address (with a NAT between the two, this bench cannot run)");
                }
                machine = new BenchMachine(false, RemoteBench.SITE_B, RemoteBench.SITE_A, Path.of("/tmp/isthmus-bench-remote"),
                        r.path("keepLogs").asBoolean(false));
                machine.up();
                answer.set("facts", AgentChannel.JSON.valueToTree(facts));
            }
            case "up" -> {
                RemotePath path = RemotePath.parse(r.path("path").asText(""));
                String[] wg = null;
                String peerWg = null;
                if (path.kind(false) == RemotePath.Kind.WIREGUARD) {
                    peerWg = r.path("wireguardPublicKey").asText("");
                    if (!peerWg.matches("[A-Za-z0-9+/]{43}=")) {
                        throw new IOException("wireguardPublicKey: not a WireGuard public key");
                    }
                    wg = machine.wireguardKeys(path);
                    answer.put("wireguardPublicKey", wg[1]);
                }
                machine.startGateway(path, configs(), facts, wg == null ? null : wg[0], peerWg);
            }
            case "usage" -> answer.put("cpuTicks", machine.cpuTicks()).put("peakRssKb", machine.peakRssKb());
            case "logs" -> answer.put("logs", machine.logTails());
            case "down" -> machine.stopGateway();
            case "bye" -> {
                if (machine != null) {
                    machine.close();
                }
            }
            default -> throw new IOException("unknown request '" + MachineFacts.abbreviate(op) + "'");
        }
        return answer;
    }

    private GatewayConfigs configs() {
        return new GatewayConfigs(false, facts.address(), peer, RemoteBench.SITE_B, RemoteBench.SITE_A, key);
    }
}
