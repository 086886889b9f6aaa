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
            Command remove = dpkg(root, "--remove", "isthmus");
            assertEquals(0, remove.exit(), remove.toString());
            assertFalse(Files.exists(root.resolve("usr/bin/isthmus")));
            assertFalse(Files.exists(root.resolve("usr/lib/isthmus")), "the runtime and jars go");
            assertTrue(Files.exists(root.resolve("etc/isthmus/example.yaml")), "a removed package keeps its conffiles");
            assertTrue(dpkg(root, "--status", "isthmus").ok().out().contains("Status: deinstall ok config-files"));

            Command purge = dpkg(root, "--purge", "isthmus");
            assertEquals(0, purge.exit(), purge.toString());
            assertFalse(Files.exists(root.resolve("etc/isthmus/example.yaml")), "purged");
            assertTrue(Files.exists(root.resolve("etc/isthmus/gw.yaml")), "not the package's to delete");
            assertFalse(dpkg(root, "--status", "isthmus").out().contains("Status: install"));
        } finally {
            PackageUnderTest.deleteTree(root);
        }
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
