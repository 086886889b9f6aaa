package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The root pom's isthmus.jvm.flags reach both the generated jvm.options (launchers, lab) and the tests' own JVM. */
class JvmFlagsTest {
    @Test
    void aJvmOutOfMemoryExitsRatherThanLimpsOn() {
        assertTrue(Isthmus.jvmOptions().contains("-XX:+ExitOnOutOfMemoryError"), Isthmus.jvmOptions().toString());
        // Surefire's argLine is the same property: no test may count on surviving an OutOfMemoryError.
        assertTrue(ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+ExitOnOutOfMemoryError"),
                ManagementFactory.getRuntimeMXBean().getInputArguments().toString());
    }
}
