package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.installedRoot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sysctl drop-in turns IPv4 forwarding on, and the postinst applies it where systemd runs and
 * fails nothing where it cannot (a container with a read-only /proc/sys). IPv6 forwarding it leaves
 * as it is: turned on, it makes Linux ignore router advertisements where accept_ra is 1, and a
 * cloud VM would lose the IPv6 default route it takes from them. Each runs in a network namespace
 * of its own: net.* sysctls are per namespace, so this host's stay as they are.
 */
class ForwardingIT {
    private static final String IPV4 = "net.ipv4.ip_forward";
    private static final String IPV6 = "net.ipv6.conf.all.forwarding";
    private static final List<String> FORWARDING = List.of(IPV4, IPV6);

    @Test
    void theDropInTurnsOnIpv4ForwardingAndLeavesIpv6s() throws Exception {
        try (Namespace ns = new Namespace("sysctl")) {
            off(ns);
            // As at boot: systemd-sysctl reads the file (given by path: only this one).
            Command.run("ip", "netns", "exec", ns.name, "/lib/systemd/systemd-sysctl", dropIn().toString()).ok();
            assertEquals("1", ns.sysctl(IPV4), IPV4);
            assertEquals("0", ns.sysctl(IPV6), IPV6 + " is not the package's to turn on");
        }
    }

    @Test
    void theDropInSetsNothingButIpv4Forwarding() throws Exception {
        // Every line systemd-sysctl would apply: one, IPv4's. (IPv6's is there as a comment, with how to turn it on.)
        List<String> settings = java.nio.file.Files.readAllLines(dropIn()).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith(";")).toList();
        assertEquals(List.of(IPV4 + " = 1"), settings);
        assertTrue(Files.readString(dropIn()).contains("accept_ra = 2"), "the file says what to do before turning IPv6's on");
    }

    @Test
    void postinstFailsNothingInAContainerWithReadOnlyProcSys() throws Exception {
        Path postinst = extractedPostinst();
        try (Namespace ns = new Namespace("ro")) {
            off(ns);
            // systemd "running" (its /run/systemd/system), but /proc/sys read-only and no manager to
            // talk to: what apt install meets in a container. The install must go on.
            Command c = Command.run("ip", "netns", "exec", ns.name, "unshare", "--mount", "sh", "-c", WITH_DROP_IN
                    + " && mkdir -p /run/systemd/system && mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys"
                    + " && sh \"$0\" configure", postinst.toString(), dropIn().toString());
            assertEquals(0, c.exit(), c.toString());
            assertTrue(c.err().contains("IP forwarding could not be turned on now"), c.toString());
            assertEquals("0", ns.sysctl("net.ipv4.ip_forward"), "nothing changed");
        }
    }

    @Test
    void postinstWithoutSystemdLeavesForwardingToTheNextBoot() throws Exception {
        Path postinst = extractedPostinst();
        try (Namespace ns = new Namespace("nosd")) {
            off(ns);
            Command c = Command.run("ip", "netns", "exec", ns.name, "unshare", "--mount", "sh", "-c", WITH_DROP_IN + " && sh \"$0\" configure",
                    postinst.toString(), dropIn().toString());
            assertEquals(0, c.exit(), c.toString());
            assertTrue(c.err().contains("turned on at the next boot"), c.toString());
            assertEquals("0", ns.sysctl("net.ipv4.ip_forward"));
        }
    }

    @Test
    void postinstAppliesTheDropInWhereSystemdRuns() throws Exception {
        Path postinst = extractedPostinst();
        try (Namespace ns = new Namespace("sd")) {
            off(ns);
            Command c = Command.run("ip", "netns", "exec", ns.name, "unshare", "--mount", "sh", "-c",
                    WITH_DROP_IN + " && mkdir -p /run/systemd/system && sh \"$0\" configure", postinst.toString(), dropIn().toString());
            assertEquals(0, c.exit(), c.toString());
            assertEquals("1", ns.sysctl(IPV4), IPV4 + " after postinst: " + c);
            assertEquals("0", ns.sysctl(IPV6), IPV6 + " unchanged by the install: " + c);
        }
    }

    /**
     * In the postinst's mount namespace: an empty /run (systemd's marker and bus absent unless the
     * test makes them), and the package's drop-in in /usr/lib/sysctl.d, where systemd-sysctl looks
     * it up (this host does not have the package installed). The drop-in's path is $1.
     */
    private static final String WITH_DROP_IN = "mount -t tmpfs none /run && mount -t tmpfs none /usr/lib/sysctl.d && cp \"$1\" /usr/lib/sysctl.d/";

    private static Path dropIn() throws Exception {
        return installedRoot().resolve("usr/lib/sysctl.d/60-isthmus.conf");
    }

    /** Forwarding off in {@code ns}, whatever this host has (a new namespace takes IPv4's from it). */
    private static void off(Namespace ns) throws Exception {
        for (String key : FORWARDING) {
            ns.sysctl(key, "0");
            assertEquals("0", ns.sysctl(key), key);
        }
    }

    /** The package's postinst, as dpkg-deb hands it out. */
    private static Path extractedPostinst() throws Exception {
        Path dir = PackageUnderTest.TARGET.resolve("it-control");
        if (!Files.exists(dir.resolve("postinst"))) {
            PackageUnderTest.deleteTree(dir);
            Command.run("dpkg-deb", "--control", PackageUnderTest.deb().toString(), dir.toString()).ok();
        }
        return dir.resolve("postinst");
    }
}
