package io.isthmus.packaging;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The .deb this build made (deploy/package/target), and that package installed with dpkg into a
 * root of its own, as the tests look at it. The pom passes where they are (isthmus.package.target,
 * isthmus.package.source) and the version it was built as (isthmus.version).
 */
final class PackageUnderTest {
    static final String VERSION = property("isthmus.version");
    static final Path TARGET = Path.of(property("isthmus.package.target"));
    static final Path SOURCE = Path.of(property("isthmus.package.source"));
    /** Where the tests' own files go: namespaces and files of this run carry its pid. */
    static final String PREFIX = "isthmus-pkg-" + ProcessHandle.current().pid();

    private static Path installed;

    private PackageUnderTest() {
    }

    /** The pom's version as Debian writes it: 0.1.0-SNAPSHOT is 0.1.0~SNAPSHOT (before 0.1.0). */
    static String debianVersion() {
        return VERSION.replace('-', '~');
    }

    static Path deb() {
        Path deb = TARGET.resolve("isthmus_" + debianVersion() + "_amd64.deb");
        if (!Files.isRegularFile(deb)) {
            throw new AssertionError(deb + " is missing: the package phase (build-deb.sh) makes it before these tests run");
        }
        return deb;
    }

    /** One field of the package's DEBIAN/control, as dpkg-deb reads it. */
    static String field(String name) throws IOException, InterruptedException {
        return Command.run("dpkg-deb", "--field", deb().toString(), name).ok().out().strip();
    }

    /**
     * The package installed by dpkg into a root of its own (once per test run), as on a machine:
     * the maintainer scripts run (chrootless, with DPKG_ROOT set), and the Depends must be met. The
     * root's dpkg database holds this host's entries for the packages named in Depends, so that a
     * Depends on something no Debian machine has fails here.
     */
    static synchronized Path installedRoot() throws IOException, InterruptedException {
        if (installed == null) {
            Path root = TARGET.resolve("it-root");
            deleteTree(root);
            dpkgDatabase(root);
            Command.run("dpkg", "--root=" + root, "--force-script-chrootless", "--install", deb().toString()).ok();
            installed = root;
        }
        return installed;
    }

    /** An empty dpkg database under {@code root}, with this host's status for the packages the .deb depends on. */
    static void dpkgDatabase(Path root) throws IOException, InterruptedException {
        Path admin = root.resolve("var/lib/dpkg");
        Files.createDirectories(admin.resolve("info"));
        Files.createDirectories(admin.resolve("updates"));
        Files.writeString(admin.resolve("available"), "");
        StringBuilder status = new StringBuilder();
        for (String dependency : dependencyNames(field("Depends"))) {
            Command query = Command.run("dpkg-query", "--status", dependency);
            if (query.exit() != 0) {
                throw new AssertionError("Depends names " + dependency + ", which this Debian host does not have installed: " + query);
            }
            status.append(query.out().strip()).append("\n\n");
            String arch = Command.run("dpkg-query", "--showformat=${Architecture}", "--show", dependency).ok().out().strip();
            Files.writeString(admin.resolve("info/" + dependency + (arch.equals("all") ? "" : ":" + arch) + ".list"), "");
        }
        Files.writeString(admin.resolve("status"), status.toString());
    }

    /** The package names of a Depends field, without versions and alternatives' extra names ("a (>= 1) | b, c" is a and c). */
    static List<String> dependencyNames(String depends) {
        List<String> names = new ArrayList<>();
        for (String clause : depends.split(",")) {
            names.add(clause.split("\\|")[0].strip().split("[\\s(:]")[0]);
        }
        return names;
    }

    /** The packaged isthmus command, with an environment of only these variables. */
    static Command isthmus(Map<String, String> environment, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(installedRoot().resolve("usr/bin/isthmus").toString()));
        argv.addAll(List.of(args));
        return Command.run(argv, environment);
    }

    /** The packaged isthmus with what a login shell on Debian has: no JDK on PATH, no JAVA_HOME. */
    static Command isthmus(String... args) throws IOException, InterruptedException {
        return isthmus(plainEnvironment(), args);
    }

    static Map<String, String> plainEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("LANG", "C.UTF-8");
        return env;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set: run these tests with mvn verify (deploy/package/pom.xml sets it)");
        }
        return value;
    }
}
