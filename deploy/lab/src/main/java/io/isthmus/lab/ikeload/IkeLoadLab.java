package io.isthmus.lab.ikeload;

import io.isthmus.control.GatewayClient;
import io.isthmus.control.Isthmus;
import io.isthmus.lab.Lab;
import io.isthmus.lab.LabGateways;
import io.isthmus.lab.Namespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The IKE load benchmark's namespaces: the generator's, with a /16 of source addresses made
 * local by one route (no address per initiator to add), and one per responder, each joined to
 * the generator's by a veth of its own and routing the /16 back through it:
 *
 * <pre>
 *   ikeload-gen  (10.80.0.0/16 local)  to-isthmus 10.79.1.2 ---- wan 10.79.1.1  ikeload-isthmus
 *                                      to-swan    10.79.2.2 ---- wan 10.79.2.1  ikeload-swan
 * </pre>
 *
 * Names carry {@link Lab#PREFIX}, so a lab of another run is never touched and one a dead run
 * left behind is removed by the next; everything goes when this one closes (a shutdown hook too).
 * The responders are started here, one at a time per namespace, with the configuration a row
 * asks for: Isthmus (this build, with the JVM flags the package runs it with) and strongSwan's
 * charon (kernel-libipsec, as this kernel has no ESP of its own).
 */
public final class IkeLoadLab implements Namespaces, AutoCloseable {
    public static final String GENERATOR = Lab.PREFIX + "ikeload-gen";
    public static final String ISTHMUS = Lab.PREFIX + "ikeload-isthmus";
    public static final String STRONGSWAN = Lab.PREFIX + "ikeload-swan";
    public static final String ISTHMUS_IP = "10.79.1.1";
    public static final String STRONGSWAN_IP = "10.79.2.1";
    /** Where the generators' addresses come from. */
    public static final String SOURCES = "10.80.0.0/16";
    /** The first address of the load; the legitimate peer of the flood check has one far from them. */
    public static final String FIRST_SOURCE = "10.80.0.1";
    public static final String LEGITIMATE_SOURCE = "10.80.250.1";
    /** An address of the responders' site (IkeLoadGenerator.RESPONDER_TS), on their loopback. */
    static final String RESPONDER_SITE_ADDRESS = "172.17.0.1/32";
    public static final String PSK = "isthmus ikeload bench key, not for production";

    /** Which responder. */
    public enum Responder {
        ISTHMUS("isthmus", IkeLoadLab.ISTHMUS, ISTHMUS_IP), STRONGSWAN("strongswan", IkeLoadLab.STRONGSWAN, STRONGSWAN_IP);

        public final String label;
        final String ns;
        public final String address;

        Responder(String label, String ns, String address) {
            this.label = label;
            this.ns = ns;
            this.address = address;
        }
    }

    /** How a row configures its responder: the authentication and whether cookies are asked for (off, or each one's defaults). */
    public record Setup(String auth, boolean cookies) {
    }

    private final Path work;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "ikeload-lab-cleanup");
    private final LoadPki.Certificates certificates;
    private Process running;

    private IkeLoadLab(Path work) throws IOException {
        this.work = work;
        this.certificates = LoadPki.make(work.resolve("pki"));
    }

    /** Builds the namespaces (removing what dead runs left behind); files go under {@code base} and this process's id. */
    public static IkeLoadLab up(Path base) throws IOException, InterruptedException {
        Lab.down(false);
        Path work = Path.of(base + "-" + ProcessHandle.current().pid());
        Files.createDirectories(work);
        IkeLoadLab lab = new IkeLoadLab(work);
        Runtime.getRuntime().addShutdownHook(lab.hook);
        try {
            lab.build();
        } catch (IOException | InterruptedException | RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    private void build() throws IOException, InterruptedException {
        for (String ns : List.of(GENERATOR, ISTHMUS, STRONGSWAN)) {
            Lab.sh("ip", "netns", "add", ns);
            namespaces.add(ns);
            Lab.sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Files.writeString(work.resolve("psk"), PSK + "\n");
        Files.setPosixFilePermissions(work.resolve("psk"), PosixFilePermissions.fromString("rw-------"));
        int i = 1;
        for (Responder r : Responder.values()) {
            String dev = r == Responder.ISTHMUS ? "to-isthmus" : "to-swan";
            Lab.sh("ip", "link", "add", "name", dev, "netns", GENERATOR, "type", "veth", "peer", "name", "wan", "netns", r.ns);
            Lab.sh("ip", "-n", GENERATOR, "link", "set", dev, "up");
            Lab.sh("ip", "-n", r.ns, "link", "set", "wan", "up");
            Lab.sh("ip", "-n", GENERATOR, "addr", "add", "10.79." + i + ".2/24", "dev", dev);
            Lab.sh("ip", "-n", r.ns, "addr", "add", r.address + "/24", "dev", "wan");
            Lab.sh("ip", "-n", r.ns, "route", "add", SOURCES, "via", "10.79." + i + ".2");
            // The gateway refuses to start without forwarding for the family of its site prefixes.
            Lab.sh("ip", "netns", "exec", r.ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            i++;
        }
        // kernel-libipsec routes a child SA's remote selector through its TUN device from an address in its local one: the
        // responders' site has one, as a gateway's network would.
        for (Responder r : Responder.values()) {
            Lab.sh("ip", "-n", r.ns, "addr", "add", RESPONDER_SITE_ADDRESS, "dev", "lo");
        }
        // Every address of the /16 is the generator's without 65,534 addresses added: one local route (what lo does for 127/8).
        Lab.sh("ip", "-n", GENERATOR, "route", "add", "local", SOURCES, "dev", "lo");
    }

    @Override
    public Path work() {
        return work;
    }

    public LoadPki.Certificates certificates() {
        return certificates;
    }

    public Path pskFile() {
        return work.resolve("psk");
    }

    @Override
    public String in(String ns, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(command));
        return Lab.sh(cmd.toArray(String[]::new));
    }

    @Override
    public synchronized Process start(String ns, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    @Override
    public synchronized Process spawn(String ns, Path log, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** A JVM of this build on this JVM's class path: {@code heap} as -Xmx (null: the JVM's own choice, as the package runs it). */
    public static List<String> java(String heap, List<String> more) {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java));
        if (heap != null) {
            command.add("-Xmx" + heap);
        }
        command.addAll(Isthmus.jvmOptions());
        // For a profile of the responder: -Disthmus.lab.jvmOptions=-XX:StartFlightRecording=filename=/tmp/gw.jfr
        String extra = System.getProperty("isthmus.lab.jvmOptions", "").strip();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(more);
        command.addAll(List.of("-cp", classpath));
        return command;
    }

    /**
     * Starts {@code r} with {@code setup} (stopping the one before it) and waits until it
     * answers; returns its process id, whose CPU time the generator measures.
     */
    public long startResponder(Responder r, Setup setup, String name) throws IOException, InterruptedException {
        stopResponder();
        return switch (r) {
            case ISTHMUS -> startIsthmus(setup, name);
            case STRONGSWAN -> startStrongSwan(setup, name);
        };
    }

    private long startIsthmus(Setup setup, String name) throws IOException, InterruptedException {
        return startIsthmus(name, ResponderConfigs.isthmus(setup, certificates));
    }

    /** Starts Isthmus with the configuration {@code yaml} (stopping the responder before it) and waits until it answers; returns its process id. */
    public long startIsthmus(String name, String yaml) throws IOException, InterruptedException {
        stopResponder();
        Path config = work.resolve(name + ".yaml");
        Files.writeString(config, yaml);
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
        Path socket = work.resolve(name + ".sock");
        // For the responder's profile alone: -Disthmus.ikeload.responderJvmOptions=-XX:StartFlightRecording=filename=/tmp/r.jfr
        String profile = System.getProperty("isthmus.ikeload.responderJvmOptions", "").strip();
        List<String> command = new ArrayList<>(java(null, profile.isEmpty() ? List.of() : List.of(profile.split("\\s+"))));
        command.addAll(List.of("io.isthmus.control.Isthmus", "gateway", "run", "--config", config.toString(), "--control-socket", socket.toString(),
                "--capture-directory", work.resolve("captures").toString()));
        running = spawn(ISTHMUS, work.resolve(name + ".log"), command);
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                GatewayClient.status(socket);
                return running.pid();
            } catch (IOException notYet) {
                if (!running.isAlive() || System.nanoTime() > end) {
                    throw new IOException("the Isthmus responder did not start; see " + work.resolve(name + ".log") + ": "
                            + tail(work.resolve(name + ".log")), notYet);
                }
                Thread.sleep(200);
            }
        }
    }

    private long startStrongSwan(Setup setup, String name) throws IOException, InterruptedException {
        Path dir = work.resolve(name);
        Files.createDirectories(dir.resolve("private"));
        if (setup.auth().equals("ecdsa")) {
            // swanctl loads private keys from the "private" folder next to swanctl.conf.
            Files.copy(certificates.responderKey(), dir.resolve("private/responder-key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve("swanctl.conf"), ResponderConfigs.strongSwan(setup, certificates));
        Files.writeString(dir.resolve("strongswan.conf"), ResponderConfigs.strongSwanConf(setup, dir));
        Files.deleteIfExists(dir.resolve("charon.vici"));
        running = spawn(STRONGSWAN, dir.resolve("charon.out"), List.of("unshare", "-m", "sh", "-c",
                "mount -t tmpfs none /run; STRONGSWAN_CONF=" + dir.resolve("strongswan.conf") + " exec /usr/lib/ipsec/charon"));
        String uri = "unix://" + dir.resolve("charon.vici");
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            try {
                Lab.sh("swanctl", "--stats", "--uri", uri);
                break;
            } catch (IOException e) {
                if (!running.isAlive() || System.nanoTime() > end) {
                    throw new IOException("charon did not start: " + tail(dir.resolve("charon.out")), e);
                }
                Thread.sleep(100);
            }
        }
        LabGateways.requirePlugins(Lab.sh("swanctl", "--stats", "--uri", uri));
        Lab.sh("swanctl", "--load-all", "--file", dir.resolve("swanctl.conf").toString(), "--uri", uri);
        return running.pid();
    }

    /**
     * The running responder with {@code setup} from now on: Isthmus reloads its file (its JVM
     * stays warm, and a reload applies ikeDefense), charon restarts (it reads its cookie
     * settings at start; it has no compiler to warm). Returns the responder's process id.
     */
    public long reconfigureResponder(Responder r, Setup setup, String name) throws IOException, InterruptedException {
        if (r == Responder.STRONGSWAN || running == null) {
            return startResponder(r, setup, name);
        }
        Files.writeString(work.resolve(name + ".yaml"), ResponderConfigs.isthmus(setup, certificates));
        var answer = GatewayClient.post(work.resolve(name + ".sock"), "reload");
        if (answer.path("httpStatus").asInt() != 200) {
            throw new IOException("the Isthmus responder refused the reload: " + answer);
        }
        return running.pid();
    }

    /** IKE SAs the running responder holds now (established and half-open), by its own count. */
    public String responderCount(Responder r, String name) throws InterruptedException {
        try {
            return count(r, name);
        } catch (IOException e) {
            // What the responder says of itself is for the reader; a status that times out (its IKE thread busy) is not a failed row.
            return "(the responder did not say: " + e.getMessage() + ")";
        }
    }

    private String count(Responder r, String name) throws IOException, InterruptedException {
        if (r == Responder.STRONGSWAN) {
            String stats = Lab.sh("swanctl", "--stats", "--uri", "unix://" + work.resolve(name).resolve("charon.vici"));
            return stats.lines().filter(l -> l.startsWith("IKE_SAs:")).findFirst().orElse("IKE_SAs: ?").strip();
        }
        var d = GatewayClient.status(work.resolve(name + ".sock")).path("defense");
        return "cookies sent " + d.path("cookiesSent").asLong() + ", half-open " + d.path("halfOpenIkeSas").asLong() + ", key pairs "
                + d.path("keyPairsGenerated").asLong();
    }

    /** Stops the responder running, if any: SIGTERM, and SIGKILL after 10 s. */
    public void stopResponder() throws InterruptedException {
        Process p = running;
        running = null;
        if (p == null) {
            return;
        }
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        processes.clear();
        for (String ns : namespaces) {
            try {
                new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // best effort; the next lab removes what is left
            }
        }
        namespaces.clear();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // closed by the hook itself
        }
    }
}
