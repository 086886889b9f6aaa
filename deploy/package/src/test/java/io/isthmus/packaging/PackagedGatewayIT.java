package io.isthmus.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.lab.Lab;
import io.isthmus.lab.LabGateways;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The installed package's gateway, on its own runtime, carries traffic: the shipped example is
 * gw-a behind a NAT, as in deploy/TWO-MACHINES.md, and gw-b is strongSwan with the guide's
 * swanctl.conf. Only the documentation addresses change, to the namespace lab's: gw-a's
 * interface 10.78.0.1 is masqueraded to 10.77.0.254 (its "public" address), gw-b is 10.77.0.2,
 * site A is the lab's 192.168.10.0/24.
 */
class PackagedGatewayIT {

    @Test
    void theExampleGatewayBehindANatReachesStrongSwanConfiguredAsTheGuideSays() throws Exception {
        String why = !"root".equals(System.getProperty("user.name")) ? "the lab needs root (network namespaces); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) ? "strongSwan is missing; deploy/test.sh installs it"
                : !Files.isExecutable(Path.of("/usr/sbin/nft")) ? "nftables is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
        Path root = PackageUnderTest.installedRoot();
        String key = "REPLACE-ME with the key both gateways share";
        String gwA = Guide.readdressed(Files.readString(root.resolve("etc/isthmus/example.yaml")),
                "203.0.113.10", "10.77.0.254", "10.10.0.4", "10.78.0.1", "198.51.100.20", "10.77.0.2", "10.10.0.0/16", "192.168.10.0/24",
                "\"" + key + "\"", "\"" + key + "\"");
        String gwB = Guide.readdressed(Guide.block("conf", "# /etc/swanctl/conf.d/site-a.conf on gw-b"),
                "203.0.113.10", "10.77.0.254", "198.51.100.20", "10.77.0.2", "10.10.0.0/16", "192.168.10.0/24",
                "the key of /etc/isthmus/site-b.psk on gw-a", key);

        try (Lab lab = Lab.up(PackageUnderTest.TARGET.resolve("it-lab"), true)) {
            LabGateways.startStrongSwan(lab, Lab.Side.B, gwB);
            Path config = lab.work().resolve("gw-a.yaml");
            Files.writeString(config, gwA);
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            Path socket = lab.work().resolve("gw-a.sock");
            Process gateway = lab.spawn(Lab.GW_A, lab.work().resolve("gw-a.log"), List.of(root.resolve("usr/bin/isthmus").toString(),
                    "gateway", "run", "--config", config.toString(), "--control-socket", socket.toString()));

            assertTrue(lab.awaitPath(Duration.ofSeconds(90), false),
                    "host-a does not reach host-b through the tunnel; gw-a's log:\n" + Files.readString(lab.work().resolve("gw-a.log")));
            // The gateway is the bundled runtime's java (the launcher execs it), not this build's JDK.
            assertEquals(root.resolve("usr/lib/isthmus/runtime/bin/java").toRealPath(), Path.of("/proc/" + gateway.pid() + "/exe").toRealPath());
            // keepalived knows the gateway by these first words (isthmus ha keepalived-config), compared exactly: installed at /,
            // the launcher must produce them as they are, so here with this root in front of /usr.
            List<String> words = Arrays.asList(Files.readString(Path.of("/proc/" + gateway.pid() + "/cmdline")).split("\0"));
            String lib = root.toRealPath().resolve("usr/lib/isthmus").toString();
            List<String> tracked = GatewayPair.PACKAGED_GATEWAY_COMMAND_LINE.stream().map(w -> w.replace("/usr/lib/isthmus", lib)).toList();
            assertEquals(tracked, words.subList(0, Math.min(words.size(), tracked.size())), "the tracked words, then " + words);

            Command status = PackageUnderTest.isthmus("status", "--control-socket", socket.toString(), "--json").ok();
            JsonNode ike = new ObjectMapper().readTree(status.out()).path("connections").path(0).path("ikeSas");
            JsonNode up = null;
            for (JsonNode sa : ike) {
                if (sa.path("state").asText().equals("ESTABLISHED") && !sa.path("childSas").isEmpty()) {
                    up = sa;
                }
            }
            assertTrue(up != null, "an established IKE SA with a child SA: " + status.out());
            assertEquals("10.77.0.254", up.path("localId").asText(), "gw-a shows its public address as its identity");
            assertTrue(up.path("natDetected").asBoolean(), "the NAT in front of gw-a is detected");
            assertEquals("UDP", up.path("childSas").path(0).path("encapsulation").asText(), "ESP in UDP 4500 across the NAT");
            String peer = LabGateways.swanctl(lab, Lab.Side.B, "--list-sas");
            assertTrue(peer.contains("ESTABLISHED") && peer.contains("10.77.0.254") && peer.contains("INSTALLED"), peer);
        }
    }
}
