package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoTest {

    @Test
    void demoCarriesPacketsAndShowsReplayAndTamperingDropped() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new Isthmus()).execute("demo");
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, output);
        for (String suite : new String[] {"aes128gcm16", "chacha20poly1305", "aes256-sha256"}) {
            assertTrue(output.contains(suite), output);
        }
        assertEquals(3, output.split("a replayed packet: REPLAY; a packet with one bit flipped: BAD_ICV", -1).length - 1, output);
        assertTrue(output.contains("JDK GHASH intrinsic"), "tests run with the intrinsic open: " + output);
    }
}
