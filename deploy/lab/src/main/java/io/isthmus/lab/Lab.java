package io.isthmus.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two sites on one machine, in network namespaces, joined over a "wide-area" link by two
 * gateways, Isthmus or strongSwan, optionally with a NAT in front of site A's gateway:
 *
 * <pre>
 *  host-a ---- gw-a ----------------------------------- gw-b ---- host-b
 *  .10.10   .10.1 | 10.77.0.1                10.77.0.2 | .20.1    .20.10
 *  192.168.10.0/24, fd10::/64                     192.168.20.0/24, fd20::/64
 *
 *  with --nat:   gw-a 10.78.0.1 -- nat 10.78.0.254 | 10.77.0.254 (masquerade) -- gw-b 10.77.0.2
 * </pre>
 *
 * Every namespace and process belongs to the lab and goes when it is closed, also when the JVM
 * is interrupted (a shutdown hook). Names and the work directory carry this process's id, so a
 * demo started while the tests run (or two test runs) never tear each other's labs down; a
 * new lab removes only what runs whose process is gone left behind.
 */
public final class Lab implements Namespaces, AutoCloseable {
    /** What every lab namespace's name starts with, whichever run made it. */
    public static final String FAMILY = "isthmus-lab-";
    /** This run's: the family, then this process's id. */
    public static final String PREFIX = FAMILY + ProcessHandle.current().pid() + "-";
    public static final String HOST_A = PREFIX + "host-a";
    public static final String GW_A = PREFIX + "gw-a";
    public static final String NAT = PREFIX + "nat";
    public static final String GW_B = PREFIX + "gw-b";
    public static final String HOST_B = PREFIX + "host-b";
    /** A third site's gateway, behind gw-a alone (see {@link #addSiteC}). */
    public static final String GW_C = PREFIX + "gw-c";
    public static final String GW_C_WAN = "10.76.0.3";
    /** gw-c's address on its own site network: what answers there is gw-c itself. */
    public static final String SITE_C_IP = "192.168.30.1";
    public static final String HOST_A_IP = "192.168.10.10";
    public static final String HOST_B_IP = "192.168.20.10";
    public static final String HOST_A_IP6 = "fd10::10";
    public static final String HOST_B_IP6 = "fd20::10";
    public static final String GW_B_WAN = "10.77.0.2";

    /** Which end is which. */
    public enum Side { A, B }

    private final Path work;
    private final boolean nat;
    private final List<Process> processes = new ArrayList<>();
    private final List<String[]> stops = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "isthmus-lab-cleanup");

    private Lab(Path work, boolean nat) {
        this.work = work;
        this.nat = nat;
    }

    /** A lab's addresses without its namespaces, for checking the configurations it writes. */
    static Lab withoutNamespaces(boolean nat) {
        return new Lab(Path.of("/nonexistent"), nat);
    }

    /** Where gw-a's WAN side is (behind the NAT or not) and where gw-b sees it come from. */
    public String gatewayAWan() {
        return nat ? "10.78.0.1" : "10.77.0.1";
    }

    public String gatewayAAsSeenByB() {
        return nat ? "10.77.0.254" : "10.77.0.1";
    }

    public Path work() {
        return work;
    }

    public boolean nat() {
        return nat;
    }

    /**
     * Builds the namespaces and links (removing labs that dead runs left behind), with the work
     * directory (configurations, logs) at {@code base} followed by this process's id.
     */
    public static Lab up(Path base, boolean nat) throws IOException, InterruptedException {
        destroyLeftovers(false);
        Path work = Path.of(base + "-" + ProcessHandle.current().pid());
        Files.createDirectories(work);
        Lab lab = new Lab(work, nat);
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
        List<String> namespaces = new ArrayList<>(List.of(HOST_A, GW_A, GW_B, HOST_B));
        if (nat) {
            namespaces.add(NAT);
        }
        for (String ns : namespaces) {
            sh("ip", "netns", "add", ns);
            sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        link(HOST_A, "eth0", GW_A, "lan");
        link(GW_B, "lan", HOST_B, "eth0");
        addr(HOST_A, "eth0", "192.168.10.10/24", "fd10::10/64");
        addr(GW_A, "lan", "192.168.10.1/24", "fd10::1/64");
        addr(GW_B, "lan", "192.168.20.1/24", "fd20::1/64");
        addr(HOST_B, "eth0", "192.168.20.10/24", "fd20::10/64");
        if (nat) {
            link(GW_A, "wan", NAT, "inside");
            link(NAT, "outside", GW_B, "wan");
            addr(GW_A, "wan", "10.78.0.1/24");
            addr(NAT, "inside", "10.78.0.254/24");
            addr(NAT, "outside", "10.77.0.254/24");
            addr(GW_B, "wan", "10.77.0.2/24");
            sh("ip", "-n", GW_A, "route", "add", "default", "via", "10.78.0.254");
            sysctl(NAT, "net.ipv4.ip_forward", "1");
            nft(NAT, "add table ip nat", "add chain ip nat post { type nat hook postrouting priority 100 ; }",
                    "add rule ip nat post oifname \"outside\" masquerade");
        } else {
            link(GW_A, "wan", GW_B, "wan");
            addr(GW_A, "wan", "10.77.0.1/24");
            addr(GW_B, "wan", "10.77.0.2/24");
        }
        for (String gw : List.of(GW_A, GW_B)) {
            sysctl(gw, "net.ipv4.ip_forward", "1");
            sysctl(gw, "net.ipv6.conf.all.forwarding", "1");
        }
        for (String[] host : new String[][] {{HOST_A, "192.168.10.1", "fd10::1"}, {HOST_B, "192.168.20.1", "fd20::1"}}) {
            sh("ip", "-n", host[0], "route", "add", "default", "via", host[1]);
            sh("ip", "-n", host[0], "-6", "route", "add", "default", "via", host[2]);
        }
    }

    /**
     * A third site for tests of a gateway with two connections: gw-c, linked to gw-a only (gw-a
     * wan-c 10.76.0.1, gw-c wan 10.76.0.3; gw-a still speaks from 10.77.0.1, which gw-c reaches
     * through its default route), with its site 192.168.30.0/24 on an interface of its own (lan). Its
     * namespace is the lab's, and goes with it.
     *
     * <pre>
     *  host-a ---- gw-a ------------------- gw-b ---- host-b
     *               | wan-c 10.76.0.1
     *               | wan   10.76.0.3
     *              gw-c   lan 192.168.30.1/24
     * </pre>
     */
    public void addSiteC() throws IOException, InterruptedException {
        sh("ip", "netns", "add", GW_C);
        sh("ip", "-n", GW_C, "link", "set", "lo", "up");
        link(GW_A, "wan-c", GW_C, "wan");
        addr(GW_A, "wan-c", "10.76.0.1/24");
        addr(GW_C, "wan", GW_C_WAN + "/24");
        sh("ip", "-n", GW_C, "route", "add", "default", "via", "10.76.0.1");
        // A veth pair with both ends in gw-c: this kernel has no dummy devices, and a site network needs a link to be on.
        sh("ip", "-n", GW_C, "link", "add", "lan", "type", "veth", "peer", "name", "lan-end");
        sh("ip", "-n", GW_C, "link", "set", "lan", "up");
        sh("ip", "-n", GW_C, "link", "set", "lan-end", "up");
        addr(GW_C, "lan", SITE_C_IP + "/24");
        sysctl(GW_C, "net.ipv4.ip_forward", "1");
        sysctl(GW_C, "net.ipv6.conf.all.forwarding", "1");
    }

    static void link(String nsA, String ifA, String nsB, String ifB) throws IOException, InterruptedException {
        sh("ip", "link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB);
        sh("ip", "-n", nsA, "link", "set", ifA, "up");
        sh("ip", "-n", nsB, "link", "set", ifB, "up");
    }

    static void addr(String ns, String dev, String... cidrs) throws IOException, InterruptedException {
        for (String c : cidrs) {
            if (c.contains(":")) {
                sh("ip", "-n", ns, "addr", "add", c, "dev", dev, "nodad");
            } else {
                sh("ip", "-n", ns, "addr", "add", c, "dev", dev);
            }
        }
    }

    static void sysctl(String ns, String key, String value) throws IOException, InterruptedException {
        sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", key + "=" + value);
    }

    private static void nft(String ns, String... commands) throws IOException, InterruptedException {
        for (String c : commands) {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "nft"));
            cmd.addAll(List.of(c.split(" (?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")));
            sh(cmd.stream().map(s -> s.replace("\"", "")).toArray(String[]::new));
        }
    }

    /** Runs a command to completion; fails with its output if it fails. */
    public static String sh(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out.strip());
        }
        return out;
    }

    /** Runs a command in a namespace and returns its output (and exit code in the exception if it fails). */
    public String in(String ns, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(command));
        return sh(cmd.toArray(String[]::new));
    }

    /** Starts a long-running command in a namespace, its output going to {@code log}. */
    public Process spawn(String ns, Path log, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** Starts a command in a namespace with its output piped back (for traffic generators). */
    public Process start(String ns, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(command);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    /** A process of the test's own (a curl following events) that the lab stops when it closes. */
    public synchronized void own(Process p) {
        processes.add(p);
    }

    /** Something to run when the lab closes (a charon to stop). */
    void onClose(String... command) {
        stops.add(command);
    }

    /** Waits until {@code host-a} reaches {@code host-b} (one ping answered), or gives up. */
    public boolean awaitPath(Duration limit, boolean ipv6) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            try {
                in(HOST_A, "ping", ipv6 ? "-6" : "-4", "-c", "1", "-W", "1", ipv6 ? HOST_B_IP6 : HOST_B_IP);
                return true;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        return false;
    }

    /**
     * Removes labs left behind by runs that did not close them (killed JVM, power cut...); with
     * {@code all}, also those of runs still going.
     */
    public static void down(boolean all) throws IOException, InterruptedException {
        destroyLeftovers(all);
    }

    /** Removes this run's namespaces, and those of runs whose process is gone (or every run's, with {@code all}). */
    static void destroyLeftovers(boolean all) throws IOException, InterruptedException {
        for (String line : sh("ip", "netns", "list").split("\n")) {
            String ns = line.split(" ")[0];
            if (ns.startsWith(PREFIX) || (ns.startsWith(FAMILY) && (all || !runAlive(ns)))) {
                killIn(ns);
                new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
            }
        }
    }

    /** Whether the process whose id follows the family prefix in this name still runs (names of older versions have none). */
    private static boolean runAlive(String ns) {
        String rest = ns.substring(FAMILY.length());
        int dash = rest.indexOf('-');
        if (dash <= 0 || !rest.substring(0, dash).chars().allMatch(Character::isDigit)) {
            return false;
        }
        return ProcessHandle.of(Long.parseLong(rest.substring(0, dash))).map(ProcessHandle::isAlive).orElse(false);
    }

    static void killIn(String ns) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "pids", ns).start();
        String pids = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        for (String pid : pids.split("\\s+")) {
            if (!pid.isEmpty()) {
                new ProcessBuilder("kill", "-TERM", pid).start().waitFor();
            }
        }
    }

    @Override
    public synchronized void close() {
        for (String[] stop : stops) {
            try {
                new ProcessBuilder(stop).start().waitFor(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                // best effort
            }
        }
        stops.clear();
        stopAll(processes, 5);
        try {
            destroyLeftovers(false);
        } catch (IOException | InterruptedException ignored) {
            // best effort
        }
        forgetShutdownHook(hook);
    }

    /** SIGTERM to each, then SIGKILL to those still running after {@code graceSeconds}; the list is emptied. */
    public static void stopAll(List<Process> processes, int graceSeconds) {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        processes.clear();
    }

    /** A lab closed by hand no longer needs its hook; closed by the hook, removing it throws, which is fine. */
    static void forgetShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: this is the hook
        }
    }
}
