package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Reload for real: gw-a with two connections, to gw-b (route-based, carrying a paced UDP stream
 * from host-a to host-b) and to a third site's gw-c (policy-based); three Isthmus daemons in the
 * lab's namespaces. While the stream runs, connection 2's prefixes grow on both of its ends
 * ({@code isthmus reload} on gw-c and gw-a), gw-b gets a SIGHUP with its file unchanged, then gw-a
 * is given a file that does not check and one that needs a restart. Connection 1 must keep its
 * SPIs at both ends and lose no datagram; connection 2 must reach its new prefix; the refused
 * files must change nothing and say why. Prints the loss across the reloads.
 */
class ReloadTest extends LabTestBase {
    static final int PER_SECOND = 1000;
    static final int SECONDS = 40;
    static final int PER_SECOND_2 = 200;
    /** How long each isthmus reload took, as its caller waits (a JVM's start included). */
    final List<Long> took = new ArrayList<>();

    /** From host-a to {@code address} in {@code namespace}, 200-byte datagrams for {@link #SECONDS}, in the background. */
    CompletableFuture<Transfer> stream(String namespace, String address, int perSecond) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LabTraffic.udp(lab, Lab.HOST_A, namespace, address, perSecond * SECONDS, 200, perSecond, 5000);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static String gatewayA(String siteCPrefixes, String extra) {
        return """
                # Isthmus lab: gateway a, with a second site (gw-c)
                virtualNetworkGateway:
                  name: lab-gw-a
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.10.0/24, fd10::/64]
                  instances:
                    - name: lab-gw-a-0
                      publicIpAddress: 10.77.0.1
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    packetThreads: 1
                %s
                localNetworkGateways:
                  - name: site-b
                    gatewayIpAddress: 10.77.0.2
                    ikeIdentity: 10.77.0.2
                    addressPrefixes: [192.168.20.0/24, fd20::/64]
                  - name: site-c
                    gatewayIpAddress: %s
                    addressPrefixes: [%s]
                connections:
                  - name: to-site-b
                    localNetworkGateway: site-b
                    sharedKey: "%s"
                    connectionMode: InitiatorOnly
                  - name: to-site-c
                    localNetworkGateway: site-c
                    sharedKey: "%s"
                    connectionMode: InitiatorOnly
                    usePolicyBasedTrafficSelectors: true
                """.formatted(extra, Lab.GW_C_WAN, siteCPrefixes, LabGateways.PSK, LabGateways.PSK);
    }

    static String gatewayC(String addressSpace) {
        return """
                # Isthmus lab: gateway c, a third site behind gw-a
                virtualNetworkGateway:
                  name: lab-gw-c
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [%s]
                  instances:
                    - name: lab-gw-c-0
                      publicIpAddress: %s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    packetThreads: 1
                localNetworkGateways:
                  - name: site-a
                    gatewayIpAddress: 10.77.0.1
                    addressPrefixes: [192.168.10.0/24, fd10::/64]
                connections:
                  - name: to-site-a
                    localNetworkGateway: site-a
                    sharedKey: "%s"
                    connectionMode: ResponderOnly
                    usePolicyBasedTrafficSelectors: true
                """.formatted(addressSpace, Lab.GW_C_WAN, LabGateways.PSK);
    }

    Cli reload(Path socket) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Cli cli = isthmus("reload", "--control-socket", socket.toString());
        took.add((System.nanoTime() - start) / 1_000_000);
        return cli;
    }

    static void write(Path file, String config) throws IOException {
        Files.writeString(file, config);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    static JsonNode connection(Path socket, String name) throws IOException {
        for (JsonNode c : status(socket).path("connections")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no connection " + name + " in " + status(socket).toPrettyString());
    }

    /** A connection's IKE and child SAs by their SPIs, e.g. [ike 1a2b..._i 3c4d..._r, child c1c2c3c4_i c5c6c7c8_o]. */
    static List<String> spis(Path socket, String name) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode sa : connection(socket, name).path("ikeSas")) {
            out.add("ike " + sa.path("initiatorSpi").asText() + "_i " + sa.path("responderSpi").asText() + "_r " + sa.path("state").asText());
            for (JsonNode child : sa.path("childSas")) {
                out.add("child " + child.path("inboundSpi").asText() + "_i " + child.path("outboundSpi").asText() + "_o");
            }
        }
        return out;
    }

    /** Waits until {@code file} has a line containing {@code text}. */
    static boolean logged(Path file, String text, int seconds) throws IOException, InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < end) {
            if (Files.readString(file).contains(text)) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    static void sighup(String namespace) throws IOException, InterruptedException {
        for (String pid : Lab.sh("ip", "netns", "pids", namespace).split("\\s+")) {
            if (!pid.isBlank()) {
                Lab.sh("kill", "-HUP", pid.strip());
            }
        }
    }

    @Test
    void reloadKeepsTheOtherConnectionsSpisAndLosesNoDatagram() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-reload"), false);
        lab.addSiteC();
        Path work = lab.work();
        LabGateways.startIsthmus(lab, Lab.GW_B, "gw-b", LabGateways.isthmusConfig(lab, Side.B,
                IsthmusOptions.DEFAULT.withMode("ResponderOnly").withPacketThreads(1)), "gw-b.log");
        LabGateways.startIsthmus(lab, Lab.GW_C, "gw-c", gatewayC("192.168.30.0/24"), "gw-c.log");
        LabGateways.startIsthmus(lab, Lab.GW_A, "gw-a", gatewayA("192.168.30.0/24", ""), "gw-a.log");
        Path a = work.resolve("gw-a.sock");
        Path b = work.resolve("gw-b.sock");
        Path c = work.resolve("gw-c.sock");
        assertTrue(lab.awaitPath(Duration.ofSeconds(60), false), "connection 1 (host-a to host-b) did not come up; logs in " + work);
        assertTrue(reaches(Lab.SITE_C_IP, 60), "connection 2 (host-a to gw-c's site) did not come up; logs in " + work);
        List<String> atA = spis(a, "to-site-b");
        List<String> atB = spis(b, "to-site-a");
        assertEquals(2, atA.size(), "one IKE SA and one child SA: " + atA);

        CompletableFuture<Transfer> stream = stream(Lab.HOST_B, Lab.HOST_B_IP, PER_SECOND);
        // Through connection 2 as well, to gw-c itself: its child SA is replaced under it.
        CompletableFuture<Transfer> stream2 = stream(Lab.GW_C, Lab.SITE_C_IP, PER_SECOND_2);
        Thread.sleep(2000);

        // Connection 2 grows by 192.168.31.0/24 at both ends: gw-c first, then gw-a.
        lab.in(Lab.GW_C, "ip", "addr", "add", "192.168.31.1/24", "dev", "lan");
        write(work.resolve("gw-c.yaml"), gatewayC("192.168.30.0/24, 192.168.31.0/24"));
        Cli atC = reload(c);
        assertEquals(0, atC.exit(), atC.toString());
        assertTrue(atC.out().contains("to-site-a: prefixes: routes and tunnel table updated, its child SAs replaced by ones with the new selectors"),
                atC.out());
        write(work.resolve("gw-a.yaml"), gatewayA("192.168.30.0/24, 192.168.31.0/24", ""));
        Cli reloadA = reload(a);
        assertEquals(0, reloadA.exit(), reloadA.toString());
        assertTrue(reloadA.out().contains("to-site-b: unchanged, its SAs kept"), reloadA.out());
        assertTrue(reloadA.out().contains("to-site-c: prefixes: routes and tunnel table updated"), reloadA.out());
        // gw-b's file has not changed: SIGHUP (what a unit's ExecReload may send) reloads it all the same.
        sighup(Lab.GW_B);
        assertTrue(logged(work.resolve("gw-b.log"), "reload: reloaded " + work.resolve("gw-b.yaml") + ": 1 unchanged, 0 changed, 0 added, 0 removed", 30),
                "gw-b's log: " + Files.readString(work.resolve("gw-b.log")));

        // A file that does not check, then one that needs a restart: refused, with the reason, and nothing changes.
        write(work.resolve("gw-a.yaml"), gatewayA("192.168.30.0/24, 192.168.31.0/24", "").replace("""
                    connectionMode: InitiatorOnly
                    usePolicyBasedTrafficSelectors: true
                """, """
                    connectionMode: InitiatorOnly
                    usePolicyBasedTrafficSelectors: true
                    ipsecPolicies:
                      - {ipsecEncryption: GCMAES256, ipsecIntegrity: GCMAES256, ikeEncryption: AES256, ikeIntegrity: SHA256, dhGroup: DHGroup2}
                """));
        Cli broken = reload(a);
        assertEquals(2, broken.exit(), broken.toString());
        assertTrue(broken.err().contains("isthmus: reload refused, the running configuration stays:"), broken.err());
        assertTrue(broken.err().contains("connections[1].ipsecPolicies[0].dhGroup: 'DHGroup2' is not allowed"), broken.err());
        write(work.resolve("gw-a.yaml"), gatewayA("192.168.30.0/24, 192.168.31.0/24", "    rawEsp: false"));
        Cli restart = reload(a);
        assertEquals(2, restart.exit(), restart.toString());
        assertTrue(restart.err().contains("virtualNetworkGateway.tunnel.rawEsp: true -> false cannot change while the gateway runs; restart it to apply"),
                restart.err());
        sighup(Lab.GW_A);
        assertTrue(logged(work.resolve("gw-a.log"), "reload refused, the running configuration stays: " + work.resolve("gw-a.yaml")
                + ": virtualNetworkGateway.tunnel.rawEsp", 30), "gw-a's log says why SIGHUP changed nothing");
        assertFalse(stream.isDone() || stream2.isDone(), "the streams ended before the reloads did: they were not measured under traffic");

        Transfer t = stream.get(SECONDS + 60, TimeUnit.SECONDS);
        Transfer t2 = stream2.get(SECONDS + 60, TimeUnit.SECONDS);
        System.out.printf("reload under traffic: connection 1 (unchanged) lost %d of %d datagrams (%d a second), connection 2 (its prefixes"
                + " and child SA changed) lost %d of %d (%d a second), across reloads of gw-c and gw-a, a SIGHUP of gw-b, and two refused"
                + " reloads of gw-a; reload commands took %s ms%n", t.lost(), PER_SECOND * SECONDS, PER_SECOND, t2.lost(), PER_SECOND_2 * SECONDS,
                PER_SECOND_2, took);
        assertEquals(0, t.lost(), "connection 1's stream: " + t);
        assertTrue(t.intact(), t.toString());
        assertEquals(0, t2.lost(), "connection 2's stream, make-before-break: " + t2);
        assertEquals(atA, spis(a, "to-site-b"), "connection 1 keeps its SPIs at gw-a");
        assertEquals(atB, spis(b, "to-site-a"), "and at gw-b");

        // Connection 2: the new prefix is routed into the tunnel and reached; its child SA has the new selectors at both ends.
        assertTrue(lab.in(Lab.GW_A, "ip", "route", "show", "192.168.31.0/24").contains("dev isthmus0"));
        assertTrue(reaches("192.168.31.1", 30), "host-a reaches gw-c's new prefix");
        assertTrue(reaches(Lab.SITE_C_IP, 5), "and its old one");
        JsonNode children = connection(a, "to-site-c").path("ikeSas").get(0).path("childSas");
        assertEquals(1, children.size(), children.toPrettyString());
        assertEquals("[\"192.168.30.0/24\",\"192.168.31.0/24\"]", children.get(0).path("remoteSelectors").toString());
    }
}
