package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.deb;
import static io.isthmus.packaging.PackageUnderTest.debianVersion;
import static io.isthmus.packaging.PackageUnderTest.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The .deb as dpkg-deb shows it: its control fields, its files and their modes, its scripts and papers. */
class PackageControlIT {
    /** dpkg-deb --contents: path (without the leading ".") to "mode owner/group". */
    private static final Map<String, String> CONTENTS = new LinkedHashMap<>();
    private static Path control;
    /** Where the package's files may be (with the directories above them): nothing of another package's. */
    private static final List<String> PLACES = List.of("/etc/isthmus", "/lib/systemd/system/isthmus@.service", "/usr/bin/isthmus", "/usr/lib/isthmus/",
            "/usr/lib/sysctl.d/60-isthmus.conf", "/usr/share/doc/isthmus/", "/usr/share/man/man1/isthmus", "/usr/share/lintian/overrides/isthmus");

    @BeforeAll
    static void read() throws Exception {
        Pattern line = Pattern.compile("^(\\S+) (\\S+)\\s+\\d+ \\S+ \\S+ \\.(/\\S*?)(?: -> .*)?$");
        for (String l : Command.run("dpkg-deb", "--contents", deb().toString()).ok().out().split("\n")) {
            Matcher m = line.matcher(l);
            if (!m.matches()) {
                throw new AssertionError("cannot read this line of dpkg-deb --contents: " + l);
            }
            CONTENTS.put(m.group(3).equals("/") ? "/" : m.group(3).replaceAll("/$", ""), m.group(1) + " " + m.group(2));
        }
        control = Files.createTempDirectory(PackageUnderTest.PREFIX + "-control");
        Command.run("dpkg-deb", "--control", deb().toString(), control.toString()).ok();
    }

    @Test
    void controlNamesTheVersionTheArchitectureAndWhatTheGatewayNeeds() throws Exception {
        assertEquals("isthmus", field("Package"));
        assertEquals(debianVersion(), field("Version"), "the pom's version, in Debian's spelling");
        assertEquals("amd64", field("Architecture"));
        String depends = field("Depends");
        // ip(8) sets the TUN device's MTU and the routes; the runtime's binaries link to glibc.
        assertTrue(depends.matches("(^|.*, )iproute2(,.*|$)"), depends);
        assertTrue(depends.matches(".*\\blibc6 \\(>= 2\\.\\d+\\).*"), depends);
        // A pair's floating addresses are keepalived's to move; a gateway alone does without.
        assertEquals("keepalived", field("Suggests"));
        // BGP (enableBgp) is BIRD's, which the gateway runs; a gateway without BGP does without, hence not a Depends.
        assertEquals("bird2", field("Recommends"));
        assertTrue(field("Maintainer").matches(".+ <[^@ ]+@[^@ ]+>"), field("Maintainer"));
        assertEquals("net", field("Section"));
        assertEquals("optional", field("Priority"));
        String description = field("Description");
        assertTrue(description.startsWith("userspace IPsec/IKEv2 site-to-site VPN gateway\n"), description);
        assertTrue(description.lines().skip(1).allMatch(l -> l.startsWith(" ") && l.length() <= 80), "a long description, lines of at most 80: " + description);
    }

    @Test
    void installedSizeIsWhatTheFilesTake() throws Exception {
        long kib = Long.parseLong(field("Installed-Size"));
        Path root = PackageUnderTest.installedRoot();
        long bytes = 0;
        for (String path : CONTENTS.keySet()) {
            Path f = root.resolve(path.substring(1));
            if (Files.isRegularFile(f)) {
                bytes += Files.size(f);
            }
        }
        // Installed-Size counts blocks (du -sk), a little more than the bytes; never less.
        assertTrue(kib >= bytes / 1024 && kib <= bytes / 1024 * 11 / 10 + 64, "Installed-Size " + kib + " KiB, files " + bytes / 1024 + " KiB");
    }

    @Test
    void everyFileIsInItsPlaceWithItsModeAndRootOwnsAll() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("/usr/bin/isthmus", "-rwxr-xr-x");
        expected.put("/lib/systemd/system/isthmus@.service", "-rw-r--r--");
        expected.put("/usr/lib/sysctl.d/60-isthmus.conf", "-rw-r--r--");
        expected.put("/etc/isthmus/example.yaml", "-rw-------");
        expected.put("/etc/isthmus/credentials", "drwx------");
        expected.put("/usr/share/man/man1/isthmus.1.gz", "-rw-r--r--");
        expected.put("/usr/share/man/man1/isthmus-gateway-run.1.gz", "-rw-r--r--");
        expected.put("/usr/share/doc/isthmus/copyright", "-rw-r--r--");
        expected.put("/usr/share/doc/isthmus/changelog.gz", "-rw-r--r--");
        expected.put("/usr/share/doc/isthmus/TWO-MACHINES.md.gz", "-rw-r--r--");
        expected.put("/usr/lib/isthmus/jvm.options", "-rw-r--r--");
        expected.put("/usr/lib/isthmus/alive-check", "-rwxr-xr-x");
        expected.put("/usr/lib/isthmus/runtime/bin/java", "-rwxr-xr-x");
        expected.put("/usr/lib/isthmus/runtime/lib/modules", "-rw-r--r--");
        expected.put("/usr/lib/isthmus/lib/isthmus-control-" + PackageUnderTest.VERSION + ".jar", "-rw-r--r--");
        expected.forEach((path, mode) -> {
            String found = CONTENTS.get(path);
            assertTrue(found != null, path + " is not in the package");
            assertEquals(mode, found.split(" ")[0], path);
        });
        CONTENTS.forEach((path, modeOwner) -> {
            assertEquals("root/root", modeOwner.split(" ")[1], path + " must be root's");
            assertFalse(!modeOwner.startsWith("l") && modeOwner.matches("\\S{5}w.*|\\S{8}w.*"), path + " is writable by group or others: " + modeOwner);
            assertTrue(PLACES.stream().anyMatch(place -> path.startsWith(place) || place.startsWith(path.equals("/") ? "/" : path + "/")),
                    path + " lies outside the package's places " + PLACES);
        });
    }

    @Test
    void onlyTheGatewayIsPackagedNotTheLabNorTestLibraries() {
        List<String> jars = CONTENTS.keySet().stream().filter(p -> p.startsWith("/usr/lib/isthmus/lib/")).map(p -> p.substring(p.lastIndexOf('/') + 1)).toList();
        assertTrue(jars.stream().anyMatch(j -> j.startsWith("isthmus-ike-")), jars.toString());
        assertTrue(jars.stream().anyMatch(j -> j.startsWith("isthmus-dataplane-")), jars.toString());
        for (String unwanted : List.of("isthmus-lab", "isthmus-test-vectors", "junit", "jqwik", "jmh", "testcontainers", "opentest4j", "apiguardian")) {
            assertTrue(jars.stream().noneMatch(j -> j.startsWith(unwanted)), unwanted + " must not be in the package: " + jars);
        }
        assertTrue(jars.stream().allMatch(j -> j.endsWith(".jar") && !j.endsWith("-tests.jar")), jars.toString());
    }

    @Test
    void theRuntimesBinariesAreStripped() throws Exception {
        Path root = PackageUnderTest.installedRoot();
        int elves = 0;
        for (String path : CONTENTS.keySet()) {
            Path f = root.resolve(path.substring(1));
            if (path.startsWith("/usr/lib/isthmus/runtime/") && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS) && isElf(f)) {
                elves++;
                String sections = Command.run("readelf", "--section-headers", "--wide", f.toString()).ok().out();
                assertFalse(sections.contains(" .symtab "), path + " keeps its symbol table (Debian policy 10.1: strip it)");
                assertTrue(sections.contains(" .dynsym "), path + " must keep its dynamic symbols");
            }
        }
        assertTrue(elves >= 10, "the runtime's java, libjvm.so and the others: " + elves);
    }

    private static boolean isElf(Path f) throws IOException {
        try (var in = Files.newInputStream(f)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        }
    }

    @Test
    void conffilesAreTheExampleAndMd5sumsMatchEveryOtherFile() throws Exception {
        assertEquals(List.of("/etc/isthmus/example.yaml"), Files.readAllLines(control.resolve("conffiles")));
        Path root = PackageUnderTest.installedRoot();
        Command check = Command.run(List.of("sh", "-c", "cd \"$0\" && md5sum --check --strict --quiet \"$1\"", root.toString(),
                control.resolve("md5sums").toString()), null);
        assertEquals(0, check.exit(), check.toString());
        long sums = Files.readAllLines(control.resolve("md5sums")).size();
        long files = CONTENTS.entrySet().stream().filter(e -> e.getValue().startsWith("-") && !e.getKey().startsWith("/etc/")).count();
        assertEquals(files, sums, "one sum per file, conffiles aside");
    }

    @Test
    void maintainerScriptsAreShellThatParsesAndExecutable() throws Exception {
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path f = control.resolve(script);
            assertTrue(Files.isExecutable(f), script);
            assertTrue(Files.readString(f).startsWith("#!/bin/sh\n"), script + ": #!/bin/sh, which every Debian has");
            Command.run("sh", "-n", f.toString()).ok();
        }
    }

    @Test
    void everyBundledLibraryHasItsCopyrightParagraph() throws Exception {
        String copyright = Files.readString(PackageUnderTest.installedRoot().resolve("usr/share/doc/isthmus/copyright"));
        List<String> patterns = new ArrayList<>();
        Matcher files = Pattern.compile("(?m)^Files: (.+)$").matcher(copyright);
        while (files.find()) {
            for (String p : files.group(1).split("\\s+")) {
                if (!p.equals("*")) {
                    patterns.add(p);
                }
            }
        }
        for (String path : CONTENTS.keySet()) {
            if (path.startsWith("/usr/lib/isthmus/lib/") && !path.substring(path.lastIndexOf('/') + 1).startsWith("isthmus-")) {
                assertTrue(patterns.stream().anyMatch(p -> FileSystems.getDefault().getPathMatcher("glob:" + p).matches(Path.of(path.substring(1)))),
                        path + " has no Files: paragraph in deploy/package/debian/copyright (its copyright holder and licence)");
            }
        }
    }

    @Test
    void changelogStartsWithThisVersion() throws Exception {
        Path changelog = Files.createTempFile(PackageUnderTest.PREFIX, "changelog");
        try {
            Files.write(changelog, new java.util.zip.GZIPInputStream(Files.newInputStream(
                    PackageUnderTest.installedRoot().resolve("usr/share/doc/isthmus/changelog.gz"))).readAllBytes());
            assertEquals(debianVersion(), Command.run("dpkg-parsechangelog", "-l", changelog.toString(), "-S", "Version").ok().out().strip());
        } finally {
            Files.delete(changelog);
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        PackageUnderTest.deleteTree(control);
    }
}
