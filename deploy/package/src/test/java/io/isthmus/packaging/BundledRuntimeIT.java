package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.installedRoot;
import static io.isthmus.packaging.PackageUnderTest.isthmus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The installed package runs on its own: its runtime (only the modules deploy/package/jlink-modules
 * chose), the isthmus command without any JDK on PATH, the example and the guide's configurations.
 */
class BundledRuntimeIT {

    @Test
    void runtimeRunsWithExactlyTheChosenModules() throws Exception {
        Path java = installedRoot().resolve("usr/lib/isthmus/runtime/bin/java");
        Command version = Command.run(List.of(java.toString(), "-version"), PackageUnderTest.plainEnvironment()).ok();
        assertTrue(version.err().contains("version \"25"), version.err());
        Set<String> modules = Command.run(List.of(java.toString(), "--list-modules"), PackageUnderTest.plainEnvironment()).ok().out().lines()
                .map(l -> l.replaceAll("@.*", "").strip()).filter(l -> !l.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> chosen = Files.readAllLines(PackageUnderTest.SOURCE.resolve("jlink-modules")).stream().filter(l -> l.startsWith("+ "))
                .map(l -> l.split("\\s+")[1]).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(chosen, modules, "the runtime's modules are the + lines of deploy/package/jlink-modules");
    }

    @Test
    void isthmusPrintsThePomVersionOnTheBundledRuntimeWithAnotherJavaOnPath() throws Exception {
        // A java first on PATH that would fail, and a JAVA_HOME that leads nowhere: neither may be used.
        Path decoy = Files.createTempDirectory(PackageUnderTest.PREFIX + "-decoy");
        try {
            Path fakeJava = decoy.resolve("java");
            Files.writeString(fakeJava, "#!/bin/sh\necho 'the java on PATH ran' >&2\nexit 99\n");
            Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
            Map<String, String> env = PackageUnderTest.plainEnvironment();
            env.put("PATH", decoy + ":" + env.get("PATH"));
            env.put("JAVA_HOME", "/nonexistent");
            Command v = isthmus(env, "--version").ok();
            String runtimeVersion = Command.run(List.of(installedRoot().resolve("usr/lib/isthmus/runtime/bin/java").toString(),
                    "-XshowSettings:properties", "-version"), PackageUnderTest.plainEnvironment()).ok().err().lines()
                    .filter(l -> l.strip().startsWith("java.runtime.version = ")).findFirst().orElseThrow().replaceAll(".* = ", "");
            assertEquals("isthmus " + PackageUnderTest.VERSION + " on Java " + runtimeVersion, v.out().strip());
            assertFalse(v.err().contains("the java on PATH ran"), v.err());
        } finally {
            PackageUnderTest.deleteTree(decoy);
        }
    }

    @Test
    void theExampleConfigurationPassesCheck() throws Exception {
        Path example = installedRoot().resolve("etc/isthmus/example.yaml");
        Command check = isthmus("gateway", "check", "--config", example.toString());
        assertEquals(0, check.exit(), check.toString());
        assertTrue(check.out().contains("gateway gw-a") && check.out().contains("to-site-b -> site-b (198.51.100.20)"), check.out());
        assertEquals("", check.err(), "no warning: the example is mode 600, as a file with a key must be");
    }

    @Test
    void aBrokenCopyOfTheExampleFailsCheckNamingTheField() throws Exception {
        Path dir = Files.createTempDirectory(PackageUnderTest.PREFIX + "-broken");
        try {
            Path broken = dir.resolve("gw.yaml");
            String example = Files.readString(installedRoot().resolve("etc/isthmus/example.yaml"));
            assertTrue(example.contains("dhGroup: ECP384"), "the example has the line this test breaks");
            Files.writeString(broken, example.replace("dhGroup: ECP384", "dhGroup: DHGroup2"));
            Files.setPosixFilePermissions(broken, PosixFilePermissions.fromString("rw-------"));
            Command check = isthmus("gateway", "check", "--config", broken.toString());
            assertEquals(2, check.exit(), check.toString());
            assertEquals(1, check.err().strip().lines().count(), "one line: " + check.err());
            assertTrue(check.err().contains("connections[0].ipsecPolicies[0].dhGroup") && check.err().contains("DHGroup2"), check.err());
        } finally {
            PackageUnderTest.deleteTree(dir);
        }
    }

    @Test
    void everyIsthmusConfigurationInTheGuidePassesCheck() throws Exception {
        List<String> blocks = Guide.blocks("yaml");
        assertTrue(blocks.size() >= 1, "deploy/TWO-MACHINES.md shows gw-b's configuration");
        Path dir = Files.createTempDirectory(PackageUnderTest.PREFIX + "-guide");
        try {
            for (String block : blocks) {
                Path file = dir.resolve("gw.yaml");
                Files.writeString(file, block);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                // A key file the guide tells the operator to write.
                for (String keyFile : Guide.sharedKeyFiles(block)) {
                    Path key = dir.resolve(Path.of(keyFile).getFileName());
                    Files.writeString(key, "a key of the guide's test\n");
                    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
                    Files.writeString(file, Files.readString(file).replace(keyFile, key.toString()));
                }
                Command check = isthmus("gateway", "check", "--config", file.toString());
                assertEquals(0, check.exit(), "this configuration of deploy/TWO-MACHINES.md:\n" + block + "\n" + check);
            }
        } finally {
            PackageUnderTest.deleteTree(dir);
        }
    }

    @Test
    void anUnknownCommandFailsWithUsage() throws Exception {
        Command c = isthmus("no-such-command");
        assertEquals(2, c.exit(), c.toString());
        assertTrue(c.err().contains("no-such-command"), c.err());
    }
}
