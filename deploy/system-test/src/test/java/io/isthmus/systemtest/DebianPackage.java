package io.isthmus.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The .deb under test: the file named by -Disthmus.deb, or the newest isthmus_*_amd64.deb in the folder it names. */
record DebianPackage(Path file) {

    static DebianPackage underTest() {
        String given = System.getProperty("isthmus.deb");
        if (given == null || given.isBlank()) {
            throw new AssertionError("-Disthmus.deb is not set: the .deb to test, or the folder that holds it (deploy/package/target)");
        }
        Path path = Path.of(given).toAbsolutePath().normalize();
        if (Files.isRegularFile(path)) {
            return new DebianPackage(path);
        }
        if (Files.isDirectory(path)) {
            try (Stream<Path> files = Files.list(path)) {
                return files.filter(p -> p.getFileName().toString().matches("isthmus_.*_amd64\\.deb"))
                        .max(Comparator.comparing(DebianPackage::modified)).map(DebianPackage::new)
                        .orElseThrow(() -> new AssertionError("no isthmus_*_amd64.deb in " + path
                                + ": the package is built by deploy/package in `mvn package` (or verify)"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError("-Disthmus.deb=" + path + ": no such file or folder");
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long size() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
