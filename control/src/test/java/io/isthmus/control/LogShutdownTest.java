package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.log.LogShutdown;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a gateway logs while it stops reaches the log, every time. */
class LogShutdownTest {
    static final String LAST_LINE = "the last line, from the shutdown hook";

    /**
     * Logs from a shutdown hook after a moment, as a gateway does once its IKE SAs are deleted;
     * every other shutdown hook of the JVM has long started by then.
     */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            Isthmus.setUpLogging();
            System.Logger log = System.getLogger("io.isthmus.control.test");
            LogShutdown.addShutdownHook(new Thread(() -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                log.log(System.Logger.Level.INFO, LAST_LINE);
            }, "test-shutdown"));
            log.log(System.Logger.Level.INFO, "child ready");
            Thread.sleep(Duration.ofMinutes(5));
        }
    }

    @TempDir
    Path dir;

    @Test
    void linesLoggedWhileStoppingAreWrittenEveryTime() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (ChildJvm child = ChildJvm.start(Child.class, dir.resolve("child-" + i + ".log"))) {
                assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
                assertTrue(child.output().matches("(?s)\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO control: child ready\n.*"),
                        "not Isthmus's Logback format: " + child.output());
                child.signal("TERM");
                assertEquals(143, child.awaitExit(Duration.ofSeconds(10)), () -> ReloadSignalTest.output(child));
                String output = child.output();
                assertTrue(output.contains("INFO control: " + LAST_LINE + "\n"), "run " + i + ": the line logged at shutdown is lost:\n" + output);
            }
        }
    }
}
