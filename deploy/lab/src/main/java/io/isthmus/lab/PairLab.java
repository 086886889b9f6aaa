package io.isthmus.lab;

import io.isthmus.control.ha.KeepalivedConfig;
import io.isthmus.control.ha.KeepalivedConfig.FloatingAddress;
import io.isthmus.control.ha.KeepalivedConfig.FloatingGroup;
import io.isthmus.control.ha.KeepalivedConfig.HealthCheck;
import io.isthmus.control.ha.KeepalivedConfig.Preemption;
import io.isthmus.control.ha.KeepalivedConfig.SyncLink;
import io.isthmus.control.ha.KeepalivedConfig.TrackedProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * The active-active pair's lab (issue 12): an on-premises gateway ({@code peer}) with a host
 * behind it, and two instances of one gateway ({@code gw1}, {@code gw2}) on one wide-area
 * segment and one network-side segment (bridges, each in a namespace of its own), joined by a
 * sync link of their own, with keepalived in each instance moving the floating addresses:
 *
 * <pre>
 *  host-a ---- peer ------ [wan: bridge] ------ gw1 ------ [net: bridge] ---- host-b
 *  .10.10   .10.1 | 10.77.0.1      10.77.0.2 | sync 10.99.0.1   192.168.20.2  | 192.168.20.10
 *  192.168.10.0/24                      |                    |         default via .20.1
 *                                       +------ gw2 ---------+
 *                             10.77.0.3   sync 10.99.0.2   192.168.20.3
 *
 *  floating, as Azure active-active: group vip1 (owner gw1) = 10.77.0.11 + 192.168.20.1,
 *                                    group vip2 (owner gw2) = 10.77.0.12 + 192.168.20.4
 * </pre>
 *
 * The peer routes the network side to vip1, so host-b reaches it through whichever instance
 * holds vip1 (a plain route here; the peer's tunnel, once one runs, goes to a vip too).
 *
 * <p>Until the daemon takes part, keepalived tracks a stand-in per instance: a shell loop with a
 * name of its own (its process) whose heartbeat a check script watches (its answer); the
 * {@link Daemon} of an instance is a parameter, so the Isthmus daemon (its process and
 * {@code isthmus ha check}) replaces it. Names carry {@link Lab#PREFIX} and the stand-ins' names
 * this process's id, so two runs neither tear down nor track each other's.
 */
public final class PairLab implements Namespaces, AutoCloseable {
    public static final String HOST_A = Lab.PREFIX + "pair-host-a";
    public static final String PEER = Lab.PREFIX + "pair-peer";
    public static final String WAN = Lab.PREFIX + "pair-wan";
    public static final String NET = Lab.PREFIX + "pair-net";
    public static final String HOST_B = Lab.PREFIX + "pair-host-b";
    public static final String PEER_WAN = "10.77.0.1";
    public static final String HOST_A_IP = "192.168.10.10";
    public static final String HOST_B_IP = "192.168.20.10";
    /** Group vip1, owned by gw1: a WAN address and host-b's gateway. */
    public static final String VIP1 = "10.77.0.11";
    public static final String NET_VIP1 = "192.168.20.1";
    /** Group vip2, owned by gw2. */
    public static final String VIP2 = "10.77.0.12";
    public static final String NET_VIP2 = "192.168.20.4";

    /** An instance of the pair: its namespace and its addresses (WAN, network side, sync link). */
    public enum Instance {
        GW1("gw1", "10.77.0.2", "192.168.20.2", "10.99.0.1"),
        GW2("gw2", "10.77.0.3", "192.168.20.3", "10.99.0.2");

        public final String label;
        public final String ns;
        public final String wan;
        public final String lan;
        public final String sync;

        Instance(String label, String wan, String lan, String sync) {
            this.label = label;
            this.ns = Lab.PREFIX + "pair-" + label;
            this.wan = wan;
            this.lan = lan;
            this.sync = sync;
        }

        public Instance other() {
            return this == GW1 ? GW2 : GW1;
        }
    }

    /**
     * What keepalived tracks in an instance: the daemon's process, the check it must answer, the
     * command told of each transition or the FIFO it reads them from (the Isthmus daemon's), and
     * the names of the VRRP instances (the groups: the Isthmus daemon names them after the pair's instances).
     */
    public record Daemon(TrackedProcess process, HealthCheck check, List<String> notifyCommand, Path notifyFifo, Path handoverFile,
                         List<String> groupNames) {
        public Daemon(TrackedProcess process, HealthCheck check, List<String> notifyCommand) {
            this(process, check, notifyCommand, null, null, List.of("vip1", "vip2"));
        }
    }

    /**
     * The pair's timers and what it tracks. Preemption is on, after 1 s, by default: each
     * instance carries its own tunnels (active-active), so a recovered owner takes its group
     * back, a little after it is ready (the delay is where its SA copy would catch up). Without
     * preemption the pair drifts to active-passive: the first instance whose check passes at
     * start takes both groups and keeps them (measured), until it fails.
     */
    public record Options(Duration advertInterval, Preemption preemption, BiFunction<PairLab, Instance, Daemon> daemon) {
        public static final Options DEFAULT = new Options(KeepalivedConfig.LAB_ADVERT_INTERVAL, Preemption.after(Duration.ofSeconds(1)),
                PairLab::standIn);

        public Options withPreemption(Preemption p) {
            return new Options(advertInterval, p, daemon);
        }

        public Options withAdvertInterval(Duration d) {
            return new Options(d, preemption, daemon);
        }

        /** The Isthmus daemon (its process, {@code isthmus ha check}, {@code isthmus ha notify}) instead of the stand-ins. */
        public Options withDaemon(BiFunction<PairLab, Instance, Daemon> d) {
            return new Options(advertInterval, preemption, d);
        }
    }

    private final Path work;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Map<Instance, Process> daemons = new EnumMap<>(Instance.class);
    private final Thread hook = new Thread(this::close, "isthmus-pair-lab-cleanup");

    private PairLab(Path work) {
        this.work = work;
    }

    @Override
    public Path work() {
        return work;
    }

    /**
     * Builds the namespaces, bridges and links (removing what dead runs left behind), with the
     * work directory (configurations, scripts, logs, pid files) at {@code base} followed by this
     * process's id. Nothing runs yet: see {@link #startStandIn} and {@link #startKeepalived}.
     */
    public static PairLab up(Path base) throws IOException, InterruptedException {
        Lab.destroyLeftovers(false);
        Path work = Path.of(base + "-" + ProcessHandle.current().pid());
        Files.createDirectories(work);
        // keepalived runs our scripts as root only if no one else can change them (enable_script_security).
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        PairLab lab = new PairLab(work);
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
        for (String ns : List.of(HOST_A, PEER, WAN, Instance.GW1.ns, Instance.GW2.ns, NET, HOST_B)) {
            Lab.sh("ip", "netns", "add", ns);
            namespaces.add(ns);
            Lab.sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        Lab.link(HOST_A, "eth0", PEER, "lan");
        Lab.addr(HOST_A, "eth0", HOST_A_IP + "/24");
        Lab.addr(PEER, "lan", "192.168.10.1/24");
        Lab.sh("ip", "-n", HOST_A, "route", "add", "default", "via", "192.168.10.1");
        for (String bridge : List.of(WAN, NET)) {
            Lab.sh("ip", "-n", bridge, "link", "add", "br0", "type", "bridge");
            Lab.sh("ip", "-n", bridge, "link", "set", "br0", "up");
        }
        port(WAN, PEER, "wan", "p-peer", PEER_WAN);
        port(NET, HOST_B, "eth0", "p-host-b", HOST_B_IP);
        for (Instance gw : Instance.values()) {
            port(WAN, gw.ns, "wan", "p-" + gw.label, gw.wan);
            port(NET, gw.ns, "lan", "p-" + gw.label, gw.lan);
            Lab.sysctl(gw.ns, "net.ipv4.ip_forward", "1");
        }
        Lab.link(Instance.GW1.ns, "sync", Instance.GW2.ns, "sync");
        Lab.addr(Instance.GW1.ns, "sync", Instance.GW1.sync + "/30");
        Lab.addr(Instance.GW2.ns, "sync", Instance.GW2.sync + "/30");
        Lab.sysctl(PEER, "net.ipv4.ip_forward", "1");
        Lab.sh("ip", "-n", PEER, "route", "add", "192.168.20.0/24", "via", VIP1);
        Lab.sh("ip", "-n", HOST_B, "route", "add", "default", "via", NET_VIP1);
    }

    /** A veth from {@code ns}'s {@code dev} (with {@code ip}/24) to a port of the bridge in {@code bridgeNs}. */
    private static void port(String bridgeNs, String ns, String dev, String port, String ip) throws IOException, InterruptedException {
        Lab.link(ns, dev, bridgeNs, port);
        Lab.sh("ip", "-n", bridgeNs, "link", "set", port, "master", "br0");
        Lab.addr(ns, dev, ip + "/24");
    }

    /** The keepalived configuration of {@code gw}: it owns its group (priority 150), backs up the other's (100). */
    public KeepalivedConfig keepalivedConfig(Instance gw, Options options) {
        boolean one = gw == Instance.GW1;
        Daemon daemon = options.daemon().apply(this, gw);
        return new KeepalivedConfig(gw.label, new SyncLink("sync", gw.sync, gw.other().sync), List.of(
                new FloatingGroup(daemon.groupNames().get(0), 51, one ? FloatingGroup.OWNER_PRIORITY : FloatingGroup.PARTNER_PRIORITY, List.of(new FloatingAddress(VIP1 + "/24", "wan"),
                        new FloatingAddress(NET_VIP1 + "/24", "lan"))),
                new FloatingGroup(daemon.groupNames().get(1), 52, one ? FloatingGroup.PARTNER_PRIORITY : FloatingGroup.OWNER_PRIORITY, List.of(new FloatingAddress(VIP2 + "/24", "wan"),
                        new FloatingAddress(NET_VIP2 + "/24", "lan")))),
                options.advertInterval(), options.preemption(), daemon.process(), daemon.check(), daemon.notifyCommand(), daemon.notifyFifo(),
                daemon.handoverFile());
    }

    /** Starts keepalived for both instances, each with its configuration, log and pid files in the work directory. */
    public void startKeepalived(Options options) throws IOException {
        for (Instance gw : Instance.values()) {
            KeepalivedConfig config = keepalivedConfig(gw, options);
            Path file = work.resolve("keepalived-" + gw.label + ".conf");
            Files.writeString(file, config.render());
            List<String> command = new ArrayList<>(config.command(file, work, gw.ns));
            // keepalived's parent enters the namespace itself, so a leftovers' clean-up (Lab.down) signals it with its
            // VRRP child; should the child die first, the parent must not start another in a namespace about to go.
            command.add("--dont-respawn");
            processes.add(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(work.resolve("keepalived-" + gw.label + ".log").toFile()).start());
        }
    }

    /**
     * The stand-in's name: what the kernel keeps of it (15 characters) must tell this run's
     * instances apart from another run's, as keepalived counts every process of that name.
     */
    public static String standInName(Instance gw) {
        return "st" + ProcessHandle.current().pid() + "-" + gw.label;
    }

    /** The stand-in daemon of {@code gw}: tracked by its name, checked by its heartbeat, told of transitions by a script that logs them. */
    public Daemon standIn(Instance gw) {
        return new Daemon(TrackedProcess.named(standInName(gw)), HealthCheck.every(List.of(work.resolve("check-" + gw.label).toString())),
                List.of(work.resolve("notify").toString(), gw.label));
    }

    /** Writes the stand-in's scripts and starts it in {@code gw} (again, after a kill). */
    public Process startStandIn(Instance gw) throws IOException {
        Path beat = work.resolve("heartbeat-" + gw.label);
        script(standInName(gw), """
                #!/bin/sh
                # Stands in for the Isthmus daemon of %s: alive while it runs, answering while its heartbeat advances.
                i=0
                while :; do i=$((i+1)); echo $i > %s; sleep 0.1; done
                """.formatted(gw.label, beat));
        script("check-" + gw.label, """
                #!/bin/sh
                # The check keepalived runs: a paused stand-in's heartbeat stops.
                a=$(cat %1$s 2>/dev/null); sleep 0.3; b=$(cat %1$s 2>/dev/null)
                [ -n "$b" ] && [ "$a" != "$b" ]
                """.formatted(beat));
        script("notify", """
                #!/bin/sh
                # keepalived's notify: INSTANCE, group, state, priority after the instance's name; one line each, with the time.
                gw=$1; shift
                echo "$(date +%%s%%N) $*" >> %s/notify-$gw.log
                """.formatted(work));
        Process p = new ProcessBuilder("ip", "netns", "exec", gw.ns, work.resolve(standInName(gw)).toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        daemons.put(gw, p);
        return p;
    }

    private void script(String name, String text) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The process keepalived tracks in {@code gw}, for the faults: the stand-in, or the daemon the integrator started there. */
    public void daemon(Instance gw, Process process) {
        daemons.put(gw, process);
    }

    /** kill -9 of {@code gw}'s tracked process. */
    public void killDaemon(Instance gw) throws IOException, InterruptedException {
        signal(gw, "KILL");
        daemons.get(gw).waitFor(5, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the process stays, and stops answering. */
    public void pauseDaemon(Instance gw) throws IOException, InterruptedException {
        signal(gw, "STOP");
    }

    public void resumeDaemon(Instance gw) throws IOException, InterruptedException {
        signal(gw, "CONT");
    }

    private void signal(Instance gw, String signal) throws IOException, InterruptedException {
        Lab.sh("kill", "-" + signal, Long.toString(daemons.get(gw).pid()));
    }

    /** {@code gw}'s wide-area link down (its end of the veth: the bridge's port loses carrier too). */
    public void wanDown(Instance gw) throws IOException, InterruptedException {
        Lab.sh("ip", "-n", gw.ns, "link", "set", "wan", "down");
    }

    public void wanUp(Instance gw) throws IOException, InterruptedException {
        Lab.sh("ip", "-n", gw.ns, "link", "set", "wan", "up");
    }

    /**
     * The sync link's TCP cut at {@code gw}, both ways, on port {@code syncPort}: the state sync
     * stops while VRRP, on the same link, still passes, so nobody takes over and {@code gw} goes on
     * alone, its partner's copy of its state falling behind (what a half-broken sync network does).
     */
    public void syncStreamCut(Instance gw, int syncPort) throws IOException, InterruptedException {
        String drop = "tcp dport " + syncPort + " drop; tcp sport " + syncPort + " drop;";
        filter(gw, "isthmus_sync_cut", drop, drop);
    }

    /** {@code gw}'s IKE messages (UDP from ports 500 and 4500) dropped on their way out: it hears the peer, the peer does not hear it. */
    public void ikeOutCut(Instance gw) throws IOException, InterruptedException {
        filter(gw, "isthmus_ike_out_cut", "", "udp sport { 500, 4500 } drop;");
    }

    /**
     * The peer's IKE messages to {@code gw} dropped on their way in (UDP to port 500, and to port
     * 4500 those with the non-ESP marker, so ESP in UDP still passes): {@code gw} sends its
     * requests and never hears the answers. {@link #ikeInRestored} undoes it.
     */
    public void ikeInCut(Instance gw) throws IOException, InterruptedException {
        filter(gw, "isthmus_ike_in_cut", "udp dport 500 drop; udp dport 4500 @th,64,32 0 drop;", "");
    }

    public void ikeInRestored(Instance gw) throws IOException, InterruptedException {
        Lab.sh("ip", "netns", "exec", gw.ns, "nft", "delete table inet isthmus_ike_in_cut");
    }

    private void filter(Instance gw, String table, String inRules, String outRules) throws IOException, InterruptedException {
        Lab.sh("ip", "netns", "exec", gw.ns, "nft", "add table inet " + table + "; "
                + "add chain inet " + table + " in { type filter hook input priority 0; " + inRules + " }; "
                + "add chain inet " + table + " out { type filter hook output priority 0; " + outRules + " }");
    }

    /**
     * {@code gw} gone, as a machine that loses power: every link down, the sync link first, so
     * that no last advert (a FAULT's priority 0) announces it: the survivor finds out by silence.
     */
    public void machineGone(Instance gw) throws IOException, InterruptedException {
        for (String dev : List.of("sync", "wan", "lan")) {
            Lab.sh("ip", "-n", gw.ns, "link", "set", dev, "down");
        }
    }

    /**
     * The links back, the sync link first: with the WAN and network side up first, gw1 would
     * leave FAULT deaf to its peer, and after 3 adverts of silence claim its group at once
     * (measured: back in 190 ms, a moment with two masters), skipping the preemption delay.
     */
    public void machineBack(Instance gw) throws IOException, InterruptedException {
        for (String dev : List.of("sync", "wan", "lan")) {
            Lab.sh("ip", "-n", gw.ns, "link", "set", dev, "up");
        }
    }

    /** Whether {@code gw} holds {@code address} now. */
    public boolean holds(Instance gw, String address) throws IOException, InterruptedException {
        return Lab.sh("ip", "-n", gw.ns, "-4", "-o", "addr", "show").contains(" " + address + "/");
    }

    /**
     * Polls (as fast as {@code ip} answers, a few ms) until {@code gw} holds {@code address};
     * returns the nanoseconds waited, or -1 after {@code limit}.
     */
    public long awaitAddress(Instance gw, String address, Duration limit) throws IOException, InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < limit.toNanos()) {
            if (holds(gw, address)) {
                return System.nanoTime() - start;
            }
            Thread.sleep(2);
        }
        return -1;
    }

    /** The transitions keepalived announced in {@code gw}, one per line: epoch nanoseconds, INSTANCE, group, state, priority. */
    public List<String> transitions(Instance gw) throws IOException {
        Path log = work.resolve("notify-" + gw.label + ".log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Override
    public Process start(String ns, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    @Override
    public Process spawn(String ns, Path log, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** Runs a command in a namespace of the lab; fails with its output if it fails. */
    @Override
    public String in(String ns, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(command));
        return Lab.sh(c.toArray(String[]::new));
    }

    /**
     * Stops keepalived (which takes its addresses away) and the daemons, then removes this lab's
     * namespaces with whatever still runs in them; also when the JVM is interrupted (a shutdown
     * hook). Another run's lab is never touched.
     */
    @Override
    public synchronized void close() {
        for (Process p : daemons.values()) {
            // A paused process would not act on SIGTERM; SIGKILL needs no cooperation.
            p.destroyForcibly();
        }
        Lab.stopAll(processes, 10);
        daemons.clear();
        for (String ns : namespaces) {
            try {
                Lab.killIn(ns);
                new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // best effort: the next lab's leftovers clean-up gets the rest
            }
        }
        namespaces.clear();
        Lab.forgetShutdownHook(hook);
    }
}
