package io.isthmus.control.bgp;

import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.Instance;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * BIRD as a child of the gateway: its configuration written from the gateway's
 * ({@link BirdConfig}), checked by BIRD itself ({@code bird -p}) before it is used, BIRD run in
 * the foreground ({@code bird -f -c CONF -s SOCKET -P PIDFILE}) with its log lines in the
 * gateway's, started again with a growing pause when it dies, told to {@code configure} on a
 * reload, and stopped with the gateway (SIGTERM: BIRD closes its sessions with a Cease and takes
 * its routes out of the kernel table). Its files are {@code <gateway>-<instance>.bird.*} in the
 * gateway's runtime directory. Under systemd the unit's control group holds BIRD too, so a
 * gateway killed outright takes BIRD with it; outside one, a BIRD left behind by a killed gateway
 * is found by its pid file and stopped at the next start.
 */
public final class BirdDaemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control.bgp");
    public static final Path BIRD = Path.of("/usr/sbin/bird");
    /** How long status waits for BIRD's answer: a scrape must not hang on it. */
    static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(2);
    /** How long a start waits for BIRD's socket to answer. */
    static final Duration READY_WAIT = Duration.ofSeconds(10);
    static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    static final Duration LONGEST_PAUSE = Duration.ofSeconds(30);
    /** A BIRD that ran this long before it died is restarted after {@link #FIRST_PAUSE} again. */
    static final Duration STABLE = Duration.ofSeconds(60);
    private static final int MAX_LOG_LINE = 1000;
    private static final java.util.regex.Pattern BIRD_TIME = java.util.regex.Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? ");
    /** How long a stop waits for BIRD after SIGTERM (it sends its Ceases and takes its routes out in milliseconds). */
    static final Duration STOP_WAIT = Duration.ofSeconds(1);

    private final Path config;
    private final Path socket;
    private final Path pidFile;
    private final List<String> launcher;
    private final BirdControl control;
    private final Thread supervisor;
    private volatile Process process;
    private volatile boolean closed;
    private volatile long restarts;
    private volatile Map<String, String> protocolNames;
    private volatile Lifecycle lifecycle = Lifecycle.NONE;
    /** Held around a launch and around close's taking of the process: a BIRD launched after close() would never be stopped. */
    private final Object launching = new Object();

    /**
     * Hears BIRD die and answer again, on the supervisor's thread. A BIRD that dies without
     * stopping (SIGKILL, a crash) leaves its routes in the kernel table, and nothing then keeps
     * them right: sessions are down, peers' withdrawals go unheard. So the gateway stops steering
     * by them when BIRD dies ({@code LearnedRoutes.withdrawAll}) and starts again once the new
     * BIRD answers ({@code resume}): by then its kernel protocol has scanned the table and taken
     * out the routes it did not learn. Not graceful restart: BIRD is not configured for it
     * (neither is Azure), so the peers drop our routes too; keeping theirs would be one-sided.
     */
    public interface Lifecycle {
        Lifecycle NONE = new Lifecycle() {
            @Override
            public void exited(String why) {
            }

            @Override
            public void answering() {
            }
        };

        /** BIRD died; it is started again after a pause. */
        void exited(String why);

        /** The BIRD started again answers on its socket. */
        void answering();
    }

    private BirdDaemon(Path directory, String baseName, List<String> launcher, Map<String, String> protocolNames) {
        this.config = directory.resolve(baseName + ".bird.conf");
        this.socket = directory.resolve(baseName + ".bird.ctl");
        this.pidFile = directory.resolve(baseName + ".bird.pid");
        this.launcher = List.copyOf(launcher);
        this.control = new BirdControl(socket, CONTROL_TIMEOUT);
        this.protocolNames = protocolNames;
        this.supervisor = Thread.ofPlatform().daemon().name("isthmus-bird").unstarted(this::supervise);
    }

    /**
     * Writes instance {@code self}'s BIRD configuration into {@code directory}, has BIRD check it,
     * starts BIRD and waits until its socket answers. {@code launcher} goes before the command (a
     * test's {@code ip netns exec NS}); empty on a gateway.
     */
    public static BirdDaemon start(GatewayConfig gateway, Instance self, Path directory, List<String> launcher) throws IOException, InterruptedException {
        if (!Files.isExecutable(BIRD)) {
            throw new IOException("BGP needs BIRD 2 (" + BIRD + " is not there): apt install bird2; its own bird.service is not needed"
                    + " (systemctl disable --now bird), the gateway runs BIRD itself");
        }
        Files.createDirectories(directory);
        BirdDaemon d = new BirdDaemon(directory, gateway.gateway().name() + "-" + self.name(), launcher, BirdConfig.protocolNames(gateway, self));
        d.stopLeftOver();
        d.write(BirdConfig.text(gateway, self), d.config);
        d.launch();
        try {
            d.awaitReady();
        } catch (InterruptedException e) {
            // The start given up on: the BIRD launched must not keep running with nobody to stop it.
            stopProcess(d.process);
            Thread.currentThread().interrupt();
            throw e;
        }
        d.supervisor.start();
        LOG.log(System.Logger.Level.INFO, "BIRD runs with {0}, its socket {1}: BGP sessions {2}", d.config, d.socket, d.protocolNames);
        return d;
    }

    public Path configFile() {
        return config;
    }

    public Path socket() {
        return socket;
    }

    public BirdControl control() {
        return control;
    }

    /** Who hears BIRD die and come back (see {@link Lifecycle}); one at a time. */
    public void onLifecycle(Lifecycle l) {
        lifecycle = l == null ? Lifecycle.NONE : l;
    }

    /** How often BIRD died and was started again. */
    public long restarts() {
        return restarts;
    }

    /** BIRD's process id now, or -1 while it is being started again. */
    public long pid() {
        Process p = process;
        return p != null && p.isAlive() ? p.pid() : -1;
    }

    /**
     * A reload: BIRD's configuration for {@code next} written (after BIRD checked it) and BIRD told
     * to take it; sessions whose settings did not change stay up. Returns BIRD's answer; throws
     * when BIRD refused it (the file it runs with then stays as it was).
     */
    public String reconfigure(GatewayConfig next, Instance self) throws IOException, InterruptedException {
        // BIRD takes the checked file from beside the one it runs with; only once it accepted it does it replace that one
        // (a BIRD restarted later reads the file it last accepted).
        Path candidate = checked(BirdConfig.text(next, self), config);
        BirdControl.Reply r;
        try {
            r = control.command("configure \"" + candidate + "\"");
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(candidate);
            throw e;
        }
        if (r.failed()) {
            Files.deleteIfExists(candidate);
            throw new IOException("BIRD refused its new configuration (" + config + " stays as it was): " + BirdControl.printable(r.outcome()));
        }
        Files.move(candidate, config, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        protocolNames = BirdConfig.protocolNames(next, self);
        LOG.log(System.Logger.Level.INFO, "BIRD reconfigured: {0}", r.outcome());
        return r.outcome();
    }

    /**
     * Each BGP connection's session, by connection name; every one Unknown, with why, when BIRD
     * does not answer. Blocks for {@link #CONTROL_TIMEOUT} at most: not on the IKE thread.
     */
    public Map<String, BgpPeerStatus> peers() {
        Map<String, String> names = protocolNames;
        Map<String, BgpPeerStatus> out = new LinkedHashMap<>();
        Map<String, BgpPeerStatus> byProtocol;
        try {
            BirdControl.Reply r = control.command("show protocols all");
            if (r.failed()) {
                throw new IOException("BIRD answered " + BirdControl.printable(r.outcome()));
            }
            byProtocol = BgpPeerStatus.parse(r, Instant.now(), ZoneId.systemDefault());
        } catch (IOException e) {
            names.forEach((connection, protocol) -> out.put(connection, BgpPeerStatus.unknown(protocol, "BIRD: " + e.getMessage())));
            return out;
        }
        names.forEach((connection, protocol) -> out.put(connection, byProtocol.getOrDefault(protocol,
                BgpPeerStatus.unknown(protocol, "BIRD has no protocol " + protocol + " (a reload not yet applied?)"))));
        return out;
    }

    /** BIRD checks a configuration file without running it: {@code bird -p -c FILE}. */
    public static void check(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BIRD.toString(), "-p", "-c", file.toString()).redirectErrorStream(true).start();
        // Read beside the wait, not before it: reading to the end first would wait as long as bird -p does, and the bound never apply.
        java.util.concurrent.CompletableFuture<String> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return readBounded(p.getInputStream());
            } catch (IOException e) {
                return e.toString();
            }
        }, Thread::startVirtualThread);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("bird -p -c " + file + " did not finish in 10 s");
        }
        String out;
        try {
            out = output.get(2, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            out = "(its output could not be read: " + e + ")";
        }
        if (p.exitValue() != 0) {
            throw new IOException("BIRD refuses " + file + ": " + out.strip());
        }
    }

    private void write(String text, Path file) throws IOException, InterruptedException {
        Files.move(checked(text, file), file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** {@code text} written beside {@code file} and checked by BIRD: the path it is at. */
    private static Path checked(String text, Path file) throws IOException, InterruptedException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text);
        try {
            check(tmp);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    private void launch() throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(BIRD.toString(), "-f", "-c", config.toString(), "-s", socket.toString(), "-P", pidFile.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        process = p;
        Thread.ofVirtual().name("isthmus-bird-log").start(() -> pumpLog(p));
    }

    /** Until BIRD's socket answers; a BIRD that exits first, or never answers, fails the start. */
    private void awaitReady() throws IOException, InterruptedException {
        long end = System.nanoTime() + READY_WAIT.toNanos();
        IOException last = null;
        while (System.nanoTime() < end) {
            Process p = process;
            if (!p.isAlive()) {
                throw new IOException("BIRD exited at once with " + p.exitValue() + " (its lines are in the log above)");
            }
            try {
                control.command("show status");
                return;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        stopProcess(process);
        throw new IOException("BIRD's socket " + socket + " did not answer within " + READY_WAIT.toSeconds() + " s"
                + (last == null ? "" : ": " + last.getMessage()));
    }

    /** Restarts BIRD whenever it dies, the pause doubling from 1 s to 30 s unless it had run a minute. */
    private void supervise() {
        Duration pause = FIRST_PAUSE;
        Instant started = Instant.now();
        while (!closed) {
            Process p = process;
            int code;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (closed) {
                return;
            }
            Duration ran = Duration.between(started, Instant.now());
            pause = ran.compareTo(STABLE) >= 0 ? FIRST_PAUSE : pause;
            LOG.log(System.Logger.Level.WARNING, "BIRD (pid {0}) exited with {1} after {2} s; the BGP sessions are down; starting it again in {3} s",
                    p.pid(), code, ran.toSeconds(), pause.toSeconds());
            tell(l -> l.exited("BIRD (pid " + p.pid() + ") exited with " + code));
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
            }
            if (closed) {
                return;
            }
            pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.multipliedBy(2);
            started = Instant.now();
            Process launched;
            try {
                synchronized (launching) {
                    // Checked again under the lock: close() takes the process under it, so a BIRD launched here is one it stops.
                    if (closed) {
                        return;
                    }
                    launch();
                    launched = process;
                    restarts++;
                }
            } catch (IOException e) {
                // process stays the dead one: the next round pauses longer and tries again.
                LOG.log(System.Logger.Level.ERROR, "BIRD could not be started again: {0}", e.getMessage());
                continue;
            }
            if (answers(launched)) {
                tell(Lifecycle::answering);
            }
        }
    }

    /** Whether {@code p} answers on the socket within {@link #READY_WAIT} (false: it died first, or the gateway stops). */
    private boolean answers(Process p) {
        long end = System.nanoTime() + READY_WAIT.toNanos();
        while (System.nanoTime() < end && p.isAlive() && !closed) {
            try {
                control.command("show status");
                return true;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException stop) {
                    return false;
                }
            }
        }
        return false;
    }

    private void tell(java.util.function.Consumer<Lifecycle> event) {
        try {
            event.accept(lifecycle);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "BIRD''s lifecycle listener: {0}", e.toString());
        }
    }

    /** A BIRD of this gateway left running by a gateway killed outright: found by its pid file and its command line, and stopped. */
    private void stopLeftOver() {
        try {
            if (!Files.exists(pidFile)) {
                return;
            }
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            var handle = ProcessHandle.of(pid);
            if (handle.isPresent()) {
                String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
                if (cmdline.contains(BIRD.getFileName().toString()) && cmdline.contains(config.toString())) {
                    LOG.log(System.Logger.Level.WARNING, "a BIRD of this gateway (pid {0}) was still running from before; stopping it", pid);
                    handle.get().destroy();
                    handle.get().onExit().get(5, TimeUnit.SECONDS);
                }
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "no BIRD left over: {0}", e.toString());
        }
    }

    private static void pumpLog(Process p) {
        try (InputStream in = new BufferedInputStream(p.getInputStream())) {
            StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    // BIRD's own time stamp goes: the gateway's log has one.
                    LOG.log(System.Logger.Level.INFO, "bird: {0}", BIRD_TIME.matcher(line).replaceFirst(""));
                    line.setLength(0);
                } else if (line.length() < MAX_LOG_LINE) {
                    line.append(b >= 0x20 && b < 0x7F || b == '\t' ? (char) b : '?');
                }
            }
        } catch (IOException e) {
            // BIRD's output closed with it
        }
    }

    private static String readBounded(InputStream in) throws IOException {
        byte[] b = in.readNBytes(16 * 1024);
        in.transferTo(java.io.OutputStream.nullOutputStream());
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void stopProcess(Process p) throws InterruptedException {
        if (p == null) {
            return;
        }
        p.destroy();
        // Within the gateway's stop bound (5 s): a BIRD killed leaves its routes, which go with the TUN device when the gateway stops.
        if (!p.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            LOG.log(System.Logger.Level.WARNING, "BIRD (pid {0}) did not stop within {1} ms of SIGTERM; killing it", p.pid(), STOP_WAIT.toMillis());
            p.destroyForcibly();
            p.waitFor(2, TimeUnit.SECONDS);
        }
    }

    /** Stops BIRD: SIGTERM (its sessions closed with a Cease, its kernel routes taken out), SIGKILL after {@link #STOP_WAIT}. */
    @Override
    public void close() {
        Process p;
        synchronized (launching) {
            closed = true;
            p = process;
        }
        supervisor.interrupt();
        long began = System.nanoTime();
        try {
            stopProcess(p);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.log(System.Logger.Level.INFO, "BIRD stopped in {0} ms", (System.nanoTime() - began) / 1_000_000);
    }
}
