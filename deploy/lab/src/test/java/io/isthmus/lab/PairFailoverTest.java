package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.PairLab.Options;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pair against a strongSwan peer whose tunnel lands on gw1's floating address, through
 * every fault of issue 12 one after another, each while a paced UDP stream with sequence
 * numbers and a TCP stream (iperf3) run through the tunnel: gw1 killed (-9), stopped (SIGTERM:
 * a handover), its wide-area link down, all its links down (the machine gone), paused for 2.5 s,
 * handing over on command (isthmus ha handover); and after each, gw1 back (failback). The peer must not notice any of it: the same IKE and
 * child SPIs at the end as at the start, no IKE_SA_INIT or CREATE_CHILD_SA on the wide-area link,
 * ESP sequence numbers per SPI that only rise (a paused gw1 sends nothing stale), the TCP stream
 * never reset, the UDP stream flowing again after each fault. Each fault's loss is printed
 * (target/surefire-reports/io.isthmus.lab.PairFailoverTest-output.txt), not asserted.
 */
class PairFailoverTest extends PairLabTestBase {
    static final int RATE = PairStreams.RATE;

    PairGateways pair;
    Process capture;
    final List<String> figures = new ArrayList<>();

    @AfterEach
    void down() {
        figures.forEach(System.out::println);
        if (capture != null) {
            capture.destroy();
        }
    }

    /** A fault and the restore after it. */
    interface Step {
        void run() throws Exception;
    }

    @Test
    void thePeerNoticesNoFaultOfTheOwnerNorItsReturn() throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-failover-test"));
        pair = PairGateways.start(lab, Options.DEFAULT);
        pair.startPeer();
        String before = pair.awaitPeerTunnel(Duration.ofSeconds(60));
        lab.in(PairLab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", PairLab.HOST_B_IP);
        Path pcap = lab.work().resolve("wan.pcap");
        capture = lab.spawn(PairLab.PEER, lab.work().resolve("tcpdump.log"), List.of("tcpdump", "-i", "wan", "-U", "-s", "128", "-w",
                pcap.toString(), "esp or udp port 500 or udp port 4500"));
        PairStreams.server(lab);
        long startMicros = System.currentTimeMillis() * 1000;

        fault("kill -9", Instance.GW2, () -> lab.killDaemon(Instance.GW1), () -> {
            // 2 s of the UDP stream (2000 datagrams a second, 228 bytes inside) went through gw1, synced once a second.
            long carried = outBytes(Instance.GW2);
            figures.add("kill -9: right after the takeover gw2's child SA counts " + carried + " bytes out, gw1's included");
            assertTrue(carried > 300_000, "the SA's traffic totals came with it: " + carried);
        });
        fault("failback after kill -9", Instance.GW1, () -> pair.startDaemon(Instance.GW1));
        fault("SIGTERM (handover)", Instance.GW2, () -> stop(Instance.GW1));
        fault("failback after SIGTERM", Instance.GW1, () -> pair.startDaemon(Instance.GW1));
        fault("WAN link down", Instance.GW2, () -> lab.wanDown(Instance.GW1));
        fault("failback after WAN link up", Instance.GW1, () -> lab.wanUp(Instance.GW1));
        fault("machine gone", Instance.GW2, () -> lab.machineGone(Instance.GW1));
        fault("failback after machine back", Instance.GW1, () -> lab.machineBack(Instance.GW1));
        // 2.5 s: keepalived checks once a second whether the alive file is under 1 s old, so a pause of 2 s may end
        // just before the check that would have seen it.
        fault("SIGSTOP 2.5 s, SIGCONT", Instance.GW2, () -> {
            lab.pauseDaemon(Instance.GW1);
            Thread.sleep(2500);
            lab.resumeDaemon(Instance.GW1);
        });
        fault("failback after SIGCONT", Instance.GW1, () -> { });
        fault("isthmus ha handover", Instance.GW2, () -> assertEquals(0, ha(Instance.GW1, "handover")));
        fault("failback after isthmus ha resume", Instance.GW1, () -> assertEquals(0, ha(Instance.GW1, "resume")));

        Thread.sleep(500);
        capture.destroy();
        capture.waitFor();
        String after = pair.peerSas();
        System.out.println("peer's SAs before:\n" + before + "\nafter:\n" + after);
        assertEquals(PairGateways.ikeSpis(before), PairGateways.ikeSpis(after), "the peer's IKE SA is the same one");
        assertEquals(PairGateways.childSpis(before), PairGateways.childSpis(after), "the peer's child SA is the same one");
        WanCapture wan = WanCapture.read(pcap);
        assertEquals(List.of(), wan.ikeAfter(startMicros, WanCapture.IKE_SA_INIT), "no new IKE SA");
        assertEquals(List.of(), wan.ikeAfter(startMicros, WanCapture.CREATE_CHILD_SA), "no new child SA");
        assertEquals(List.of(), wan.fallingSequences(PairLab.VIP1), "the pair's ESP sequence numbers only rise, whoever sent them");
        assertTrue(wan.esp.size() > RATE, "the capture saw the streams: " + wan.esp.size() + " ESP packets");
    }

    /**
     * Runs {@code step} 2 s into an 8 s (a failback: 16 s) UDP stream (host-b to host-a) and a TCP stream, then
     * waits until vip1 is on {@code carrier}: the stream must have flowed to its end and the TCP
     * connection must not have been reset.
     */
    void fault(String name, Instance carrier, Step step) throws Exception {
        fault(name, carrier, step, null);
    }

    /** As {@link #fault(String, Instance, Step)}, with {@code afterMove} run as soon as vip1 is on {@code carrier}. */
    void fault(String name, Instance carrier, Step step, Step afterMove) throws Exception {
        // A failback waits for the returning gateway (its JVM, keepalived's checks, the preemption delay): a longer stream.
        int seconds = carrier == Instance.GW1 ? 16 : 8;
        PairStreams streams = PairStreams.start(lab, seconds);
        Thread.sleep(2000);
        long began = System.nanoTime();
        step.run();
        long stepped = System.nanoTime();
        // A returning gw1 takes its group only once it is whole (connections in its engine): a loaded machine starts a JVM slowly.
        long moved = lab.awaitAddress(carrier, PairLab.VIP1, Duration.ofSeconds(carrier == Instance.GW1 ? 60 : 20));
        if (afterMove != null && moved >= 0) {
            afterMove.run();
        }
        PairStreams.Outcome o = streams.finish(name);
        figures.add(String.format("%-30s vip1 on %s after %5.0f ms; %s", name, carrier.label, moved < 0 ? -1 : (stepped - began + moved) / 1e6,
                o.figure()));
        System.out.println(figures.getLast());
        if (moved < 0 || !o.ok()) {
            diagnose();
        }
        assertTrue(moved >= 0, name + ": vip1 is on " + carrier.label);
        o.check();
        lab.in(PairLab.HOST_A, "ping", "-c", "2", "-i", "0.2", "-W", "3", PairLab.HOST_B_IP);
    }

    /** What the gateways, the peer and the hosts hold now: printed when a step fails. */
    void diagnose() {
        try {
            for (Instance gw : Instance.values()) {
                try {
                    System.out.println(gw.label + ": " + io.isthmus.control.GatewayClient.status(lab.work().resolve(gw.label + ".sock")).toPrettyString());
                } catch (java.io.IOException x) {
                    System.out.println(gw.label + ": no status: " + x.getMessage());
                }
                System.out.println(gw.label + ": " + lab.in(gw.ns, "ip", "-br", "link") + lab.in(gw.ns, "ip", "-br", "addr"));
            }
            System.out.println("peer: " + pair.peerSas());
            try {
                System.out.println("ping: " + lab.in(PairLab.HOST_A, "ping", "-c", "3", "-i", "0.3", "-W", "2", PairLab.HOST_B_IP));
            } catch (java.io.IOException e) {
                System.out.println("ping failed: " + e.getMessage());
            }
            System.out.println("peer's neighbours: " + lab.in(PairLab.PEER, "ip", "neigh") + "host-b's: " + lab.in(PairLab.HOST_B, "ip", "neigh"));
        } catch (Exception e) {
            System.out.println("diagnosis failed: " + e);
        }
    }

    /** {@code isthmus ha WHAT} against {@code gw}'s control socket; its exit code. */
    int ha(Instance gw, String what) throws Exception {
        List<String> command = new ArrayList<>(LabGateways.javaCommand());
        command.addAll(List.of("io.isthmus.control.Isthmus", "ha", what, "--control-socket", lab.work().resolve(gw.label + ".sock").toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int exit = p.waitFor();
        System.out.println("isthmus ha " + what + ": " + out.strip());
        return exit;
    }

    /**
     * The outbound bytes of the first child SA {@code gw} carries, as its status shows them, once it
     * carries one (keepalived adds the address a moment before the daemon hears of it and takes over).
     */
    long outBytes(Instance gw) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            var status = io.isthmus.control.GatewayClient.status(lab.work().resolve(gw.label + ".sock"));
            var child = status.path("connections").path(0).path("ikeSas").path(0).path("childSas").path(0);
            if (!child.isMissingNode() || System.nanoTime() > end) {
                return child.path("outBytes").asLong();
            }
            Thread.sleep(10);
        }
    }

    void stop(Instance gw) throws Exception {
        Process p = pair.daemon(gw);
        p.destroy(); // SIGTERM, as systemctl stop
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), gw.label + " stopped");
    }
}
