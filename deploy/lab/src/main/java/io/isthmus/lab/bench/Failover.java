package io.isthmus.lab.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.isthmus.lab.LabTraffic;
import io.isthmus.lab.PairGateways;
import io.isthmus.lab.PairLab;
import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.WanCapture;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The failover benchmark ({@code isthmus bench failover}): the pair of {@link PairLab} with a
 * strongSwan peer whose tunnel lands on gw1's floating address, each fault repeated while a
 * paced UDP stream with sequence numbers runs from host-b to host-a through the tunnel; after
 * each, gw1 comes back (the failback, measured too). Per fault: the loss window (the longest run
 * of datagrams that never came, in milliseconds at the stream's rate) and the datagrams lost, at
 * the median, the 95th percentile and worst; whether the peer's IKE and child SPIs stayed the
 * same; the IKE_SA_INIT and CREATE_CHILD_SA on the wide-area link. The same faults against the
 * pair without state sync (keepalived moves the addresses, the peer's dead peer detection and a
 * new negotiation bring the tunnel back) are measured in the same run, for comparison.
 */
public final class Failover {

    /** What happens to gw1, and how it comes back. */
    public enum Fault {
        KILL("kill -9"), SIGTERM("SIGTERM (handover)"), WAN_DOWN("WAN link down"), MACHINE_GONE("machine gone"),
        /** Frozen for 2.5 s, then going on: keepalived moves the address away and back (preemption); one run holds both moves. */
        SIGSTOP("SIGSTOP 2.5 s, SIGCONT"),
        /** Killed with a child rekey of its own under way: the peer has answered, gw1 never took the answer. */
        KILL_DURING_REKEY("kill -9 during a child rekey");

        final String label;

        Fault(String label) {
            this.label = label;
        }

        public static Fault parse(String s) {
            return valueOf(s.toUpperCase().replace('-', '_'));
        }
    }

    /** One fault once: how long the stream stopped, how much of it was lost, what the peer saw. */
    public record Run(String fault, boolean stateSync, double lossWindowMs, int lost, boolean sameIkeSa, int newIkeSas, int newChildSas) {
    }

    /** One fault over its runs. */
    public record Row(String fault, boolean stateSync, int runs, double windowP50Ms, double windowP95Ms, double windowMaxMs, double lostP50,
                      double lostP95, double lostMax, int runsWithANewIkeSa) {
    }

    private final int rate;
    private final int seconds;
    private final PrintStream out;
    /** Whether the failbacks of the pair without sync are measured too (each waits out a DPD and a negotiation). */
    private boolean failbacksWithoutSync = true;

    public Failover(int rate, int seconds, PrintStream out) {
        this.rate = rate;
        this.seconds = seconds;
        this.out = out;
    }

    /** Without sync, measure the faults only: a failback there is gw1 returning to a pair that renegotiates anyway. */
    public Failover withoutFailbacksWithoutSync() {
        failbacksWithoutSync = false;
        return this;
    }

    /**
     * {@code runs} of each fault with the pair's sync, and {@code runsWithoutSync} without (0: none;
     * each takes a dead peer detection and a negotiation, so fewer may do for the comparison);
     * a table on {@code out}, JSON in {@code json}.
     */
    public List<Row> runAndReport(List<Fault> faults, int runs, int runsWithoutSync, Path json) throws Exception {
        Instant started = Instant.now();
        List<Run> all = new ArrayList<>();
        all.addAll(measure(faults, runs, true));
        if (runsWithoutSync > 0) {
            all.addAll(measure(faults, runsWithoutSync, false));
        }
        List<Row> rows = rows(all);
        ObjectNode root = Bench.JSON.createObjectNode();
        root.put("started", started.toString());
        root.put("udpDatagramsPerSecond", rate);
        root.put("runsPerFault", runs);
        root.put("runsPerFaultWithoutSync", runsWithoutSync);
        ArrayNode r = root.putArray("rows");
        rows.forEach(x -> r.addPOJO(x));
        ArrayNode raw = root.putArray("runs");
        all.forEach(x -> raw.addPOJO(x));
        Files.writeString(json, Bench.JSON.writeValueAsString(root));
        out.println();
        out.printf("%d runs per fault (%d without sync), UDP %d datagrams/s host-b -> host-a through the tunnel; JSON in %s%n%n", runs,
                runsWithoutSync, rate, json);
        out.print(table(rows));
        return rows;
    }

    List<Run> measure(List<Fault> faults, int runs, boolean stateSync) throws Exception {
        List<Run> results = new ArrayList<>();
        try (PairLab lab = PairLab.up(Path.of(stateSync ? "/tmp/isthmus-failover-bench" : "/tmp/isthmus-failover-bench-nosync"))) {
            PairGateways pair = PairGateways.start(lab, PairLab.Options.DEFAULT, stateSync);
            if (stateSync) {
                pair.startPeer();
            } else {
                pair.startImpatientPeer();
            }
            pair.awaitPeerTunnel(Duration.ofSeconds(60));
            for (int i = 0; i < runs; i++) {
                for (Fault f : faults) {
                    results.add(once(lab, pair, f, stateSync, false));
                    if (f == Fault.SIGSTOP) {
                        continue; // gw1 comes back by itself within its own run
                    }
                    if (stateSync || failbacksWithoutSync) {
                        results.add(once(lab, pair, f, stateSync, true));
                    } else if (i < runs - 1 || f != faults.getLast()) {
                        restore(lab, pair, f); // unmeasured, for the next fault
                        lab.awaitAddress(Instance.GW1, PairLab.VIP1, Duration.ofSeconds(60));
                        pair.awaitPeerTunnel(Duration.ofSeconds(60));
                    }
                }
            }
        }
        return results;
    }

    /** One fault (or, {@code back}, the return after it) while the UDP stream runs. */
    private Run once(PairLab lab, PairGateways pair, Fault f, boolean stateSync, boolean back) throws Exception {
        // Without sync the tunnel needs the peer's detection and a negotiation; a failback needs gw1's start: longer streams.
        int length = seconds + (back ? 10 : 0) + (stateSync ? 0 : 12);
        String before = pair.peerSas();
        Path pcap = lab.work().resolve("wan-" + System.nanoTime() + ".pcap");
        Process capture = lab.spawn(PairLab.PEER, lab.work().resolve("tcpdump.log"), List.of("tcpdump", "-i", "wan", "-U", "-s", "128", "-w",
                pcap.toString(), "esp or udp port 500 or udp port 4500"));
        Thread.sleep(300);
        int datagrams = rate * length;
        CompletableFuture<LabTraffic.Transfer> stream = CompletableFuture.supplyAsync(() -> {
            try {
                return LabTraffic.udp(lab, PairLab.HOST_B, PairLab.HOST_A, PairLab.HOST_A_IP, datagrams, 200, rate, 20_000);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(2000);
        long faultMicros = System.currentTimeMillis() * 1000;
        if (back) {
            restore(lab, pair, f);
        } else {
            inject(lab, pair, f);
        }
        Instance carrier = back || f == Fault.SIGSTOP ? Instance.GW1 : Instance.GW2;
        lab.awaitAddress(carrier, PairLab.VIP1, Duration.ofSeconds(30));
        LabTraffic.Transfer t = stream.get();
        capture.destroy();
        capture.waitFor(10, TimeUnit.SECONDS);
        WanCapture wan = WanCapture.read(pcap);
        Files.deleteIfExists(pcap);
        int longest = t.lostRanges().stream().mapToInt(r -> r[1] - r[0] + 1).max().orElse(0);
        Run run = new Run(back ? "failback after " + f.label : f.label, stateSync, longest * 1000.0 / rate, t.lost(),
                PairGateways.ikeSpis(before).equals(PairGateways.ikeSpis(pair.peerSas())), wan.ikeAfter(faultMicros, WanCapture.IKE_SA_INIT).size(),
                wan.ikeAfter(faultMicros, WanCapture.CREATE_CHILD_SA).size());
        out.printf("%-40s %-8s loss window %7.0f ms, %6d lost, same IKE SA %s%n", run.fault(), stateSync ? "sync" : "no sync", run.lossWindowMs(),
                run.lost(), run.sameIkeSa());
        if (!stateSync) {
            pair.awaitPeerTunnel(Duration.ofSeconds(60));
        }
        return run;
    }

    private static void inject(PairLab lab, PairGateways pair, Fault f) throws Exception {
        switch (f) {
            case KILL -> lab.killDaemon(Instance.GW1);
            case SIGTERM -> {
                Process p = pair.daemon(Instance.GW1);
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            case WAN_DOWN -> lab.wanDown(Instance.GW1);
            case MACHINE_GONE -> lab.machineGone(Instance.GW1);
            case SIGSTOP -> {
                lab.pauseDaemon(Instance.GW1);
                Thread.sleep(2500);
                lab.resumeDaemon(Instance.GW1);
            }
            case KILL_DURING_REKEY -> {
                // The answers cannot reach gw1: its request goes out, the peer makes the new SA and answers into the void.
                lab.ikeInCut(Instance.GW1);
                Path socket = lab.work().resolve(Instance.GW1.label + ".sock");
                CompletableFuture.runAsync(() -> {
                    try {
                        io.isthmus.control.GatewayClient.post(socket, "connections/" + PairGateways.CONNECTION + "/rekey?sa=child");
                    } catch (java.io.IOException killed) {
                        // gw1 dies before it answers: that is the point
                    }
                });
                Thread.sleep(300);
                lab.killDaemon(Instance.GW1);
            }
        }
    }

    private static void restore(PairLab lab, PairGateways pair, Fault f) throws Exception {
        switch (f) {
            case KILL, SIGTERM -> pair.startDaemon(Instance.GW1);
            case KILL_DURING_REKEY -> {
                lab.ikeInRestored(Instance.GW1);
                pair.startDaemon(Instance.GW1);
            }
            case WAN_DOWN -> lab.wanUp(Instance.GW1);
            case MACHINE_GONE -> lab.machineBack(Instance.GW1);
            case SIGSTOP -> {
                // back by itself within the fault's run
            }
        }
    }

    static List<Row> rows(List<Run> runs) {
        List<Row> rows = new ArrayList<>();
        runs.stream().map(r -> r.fault() + "\u0000" + r.stateSync()).distinct().forEach(key -> {
            List<Run> of = runs.stream().filter(r -> key.equals(r.fault() + "\u0000" + r.stateSync())).toList();
            double[] w = of.stream().mapToDouble(Run::lossWindowMs).sorted().toArray();
            double[] l = of.stream().mapToDouble(Run::lost).sorted().toArray();
            rows.add(new Row(of.getFirst().fault(), of.getFirst().stateSync(), of.size(), Bench.percentile(w, 0.5), Bench.percentile(w, 0.95),
                    w[w.length - 1], Bench.percentile(l, 0.5), Bench.percentile(l, 0.95), l[l.length - 1],
                    (int) of.stream().filter(r -> r.newIkeSas() > 0 || !r.sameIkeSa()).count()));
        });
        return rows;
    }

    static String table(List<Row> rows) {
        StringBuilder s = new StringBuilder(String.format("%-40s %-8s %5s %28s %24s %s%n", "fault", "pair", "runs",
                "loss window ms p50/p95/max", "lost p50/p95/max", "new IKE SA"));
        for (Row r : rows) {
            s.append(String.format("%-40s %-8s %5d %28s %24s %d of %d%n", r.fault(), r.stateSync() ? "sync" : "no sync", r.runs(),
                    String.format("%.0f / %.0f / %.0f", r.windowP50Ms(), r.windowP95Ms(), r.windowMaxMs()),
                    String.format("%.0f / %.0f / %.0f", r.lostP50(), r.lostP95(), r.lostMax()), r.runsWithANewIkeSa(), r.runs()));
        }
        return s.toString();
    }

    /** For tests: the faults, parsed. */
    public static List<Fault> faults(String... names) {
        return Arrays.stream(names).map(Fault::parse).toList();
    }
}
