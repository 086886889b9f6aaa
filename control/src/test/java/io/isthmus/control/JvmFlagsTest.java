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

    /**
     * Metaspace's first collection threshold above what a gateway loads: with the JVM's default
     * (about 21 MB) a gateway ran full collections for "Metadata GC Threshold" at start (250 to
     * 330 ms on the loaded CI machine) and again half a minute later (87 to 188 ms, once a
     * takeover's classes had loaded), each longer than a pair's sequence lease.
     */
    @Test
    void metaspaceDoesNotTriggerFullCollectionsOfAGateway() {
        assertTrue(Isthmus.jvmOptions().contains("-XX:MetaspaceSize=96m"), Isthmus.jvmOptions().toString());
        var hotspot = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        org.junit.jupiter.api.Assertions.assertEquals(String.valueOf(96L << 20), hotspot.getVMOption("MetaspaceSize").getValue(),
                "the flag reaches the JVM as the tests run it");
    }
}
