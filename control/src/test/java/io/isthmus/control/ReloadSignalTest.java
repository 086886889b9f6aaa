package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP leaves a gateway running (reload comes later); SIGTERM still stops it. */
class ReloadSignalTest {
    static final String WARNING = "SIGHUP: reload is not supported yet; nothing changed, tunnels stay up";

    /** A process set up as isthmus gateway run sets itself up, waiting to be signalled. */
    public static final class Child {
        public static void main(String[] args) throws InterruptedException {
            Isthmus.setUpLogging();
            ReloadSignal.install();
            System.getLogger("io.isthmus.test").log(System.Logger.Level.INFO, "child ready");
            Thread.sleep(Duration.ofMinutes(5));
        }
    }

    @TempDir
    Path dir;

    @Test
    void sighupIsLoggedAndChangesNothingSigtermStops() throws Exception {
        try (ChildJvm child = ChildJvm.start(Child.class, dir.resolve("child.log"))) {
            assertTrue(child.awaitOutput("child ready", Duration.ofSeconds(30)), child::toString);
            child.signal("HUP");
            assertTrue(child.awaitOutput(WARNING, Duration.ofSeconds(10)), () -> "no warning: " + output(child));
            Thread.sleep(300);
            assertTrue(child.alive(), () -> "SIGHUP stopped it: " + output(child));
            assertEquals(1, output(child).lines().filter(l -> l.contains("SIGHUP")).count(), () -> output(child));

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
