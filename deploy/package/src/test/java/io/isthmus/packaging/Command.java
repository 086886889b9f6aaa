package io.isthmus.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to its end, as the package's tests run dpkg, systemd-analyze and the packaged isthmus. */
record Command(List<String> argv, int exit, String out, String err) {

    static Command run(String... argv) throws IOException, InterruptedException {
        return run(List.of(argv), null);
    }

    /** {@code environment}: the whole environment of the command, or null for this JVM's. */
    static Command run(List<String> argv, Map<String, String> environment) throws IOException, InterruptedException {
        Path out = Files.createTempFile("isthmus-package-test-", ".out");
        Path err = Files.createTempFile("isthmus-package-test-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            if (environment != null) {
                pb.environment().clear();
                pb.environment().putAll(environment);
            }
            Process p = pb.start();
            // A JVM start on a loaded 2-core machine takes seconds; a minute means a hang.
            if (!p.waitFor(Duration.ofMinutes(2).toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("still running after 2 minutes: " + argv);
            }
            return new Command(argv, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** This command, which must have exited 0. */
    Command ok() {
        if (exit != 0) {
            throw new AssertionError(this + " failed");
        }
        return this;
    }

    @Override
    public String toString() {
        return String.join(" ", argv) + " (exit " + exit + ")\nstdout: " + out.strip() + "\nstderr: " + err.strip();
    }
}
