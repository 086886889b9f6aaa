package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's first command, as CI runs it: the demo must carry traffic and clean up. */
class DemoTest {

    static String run(int[] exit, String... args) {
        PrintStream original = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            PrintStream p = new PrintStream(captured, true, StandardCharsets.UTF_8);
            System.setOut(p);
            System.setErr(p);
            exit[0] = IsthmusLab.commandLine(false).execute(args);
        } finally {
            System.setOut(original);
            System.setErr(originalErr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theDemoCarriesTrafficBetweenTwoSitesAndCleansUp() throws Exception {
        int[] exit = {0};
        String output = run(exit, "demo", "--seconds", "2");
        assertEquals(0, exit[0], output);
        assertTrue(output.contains("tunnel up"), output);
        assertEquals(3, output.split(" 0% packet loss", -1).length - 1, "three pings, none lost:\n" + output);
        assertTrue(output.matches("(?s).*one TCP stream from host-a to host-b: [0-9.]+ Gbit/s.*"), output);
        assertTrue(output.contains("SHA-256 equal"), output);
        assertTrue(output.contains("ESTABLISHED") && output.contains("TunnelEgressBytes"), output);
        // The two gateways may both initiate and settle on one IKE SA meanwhile: that must not cost a packet.
        assertTrue(!output.contains("SEAL_"), "no packet sealed with an SA already destroyed:\n" + output);
        String namespaces = new String(new ProcessBuilder("ip", "netns", "list").start().getInputStream().readAllBytes());
        assertTrue(!namespaces.contains(io.isthmus.lab.Lab.PREFIX), "the lab is gone: " + namespaces);
    }

    @Test
    void aBadConfigurationFileGetsAClearError() throws Exception {
        Path bad = Files.createTempFile("isthmus-bad", ".yaml");
        Files.writeString(bad, new String(Demo.class.getResourceAsStream("demo/gw-a.yaml").readAllBytes())
                .replace("dhGroup: ECP256", "dhGroup: DHGroup1"));
        int[] exit = {0};
        String output = run(exit, "gateway", "run", "--config", bad.toString());
        assertEquals(2, exit[0], output);
        assertTrue(output.contains(bad + ": connections[0].ipsecPolicies[0].dhGroup: 'DHGroup1' is not allowed; one of ECP384, ECP256"), output);
        output = run(exit, "gateway", "check", "--config", bad.toString().replace(".yaml", ".missing"));
        assertEquals(2, exit[0], output);
        assertTrue(output.contains(bad.toString().replace(".yaml", ".missing") + ": no such file"), output);
        Files.delete(bad);
    }
}
