package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP runs the gateway's reload and leaves it running, each time it comes; SIGTERM still stops it. */
class ReloadSignalTest {
    static final String HANDLED = "SIGHUP: reloading the configuration";

    /** A process set up as isthmus gateway run sets itself up, waiting to be signalled. */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            Isthmus.setUpLogging();
            java.util.concurrent.atomic.AtomicInteger reloads = new java.util.concurrent.atomic.AtomicInteger();
            ReloadSignal.install(() -> System.getLogger("io.isthmus.test").log(System.Logger.Level.INFO, "child reload " + reloads.incrementAndGet()));
            System.getLogger("io.isthmus.test").log(System.Logger.Level.INFO, "child ready");
            Thread.sleep(Duration.ofMinutes(5));
        }
    }

    @TempDir
    Path dir;

    @Test
    void sighupReloadsEachTimeAndLeavesItRunningSigtermStops() throws Exception {
        try (ChildJvm child = ChildJvm.start(Child.class, dir.resolve("child.log"))) {
            assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), child::toString);
            child.signal("HUP");
            assertTrue(child.awaitOutput("child reload 1", Duration.ofSeconds(10)), () -> "no reload: " + output(child));
            child.signal("HUP");
            assertTrue(child.awaitOutput("child reload 2", Duration.ofSeconds(10)), () -> "no second reload: " + output(child));
            assertTrue(child.alive(), () -> "SIGHUP stopped it: " + output(child));
            assertEquals(2, output(child).lines().filter(l -> l.contains(HANDLED)).count(), () -> output(child));

            child.signal("TERM");
            Integer exit = child.awaitExit(Duration.ofSeconds(10));
            assertEquals(143, exit, () -> "SIGTERM: 128 + 15; " + output(child)); // the JVM's exit status after SIGTERM
        }
    }

    static String output(ChildJvm child) {
        try {
            return child.output();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
