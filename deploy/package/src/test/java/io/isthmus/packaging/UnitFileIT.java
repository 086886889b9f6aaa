package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.installedRoot;
import static io.isthmus.packaging.PackageUnderTest.isthmus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * isthmus@.service: what systemd-analyze says of it, the service it asks for, and its commands as
 * the packaged command line reads them. (Whether systemd then runs the gateway under it is the
 * two-machine container test's to show.)
 */
class UnitFileIT {
    private static Path unit;
    /** The [Service] section: each key with its values, in order (a key may come more than once). */
    private static final Map<String, List<String>> SERVICE = new LinkedHashMap<>();
    /** The [Unit] section, likewise. */
    private static final Map<String, List<String>> UNIT = new LinkedHashMap<>();

    @BeforeAll
    static void read() throws Exception {
        unit = installedRoot().resolve("lib/systemd/system/isthmus@.service");
        String section = "";
        for (String line : Files.readAllLines(unit)) {
            if (line.startsWith("[")) {
                section = line;
            } else if ((section.equals("[Service]") || section.equals("[Unit]")) && !line.startsWith("#") && line.contains("=")) {
                (section.equals("[Unit]") ? UNIT : SERVICE).computeIfAbsent(line.substring(0, line.indexOf('=')), k -> new ArrayList<>())
                        .add(line.substring(line.indexOf('=') + 1));
            }
        }
    }

    private static String one(String key) {
        List<String> values = SERVICE.get(key);
        assertTrue(values != null && values.size() == 1, key + " once in [Service]: " + values);
        return values.getFirst();
    }

    @Test
    void systemdAnalyzeVerifiesTheUnit() throws Exception {
        // systemd-analyze checks that ExecStart's program exists and that man pages named in
        // Documentation= do, on this host: here they are the installed root's.
        Path dir = Files.createTempDirectory(PackageUnderTest.PREFIX + "-unit");
        try {
            Path launcher = installedRoot().resolve("usr/bin/isthmus");
            Files.writeString(dir.resolve("isthmus@.service"), Files.readString(unit).replace("/usr/bin/isthmus", launcher.toString()));
            Files.createSymbolicLink(dir.resolve("isthmus@gw.service"), dir.resolve("isthmus@.service"));
            Map<String, String> env = PackageUnderTest.plainEnvironment();
            env.put("MANPATH", installedRoot().resolve("usr/share/man") + ":");
            Command verify = Command.run(List.of("systemd-analyze", "verify", dir.resolve("isthmus@gw.service").toString()), env);
            assertEquals(0, verify.exit(), verify.toString());
            // verify loads every unit on the host too: what it says of another package's unit (Debian's
            // freeradius.service uses MemoryLimit=) is not this unit's to answer for.
            String dirName = dir.toString();
            List<String> ours = (verify.err() + verify.out()).lines()
                    .filter(line -> !line.isBlank())
                    .filter(line -> !(line.startsWith("/") && !line.startsWith(dirName) && !line.contains("isthmus")))
                    .toList();
            assertEquals(List.of(), ours, "systemd-analyze has nothing to say of isthmus@.service: " + verify);
        } finally {
            PackageUnderTest.deleteTree(dir);
        }
    }

    @Test
    void theServiceIsWhatTheGatewayNeedsAndNoMore() {
        assertEquals("notify", one("Type"));
        assertTrue(one("WatchdogSec").matches("\\d+s"), "a watchdog");
        assertEquals("on-failure", one("Restart"));
        assertEquals("2", one("RestartPreventExitStatus"), "a configuration mistake (exit 2) fails the unit at once, its line in the status;"
                + " a host not yet ready (exit 3: the address, a port, TUN at boot) is restarted");
        assertEquals("SIGTERM", one("KillSignal"));
        assertTrue(Integer.parseInt(one("TimeoutStopSec").replace("s", "")) > 5, "room for the 5 s a gateway takes to delete its SAs");
        assertEquals("isthmus", one("RuntimeDirectory"));
        assertEquals("yes", one("RuntimeDirectoryPreserve"), "instances share /run/isthmus");
        Set<String> caps = Set.of("CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE");
        assertEquals(caps, new TreeSet<>(List.of(one("CapabilityBoundingSet").split("\\s+"))));
        assertEquals(caps, new TreeSet<>(List.of(one("AmbientCapabilities").split("\\s+"))));
        assertEquals("closed", one("DevicePolicy"));
        assertEquals("/dev/net/tun rw", one("DeviceAllow"));
        assertTrue(!SERVICE.containsKey("PrivateDevices") && !SERVICE.containsKey("MemoryDenyWriteExecute") && !SERVICE.containsKey("ProtectKernelTunables"),
                "none of the sandboxing that takes away /dev/net/tun, the JIT's memory or /proc/sys/net");
        assertEquals("isthmus:/etc/isthmus/credentials", one("LoadCredential"));
        assertTrue(one("ExecStart").contains("--config /etc/isthmus/%i.yaml") && one("ExecStart").contains("--control-socket /run/isthmus/%i.sock"));
    }

    @Test
    void aHostNotReadyIsRetriedABoundedNumberOfTimes() {
        // Exit 3 (the start-up checks: what the host lacks) is restarted: a boot where the address comes late recovers.
        long restartSec = Long.parseLong(one("RestartSec").replace("s", ""));
        long burst = Long.parseLong(unit("StartLimitBurst"));
        long interval = Long.parseLong(unit("StartLimitIntervalSec").replace("s", ""));
        assertTrue(restartSec >= 2, "not a tight loop: " + restartSec);
        assertTrue(burst >= 3 && burst <= 20, "a few tries, not endless: " + burst);
        // The limit is reached only if the burst's starts fall within the interval: then a host that stays
        // broken ends in "failed", with its reason, rather than being started again for ever.
        assertTrue(burst * restartSec < interval, "StartLimitBurst=" + burst + " starts RestartSec=" + restartSec + "s apart fit in "
                + interval + " s: the limit can be hit");
        assertTrue(UNIT.get("After").getFirst().contains("network-online.target") && UNIT.get("Wants").getFirst().contains("network-online.target"),
                "started once the network is up: " + UNIT);
    }

    private static String unit(String key) {
        List<String> values = UNIT.get(key);
        assertTrue(values != null && values.size() == 1, key + " once in [Unit]: " + values);
        return values.getFirst();
    }

    @Test
    void theCredentialDirectoryIsInThePackage() throws Exception {
        // systemd refuses to start a unit whose LoadCredential= path is missing (status 243/CREDENTIALS).
        String path = one("LoadCredential").substring(one("LoadCredential").indexOf(':') + 1);
        assertTrue(Files.isDirectory(installedRoot().resolve(path.substring(1))), path);
    }

    @Test
    void theUnitsCommandsAreCommandsOfThePackagedIsthmus() throws Exception {
        // Run as written, but with the files they name where nothing is: each command then reads
        // its options and stops at the missing file (picocli's --help would not do: it is printed
        // whatever else the command line holds).
        Path nowhere = PackageUnderTest.TARGET.resolve(PackageUnderTest.PREFIX + "-nowhere");
        for (String key : List.of("ExecStart", "ExecReload")) {
            String line = one(key).replace("%i", "gw");
            assertTrue(line.startsWith("/usr/bin/isthmus "), key + "=" + line);
            String[] args = line.substring("/usr/bin/isthmus ".length()).replace("/etc/isthmus/", nowhere + "/").replace("/run/isthmus/", nowhere + "/")
                    .split(" ");
            Command c = isthmus(args);
            assertTrue(c.exit() != 0 && c.err().contains(nowhere.toString()) && !misread(c), key + " is not a command line isthmus reads: " + c);
        }
        // A command line it does not read is told apart: the check above can fail.
        Command wrong = isthmus("gateway", "run", "--config", nowhere + "/gw.yaml", "--control-sock", nowhere + "/gw.sock");
        assertTrue(misread(wrong), wrong.toString());
    }

    /** picocli's complaints about a command line, as opposed to the command's own about what it found. */
    private static boolean misread(Command c) {
        return c.exit() == 2 && (c.err().contains("Unknown option") || c.err().contains("Unmatched argument") || c.err().contains("Missing required"));
    }
}
