package io.isthmus.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machines' image: deploy/lib/base-image.sh prints its name, after building it (debootstrap, then
 * docker import) when this recipe's image is not in the engine yet. The script is the one a user runs too.
 */
final class BaseImage {
    private BaseImage() {
    }

    static String name() {
        Path repository = Path.of(System.getProperty("isthmus.repository", "../..")).toAbsolutePath().normalize();
        Path script = repository.resolve("deploy/lib/base-image.sh");
        if (!Files.isExecutable(script)) {
            throw new AssertionError("no " + script);
        }
        try {
            Process p = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int rc = p.waitFor();
            if (rc != 0 || out.isEmpty()) {
                throw new AssertionError(script + " exited " + rc + " (it needs root, debootstrap and a Docker engine: deploy/test.sh installs"
                        + " and starts them)");
            }
            return out.lines().reduce((a, b) -> b).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
