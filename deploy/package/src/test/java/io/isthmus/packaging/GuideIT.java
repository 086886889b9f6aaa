package io.isthmus.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * deploy/TWO-MACHINES.md's firewall as nft reads it. (Its Isthmus configuration is checked by
 * BundledRuntimeIT, its swanctl.conf carries traffic in PackagedGatewayIT.)
 */
class GuideIT {

    @Test
    void theNftablesRulesetParses() throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/sbin/nft")), "nftables is missing; deploy/test.sh installs it");
        var blocks = Guide.blocks("nft");
        assertEquals(1, blocks.size(), "one nftables ruleset in the guide");
        Path file = Files.createTempFile(PackageUnderTest.PREFIX, ".nft");
        try (Namespace ns = new Namespace("nft")) {
            Files.writeString(file, blocks.getFirst());
            // --check: parsed and validated by the kernel's rules, applied nowhere (and in a namespace of its own).
            Command check = Command.run("ip", "netns", "exec", ns.name, "nft", "--check", "--file", file.toString());
            assertEquals(0, check.exit(), check.toString());
            Files.writeString(file, blocks.getFirst().replace("meta l4proto esp", "meta l4proto espx"));
            assertTrue(Command.run("ip", "netns", "exec", ns.name, "nft", "--check", "--file", file.toString()).exit() != 0, "a wrong rule fails the check");
        } finally {
            Files.delete(file);
        }
    }
}
