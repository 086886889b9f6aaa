package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code isthmus bench remote}'s command line: a wrong one starts nothing and lists every problem at once. */
class RemoteBenchCommandTest {
    @Test
    void everyProblemOfTheCommandLineIsListedAndNothingStarts() {
        // The root check comes first, as a user meets it; CI runs as root.
        assertEquals("root", System.getProperty("user.name"), "the command refuses to run but as root; CI runs as root");
        String err = run(2, "bench", "remote", "--connect", "192.0.2.2:99999", "--ssh", "root@192.0.2.2", "--paths", "plain-routing,plain-veth",
                "--seconds", "0");
        for (String problem : List.of("--peer: gateway-b's address is needed", "one of --ssh [USER@]HOST", "--token: with --connect",
                "--connect: '192.0.2.2:99999' is not HOST or HOST:PORT", "--seconds and --pings: 1 or more",
                "--paths: no path 'plain-veth'; allowed: plain-routing, isthmus-aes128gcm")) {
            assertTrue(err.contains(problem), problem + " in:\n" + err);
        }
        err = run(2, "bench", "remote", "--role", "gateway-c", "--peer", "192.0.2.2", "--ssh", "h");
        assertTrue(err.contains("--role: 'gateway-c' is not allowed; gateway-a or gateway-b"), err);
        err = run(2, "bench", "remote", "--role", "gateway-b", "--listen", "192.0.2.2:0", "--token", "long enough token here");
        assertTrue(err.contains("--listen: '192.0.2.2:0' is not ADDRESS or ADDRESS:PORT"), err);
        err = run(2, "bench", "remote", "--role", "gateway-b", "--token", "short");
        assertTrue(err.contains("--token: at least 16 characters"), err);
    }

    @Test
    void hostAndPortAreReadWithTheDefaultPort() {
        assertEquals(RemoteBenchCommand.DEFAULT_PORT, RemoteBenchCommand.address("192.0.2.2").getPort());
        assertEquals(7000, RemoteBenchCommand.address("192.0.2.2:7000").getPort());
        assertNull(RemoteBenchCommand.address(":7000"));
        assertNull(RemoteBenchCommand.address("192.0.2.2:x"));
    }

    private static String run(int expectedExit, String... args) {
        PrintStream before = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true));
        try {
            int exit = IsthmusLab.commandLine(false).execute(args);
            assertEquals(expectedExit, exit, err.toString());
        } finally {
            System.setErr(before);
        }
        return err.toString();
    }
}
