package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.PairLab.Options;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pair with an Isthmus gateway as its peer, which initiates the tunnel to gw1's floating
 * address: gw1 killed, back, stopped (a handover), back. The peer must notice none of it: the
 * same IKE SA and child SA (SPIs) at the end as at the start in its own status, no IKE_SA_INIT
 * or CREATE_CHILD_SA on the wide-area link, the pair's ESP sequence numbers only rising, and a
 * UDP stream from host-b to host-a flowing again after each step (its gaps printed).
 */
class PairIsthmusPeerTest extends PairLabTestBase {
    static final int RATE = 2000;

    Process capture;

    @AfterEach
    void down() {
        if (capture != null) {
            capture.destroy();
        }
    }

    /** The peer's configuration: one instance on the peer's wide-area address, its tunnel to vip1, initiating. */
    static String peerConfig() {
        return """
                virtualNetworkGateway:
                  name: lab-peer
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.10.0/24]
                  instances:
                    - name: lab-peer-0
                      publicIpAddress: %1$s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                localNetworkGateways:
                  - name: pair
                    gatewayIpAddress: %2$s
                    addressPrefixes: [192.168.20.0/24]
                connections:
                  - name: to-pair
                    localNetworkGateway: pair
                    sharedKey: "%3$s"
                    connectionMode: InitiatorOnly
                    ipsecPolicies:
                      - %4$s
                """.formatted(PairLab.PEER_WAN, PairLab.VIP1, LabGateways.PSK, Pairing.POLICY.strip().replace("\n", "\n        "));
    }

    @Test
    void anIsthmusPeerNoticesNeitherAKillNorAHandoverNorTheReturns() throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-isthmus-peer-test"));
        PairGateways pair = PairGateways.start(lab, Options.DEFAULT);
        LabGateways.startIsthmus(lab, PairLab.PEER, "peer", peerConfig(), "peer.log");
        Path peer = lab.work().resolve("peer.sock");
        List<String> before = awaitSpis(peer);
        lab.in(PairLab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", PairLab.HOST_B_IP);
        Path pcap = lab.work().resolve("wan.pcap");
        capture = lab.spawn(PairLab.PEER, lab.work().resolve("tcpdump.log"), List.of("tcpdump", "-i", "wan", "-U", "-s", "128", "-w",
                pcap.toString(), "esp or udp port 500 or udp port 4500"));
        Thread.sleep(1000);
        long startMicros = System.currentTimeMillis() * 1000;

        List<String> figures = new ArrayList<>();
        figures.add(step("kill -9", Instance.GW2, () -> lab.killDaemon(Instance.GW1)));
        figures.add(step("failback after kill -9", Instance.GW1, () -> pair.startDaemon(Instance.GW1)));
        figures.add(step("SIGTERM (handover)", Instance.GW2, () -> {
            Process p = pair.daemon(Instance.GW1);
            p.destroy();
            assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "gw1 stopped");
        }));
        figures.add(step("failback after SIGTERM", Instance.GW1, () -> pair.startDaemon(Instance.GW1)));
        figures.forEach(System.out::println);

        Thread.sleep(500);
        capture.destroy();
        capture.waitFor();
        assertEquals(before, spis(GatewayClient.status(peer)), "the peer kept its IKE SA and child SA");
        WanCapture wan = WanCapture.read(pcap);
        assertEquals(List.of(), wan.ikeAfter(startMicros, WanCapture.IKE_SA_INIT), "no new IKE SA");
        assertEquals(List.of(), wan.ikeAfter(startMicros, WanCapture.CREATE_CHILD_SA), "no new child SA");
        assertEquals(List.of(), wan.fallingSequences(PairLab.VIP1), "the pair's ESP sequence numbers only rise, whoever sent them");
        assertTrue(wan.esp.size() > RATE, "the capture saw the stream: " + wan.esp.size() + " ESP packets");
    }

    interface Step {
        void run() throws Exception;
    }

    /** {@code fault} 2 s into a UDP stream from host-b to host-a; returns its figures once vip1 is on {@code carrier} and the stream flowed to its end. */
    String step(String name, Instance carrier, Step fault) throws Exception {
        int seconds = carrier == Instance.GW1 ? 16 : 8;
        int datagrams = RATE * seconds;
        CompletableFuture<LabTraffic.Transfer> stream = CompletableFuture.supplyAsync(() -> {
            try {
                return LabTraffic.udp(lab, PairLab.HOST_B, PairLab.HOST_A, PairLab.HOST_A_IP, datagrams, 200, RATE, 8000);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(2000);
        fault.run();
        assertTrue(lab.awaitAddress(carrier, PairLab.VIP1, Duration.ofSeconds(20)) >= 0, name + ": vip1 is on " + carrier.label);
        LabTraffic.Transfer t = stream.get();
        int longest = t.lostRanges().stream().mapToInt(r -> r[1] - r[0] + 1).max().orElse(0);
        assertTrue(t.lostRanges().stream().noneMatch(r -> r[1] >= datagrams - RATE / 2), name + ": the stream flows after it: " + t);
        return String.format("%-26s UDP: %4d of %d lost, longest gap %4.0f ms", name, t.lost(), datagrams, longest * 1000.0 / RATE);
    }

    /** The peer's IKE SA and child SAs as SPIs, once its tunnel is up. */
    static List<String> awaitSpis(Path socket) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                List<String> s = spis(GatewayClient.status(socket));
                if (s.size() >= 2) {
                    return s;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("the Isthmus peer has no tunnel to vip1 within 60 s");
            }
            Thread.sleep(200);
        }
    }

    static List<String> spis(JsonNode status) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : status.path("connections")) {
            for (JsonNode sa : c.path("ikeSas")) {
                if (!"ESTABLISHED".equals(sa.path("state").asText())) {
                    continue;
                }
                out.add("IKE " + sa.path("initiatorSpi").asText() + "/" + sa.path("responderSpi").asText());
                for (JsonNode ch : sa.path("childSas")) {
                    out.add("child " + ch.path("inboundSpi").asText() + "/" + ch.path("outboundSpi").asText());
                }
            }
        }
        return out;
    }
}
