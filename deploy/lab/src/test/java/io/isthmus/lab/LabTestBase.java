package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the tests that build a {@link Lab} share: they need root, strongSwan and nftables (CI has
 * them: deploy/test.sh installs them, and a missing one fails the test, saying which), and the
 * lab goes when each test ends.
 */
abstract class LabTestBase {
    /** A custom IPsec/IKE policy (Azure's names) for the tests that rekey: AES-GCM-128, P-256, PFS; lifetimes added by each. */
    static final String GCM128_POLICY = """
            ipsecEncryption: GCMAES128
            ipsecIntegrity: GCMAES128
            ikeEncryption: GCMAES128
            ikeIntegrity: SHA256
            dhGroup: ECP256
            pfsGroup: ECP256
            """;

    Lab lab;

    /** Waits until host-a's ping reaches {@code address}; false after {@code seconds}. */
    boolean reaches(String address, int seconds) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < end) {
            try {
                lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "1", address);
                return true;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        return false;
    }

    @BeforeAll
    static void rootAndTools() {
        String why = !"root".equals(System.getProperty("user.name")) ? "the lab needs root (network namespaces); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) ? "strongSwan is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/sbin/nft")) ? "nftables is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
    }

    @AfterEach
    void down() {
        if (lab != null) {
            lab.close();
        }
    }

    /** A gateway's status, as {@code isthmus status --json} prints it. */
    static JsonNode status(Path socket) throws IOException {
        return GatewayClient.status(socket);
    }

    /** What an isthmus command printed, and how it ended. */
    record Cli(int exit, String out, String err) {
    }

    /** {@code isthmus ARGS} in a JVM of its own, as an operator (or systemctl reload) runs it. */
    Cli isthmus(String... args) throws IOException, InterruptedException {
        java.util.List<String> command = new java.util.ArrayList<>(LabGateways.javaCommand());
        command.add("io.isthmus.control.Isthmus");
        command.addAll(java.util.List.of(args));
        Path err = Files.createTempFile(lab.work(), "isthmus", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        org.junit.jupiter.api.Assertions.assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "isthmus " + String.join(" ", args) + " did not finish");
        return new Cli(p.exitValue(), out, Files.readString(err));
    }

}
