package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.SOURCE;
import static io.isthmus.packaging.PackageUnderTest.TARGET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What build-deb.sh and jlink-modules.sh do with wrong input: stop before building, saying what is wrong. */
class BuildScriptIT {
    private static final String JDK = System.getProperty("java.home");
    private Path dir;

    @BeforeEach
    void makeDir() throws Exception {
        dir = Files.createTempDirectory(PackageUnderTest.PREFIX + "-build");
    }

    @AfterEach
    void removeDir() throws Exception {
        PackageUnderTest.deleteTree(dir);
    }

    private static Path controlJar() throws Exception {
        try (Stream<Path> jars = Files.list(TARGET.resolve("lib"))) {
            return jars.filter(p -> p.getFileName().toString().startsWith("isthmus-control-")).findFirst().orElseThrow();
        }
    }

    private Command jlinkModules(String modulesFile, Path... jars) throws Exception {
        Path list = dir.resolve("jlink-modules");
        Files.writeString(list, modulesFile);
        List<String> argv = new ArrayList<>(List.of("bash", SOURCE.resolve("jlink-modules.sh").toString(), "--jdk", JDK, list.toString()));
        for (Path jar : jars) {
            argv.add(jar.toString());
        }
        return Command.run(argv, null);
    }

    @Test
    void jlinkModulesPrintsTheChosenModulesWhenJdepsAgrees() throws Exception {
        Command ok = jlinkModules("""
                + java.base        the language
                + java.logging     logs
                + java.management  status
                + jdk.unsupported  sun.misc.Signal
                """, controlJar());
        assertEquals(0, ok.exit(), ok.toString());
        assertEquals("java.base,java.logging,java.management,jdk.unsupported", ok.out().strip());
    }

    @Test
    void aModuleTheJarsNeedAndNobodyChoseStopsTheBuild() throws Exception {
        Command c = jlinkModules("""
                + java.base        the language
                + java.logging     logs
                + java.management  status
                """, controlJar());
        assertEquals(1, c.exit(), c.toString());
        assertTrue(c.err().contains(controlJar().getFileName() + " needs jdk.unsupported"), c.err());
        assertEquals("", c.out(), "no module list for jlink");
    }

    @Test
    void aModuleLeftOutForOneJarIsNotLeftOutForAnother() throws Exception {
        Command c = jlinkModules("""
                + java.base        the language
                + java.logging     logs
                + java.management  status
                - jdk.unsupported  org.example.other -- only for another jar
                """, controlJar());
        assertEquals(1, c.exit(), c.toString());
        assertTrue(c.err().contains("needs jdk.unsupported"), c.err());
    }

    @Test
    void aMalformedListIsRefusedWithItsLine() throws Exception {
        Command noReason = jlinkModules("+ java.base\n", controlJar());
        assertEquals(1, noReason.exit());
        assertTrue(noReason.err().contains(":1: '+ java.base' says not why"), noReason.err());
        Command badSign = jlinkModules("# the list\n* java.base  what\n", controlJar());
        assertEquals(1, badSign.exit());
        assertTrue(badSign.err().contains(":2: a line starts with + or -"), badSign.err());
        Command both = jlinkModules("+ java.base  the language\n- java.base  x -- and not\n", controlJar());
        assertEquals(1, both.exit());
        assertTrue(both.err().contains("java.base is both in and left out"), both.err());
        Command missingJar = jlinkModules("+ java.base  the language\n", dir.resolve("nonexistent.jar"));
        assertEquals(1, missingJar.exit());
        assertTrue(missingJar.err().contains("nonexistent.jar: no such jar"), missingJar.err());
    }

    private Command buildDeb(String version, Path lib) throws Exception {
        return Command.run(List.of("bash", SOURCE.resolve("build-deb.sh").toString(), "--version", version, "--lib", lib.toString(),
                "--codegen", TARGET.resolve("codegen/picocli-codegen.jar").toString(), "--out", dir.resolve("out").toString(), "--jdk", JDK), null);
    }

    @Test
    void aVersionDebianCannotTakeStopsTheBuild() throws Exception {
        for (String version : List.of("v0.1.0", "0.1.0_beta", "0.1.0 SNAPSHOT", "")) {
            Command c = buildDeb(version, TARGET.resolve("lib"));
            assertEquals(1, c.exit(), c.toString());
            assertTrue(c.err().contains(version.isEmpty() ? "are required" : "does not make a Debian version"), c.err());
        }
        assertFalse(Files.exists(dir.resolve("out")), "nothing was built");
    }

    @Test
    void aVersionTheChangelogDoesNotStartWithStopsTheBuild() throws Exception {
        Command c = buildDeb("9.9.9", TARGET.resolve("lib"));
        assertEquals(1, c.exit(), c.toString());
        assertTrue(c.err().contains("debian/changelog starts with " + PackageUnderTest.debianVersion() + ", the pom says 9.9.9"), c.err());
    }

    @Test
    void aJarBuiltAsAnotherVersionStopsTheBuild() throws Exception {
        Path lib = dir.resolve("lib");
        Path classes = dir.resolve("classes/io/isthmus/control");
        Files.createDirectories(lib);
        Files.createDirectories(classes);
        Files.writeString(classes.resolve("version.properties"), "version=0.0.1\n");
        Files.writeString(classes.resolve("jvm.options"), "--enable-native-access=ALL-UNNAMED\n");
        Command.run(Path.of(JDK, "bin", "jar").toString(), "--create", "--file", lib.resolve("isthmus-control-0.0.1.jar").toString(),
                "-C", dir.resolve("classes").toString(), ".").ok();
        Command c = buildDeb(PackageUnderTest.VERSION, lib);
        assertEquals(1, c.exit(), c.toString());
        assertTrue(c.err().contains("was built as version '0.0.1', not " + PackageUnderTest.VERSION), c.err());
    }
}
