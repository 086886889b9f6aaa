package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.IsthmusCommandLineTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code isthmus ha handover}, {@code resume} and {@code certificate}, against a stand-in gateway (no root). */
class PairCommandTest {
    @TempDir
    Path dir;

    static final class StandIn implements ControlRequests {
        final List<String> requests = new ArrayList<>();
        boolean partnerAnswers = true;

        @Override
        public Object status() {
            return Map.of("gateway", "gw-test");
        }

        @Override
        public Object handover() {
            requests.add("handover");
            return partnerAnswers ? new Reload.Outcome(true, List.of("groups [gw1] handed over to the partner with their exact numbers"))
                    : new Reload.Outcome(false, List.of("nothing handed over: the partner does not answer on the sync link"));
        }

        @Override
        public Object resume() {
            requests.add("resume");
            return new Reload.Outcome(true, List.of("this instance may carry its groups again"));
        }
    }

    @Test
    void handoverAndResumeSayWhatHappenedAndExitAsAReloadDoes() throws Exception {
        Path socket = dir.resolve("gw.sock");
        StandIn gateway = new StandIn();
        try (ControlSocket control = ControlSocket.open(socket, gateway)) {
            Run handed = IsthmusCommandLineTest.isthmus("ha", "handover", "--control-socket", socket.toString());
            assertEquals(0, handed.exit(), handed.err());
            assertEquals("groups [gw1] handed over to the partner with their exact numbers\n", handed.out());
            gateway.partnerAnswers = false;
            Run refused = IsthmusCommandLineTest.isthmus("ha", "handover", "--control-socket", socket.toString());
            assertEquals(2, refused.exit());
            assertEquals("isthmus: nothing handed over: the partner does not answer on the sync link\n", refused.err());
            Run resumed = IsthmusCommandLineTest.isthmus("ha", "resume", "--control-socket", socket.toString());
            assertEquals(0, resumed.exit(), resumed.err());
            assertEquals(List.of("handover", "handover", "resume"), gateway.requests);
        }
    }

    @Test
    void aGatewayWithoutAPairSaysSo() throws Exception {
        Path socket = dir.resolve("gw.sock");
        try (ControlSocket control = ControlSocket.open(socket, () -> Map.of("gateway", "alone"))) {
            Run run = IsthmusCommandLineTest.isthmus("ha", "handover", "--control-socket", socket.toString());
            assertEquals(1, run.exit());
            assertTrue(run.err().contains("does not hand over"), run.err());
        }
    }

    @Test
    void certificatesForTheSyncLinkAndNeverOverThoseThere() throws Exception {
        Run made = IsthmusCommandLineTest.isthmus("ha", "certificate", "--name", "gw1", "--directory", dir.resolve("pair").toString());
        assertEquals(0, made.exit(), made.err());
        Path key = dir.resolve("pair/gw1.key");
        assertEquals(dir.resolve("pair/gw1.crt") + "\n" + key + "\n", made.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        byte[] before = Files.readAllBytes(key);
        Run again = IsthmusCommandLineTest.isthmus("ha", "certificate", "--name", "gw1", "--directory", dir.resolve("pair").toString());
        assertTrue(again.exit() != 0, "a second run must not replace the key the partner's pin is made from");
        assertTrue(again.err().contains("will not overwrite"), again.err());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(key)));
    }

    @Test
    void statusShowsWhoCarriesWhatAndTheLastTakeover() throws Exception {
        var status = ControlSocket.JSON.readTree("""
                {"gateway": "west", "instance": "gw2", "connections": [], "defense": {}, "process": {},
                 "pair": {"instance": "gw2", "partner": "gw1",
                   "link": {"connected": true, "lastHeardMillis": 12, "lagUpdates": 0},
                   "groups": [{"name": "gw1", "floatingAddress": "10.77.0.11", "carriedBy": "gw2", "epoch": 3, "keepalived": "MASTER",
                               "since": "2026-12-02T08:40:23Z"}],
                   "lastTakeover": {"group": "gw1", "at": "2026-12-02T08:40:23Z", "tookMillis": 57, "ikeSas": 1, "childSas": 1,
                                    "refused": 0, "handedOver": false, "messageIdSyncs": 1}}}
                """);
        String text = StatusCommand.render(status);
        assertTrue(text.contains("pair: gw2 with gw1, sync link up, partner heard 12 ms ago, 0 updates waiting for it\n"), text);
        assertTrue(text.contains("  group gw1 (10.77.0.11): carried by gw2 at epoch 3, keepalived MASTER here, since 2026-12-02T08:40:23Z\n"), text);
        assertTrue(text.contains("  last takeover: group gw1 at 2026-12-02T08:40:23Z in 57 ms (numbers jumped), 1 IKE SA(s) and 1 child SA(s) carried on, message IDs of 1 agreed with the peer (RFC 6311)\n"),
                text);
    }

    @Test
    void keepalivedsConfigurationComesFromTheGatewaysFile() throws Exception {
        Path file = dir.resolve("gw.yaml");
        Files.writeString(file, io.isthmus.control.config.PairSectionTest.PAIR);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Run run = IsthmusCommandLineTest.isthmus("ha", "keepalived-config", "--config", file.toString(), "--instance", "gw2",
                "--sync-interface", "eth2", "--wan-interface", "eth0", "--network-interface", "eth1", "--network-address", "gw1=192.168.20.1/24");
        assertEquals(0, run.exit(), run.err());
        String text = run.out();
        assertTrue(text.contains("vrrp_instance gw1 {"), text);
        assertTrue(text.contains("vrrp_instance gw2 {"), text);
        assertTrue(text.contains("  notify_fifo /var/lib/isthmus/gw-west-gw2.keepalived\n"), text);
        assertTrue(text.contains("  file /var/lib/isthmus/gw-west-gw2.handover\n"), text);
        assertTrue(text.contains("/usr/lib/isthmus/alive-check /var/lib/isthmus/gw-west-gw2.alive 1000"), text);
        assertTrue(text.contains("  process /usr/lib/isthmus/runtime/bin/java @/usr/lib/isthmus/jvm.options -cp /usr/lib/isthmus/lib/* "
                + "io.isthmus.control.Isthmus gateway run\n  param_match initial\n"), "the gateway, not any isthmus command: " + text);
        assertTrue(text.contains("  unicast_src_ip 10.99.0.2\n"), text);
        assertTrue(text.contains("    10.99.0.1 min_ttl 255\n"), text);
        assertTrue(text.contains("    10.77.0.101/24 dev eth0\n    192.168.20.1/24 dev eth1\n"), text);
        // gw2 backs gw1's group up (100) and owns its own (150).
        int gw1 = text.indexOf("vrrp_instance gw1 {");
        int gw2 = text.indexOf("vrrp_instance gw2 {");
        assertTrue(text.substring(gw1, gw2).contains("  priority 100\n"), text);
        assertTrue(text.substring(gw2).contains("  priority 150\n"), text);
        Run alone = IsthmusCommandLineTest.isthmus("ha", "keepalived-config", "--config", file.toString(), "--instance", "gw3",
                "--sync-interface", "eth2", "--wan-interface", "eth0");
        assertEquals(2, alone.exit(), alone.err());
    }
}
