package io.isthmus.lab.bench.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * gateway-a's end of the control link to gateway-b: over SSH (gateway-b's agent started as the
 * remote command, with the user's own ssh, keys and agent) or over TCP to an agent started by
 * hand. A request gets one answer; an answer that says the request failed is a {@link Refused};
 * any other failure means the link, and gateway-b's part of the run with it, is gone.
 *
 * <p>Closing it ends the link; gateway-b then stops and removes what it started. On Ctrl-C a
 * shutdown hook closes it, and waits for the agent to finish cleaning up while SSH still runs.
 */
public final class RemoteLink implements Closeable {
    /** gateway-b answered that the request failed; the link stays up. */
    public static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    /** The longest a request may take: a gateway's start (its own 60 s wait included) with room for a loaded machine. */
    private static final long REQUEST_SECONDS = 300;

    private final AgentChannel channel;
    private final Process ssh;
    private final Socket socket;
    private final Deque<String> sshErrors;
    private final Thread hook = new Thread(this::close, "isthmus-bench-link-close");
    /** Answers, or the IOException that ended the link, as the reader takes them off the link. */
    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private volatile boolean alive = true;
    /** A bye was sent: the link's end that follows is the expected one. */
    private volatile boolean leaving;
    private volatile Runnable onLoss = () -> { };
    /** Why the link ended without a bye, once it has. */
    private volatile String lost;

    private RemoteLink(AgentChannel channel, Process ssh, Socket socket, Deque<String> sshErrors) {
        this.channel = channel;
        this.ssh = ssh;
        this.socket = socket;
        this.sshErrors = sshErrors;
        Runtime.getRuntime().addShutdownHook(hook);
        // The link is read all the time, not only while a request waits: gateway-b's end is seen when it comes, in the middle
        // of a measurement too, and the measurement stopped (onLoss) instead of running on against a gateway that is gone.
        Thread.ofPlatform().daemon().name("isthmus-bench-link-reader").start(() -> {
            while (true) {
                try {
                    answers.add(channel.receive());
                } catch (IOException e) {
                    boolean wasAlive = alive;
                    if (wasAlive && !leaving) {
                        lost = lossReason(e);
                    }
                    alive = false;
                    answers.add(e);
                    if (wasAlive && !leaving) {
                        onLoss.run();
                    }
                    return;
                }
            }
        });
    }

    /** What to do when gateway-b's end of the link goes without a bye (it died, or its machine or the network did). */
    public void onLoss(Runnable action) {
        onLoss = action;
    }

    /** Why the link ended, with what ssh last said. */
    private String lossReason(IOException e) {
        List<String> errors = snapshot(sshErrors);
        return "gateway-b is gone (" + e.getMessage() + ")" + (errors.isEmpty() ? "" : ": " + String.join(" / ", errors));
    }

    /**
     * Starts gateway-b's agent on {@code target} ({@code [user@]host}) with {@code sshCommand}
     * ("ssh -o BatchMode=yes -p 2222 ..."), as {@code remoteIsthmus bench remote --role gateway-b
     * --stdio}; what the agent logs is printed to {@code log}, each line marked gateway-b.
     */
    public static RemoteLink overSsh(List<String> sshCommand, String target, String remoteIsthmus, PrintStream log) throws IOException {
        List<String> command = new ArrayList<>(sshCommand);
        command.add(target);
        // One argument: ssh joins its arguments with spaces into one string for the remote shell anyway.
        command.add(remoteIsthmus + " bench remote --role gateway-b --stdio");
        // Killed outright, this process takes ssh with it, and gateway-b sees its link end and cleans up.
        Process p = new ProcessBuilder(BenchMachine.orphanless(command)).start();
        Deque<String> errors = new ArrayDeque<>();
        Thread.ofVirtual().name("isthmus-bench-ssh-stderr").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.println("gateway-b| " + line);
                    synchronized (errors) {
                        errors.addLast(line);
                        if (errors.size() > 5) {
                            errors.removeFirst();
                        }
                    }
                }
            } catch (IOException ignored) {
                // ssh is gone
            }
        });
        try {
            // A token of this run's, inside SSH's encrypted channel: on no command line, in no file.
            String token = AgentChannel.newToken();
            OutputStream out = p.getOutputStream();
            out.write(("token " + token + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            AgentChannel channel = AgentChannel.driver(p.getInputStream(), out, token);
            return new RemoteLink(channel, p, null, errors);
        } catch (IOException e) {
            p.destroy();
            waitQuietly(p, 5);
            throw new IOException("ssh " + target + ": " + e.getMessage() + " (" + String.join(" / ", snapshot(errors)) + ")", e);
        }
    }

    /** Connects to an agent started by hand ({@code --role gateway-b --listen}) that holds {@code token}. */
    public static RemoteLink overTcp(InetSocketAddress agent, String token) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(agent, 10_000);
            s.setKeepAlive(true);
            s.setSoTimeout(30_000);
            AgentChannel channel = AgentChannel.driver(s.getInputStream(), s.getOutputStream(), token);
            // From here the reader waits as long as measurements last; requests have their own limit.
            s.setSoTimeout(0);
            return new RemoteLink(channel, null, s, new ArrayDeque<>());
        } catch (IOException e) {
            s.close();
            throw new IOException("gateway-b at " + agent + ": " + e.getMessage(), e);
        }
    }

    /** Sends a request and returns the answer; {@link Refused} if gateway-b says it failed. */
    public synchronized JsonNode request(ObjectNode request) throws IOException {
        if (!alive) {
            throw new IOException(lost != null ? lost : "the link to gateway-b is closed");
        }
        Object answer;
        leaving |= request.path("op").asText().equals("bye");
        try {
            channel.send(request);
            answer = answers.poll(REQUEST_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            alive = false;
            throw new IOException(lossReason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while gateway-b answered " + request.path("op").asText());
        }
        if (answer == null) {
            alive = false;
            throw new IOException("gateway-b did not answer '" + request.path("op").asText() + "' in " + REQUEST_SECONDS + " s");
        }
        if (answer instanceof IOException e) {
            throw new IOException(lossReason(e), e);
        }
        JsonNode a = (JsonNode) answer;
        if (!a.path("ok").asBoolean(false)) {
            throw new Refused("gateway-b: " + a.path("error").asText("failed"));
        }
        return a;
    }

    public boolean alive() {
        return alive;
    }

    public String presharedKey() {
        return channel.presharedKey();
    }

    /** Ends the link; with SSH, waits (30 s at most) for gateway-b's agent to have cleaned up and exited. */
    @Override
    public void close() {
        alive = false;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closed already
        }
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closed already
            }
        }
        if (ssh != null) {
            waitQuietly(ssh, 30);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // shutting down: this is the hook
        }
    }

    private static void waitQuietly(Process p, int seconds) {
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
        }
    }

    private static List<String> snapshot(Deque<String> errors) {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }
}
