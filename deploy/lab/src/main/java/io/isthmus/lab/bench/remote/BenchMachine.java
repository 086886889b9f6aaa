package io.isthmus.lab.bench.remote;

import io.isthmus.lab.Lab;
import io.isthmus.lab.LabGateways;
import io.isthmus.lab.Namespaces;
import io.isthmus.lab.WireGuard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One machine's part of a two-machine bench run: the site behind its gateway, and the gateway of
 * each path in turn. The site is a network namespace on the machine itself ("the gateway's far
 * side"), joined to it by a veth pair, where iperf3 and ping run: traffic from it is forwarded
 * by the machine exactly as a LAN host's would be, and the run needs nothing but the two
 * machines. The gateways run in the machine's own namespace, on its real interface.
 *
 * <pre>
 *   site namespace  eth0 198.18.1.10 ---- bench-site 198.18.1.1  machine A  NIC ==== NIC  machine B ...
 * </pre>
 *
 * Everything it starts or changes is listed and undone by {@link #close()}: the gateways'
 * processes, the site namespace (and the iperf3 in it), routes it added, IPv4 forwarding as it
 * was, its work directory (which holds the run's key). A shutdown hook calls it on Ctrl-C or
 * SIGTERM; a run killed outright leaves its namespace, which the next run removes.
 */
public final class BenchMachine implements Namespaces, AutoCloseable {
    /** What every bench namespace's name starts with; then the run's process id. */
    static final String FAMILY = "isthmus-bench-";
    /** The namespace "here": commands run in the machine's own namespace, not through ip netns exec. */
    static final String HERE = "";
    /** The link from the machine to its site namespace, machine's end. */
    static final String SITE_LINK = "bench-site";
    /** The file in the work directory with IPv4 forwarding's value from before the run. */
    private static final String FORWARDING_BEFORE = "ip_forward-before";

    private final boolean a;
    private final String site;
    private final String peerSite;
    private final String ns;
    private final Path workBase;
    private final Path work;
    private final boolean keepLogs;
    private final List<Process> siteProcesses = new ArrayList<>();
    /** The path's gateway processes: whose CPU time and memory the row counts. */
    private final List<Process> pathProcesses = new ArrayList<>();
    /** The path's processes in the site namespace (iperf3's server), not counted. */
    private final List<Process> pathSiteProcesses = new ArrayList<>();
    /** The current path's directory, null between paths. */
    private Path current;
    private final List<String[]> undoPath = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "isthmus-bench-machine-cleanup");
    private final List<Process> running = new ArrayList<>();
    private volatile String aborted;
    private String forwardingBefore;
    /** Whether this run made the site link (and so may delete it). */
    private boolean siteLink;
    private boolean closed;

    /**
     * @param a        whether this is gateway-a
     * @param site     this machine's site prefix, a /24 (its gateway .1, its host .10)
     * @param peerSite the other machine's site prefix
     */
    BenchMachine(boolean a, String site, String peerSite, Path workBase, boolean keepLogs) {
        this.a = a;
        this.site = site;
        this.peerSite = peerSite;
        long pid = ProcessHandle.current().pid();
        this.ns = FAMILY + pid + "-site";
        this.workBase = workBase;
        this.work = Path.of(workBase + "-" + (a ? "a" : "b") + "-" + pid);
        this.keepLogs = keepLogs;
    }

    /** The address of this site's host, where iperf3 runs. */
    static String host(String site) {
        return site.substring(0, site.lastIndexOf('.')) + ".10";
    }

    static String gateway(String site) {
        return site.substring(0, site.lastIndexOf('.')) + ".1";
    }

    String siteNamespace() {
        return ns;
    }

    String side() {
        return a ? "gateway-a" : "gateway-b";
    }

    /** Builds the site namespace and turns IPv4 forwarding on. */
    void up() throws IOException, InterruptedException {
        removeLeftovers();
        Files.createDirectories(work, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Runtime.getRuntime().addShutdownHook(hook);
        forwardingBefore = Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip();
        // For the next run, should this one be killed before it can put it back.
        Files.writeString(work.resolve(FORWARDING_BEFORE), forwardingBefore);
        Lab.sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        Lab.sh("ip", "netns", "add", ns);
        Lab.sh("ip", "-n", ns, "link", "set", "lo", "up");
        Lab.sh("ip", "link", "add", SITE_LINK, "type", "veth", "peer", "name", "eth0", "netns", ns);
        siteLink = true;
        Lab.sh("ip", "addr", "add", gateway(site) + "/24", "dev", SITE_LINK);
        Lab.sh("ip", "link", "set", SITE_LINK, "up");
        Lab.sh("ip", "-n", ns, "addr", "add", host(site) + "/24", "dev", "eth0");
        Lab.sh("ip", "-n", ns, "link", "set", "eth0", "up");
        Lab.sh("ip", "-n", ns, "route", "add", "default", "via", gateway(site));
    }

    /**
     * Removes what runs killed outright left: namespaces of the family whose process is gone (the
     * link to the site goes with its namespace, veth pairs die together). Namespaces of runs that
     * still go are left alone: with two network namespaces standing in for two machines (the
     * tests), the other machine's is among them. A second run on one machine fails at the site
     * link, which the first holds.
     */
    private void removeLeftovers() throws IOException, InterruptedException {
        for (String line : Lab.sh("ip", "netns", "list").split("\n")) {
            String name = line.split(" ")[0];
            if (name.startsWith(FAMILY) && !name.equals(ns)) {
                String pid = name.substring(FAMILY.length()).split("-")[0];
                boolean alive = pid.chars().allMatch(Character::isDigit) && !pid.isEmpty()
                        && ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
                if (!alive) {
                    killIn(name);
                    new ProcessBuilder("ip", "netns", "del", name).start().waitFor();
                }
            }
        }
        // A killed run of this side: IPv4 forwarding back as it was before it (it left the value in its directory), and its
        // directory gone, since it holds its configurations and so its key. One whose run ended left only logs (--keep-logs),
        // which stay for the user. Only this side's: with namespaces standing in for machines, the other side's are in /tmp too.
        try (Stream<Path> dirs = Files.list(workBase.getParent())) {
            for (Path d : dirs.filter(d -> d.getFileName().toString().matches(java.util.regex.Pattern.quote(workBase.getFileName().toString())
                    + "-" + (a ? "a" : "b") + "-\\d+")).toList()) {
                String name = d.getFileName().toString();
                long pid = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
                if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    Path before = d.resolve(FORWARDING_BEFORE);
                    if (Files.exists(before)) {
                        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), Files.readString(before).strip());
                        Files.delete(before);
                    }
                    if (holdsSecrets(d)) {
                        deleteTree(d);
                    }
                }
            }
        }
        // A namespace's links go after "ip netns del" returns, when the kernel gets to it: a dead run's link may linger a moment.
        long end = System.nanoTime() + 15_000_000_000L;
        while (new ProcessBuilder("ip", "link", "show", SITE_LINK).redirectErrorStream(true).start().waitFor() == 0) {
            if (System.nanoTime() > end) {
                throw new IOException("this machine has a link " + SITE_LINK + " already: another bench run is going on here");
            }
            Thread.sleep(200);
        }
    }

    private static boolean holdsSecrets(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.anyMatch(BenchMachine::secret);
        }
    }

    /** The files of a run that hold its key: the gateways' configurations and WireGuard's private keys. */
    private static boolean secret(Path f) {
        String n = f.getFileName().toString();
        return n.endsWith(".yaml") || n.endsWith(".conf") || n.endsWith(".key");
    }

    private static void killIn(String namespace) throws IOException, InterruptedException {
        for (String pid : Lab.sh("ip", "netns", "pids", namespace).split("\\s+")) {
            if (!pid.isBlank()) {
                new ProcessBuilder("kill", "-KILL", pid.strip()).start().waitFor();
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // One path's gateway
    // ------------------------------------------------------------------------------------------

    /**
     * Starts this machine's gateway of {@code path} (and on gateway-b the site's iperf3 server);
     * for WireGuard, with {@code wireguardKey} (a private key of this machine's) and the peer's
     * public key. Isthmus is waited for until it answers on its control socket.
     */
    void startGateway(RemotePath path, GatewayConfigs configs, MachineFacts facts, String wireguardKey, String peerWireguardKey)
            throws IOException, InterruptedException {
        Path dir = begin(path);
        if (!a) {
            // A server of the path's own: one that a flood through the last path left wedged does not fail this one.
            spawn(ns, dir.resolve("iperf3-server.log"), List.of("iperf3", "-s"));
        }
        switch (path.kind(a)) {
            case PLAIN -> {
                Lab.sh("ip", "route", "add", configs.peerSite(), "via", configs.peer());
                undoPath.add(new String[] {"ip", "route", "del", configs.peerSite(), "via", configs.peer()});
            }
            case ISTHMUS -> {
                Process p = LabGateways.startIsthmus(this, HERE, "isthmus", configs.isthmus(path), "isthmus.log");
                awaitControlSocket(p, dir.resolve("isthmus.sock"), dir.resolve("isthmus.log"));
            }
            case STRONGSWAN -> {
                // Where the kernel does ESP, strongSwan's own ESP (kernel-libipsec) would be an unfair comparison: it is what
                // strongSwan users do not run. Where it does not (this project's machine), libipsec is the only way.
                List<String> plugins = facts.kernelEsp()
                        ? LabGateways.STRONGSWAN_PLUGINS.stream().filter(pl -> !pl.equals("kernel-libipsec")).toList()
                        : LabGateways.STRONGSWAN_PLUGINS;
                LabGateways.startStrongSwan(this, HERE, dir.resolve("strongswan"), configs.swanctl(), "", plugins);
            }
            case WIREGUARD -> WireGuard.up(this, HERE, wireguardKey, a ? "bench-a" : "bench-b", peerWireguardKey, configs.peer(),
                    configs.peerSite(), RemotePath.WIREGUARD_PORT);
        }
    }

    /**
     * The directory of {@code path}'s files (configurations, logs), made and made current: what
     * {@link #work()} answers until the path's gateway stops, so each path's logs are its own.
     */
    private synchronized Path begin(RemotePath path) throws IOException {
        if (current == null) {
            current = Files.createDirectories(work.resolve(path.id()));
        }
        return current;
    }

    /** A fresh WireGuard private key and its public key, for this machine's end of {@code path}. */
    String[] wireguardKeys(RemotePath path) throws IOException, InterruptedException {
        begin(path);
        String key = Lab.sh("wg", "genkey").strip();
        return new String[] {key, WireGuard.publicKey(this, key, a ? "bench-a" : "bench-b")};
    }

    /** Waits for an Isthmus gateway's control socket to answer; fails with its log's end if it exits or never does. */
    private static void awaitControlSocket(Process p, Path socket, Path log) throws IOException, InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            if (!p.isAlive()) {
                throw new IOException("Isthmus exited (" + p.exitValue() + "): " + tail(log));
            }
            try {
                io.isthmus.control.GatewayClient.status(socket);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IOException("Isthmus did not answer on its control socket in 60 s: " + tail(log));
    }

    /** The last lines of a log, for an error message. */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
            return String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }

    /** The ends of the current path's logs, for a failed row: a line or three each, 1,500 characters at most. */
    synchronized String logTails() {
        if (current == null) {
            return "";
        }
        try (Stream<Path> files = Files.walk(current)) {
            String all = files.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".out")).sorted()
                    .map(f -> current.relativize(f) + ": " + tail(f)).reduce((x, y) -> x + "; " + y).orElse("");
            return all.length() > 1500 ? all.substring(0, 1500) + "..." : all;
        } catch (IOException e) {
            return "";
        }
    }

    /** Stops this path's gateway (and its iperf3 server) and undoes what it changed. */
    void stopGateway() {
        Lab.stopAll(pathProcesses, 5);
        Lab.stopAll(pathSiteProcesses, 5);
        synchronized (this) {
            current = null;
        }
        for (String[] undo : undoPath) {
            try {
                new ProcessBuilder(undo).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // best effort: the next step of the clean-up still runs
            }
        }
        undoPath.clear();
    }

    /** User and system time of this path's gateway processes and their children, in clock ticks (USER_HZ). */
    long cpuTicks() {
        long ticks = 0;
        for (ProcessHandle h : gatewayProcesses()) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException | RuntimeException e) {
                // gone in between
            }
        }
        return ticks;
    }

    /** The largest peak resident set (VmHWM) among this path's gateway processes, in KB. */
    long peakRssKb() {
        long peak = 0;
        for (ProcessHandle h : gatewayProcesses()) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(h.pid()), "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        peak = Math.max(peak, Long.parseLong(line.replaceAll("[^0-9]", "")));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone in between
            }
        }
        return peak;
    }

    private List<ProcessHandle> gatewayProcesses() {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : List.copyOf(pathProcesses)) {
            all.add(p.toHandle());
            p.toHandle().descendants().forEach(all::add);
        }
        return all;
    }

    // ------------------------------------------------------------------------------------------
    // Namespaces: HERE is the machine's own namespace
    // ------------------------------------------------------------------------------------------

    @Override
    public synchronized Path work() {
        return current != null ? current : work;
    }

    /**
     * Runs a command to completion (iperf3, ping, ip); fails with its output if it fails. While
     * it runs, {@link #abort} can end it: a measurement against a machine that is gone ends then,
     * not when iperf3 gives up.
     */
    @Override
    public String in(String namespace, String... command) throws IOException, InterruptedException {
        List<String> c = command(namespace, List.of(command));
        Process p;
        synchronized (this) {
            if (aborted != null) {
                throw new IOException(aborted);
            }
            p = new ProcessBuilder(orphanless(c)).redirectErrorStream(true).start();
            running.add(p);
        }
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", c) + " did not finish");
            }
            if (aborted != null) {
                throw new IOException(aborted);
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", c) + " failed (" + p.exitValue() + "): " + out.strip());
            }
            return out;
        } finally {
            synchronized (this) {
                running.remove(p);
            }
        }
    }

    /** Why the run was aborted, or null. */
    String aborted() {
        return aborted;
    }

    /** Ends the commands {@link #in} runs, now and from now on, each failing with {@code why}. */
    void abort(String why) {
        List<Process> now;
        synchronized (this) {
            aborted = why;
            now = List.copyOf(running);
        }
        now.forEach(Process::destroyForcibly);
    }

    @Override
    public Process start(String namespace, List<String> command) throws IOException {
        Process p = new ProcessBuilder(orphanless(command(namespace, command))).redirectErrorStream(true).start();
        owner(namespace).add(p);
        return p;
    }

    @Override
    public Process spawn(String namespace, Path log, List<String> command) throws IOException {
        Process p = new ProcessBuilder(orphanless(command(namespace, command))).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        owner(namespace).add(p);
        return p;
    }

    /** The gateways' processes live as long as their path, and so does a site process started for one; others as long as the run. */
    private synchronized List<Process> owner(String namespace) {
        return namespace.equals(HERE) ? pathProcesses : current != null ? pathSiteProcesses : siteProcesses;
    }

    /**
     * A long-running command that gets SIGTERM when this process dies, even by SIGKILL, when no
     * clean-up of ours can run (prctl PR_SET_PDEATHSIG through setpriv, kept across exec). It
     * fires when the thread that started the command ends: every start here is on the run's main
     * thread, which lives as long as the run.
     */
    static List<String> orphanless(List<String> command) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--pdeathsig", "TERM"));
        c.addAll(command);
        return c;
    }

    private static List<String> command(String namespace, List<String> command) {
        if (namespace.equals(HERE)) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        c.addAll(command);
        return c;
    }

    /** Undoes everything, whatever state the run is in; safe to call more than once, and from the shutdown hook. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        abort("the run is over");
        stopGateway();
        Lab.stopAll(siteProcesses, 5);
        // Whatever still runs in the site goes, then the site. Its link would go with the namespace (veth pairs die together),
        // but only once the kernel gets to it, seconds later on a busy machine: this run's own link is deleted now. One that
        // another run holds (this run failed to make its own) is never touched.
        try {
            killIn(ns);
        } catch (IOException | InterruptedException ignored) {
            // no such namespace: never made
        }
        for (String[] step : siteLink ? new String[][] {{"ip", "netns", "del", ns}, {"ip", "link", "del", SITE_LINK}}
                : new String[][] {{"ip", "netns", "del", ns}}) {
            try {
                new ProcessBuilder(step).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // best effort
            }
        }
        if (forwardingBefore != null && !forwardingBefore.equals("1")) {
            try {
                Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), forwardingBefore);
            } catch (IOException ignored) {
                // best effort
            }
        }
        try {
            Files.deleteIfExists(work.resolve(FORWARDING_BEFORE));
        } catch (IOException ignored) {
            // the directory goes next, or stays with logs only
        }
        if (!keepLogs) {
            deleteTree(work);
        } else {
            // The logs stay for reading; the configurations, which hold the run's key, do not.
            try (Stream<Path> files = Files.walk(work)) {
                files.filter(BenchMachine::secret).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // nothing to keep
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // shutting down: this is the hook
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
