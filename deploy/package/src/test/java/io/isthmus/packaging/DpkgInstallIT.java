package io.isthmus.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * dpkg installs, upgrades, removes and purges the package in a root of its own, its maintainer
 * scripts running as dpkg runs them there (chrootless, DPKG_ROOT set). What apt and systemd do with
 * it on a booted Debian is the container test's.
 */
class DpkgInstallIT {

    private static Command dpkg(Path root, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("dpkg", "--root=" + root, "--force-script-chrootless"));
        argv.addAll(List.of(args));
        return Command.run(argv, null);
    }

    @Test
    void installReinstallRemoveAndPurge() throws Exception {
        Path root = PackageUnderTest.TARGET.resolve("it-dpkg-root");
        PackageUnderTest.deleteTree(root);
        PackageUnderTest.dpkgDatabase(root);
        String deb = PackageUnderTest.deb().toString();
        try {
            Command install = dpkg(root, "--install", deb);
            assertEquals(0, install.exit(), install.toString());
            assertTrue(dpkg(root, "--status", "isthmus").ok().out().contains("Status: install ok installed"));
            assertTrue(Files.isExecutable(root.resolve("usr/bin/isthmus")));

            // The same version again: dpkg runs the upgrade path (prerm upgrade, postinst configure with the old version).
            Command again = dpkg(root, "--install", deb);
            assertEquals(0, again.exit(), again.toString());

            // The operator's own files in /etc/isthmus are theirs through removal and purge.
            Files.writeString(root.resolve("etc/isthmus/gw.yaml"), "the operator's\n");
            // systemctl enable isthmus@gw, a drop-in of the admin's (systemctl edit isthmus@gw), and another package's enabled unit.
            Path wants = Files.createDirectories(root.resolve("etc/systemd/system/multi-user.target.wants"));
            Path enabled = Files.createSymbolicLink(wants.resolve("isthmus@gw.service"), Path.of("/lib/systemd/system/isthmus@.service"));
            Path other = Files.createSymbolicLink(wants.resolve("ssh.service"), Path.of("/lib/systemd/system/ssh.service"));
            Path dropIn = Files.createDirectories(root.resolve("etc/systemd/system/isthmus@gw.service.d")).resolve("override.conf");
            Files.writeString(dropIn, "[Service]\nEnvironment=A=1\n");
            Command remove = dpkg(root, "--remove", "isthmus");
            assertEquals(0, remove.exit(), remove.toString());
            assertFalse(Files.exists(root.resolve("usr/bin/isthmus")));
            assertFalse(Files.exists(root.resolve("usr/lib/isthmus")), "the runtime and jars go");
            assertTrue(Files.exists(root.resolve("etc/isthmus/example.yaml")), "a removed package keeps its conffiles");
            assertTrue(dpkg(root, "--status", "isthmus").ok().out().contains("Status: deinstall ok config-files"));
            assertTrue(Files.isSymbolicLink(enabled), "a remove keeps the enablement, as it keeps the configuration, for a reinstall");

            Command purge = dpkg(root, "--purge", "isthmus");
            assertEquals(0, purge.exit(), purge.toString());
            assertFalse(Files.exists(root.resolve("etc/isthmus/example.yaml")), "purged");
            assertTrue(Files.exists(root.resolve("etc/isthmus/gw.yaml")), "not the package's to delete");
            assertFalse(Files.exists(enabled, java.nio.file.LinkOption.NOFOLLOW_LINKS), "no dangling isthmus@gw.service left enabled by a purge");
            assertTrue(Files.isSymbolicLink(other), "another package's unit stays enabled");
            assertTrue(Files.exists(dropIn), "the admin's drop-in is theirs");
            assertFalse(dpkg(root, "--status", "isthmus").out().contains("Status: install"));
        } finally {
            PackageUnderTest.deleteTree(root);
        }
    }

    /**
     * An upgrade where systemd runs (postinst configure OLD-VERSION): each running gateway is
     * restarted on the new version only if the new isthmus checks its file; one it refuses keeps
     * running the old one, with one warning line. systemctl and deb-systemd-invoke are fakes on PATH
     * that record their calls and name two running instances; the packaged isthmus is at
     * /usr/bin/isthmus and the instances' files in /etc/isthmus through overlays, in a mount and
     * network namespace of the postinst's own (it applies the sysctl drop-in).
     */
    @Test
    void anUpgradeRestartsOnlyTheGatewaysWhoseFileTheNewVersionAccepts() throws Exception {
        Path installed = PackageUnderTest.installedRoot();
        Path dir = PackageUnderTest.TARGET.resolve("it-upgrade");
        PackageUnderTest.deleteTree(dir);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path etc = Files.createDirectories(dir.resolve("etc/isthmus"));
        Path credentials = Files.createDirectories(dir.resolve("credentials"));
        Path log = dir.resolve("calls");
        String example = Files.readString(installed.resolve("etc/isthmus/example.yaml"));
        // good: its key a systemd credential, which only the running gateway's environment finds ($CREDENTIALS_DIRECTORY).
        String good = example.replace("sharedKey: \"REPLACE-ME with the key both gateways share\"", "sharedKeyCredential: isthmus_site-b.psk");
        assertTrue(!good.equals(example), "the example's key line changed: change this test too");
        private600(Files.writeString(etc.resolve("good.yaml"), good));
        private600(Files.writeString(credentials.resolve("isthmus_site-b.psk"), "a key both gateways share\n"));
        // bad: a field the new version refuses.
        private600(Files.writeString(etc.resolve("bad.yaml"), example.replace("sku: VpnGw1", "sku: VpnGw99")));
        // The running good gateway, as far as the postinst sees it: a process with the environment systemd gave it.
        ProcessBuilder gatewayWithCredentials = new ProcessBuilder("sleep", "300").redirectOutput(ProcessBuilder.Redirect.DISCARD);
        gatewayWithCredentials.environment().clear();
        gatewayWithCredentials.environment().put("CREDENTIALS_DIRECTORY", credentials.toString());
        Process running = gatewayWithCredentials.start();
        try (Namespace ns = new Namespace("upgrade")) {
            Files.writeString(bin.resolve("systemctl"), """
                    #!/bin/sh
                    echo "systemctl $*" >>"%s"
                    case "$*" in
                        *list-units*) printf 'isthmus@good.service loaded active running Isthmus IPsec/IKEv2 gateway good\\n'
                                      printf 'isthmus@bad.service  loaded active running Isthmus IPsec/IKEv2 gateway bad\\n' ;;
                        *MainPID*isthmus@good.service*) echo %d ;;
                        *MainPID*) echo 0 ;;
                    esac
                    """.formatted(log, running.pid()));
            Files.writeString(bin.resolve("deb-systemd-invoke"), "#!/bin/sh\necho \"deb-systemd-invoke $*\" >>\"%s\"\n".formatted(log));
            for (String tool : List.of("systemctl", "deb-systemd-invoke")) {
                Files.setPosixFilePermissions(bin.resolve(tool), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Command.run("dpkg-deb", "--control", PackageUnderTest.deb().toString(), dir.resolve("control").toString()).ok();
            Command c = Command.run(List.of("ip", "netns", "exec", ns.name, "unshare", "--mount", "sh", "-c",
                    "mount -t tmpfs none /run && mkdir -p /run/systemd/system"
                            + " && mount -t overlay overlay -o lowerdir=\"$1/usr/bin\":/usr/bin /usr/bin"
                            + " && mount -t overlay overlay -o lowerdir=\"$1/usr/lib\":/usr/lib /usr/lib"
                            + " && mount -t overlay overlay -o lowerdir=\"$2\":/etc /etc"
                            + " && PATH=\"$3:$PATH\" sh \"$0\" configure 0.0.1",
                    dir.resolve("control/postinst").toString(), installed.toString(), dir.resolve("etc").toString(), bin.toString()), null);
            assertEquals(0, c.exit(), c.toString());
            List<String> calls = Files.readAllLines(log);
            assertTrue(calls.contains("deb-systemd-invoke try-restart isthmus@good.service"), "the gateway whose file checks is restarted: " + calls + "\n" + c);
            assertTrue(calls.stream().noneMatch(l -> l.contains("isthmus@bad.service") && !l.contains("MainPID")),
                    "the one whose file the new version refuses is left running: " + calls);
            List<String> warnings = c.err().lines().filter(l -> l.contains("warning")).toList();
            assertEquals(1, warnings.size(), c.toString());
            assertTrue(warnings.getFirst().startsWith("isthmus: warning: isthmus@bad.service not restarted, it runs the old version on: the new one refuses"
                    + " /etc/isthmus/bad.yaml: /etc/isthmus/bad.yaml: virtualNetworkGateway.sku: "), warnings.getFirst());
        } finally {
            running.destroyForcibly().waitFor();
            PackageUnderTest.deleteTree(dir);
        }
    }

    private static void private600(Path file) throws Exception {
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void aDependencyThisMachineLacksStopsTheInstall() throws Exception {
        // The same root without the dependencies' entries: dpkg must refuse, so the test above shows that Depends are met.
        Path root = PackageUnderTest.TARGET.resolve("it-dpkg-bare");
        PackageUnderTest.deleteTree(root);
        PackageUnderTest.dpkgDatabase(root);
        Files.writeString(root.resolve("var/lib/dpkg/status"), "");
        try {
            Command install = dpkg(root, "--install", PackageUnderTest.deb().toString());
            assertEquals(1, install.exit(), install.toString());
            assertTrue(install.err().contains("depends on iproute2"), install.err());
        } finally {
            PackageUnderTest.deleteTree(root);
        }
    }
}
