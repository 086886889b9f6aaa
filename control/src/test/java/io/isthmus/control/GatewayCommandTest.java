package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code isthmus gateway check}: what it tells the operator about a file, without starting anything. */
class GatewayCommandTest {

    /** The command's exit code, standard output and standard error. */
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new GatewayCommand()).execute(args);
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static Path demoConfig(Path dir, String mode) throws Exception {
        Path file = dir.resolve("gw-a.yaml");
        try (InputStream in = GatewayCommandTest.class.getResourceAsStream("sample-gw.yaml")) {
            Files.write(file, in.readAllBytes());
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void checkWarnsOfASharedKeyInAFileOthersMayRead(@TempDir Path dir) throws Exception {
        Path file = demoConfig(dir, "rw-r--r--");
        Result r = run("check", "--config", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("a-to-b -> site-b"), r.out());
        assertEquals("isthmus: warning: " + file + ": connections[0].sharedKey: the file holds a shared key and its mode 0644 lets group and"
                + " others read it; chmod 600 " + file + ", or move the key to sharedKeyFile or sharedKeyEnv", r.err().strip());
        assertTrue(!(r.out() + r.err()).contains("isthmus demo shared key"), "the key itself is never printed");
    }

    @Test
    void checkIsQuietAboutAFileForItsOwnerAlone(@TempDir Path dir) throws Exception {
        Result r = run("check", "--config", demoConfig(dir, "rw-------").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
    }

    @Test
    void checkShowsWhatNatMakesOfAConnection(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("gw.yaml"), io.isthmus.control.config.NatRulesTest.lab(io.isthmus.control.config.NatRulesTest.LAB_RULES,
                io.isthmus.control.config.NatRulesTest.TO_BRANCH1, io.isthmus.control.config.NatRulesTest.TO_BRANCH2));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Result r = run("check", "--config", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("    NAT [branch1-in (Static IngressSnat 10.0.0.0/24 -> 100.64.1.0/24), vnet-hide (Dynamic EgressSnat"
                + " 192.168.10.0/24 -> 100.70.0.1/32, maxFlows 65536)]: routes into the tunnel [100.64.1.0/24]; inside the tunnel the site is [10.0.0.0/24] and"
                + " sees this side as [100.70.0.1/32, fd10::/64]\n"), r.out());
        assertTrue(r.out().contains("    NAT [branch2-in (Static IngressSnat 10.0.0.0/24 -> 100.64.2.0/24)]: routes into the tunnel [100.64.2.0/24];"
                + " inside the tunnel the site is [10.0.0.0/24] and sees this side as [192.168.10.0/24, fd10::/64]\n"), r.out());
    }
}
