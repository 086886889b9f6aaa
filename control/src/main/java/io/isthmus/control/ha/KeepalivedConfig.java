package io.isthmus.control.ha;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The keepalived.conf of one instance of an active-active pair: one VRRP instance per floating
 * group (a wide-area address and the network-side address that moves with it), advertised over
 * the pair's sync link, with the Isthmus daemon tracked twice (its process, and a check that it
 * answers). Floating addresses are keepalived's job, not a protocol of Isthmus's own: this class
 * writes its configuration and the command line that runs it; the daemon follows its state
 * through the notify command.
 *
 * <p>Written for keepalived 2.2.7 (Debian 12's) and checked against it ({@code keepalived -t}
 * in the test). The choices, each measured in the namespace lab (deploy/lab PairLab):
 * <ul>
 * <li><b>Unicast over the sync link</b>, not multicast: cloud networks (Azure, AWS) carry no
 * multicast, and two instances with one peer each need none. The sync link is the pair's own
 * segment, so adverts do not depend on the wide-area side, which is what is being watched.
 * <li><b>VRRPv3</b>: its advert interval has 10 ms steps (v2 has whole seconds), so a dead
 * instance is replaced in a fraction of a second: 3 intervals and a skew when it falls silent,
 * about one skew (under an interval) when it resigns (FAULT sends a priority-0 advert).
 * <li><b>No authentication</b>: VRRPv3 has none (RFC 5798 removed it, section 9). Who is heard
 * is limited instead: adverts go to the one peer, {@code check_unicast_src} drops any other
 * source, and they are sent with TTL 255 and accepted only at 255 (GTSM, RFC 5082), so nothing
 * beyond the sync link can forge one.
 * <li><b>{@code vrrp_track_process} and {@code track_script} both</b>: the process is watched
 * through the kernel's process events, so a kill -9 (or a crash, or the OOM killer) is seen at
 * once, without polling; but a paused daemon (SIGSTOP, a debugger, a VM stall, a stuck JVM) is
 * still a process, so a check command must also be answered. keepalived 2.2.7 runs scripts at
 * whole-second intervals and timeouts only, so a pause is seen in seconds, a death in
 * milliseconds.
 * <li><b>Weight 0 for every check</b>: a failed check puts the group in FAULT rather than lowering
 * its priority; a daemon that cannot answer cannot carry tunnels at any priority. The one
 * weight is the handover file's, which lowers the priority instead, so that the partner claims
 * the addresses before this side drops them (make before break).
 * <li><b>{@code dont_track_primary}, {@code track_interface} on the floating addresses'
 * devices</b>: losing the sync link's carrier is what the peer's death looks like from here
 * (a direct cable, a veth), and must make this side take over, not go to FAULT; losing the
 * device a floating address lives on must hand the group over.
 * </ul>
 */
public record KeepalivedConfig(String instanceName, SyncLink syncLink, List<FloatingGroup> groups, Duration advertInterval,
                               Preemption preemption, TrackedProcess daemonProcess, HealthCheck healthCheck, List<String> notifyCommand,
                               Path notifyFifo, Path handoverFile) {

    /**
     * 50 ms: the lab's default. On a shared 2-core machine (load 3 to 6) the group moved about
     * 40 ms after a kill -9 or a WAN link down (the failed side resigns with a priority-0 advert)
     * and about 150 ms after the peer fell silent (3 intervals and a skew), with no transition
     * without a fault; 20 ms and 10 ms also held there (silent peer: 75 ms, 39 ms), but leave
     * less room for a stalled scheduler on a busier host.
     */
    public static final Duration LAB_ADVERT_INTERVAL = Duration.ofMillis(50);
    /** VRRPv3's field is 12 bits of centiseconds (RFC 5798 section 5.2.7). */
    public static final Duration MAX_ADVERT_INTERVAL = Duration.ofMillis(40_950);
    /** The handover file's 1 takes this from every priority: whatever it was (1 to 254), it ends at 1, keepalived's floor. */
    static final int HANDOVER_WEIGHT = 253;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9_.@:-]{1,15}");
    /** What keepalived's parser takes as a plain word: no quotes, escapes, braces or comment marks ('!', '#'). */
    private static final Pattern WORD = Pattern.compile("[^\"'\\\\\\s\\p{Cntrl}{}!#]+");

    /** The sync link's device here, this instance's address on it and the other instance's. */
    public record SyncLink(String device, String localAddress, String peerAddress) {
    }

    /** An address with its prefix length ({@code 10.77.0.11/24}) on a device of this instance. */
    public record FloatingAddress(String cidr, String device) {
    }

    /**
     * What moves together: say the wide-area address a peer's tunnel lands on and the
     * network-side gateway address. {@code priority} is this instance's, 1 to 254: higher on the
     * group's owner ({@link #OWNER_PRIORITY} against {@link #PARTNER_PRIORITY}); 255 (keepalived's
     * "address owner") is refused, as it cannot be lowered by a failed check.
     */
    public record FloatingGroup(String name, int virtualRouterId, int priority, List<FloatingAddress> addresses) {
        public static final int OWNER_PRIORITY = 150;
        public static final int PARTNER_PRIORITY = 100;

        public FloatingGroup {
            addresses = List.copyOf(addresses);
        }

        /** Whether this instance owns the group: its priority is above the partner's side. */
        public boolean owned() {
            return priority > PARTNER_PRIORITY;
        }
    }

    /**
     * Whether a recovered owner takes its group back, and how long after it is ready again.
     * Active-active wants it back (each instance carries its own tunnels; one carrying all is
     * the degraded state), but not at once: the delay lets the returning instance receive the
     * other's copy of its SAs before its tunnels move again.
     */
    public record Preemption(boolean preempt, Duration delay) {
        public static final Preemption NEVER = new Preemption(false, Duration.ZERO);

        public static Preemption after(Duration delay) {
            return new Preemption(true, delay);
        }
    }

    /** How keepalived's {@code param_match} compares the process's arguments with the given ones. */
    public enum ParameterMatch { EXACT, PARTIAL, INITIAL }

    /**
     * The daemon's process: without parameters, its name as the kernel keeps it ({@code comm},
     * 15 characters at most); with parameters, the command line's first word and the words that
     * follow, compared as {@code match} says.
     */
    public record TrackedProcess(String name, List<String> parameters, ParameterMatch match) {
        public TrackedProcess {
            parameters = List.copyOf(parameters);
        }

        public static TrackedProcess named(String name) {
            return new TrackedProcess(name, List.of(), ParameterMatch.EXACT);
        }
    }

    /**
     * The check that the daemon answers, e.g. {@code /usr/bin/isthmus ha check}: run every
     * {@code intervalSeconds}, failed if it has not exited 0 within {@code timeoutSeconds};
     * {@code fall} failures in a row put the groups in FAULT, {@code rise} successes take them
     * out. keepalived 2.2.7 accepts whole seconds only for both (it refuses 0.5).
     */
    public record HealthCheck(List<String> command, int intervalSeconds, int timeoutSeconds, int fall, int rise) {
        public HealthCheck {
            command = List.copyOf(command);
        }

        /**
         * Every second, one second to answer; two failures (one slow answer from a busy or
         * collecting JVM is not a failover) and two successes. A pause is seen after the second
         * failed check: 1.4 to 1.7 s measured with the lab's stand-in (its check answers "no"
         * in 0.3 s), up to 3 s for a check that waits out its timeout.
         */
        public static HealthCheck every(List<String> command) {
            return new HealthCheck(command, 1, 1, 2, 2);
        }
    }

    /** With a notify command and no FIFO. */
    public KeepalivedConfig(String instanceName, SyncLink syncLink, List<FloatingGroup> groups, Duration advertInterval, Preemption preemption,
                            TrackedProcess daemonProcess, HealthCheck healthCheck, List<String> notifyCommand) {
        this(instanceName, syncLink, groups, advertInterval, preemption, daemonProcess, healthCheck, notifyCommand, null, null);
    }

    /**
     * @param notifyCommand run at each transition (may be empty when {@code notifyFifo} is given)
     * @param notifyFifo    where keepalived writes each transition, in order, for the gateway to read
     *                      (the gateway's way: no process per transition, no reordering); null for none
     * @param handoverFile  a file the gateway writes 1 to once it handed its SAs over (a planned stop):
     *                      keepalived puts its groups in FAULT at once and the partner takes them,
     *                      without waiting for the process to end; 0 otherwise. Null for none
     */
    public KeepalivedConfig {
        groups = List.copyOf(groups);
        notifyCommand = List.copyOf(notifyCommand);
        List<String> problems = problems(instanceName, syncLink, groups, advertInterval, preemption, daemonProcess, healthCheck,
                notifyCommand);
        if (notifyFifo != null && (!notifyFifo.isAbsolute() || !WORD.matcher(notifyFifo.toString()).matches())) {
            problems.add("the notify FIFO " + notifyFifo + " must be an absolute path without spaces, quotes, braces, '!' or '#'");
        }
        if (handoverFile != null && (!handoverFile.isAbsolute() || !WORD.matcher(handoverFile.toString()).matches())) {
            problems.add("the handover file " + handoverFile + " must be an absolute path without spaces, quotes, braces, '!' or '#'");
        }
        if (notifyFifo != null && notifyCommand.isEmpty()) {
            problems.removeIf(x -> x.startsWith("notify command"));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("keepalived configuration of " + instanceName + ": " + String.join("; ", problems));
        }
    }

    /** Every problem with these values, each saying what is allowed; empty when they make a configuration keepalived takes. */
    private static List<String> problems(String instance, SyncLink sync, List<FloatingGroup> groups, Duration advert, Preemption preemption,
                                         TrackedProcess process, HealthCheck check, List<String> notify) {
        List<String> p = new ArrayList<>();
        if (instance == null || !NAME.matcher(instance).matches()) {
            p.add("instance name '" + instance + "' must be 1 to 64 letters, digits, '_', '.' or '-'");
        }
        if (sync == null) {
            p.add("the sync link is missing");
        } else {
            device("sync link", sync.device(), p);
            InetAddress local = address("sync link's local address", sync.localAddress(), p);
            InetAddress peer = address("sync link's peer address", sync.peerAddress(), p);
            if (local != null && peer != null && (local.equals(peer) || local instanceof Inet4Address != peer instanceof Inet4Address)) {
                p.add("the sync link's addresses " + sync.localAddress() + " and " + sync.peerAddress() + " must differ and be of one family");
            }
        }
        if (advert == null || advert.toMillis() < 10 || advert.compareTo(MAX_ADVERT_INTERVAL) > 0 || advert.toNanos() % 10_000_000 != 0) {
            p.add("advert interval " + advert + " must be 10 ms to 40.95 s in steps of 10 ms (VRRPv3 counts centiseconds)");
        }
        groups(groups, p);
        if (preemption == null || preemption.delay() == null || preemption.delay().isNegative()
                || preemption.delay().compareTo(Duration.ofSeconds(1000)) > 0 || preemption.delay().toNanos() % 1_000_000 != 0) {
            p.add("preemption " + preemption + " needs a delay of 0 to 1000 s in whole milliseconds");
        } else if (!preemption.preempt() && !preemption.delay().isZero()) {
            p.add("a preemption delay means nothing without preemption");
        }
        if (process == null || process.name() == null || !WORD.matcher(process.name()).matches()) {
            p.add("the tracked process needs a name: one word, without quotes, braces, '!' or '#'");
        } else if (process.parameters().isEmpty() && process.name().length() > 15) {
            p.add("tracked process name '" + process.name() + "' is longer than the 15 characters the kernel keeps of a process's name: "
                    + "it would never match; give the command line's first word and parameters instead");
        } else {
            process.parameters().forEach(a -> argument("tracked process parameter", a, p));
        }
        if (check == null) {
            p.add("the health check is missing");
        } else {
            command("health check", check.command(), p);
            if (check.intervalSeconds() < 1 || check.timeoutSeconds() < 1 || check.fall() < 1 || check.rise() < 1) {
                p.add("the health check's interval and timeout (whole seconds, as keepalived 2.2.7 reads them), fall and rise must be 1 or more");
            }
        }
        command("notify", notify, p);
        return p;
    }

    private static void groups(List<FloatingGroup> groups, List<String> p) {
        if (groups.isEmpty()) {
            p.add("no floating group: give at least one");
        }
        Set<String> names = new HashSet<>();
        Set<Integer> ids = new HashSet<>();
        Set<InetAddress> seen = new HashSet<>();
        for (FloatingGroup g : groups) {
            String label = "floating group " + g.name();
            if (g.name() == null || !NAME.matcher(g.name()).matches()) {
                p.add("floating group name '" + g.name() + "' must be 1 to 64 letters, digits, '_', '.' or '-'");
            } else if (!names.add(g.name())) {
                p.add("two floating groups are named " + g.name());
            }
            if (g.virtualRouterId() < 1 || g.virtualRouterId() > 255) {
                p.add(label + ": virtual router id " + g.virtualRouterId() + " must be 1 to 255");
            } else if (!ids.add(g.virtualRouterId())) {
                p.add(label + ": virtual router id " + g.virtualRouterId() + " is already another group's; each group needs its own");
            }
            if (g.priority() < 1 || g.priority() > 254) {
                p.add(label + ": priority " + g.priority() + " must be 1 to 254 (255 is keepalived's address owner, which no check can lower)");
            }
            if (g.addresses().isEmpty()) {
                p.add(label + " has no floating address");
            }
            for (FloatingAddress a : g.addresses()) {
                device(label + "'s address " + a.cidr(), a.device(), p);
                InetAddress ip = cidr(label, a.cidr(), p);
                if (ip != null && !seen.add(ip)) {
                    p.add(label + ": address " + a.cidr() + " floats in two places");
                }
            }
        }
    }

    private static void device(String what, String device, List<String> p) {
        if (device == null || !DEVICE.matcher(device).matches()) {
            p.add(what + ": device '" + device + "' is not a Linux interface name (1 to 15 characters, no spaces)");
        }
    }

    private static InetAddress address(String what, String text, List<String> p) {
        try {
            return InetAddress.ofLiteral(Objects.requireNonNull(text));
        } catch (IllegalArgumentException | NullPointerException e) {
            p.add(what + " '" + text + "' is not an IPv4 or IPv6 address");
            return null;
        }
    }

    private static InetAddress cidr(String what, String cidr, List<String> p) {
        int slash = cidr == null ? -1 : cidr.indexOf('/');
        if (slash < 0) {
            p.add(what + ": '" + cidr + "' needs a prefix length (10.77.0.11/24): without one keepalived adds a host route only");
            return null;
        }
        InetAddress ip = address(what + "'s address", cidr.substring(0, slash), p);
        try {
            int length = Integer.parseInt(cidr.substring(slash + 1));
            if (ip != null && (length < 1 || length > (ip instanceof Inet4Address ? 32 : 128))) {
                p.add(what + ": prefix length of " + cidr + " is out of range");
            }
        } catch (NumberFormatException e) {
            p.add(what + ": prefix length of '" + cidr + "' is not a number");
        }
        return ip;
    }

    /** A command keepalived runs as root: an absolute path (no search of PATH), then plain words. */
    private static void command(String what, List<String> command, List<String> p) {
        if (command.isEmpty() || !command.getFirst().startsWith("/")) {
            p.add(what + " command " + command + " must start with an absolute path (keepalived runs it as root)");
        }
        command.forEach(a -> argument(what + " command's word", a, p));
    }

    private static void argument(String what, String a, List<String> p) {
        if (a == null || !WORD.matcher(a).matches()) {
            p.add(what + " '" + a + "' must be one word, without spaces, quotes, backslashes, braces, '!' or '#'");
        }
    }

    /** keepalived.conf, as one text. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("# keepalived.conf of ").append(instanceName).append(", one instance of an Isthmus active-active pair.\n")
                .append("# Generated by Isthmus (io.isthmus.control.ha.KeepalivedConfig): change the generator's input, not this file.\n")
                .append("global_defs {\n")
                .append("  router_id ").append(instanceName).append('\n')
                .append("  vrrp_version 3\n")
                .append("  # Scripts run as root, and keepalived refuses any that a non-root user could change.\n")
                .append("  script_user root\n")
                .append("  enable_script_security\n")
                .append("  # Gratuitous ARP/NA on taking over: 3 at once, 3 more a second later for caches that missed them,\n")
                .append("  # and again every minute for switches that age entries out. Clouds ignore them: there notify moves the address.\n")
                .append("  vrrp_garp_master_delay 1\n")
                .append("  vrrp_garp_master_repeat 3\n")
                .append("  vrrp_garp_lower_prio_repeat 3\n")
                .append("  vrrp_garp_master_refresh 60\n")
                .append("  # After a split (sync link lost, both masters), the loser's last advert makes the winner announce again.\n")
                .append("  vrrp_higher_prio_send_advert true\n")
                .append("  # Sub-second adverts must not wait for a busy CPU or a page-in.\n")
                .append("  vrrp_rt_priority 50\n")
                .append("  # At real-time priority the kernel kills a VRRP process that runs 10 ms (keepalived's default) without\n")
                .append("  # sleeping: seen in the lab on a loaded 2-core machine, after a burst of gratuitous ARPs; keepalived\n")
                .append("  # then stopped and the partner took every group. 200 ms still stops a runaway.\n")
                .append("  vrrp_rlimit_rttime 200000\n")
                .append("  vrrp_no_swap\n");
        if (notifyFifo != null) {
            out.append("  # Every transition, in order, to the gateway, which reads this FIFO: no process per transition.\n")
                    .append("  notify_fifo ").append(notifyFifo).append('\n');
        }
        out.append("}\n\n");
        out.append("# The daemon's process, seen through the kernel's process events: a kill -9 or a crash is seen at once.\n")
                .append("vrrp_track_process isthmus_process {\n")
                .append("  process ").append(daemonProcess.name());
        daemonProcess.parameters().forEach(a -> out.append(' ').append(a));
        out.append('\n');
        if (!daemonProcess.parameters().isEmpty() && daemonProcess.match() != ParameterMatch.EXACT) {
            out.append("  param_match ").append(daemonProcess.match().name().toLowerCase()).append('\n');
        }
        out.append("  quorum 1\n")
                .append("  weight 0\n")
                .append("}\n\n")
                .append("# A paused daemon (SIGSTOP, a stalled VM) is still a process: it must also answer. Failed until it has.\n")
                .append("vrrp_script isthmus_check {\n")
                .append("  script \"").append(words(healthCheck.command())).append("\"\n")
                .append("  interval ").append(healthCheck.intervalSeconds()).append('\n')
                .append("  timeout ").append(healthCheck.timeoutSeconds()).append('\n')
                .append("  fall ").append(healthCheck.fall()).append('\n')
                .append("  rise ").append(healthCheck.rise()).append('\n')
                .append("  weight 0\n")
                .append("  init_fail\n")
                .append("}\n");
        if (handoverFile != null) {
            out.append("\n# The gateway writes 1 here once it has handed its SAs over (a planned stop, isthmus ha handover): its\n")
                    .append("# priority drops to 1, below the partner's, which preempts at once and announces the addresses before\n")
                    .append("# this side lets go of them (a FAULT would drop them first, and nobody would hold them for an advert or two).\n")
                    .append("vrrp_track_file isthmus_handover {\n")
                    .append("  file ").append(handoverFile).append('\n')
                    .append("  weight -").append(HANDOVER_WEIGHT).append('\n')
                    .append("}\n");
        }
        for (FloatingGroup g : groups) {
            group(out, g);
        }
        return out.toString();
    }

    private void group(StringBuilder out, FloatingGroup g) {
        boolean v4 = InetAddress.ofLiteral(syncLink.localAddress()) instanceof Inet4Address;
        Set<String> devices = new LinkedHashSet<>();
        g.addresses().forEach(a -> devices.add(a.device()));
        devices.remove(syncLink.device());
        out.append("\nvrrp_instance ").append(g.name()).append(" {\n")
                .append("  # BACKUP at start whatever the priority: no claim before the peer has been heard (and preempt_delay needs it).\n")
                .append("  state BACKUP\n")
                .append("  version 3\n")
                .append("  virtual_router_id ").append(g.virtualRouterId()).append('\n')
                .append("  priority ").append(g.priority()).append('\n')
                .append("  advert_int ").append(seconds(advertInterval)).append('\n')
                .append("  # Adverts go over the sync link, to the peer alone; its carrier lost means the peer is gone, not a fault here.\n")
                .append("  interface ").append(syncLink.device()).append('\n')
                .append("  dont_track_primary\n")
                .append("  unicast_src_ip ").append(syncLink.localAddress()).append('\n')
                .append("  # VRRPv3 has no authentication: only the peer, one hop away (TTL 255 on arrival), is heard.\n")
                .append("  unicast_ttl 255\n")
                .append("  unicast_peer {\n")
                .append("    ").append(syncLink.peerAddress()).append(" min_ttl 255\n")
                .append("  }\n")
                .append("  check_unicast_src\n");
        if (!devices.isEmpty()) {
            out.append("  # The devices the addresses live on: one down hands the group over.\n")
                    .append("  track_interface {\n");
            devices.forEach(d -> out.append("    ").append(d).append('\n'));
            out.append("  }\n");
        }
        if (handoverFile != null) {
            out.append("  track_file {\n    isthmus_handover\n  }\n");
        }
        out.append("  track_process {\n    isthmus_process\n  }\n")
                .append("  track_script {\n    isthmus_check\n  }\n")
                .append("  # The tunnels' endpoint is a floating address: the gateway must accept what is sent to it.\n")
                .append("  accept\n");
        if (!g.owned()) {
            out.append("  # The partner's group: taken at once when the partner lowers its priority (a handover); otherwise it is\n")
                    .append("  # taken only when the partner falls silent or resigns, which preemption does not govern.\n")
                    .append("  preempt_delay 0\n");
        } else if (preemption.preempt()) {
            out.append("  preempt_delay ").append(seconds(preemption.delay())).append('\n');
        } else {
            out.append("  nopreempt\n");
        }
        List<FloatingAddress> primary = g.addresses().stream().filter(a -> InetAddress.ofLiteral(ip(a)) instanceof Inet4Address == v4).toList();
        List<FloatingAddress> other = g.addresses().stream().filter(a -> !primary.contains(a)).toList();
        addresses(out, "virtual_ipaddress", primary);
        // A VRRP instance advertises one family; the other family's addresses move with it, unannounced.
        addresses(out, "virtual_ipaddress_excluded", other);
        if (!notifyCommand.isEmpty()) {
            out.append("  # keepalived adds: INSTANCE NAME STATE PRIORITY. One process per transition, possibly concurrent:\n")
                    .append("  # the command must be idempotent and ask for the current state rather than trust the order.\n")
                    .append("  notify \"").append(words(notifyCommand)).append("\"\n");
        }
        out.append("}\n");
    }

    private static void addresses(StringBuilder out, String block, List<FloatingAddress> list) {
        if (list.isEmpty()) {
            return;
        }
        out.append("  ").append(block).append(" {\n");
        list.forEach(a -> out.append("    ").append(a.cidr()).append(" dev ").append(a.device()).append('\n'));
        out.append("  }\n");
    }

    private static String ip(FloatingAddress a) {
        return a.cidr().substring(0, a.cidr().indexOf('/'));
    }

    private static String words(List<String> command) {
        return String.join(" ", command);
    }

    private static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    /**
     * How to run it: in the foreground (systemd or the lab owns the process; its output goes to
     * the journal or the lab's log), VRRP alone (no IPVS checker, no BFD: fewer processes), with
     * pid files named after the instance in {@code runDirectory}, so several keepalived on one
     * machine (the lab's namespaces) never find each other's "daemon is already running".
     */
    public List<String> command(Path configFile, Path runDirectory) {
        return List.of("keepalived", "--dont-fork", "--vrrp", "--log-console", "--log-detail", "--no-syslog",
                "--use-file", configFile.toString(),
                "--pid", runDirectory.resolve("keepalived-" + instanceName + ".pid").toString(),
                "--vrrp_pid", runDirectory.resolve("vrrp-" + instanceName + ".pid").toString());
    }

    /**
     * As {@link #command}, in network namespace {@code namespace} (of {@code ip netns}), entered
     * by keepalived itself: started in it by {@code ip netns exec} instead, keepalived 2.2.7
     * logs "Failed to set/clear process event listen - errno 111" and never counts the tracked
     * process (the group stays in FAULT); entering with {@code --namespace} it does.
     */
    public List<String> command(Path configFile, Path runDirectory, String namespace) {
        List<String> c = new ArrayList<>(command(configFile, runDirectory));
        c.add("--namespace=" + namespace);
        return c;
    }
}
