package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT wake the main thread instead of ending the JVM with 143 or 130; a stop that
 * does not end by itself is cut short with exit code 1.
 */
class StopSignalTest {
    /** As isthmus gateway run: waits for the signal, then "stops", in no time or never ("stuck"). */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            Isthmus.setUpLogging();
            StopSignal stop = StopSignal.install();
            if (args.length > 0 && args[0].equals("given-back")) {
                stop.close(); // as after a start that failed inside a longer-lived JVM
            }
            System.getLogger("io.isthmus.test").log(System.Logger.Level.INFO, "child ready");
            stop.await();
            StopSignal.bound();
            if (args.length > 0 && args[0].equals("stuck")) {
                Thread.sleep(Duration.ofMinutes(5));
            }
            System.getLogger("io.isthmus.test").log(System.Logger.Level.INFO, "stopped after " + stop.name());
            System.exit(0);
        }
    }

    @TempDir
    Path dir;

    @Test
    void sigtermEndsInAnOrderlyStopWithExitCodeZero() throws Exception {
        try (ChildJvm child = ChildJvm.start(List.of(), Map.of(), Child.class, List.of(), dir.resolve("child.log"))) {
            assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            child.signal("TERM");
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            assertTrue(child.output().contains("SIGTERM: stopping"), () -> ReloadSignalTest.output(child));
            assertTrue(child.output().contains("stopped after SIGTERM"), () -> ReloadSignalTest.output(child));
        }
    }

    @Test
    void closedItGivesTheSignalsBackToTheJvm() throws Exception {
        try (ChildJvm child = ChildJvm.start(List.of(), Map.of(), Child.class, List.of("given-back"), dir.resolve("child.log"))) {
            assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            child.signal("TERM");
            assertEquals(143, child.awaitExit(Duration.ofSeconds(30)), () -> "the JVM's own SIGTERM: 128 + 15; " + ReloadSignalTest.output(child));
            assertTrue(!child.output().contains("SIGTERM: stopping"), () -> ReloadSignalTest.output(child));
        }
    }

    @Test
    void aStopThatHangsIsCutShortWithExitCodeOne() throws Exception {
        try (ChildJvm child = ChildJvm.start(List.of(), Map.of(), Child.class, List.of("stuck"), dir.resolve("child.log"))) {
            assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            long signalled = System.nanoTime();
            child.signal("INT");
            assertTrue(child.awaitOutput("SIGINT: stopping", Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            child.signal("INT");
            Integer exit = child.awaitExit(Duration.ofSeconds(60));
            long millis = (System.nanoTime() - signalled) / 1_000_000;
            assertEquals(1, exit, () -> ReloadSignalTest.output(child));
            assertTrue(millis >= StopSignal.LIMIT.toMillis(), "not before the limit: " + millis + " ms");
            String out = child.output();
            assertTrue(out.contains("SIGINT: already stopping"), out);
            assertTrue(out.contains("still stopping 4500 ms after the stop began: exiting now, without the rest of the cleanup"), out);
            assertTrue(!out.contains("stopped after"), out);
        }
    }
}
