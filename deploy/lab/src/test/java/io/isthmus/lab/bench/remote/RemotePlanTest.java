package io.isthmus.lab.bench.remote;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the two-machine bench plans before it starts anything: the configurations it writes from
 * the addresses pass the gateway's own checks and say what the path says, and a path that a
 * machine cannot run is skipped with a reason that tells the user what to do.
 */
class RemotePlanTest {
    private static final String KEY = "bm90IGEgcmVhbCBrZXksIGEgdGVzdCdzIG9uZSBvbmx5";

    @Test
    void theIsthmusConfigurationsPassTheGatewaysChecksForEveryIsthmusPath() throws Exception {
        for (RemotePath p : RemotePath.values()) {
            for (boolean a : new boolean[] {true, false}) {
                if (p.kind(a) != RemotePath.Kind.ISTHMUS) {
                    continue;
                }
                GatewayConfigs c = configs(a);
                String text = c.isthmus(p);
                GatewayConfig read = assertDoesNotThrow(() -> ConfigReader.parse(Path.of("bench.yaml"), text, k -> null), text);
                assertEquals(List.of(), read.warnings(), text);
                var conn = read.connections().get(0);
                assertEquals(p.udpEncapsulation, conn.forceUdpEncapsulation(), p + "\n" + text);
                assertEquals(a ? GatewayConfig.ConnectionMode.INITIATOR_ONLY : GatewayConfig.ConnectionMode.RESPONDER_ONLY, conn.connectionMode(), text);
                assertEquals(GatewayConfigs.TUNNEL_DEVICE, read.gateway().tunnel().device());
                assertTrue(text.contains("publicIpAddress: " + (a ? "192.0.2.1" : "192.0.2.2")), text);
                assertTrue(text.contains("ipsecEncryption: " + p.espCipher), text);
            }
        }
    }

    @Test
    void theStrongSwanConfigurationInitiatesFromAOnly() {
        assertTrue(configs(true).swanctl().contains("start_action = start"));
        assertTrue(configs(false).swanctl().contains("start_action = none"));
        assertTrue(configs(true).swanctl().contains("local_ts = 198.18.1.0/24"));
        assertTrue(configs(false).swanctl().contains("remote_ts = 198.18.1.0/24"));
    }

    @Test
    void pathsAMachineCannotRunAreSkippedWithWhatToDo() {
        MachineFacts full = facts(true, true, List.of());
        for (RemotePath p : RemotePath.values()) {
            assertNull(RemoteBench.skipReason(p, full, full), p.id());
        }
        MachineFacts noWireGuard = facts(false, true, List.of());
        String why = RemoteBench.skipReason(RemotePath.WIREGUARD_GO, full, noWireGuard);
        assertEquals("gateway-b has no wireguard-go or wg (apt install wireguard-go wireguard-tools)", why);
        MachineFacts ikeTaken = facts(true, true, List.of(500));
        why = RemoteBench.skipReason(RemotePath.ISTHMUS_AES128GCM, ikeTaken, full);
        assertTrue(why.startsWith("gateway-a: UDP [500] in use by another program"), why);
        assertNull(RemoteBench.skipReason(RemotePath.PLAIN_ROUTING, ikeTaken, full));
        MachineFacts routed = facts(true, false, List.of());
        why = RemoteBench.skipReason(RemotePath.PLAIN_ROUTING, full, routed);
        assertTrue(why.contains("plain routing needs the two on one link"), why);
        assertNull(RemoteBench.skipReason(RemotePath.ISTHMUS_RAW_ESP, full, routed));
    }

    @Test
    void pathsAreNamedByTheNamespaceBenchsIdsAndUnknownOnesListTheAllowed() {
        assertEquals(RemotePath.ISTHMUS_RAW_ESP, RemotePath.parse("isthmus-raw-esp"));
        assertEquals("isthmus-aes128gcm", RemotePath.ISTHMUS_AES128GCM.id());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemotePath.parse("plain-veth"));
        assertTrue(e.getMessage().contains("allowed: plain-routing, isthmus-aes128gcm"), e.getMessage());
        assertEquals(RemotePath.PLAIN_ROUTING, RemotePath.DEFAULT.get(0));
    }

    @Test
    void theSitesHostsAndGatewaysAreTheirPrefixesDotTenAndDotOne() {
        assertEquals("198.18.2.10", BenchMachine.host(RemoteBench.SITE_B));
        assertEquals("198.18.1.1", BenchMachine.gateway(RemoteBench.SITE_A));
    }

    private static GatewayConfigs configs(boolean a) {
        return a ? new GatewayConfigs(true, "192.0.2.1", "192.0.2.2", RemoteBench.SITE_A, RemoteBench.SITE_B, KEY)
                : new GatewayConfigs(false, "192.0.2.2", "192.0.2.1", RemoteBench.SITE_B, RemoteBench.SITE_A, KEY);
    }

    private static MachineFacts facts(boolean wireguard, boolean onLink, List<Integer> busy) {
        Map<String, Boolean> programs = new LinkedHashMap<>();
        for (String p : MachineFacts.PROGRAMS.keySet()) {
            programs.put(p, wireguard || !p.startsWith("w"));
        }
        return new MachineFacts("192.0.2.1", "eth0", onLink, "6.1", 2, programs, false, busy);
    }
}
