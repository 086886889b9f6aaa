package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.ha.KeepalivedConfig.FloatingAddress;
import io.isthmus.control.ha.KeepalivedConfig.FloatingGroup;
import io.isthmus.control.ha.KeepalivedConfig.HealthCheck;
import io.isthmus.control.ha.KeepalivedConfig.ParameterMatch;
import io.isthmus.control.ha.KeepalivedConfig.Preemption;
import io.isthmus.control.ha.KeepalivedConfig.SyncLink;
import io.isthmus.control.ha.KeepalivedConfig.TrackedProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pair's keepalived.conf: what keepalived 2.2.7 itself says of it ({@code keepalived -t},
 * in a throwaway network namespace holding the devices it names: needs root and keepalived,
 * which CI has: deploy/lib/packages.sh), and every bad input refused with its reason.
 */
class KeepalivedConfigTest {
    static final List<String> CHECK = List.of("/usr/bin/isthmus", "ha", "check");
    static final List<String> NOTIFY = List.of("/usr/bin/isthmus", "ha", "notify");

    @TempDir
    Path dir;

    /**
     * The configuration with its commands pointing at a stand-in for the isthmus command in a
     * directory only root can write: keepalived looks for a check's script (not for notify's).
     */
    String renderedWithStandIn(KeepalivedConfig config) throws IOException {
        Path isthmus = dir.resolve("isthmus");
        Files.writeString(isthmus, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(isthmus, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return config.render().replace("/usr/bin/isthmus", isthmus.toString());
    }

    /** gw1 of the lab's pair: owner of vip1 (a WAN address and the network-side gateway, v4 and v6), backup of vip2. */
    static KeepalivedConfig gw1() {
        return new KeepalivedConfig("gw1", new SyncLink("sync", "10.99.0.1", "10.99.0.2"), List.of(
                new FloatingGroup("vip1", 51, 150, List.of(new FloatingAddress("10.77.0.11/24", "wan"),
                        new FloatingAddress("192.168.20.1/24", "lan"), new FloatingAddress("fd20::1/64", "lan"))),
                new FloatingGroup("vip2", 52, 100, List.of(new FloatingAddress("10.77.0.12/24", "wan")))),
                KeepalivedConfig.LAB_ADVERT_INTERVAL, Preemption.after(Duration.ofMillis(1500)), TrackedProcess.named("java"),
                HealthCheck.every(CHECK), NOTIFY);
    }

    static KeepalivedConfig with(UnaryOperator<Object[]> change) {
        KeepalivedConfig c = gw1();
        Object[] f = {c.instanceName(), c.syncLink(), c.groups(), c.advertInterval(), c.preemption(), c.daemonProcess(), c.healthCheck(),
                c.notifyCommand()};
        f = change.apply(f);
        @SuppressWarnings("unchecked")
        KeepalivedConfig changed = new KeepalivedConfig((String) f[0], (SyncLink) f[1], (List<FloatingGroup>) f[2], (Duration) f[3],
                (Preemption) f[4], (TrackedProcess) f[5], (HealthCheck) f[6], (List<String>) f[7]);
        return changed;
    }

    static Object[] set(Object[] f, int i, Object value) {
        f[i] = value;
        return f;
    }

    /** keepalived's own check of {@code text}, in a network namespace of its own with wan, lan and sync: exit code and what it said. */
    Result configTest(String text) throws IOException, InterruptedException {
        String why = !"root".equals(System.getProperty("user.name")) ? "keepalived's config test needs root (a network namespace with the devices); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/sbin/keepalived")) ? "keepalived is missing: deploy/lib/packages.sh names it, deploy/test.sh installs it" : null;
        assertNull(why, why);
        Path file = dir.resolve("keepalived-" + System.nanoTime() + ".conf");
        Files.writeString(file, text);
        Process p = new ProcessBuilder("unshare", "-n", "sh", "-c", "ip link add wan type veth peer name lan && ip link add sync type veth peer name sync-end"
                + " && exec keepalived --config-test -f " + file).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out.strip());
    }

    record Result(int exit, String output) {
    }

    @Test
    void keepalivedAcceptsBothInstancesConfigurations() throws Exception {
        KeepalivedConfig gw2 = new KeepalivedConfig("gw2", new SyncLink("sync", "10.99.0.2", "10.99.0.1"), List.of(
                new FloatingGroup("vip1", 51, 100, gw1().groups().get(0).addresses()),
                new FloatingGroup("vip2", 52, 150, gw1().groups().get(1).addresses())),
                Duration.ofMillis(10), Preemption.NEVER,
                new TrackedProcess("/usr/lib/isthmus/bin/java", List.of("-Xmx384m", "io.isthmus.control.Isthmus"), ParameterMatch.PARTIAL),
                new HealthCheck(CHECK, 2, 1, 3, 1), NOTIFY);
        for (KeepalivedConfig c : List.of(gw1(), gw2)) {
            // keepalived exits 0 for a file it could not even open, saying so: silence is the pass.
            assertEquals(new Result(0, ""), configTest(renderedWithStandIn(c)), c.render());
        }
    }

    /** The config test is not a formality: a value keepalived 2.2.7 refuses (a fractional script interval) fails it. */
    @Test
    void theGatewayReadsTransitionsFromAFifoInsteadOfANotifyCommand() throws Exception {
        KeepalivedConfig g = gw1();
        KeepalivedConfig fifo = new KeepalivedConfig(g.instanceName(), g.syncLink(), g.groups(), g.advertInterval(), g.preemption(),
                g.daemonProcess(), g.healthCheck(), List.of(), Path.of("/var/lib/isthmus/west-gw1.keepalived"),
                Path.of("/var/lib/isthmus/west-gw1.handover"));
        String text = fifo.render();
        assertTrue(text.contains("  notify_fifo /var/lib/isthmus/west-gw1.keepalived\n"), text);
        assertTrue(text.contains("vrrp_track_file isthmus_handover {\n  file /var/lib/isthmus/west-gw1.handover\n  weight -253\n}"), text);
        assertTrue(text.contains("  track_file {\n    isthmus_handover\n  }\n"), text);
        assertFalse(text.contains("  notify \""), text);
        assertEquals(new Result(0, ""), configTest(renderedWithStandIn(fifo)), text);
        var e = assertThrows(IllegalArgumentException.class, () -> new KeepalivedConfig(g.instanceName(), g.syncLink(), g.groups(),
                g.advertInterval(), g.preemption(), g.daemonProcess(), g.healthCheck(), List.of(), Path.of("relative/fifo"), null));
        assertTrue(e.getMessage().contains("the notify FIFO relative/fifo must be an absolute path"), e.getMessage());
    }

    @Test
    void theConfigTestCatchesWhatKeepalivedRefuses() throws Exception {
        String text = renderedWithStandIn(gw1()).replace("  interval 1\n", "  interval 0.5\n");
        Result r = configTest(text);
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("0.5"), r.output());
    }

    /**
     * enable_script_security at work: a check command that any user could replace is refused
     * (keepalived's config test looks at track scripts; notify commands it checks only when run).
     */
    @Test
    void aScriptOthersCanWriteIsRefused() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path script = Files.writeString(open.resolve("check"), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result r = configTest(renderedWithStandIn(with(f -> set(f, 6, HealthCheck.every(List.of(script.toString()))))));
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("insecure"), r.output());
    }

    @Test
    void theTextStatesEachChoice() {
        String text = gw1().render();
        for (String line : List.of("vrrp_version 3", "script_user root", "enable_script_security", "interface sync", "dont_track_primary",
                "unicast_src_ip 10.99.0.1", "10.99.0.2 min_ttl 255", "check_unicast_src", "advert_int 0.05", "preempt_delay 1.5", "accept",
                "process java", "script \"/usr/bin/isthmus ha check\"", "notify \"/usr/bin/isthmus ha notify\"", "init_fail",
                "vrrp_garp_master_delay 1", "vrrp_garp_master_refresh 60")) {
            assertTrue(text.contains("  " + line + "\n") || text.contains(" " + line + "\n"), line + " in\n" + text);
        }
        // One family is advertised; the other moves with it unannounced.
        assertTrue(text.contains("virtual_ipaddress {\n    10.77.0.11/24 dev wan\n    192.168.20.1/24 dev lan\n  }"), text);
        assertTrue(text.contains("virtual_ipaddress_excluded {\n    fd20::1/64 dev lan\n  }"), text);
        assertTrue(text.contains("track_interface {\n    wan\n    lan\n  }"), text);
        assertTrue(with(f -> set(f, 4, Preemption.NEVER)).render().contains("  nopreempt\n"));
        // Its own group (vip1, 150) waits before taking it back; the partner's (vip2, 100) is taken at once when the partner hands it over.
        String vip2 = text.substring(text.indexOf("vrrp_instance vip2"));
        assertTrue(vip2.contains("  preempt_delay 0\n") && !vip2.contains("preempt_delay 1.5"), vip2);
        assertTrue(text.substring(text.indexOf("vrrp_instance vip1"), text.indexOf("vrrp_instance vip2")).contains("  preempt_delay 1.5\n"), text);
        assertTrue(!text.contains("authentication {"), "VRRPv3 has none");
    }

    @Test
    void theCommandLineKeepsEachInstancesFilesApart() {
        List<String> c = gw1().command(Path.of("/run/lab/gw1.conf"), Path.of("/run/lab"), "lab-gw1");
        assertEquals(List.of("keepalived", "--dont-fork", "--vrrp", "--log-console", "--log-detail", "--no-syslog", "--use-file",
                "/run/lab/gw1.conf", "--pid", "/run/lab/keepalived-gw1.pid", "--vrrp_pid", "/run/lab/vrrp-gw1.pid", "--namespace=lab-gw1"), c);
    }

    static String refusal(UnaryOperator<Object[]> change) {
        return assertThrows(IllegalArgumentException.class, () -> with(change)).getMessage();
    }

    static FloatingGroup group(String name, int id, int priority, String... cidrs) {
        return new FloatingGroup(name, id, priority, java.util.Arrays.stream(cidrs).map(c -> new FloatingAddress(c, "wan")).toList());
    }

    @Test
    void advertIntervalsVrrpv3CannotCarryAreRefused() {
        for (Duration d : new Duration[] {Duration.ofMillis(15), Duration.ofMillis(5), Duration.ZERO, Duration.ofMillis(-10),
                Duration.ofMillis(40_960), Duration.ofNanos(50_000_001), null}) {
            assertTrue(refusal(f -> set(f, 3, d)).contains("steps of 10 ms"), String.valueOf(d));
        }
        assertEquals(Duration.ofMillis(40_950), with(f -> set(f, 3, KeepalivedConfig.MAX_ADVERT_INTERVAL)).advertInterval());
    }

    @Test
    void groupsMustBeDistinctAndHoldAddresses() {
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "10.77.0.11/24"), group("b", 51, 100, "10.77.0.12/24"))))
                .contains("virtual router id 51 is already another group's"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150)))).contains("floating group a has no floating address"));
        assertTrue(refusal(f -> set(f, 2, List.of())).contains("no floating group"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "10.77.0.11/24"), group("a", 52, 100, "10.77.0.12/24"))))
                .contains("two floating groups are named a"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "10.77.0.11/24"), group("b", 52, 100, "10.77.0.11/32"))))
                .contains("floats in two places"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 0, 150, "10.77.0.11/24")))).contains("must be 1 to 255"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 255, "10.77.0.11/24")))).contains("address owner"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a b", 51, 150, "10.77.0.11/24")))).contains("name 'a b'"));
    }

    @Test
    void addressesAndDevicesMustBeWhatIpTakes() {
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "10.77.0.11")))).contains("needs a prefix length"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "10.77.0.11/33")))).contains("out of range"));
        assertTrue(refusal(f -> set(f, 2, List.of(group("a", 51, 150, "gateway.example/24")))).contains("not an IPv4 or IPv6 address"));
        assertTrue(refusal(f -> set(f, 2, List.of(new FloatingGroup("a", 51, 150, List.of(new FloatingAddress("10.77.0.11/24",
                "a-device-name-too-long")))))).contains("not a Linux interface name"));
        assertTrue(refusal(f -> set(f, 1, new SyncLink("sync", "10.99.0.1", "fd99::2"))).contains("of one family"));
        assertTrue(refusal(f -> set(f, 1, new SyncLink("sync", "10.99.0.1", "10.99.0.1"))).contains("must differ"));
    }

    @Test
    void commandsAndTheProcessMustBeWhatKeepalivedRuns() {
        assertTrue(refusal(f -> set(f, 7, List.of("isthmus", "ha", "notify"))).contains("absolute path"));
        assertTrue(refusal(f -> set(f, 7, List.of())).contains("absolute path"));
        assertTrue(refusal(f -> set(f, 7, List.of("/usr/bin/isthmus", "ha\"; rm -rf /"))).contains("without spaces, quotes"));
        assertTrue(refusal(f -> set(f, 6, new HealthCheck(List.of("/usr/bin/isthmus", "#"), 1, 1, 1, 1))).contains("'#'"));
        assertTrue(refusal(f -> set(f, 6, new HealthCheck(CHECK, 0, 1, 1, 1))).contains("whole seconds"));
        assertTrue(refusal(f -> set(f, 5, TrackedProcess.named("isthmus-gateway-d"))).contains("15 characters"));
        assertTrue(refusal(f -> set(f, 5, TrackedProcess.named("two words"))).contains("one word"));
        assertTrue(refusal(f -> set(f, 4, new Preemption(false, Duration.ofSeconds(1)))).contains("without preemption"));
        assertTrue(refusal(f -> set(f, 4, Preemption.after(Duration.ofSeconds(1001)))).contains("0 to 1000 s"));
    }

    /** Every problem at once, as bad configuration is reported everywhere in Isthmus. */
    @Test
    void everyProblemIsListed() {
        String m = refusal(f -> {
            set(f, 3, Duration.ofMillis(15));
            return set(f, 2, List.of(group("a", 51, 150), group("b", 51, 100, "10.77.0.12/24")));
        });
        assertTrue(m.startsWith("keepalived configuration of gw1: "), m);
        assertTrue(m.contains("steps of 10 ms") && m.contains("already another group's") && m.contains("has no floating address"), m);
    }
}
