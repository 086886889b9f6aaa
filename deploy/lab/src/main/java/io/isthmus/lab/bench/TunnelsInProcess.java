package io.isthmus.lab.bench;

import io.isthmus.control.TunnelRig;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.log.LogOutput;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One count of {@code isthmus bench tunnels} in this JVM: the gateway's parts for {@link ManySites}
 * ({@link TunnelRig}), its n sites in memory ({@link InMemoryPeers}) bringing up an IKE SA and a
 * child SA each, then the sites forgotten, so that what is measured is the gateway's alone: heap
 * and native memory per tunnel, the timers pending, and how long status and a metrics scrape take.
 * Run by {@link TunnelsBench} in a JVM of its own per count, with Native Memory Tracking on.
 */
public final class TunnelsInProcess {
    /** What one count measured; memory per tunnel is what the gateway holds beyond what it held with no configuration at all. */
    public record Figures(int tunnels, double configReadMs, double establishSeconds, long heapBeforeBytes, long heapConfiguredBytes,
                          long heapUpBytes, long nativeBeforeKb, long nativeConfiguredKb, long nativeUpKb, boolean nativeTracked,
                          Map<String, Long> nativeUpByCategoryKb, long timersPending, double timerNs, double emptyLoopTimerNs, double statusMs, double statusCpuMs, int statusBytes,
                          double scrapeMs, double scrapeCpuMs, int scrapeBytes, List<ClassShare> topClasses, String dataplane) {
        public double heapPerTunnelBytes() {
            return (double) (heapUpBytes - heapBeforeBytes) / tunnels;
        }

        public double nativePerTunnelBytes() {
            return 1024.0 * (nativeUpKb - nativeBeforeKb) / tunnels;
        }

        /**
         * Native memory per tunnel without what the JVM spends on itself as it runs longer (the
         * JIT's code and compiler arenas, classes and symbols loaded, the tracking's own) and
         * without the collector's (which follows the heap committed): threads, direct and FFM
         * memory (Other: the SAs' sockaddrs), internal, monitors.
         */
        public double nativeDataPerTunnelBytes() {
            long kb = 0;
            for (var e : nativeUpByCategoryKb.entrySet()) {
                if (!NOT_DATA.contains(e.getKey()) && !COLLECTOR.contains(e.getKey())) {
                    kb += e.getValue();
                }
            }
            return 1024.0 * kb / tunnels;
        }

        /** The collector's native structures per tunnel: they grow with the heap committed (G1's bitmaps, remembered sets). */
        public double nativeCollectorPerTunnelBytes() {
            long kb = 0;
            for (var e : nativeUpByCategoryKb.entrySet()) {
                if (COLLECTOR.contains(e.getKey())) {
                    kb += e.getValue();
                }
            }
            return 1024.0 * kb / tunnels;
        }
    }

    /** NMT categories of the JVM's own running costs, which grow with time and JIT compilation, not with tunnels. */
    static final java.util.Set<String> NOT_DATA = java.util.Set.of("Code", "Compiler", "Arena Chunk", "Class", "Metaspace", "Symbol",
            "Native Memory Tracking", "Tracing", "Shared class space", "Module", "Safepoint", "Serviceability", "Logging", "Arguments",
            "Statistics", "String Deduplication", "Test");

    /** NMT categories of the garbage collector's own structures. */
    static final java.util.Set<String> COLLECTOR = java.util.Set.of("GC", "GCCardSet");

    /** What one class's live objects add per tunnel. */
    public record ClassShare(String name, double bytesPerTunnel, double instancesPerTunnel) {
    }

    private TunnelsInProcess() {
    }

    /**
     * @param linuxDataplane the data plane on a TUN device and sockets (root, in a namespace that
     *                       has {@link ManySites#GATEWAY}); otherwise over memory
     */
    public static Figures run(int n, Path work, boolean linuxDataplane) throws Exception {
        // Every class the run uses loaded and its static state made, so that the figures are per tunnel and not per JVM.
        measure(Math.min(n, 3), work, linuxDataplane, false);
        return measure(n, work, linuxDataplane, true);
    }

    private static Figures measure(int n, Path work, boolean linuxDataplane, boolean verbose) throws Exception {
        Path file = work.resolve("many-sites-" + n + ".yaml");
        ManySites.write(file, ManySites.yaml(n, 0, "bench" + ProcessHandle.current().pid() % 100_000, "warning"));
        InetAddress gateway = InetAddress.ofLiteral(ManySites.GATEWAY);
        try (InMemoryPeers net = new InMemoryPeers()) {
            // The data plane first, its buffers and threads part of what every gateway holds, not of what its tunnels do.
            GatewayConfig.VirtualNetworkGateway g = ConfigReader.read(file).gateway();
            GatewayConfig.Tunnel t = g.tunnel();
            // The lanes as the gateway resolves them (packetThreads: auto is the cores this process may use).
            Dataplane.Settings s = new Dataplane.Settings(t.device(), List.of(gateway), t.natTraversalPort(), t.rawEsp(), t.pathMtu(),
                    t.tcpMssClamp(), 4 << 20, t.offloads(), g.packetThreads(), List.of());
            TunnelRig.LateEvents events = new TunnelRig.LateEvents();
            Dataplane dataplane = linuxDataplane ? Dataplane.start(s, events) : Dataplane.withoutIo(s, events);
            try {
                MemoryReading before = MemoryReading.now();
                long t0 = System.nanoTime();
                GatewayConfig config = ConfigReader.read(file);
                double readMs = (System.nanoTime() - t0) / 1e6;
                LogOutput.process().apply(config.logging());
                TunnelRig rig = new TunnelRig(config, null, net.transport, new InMemoryPeers.NettyTimers(net.loop), net.loop, dataplane, events);
                net.attach(gateway, rig.engine());
                MemoryReading configured = MemoryReading.now();
                Duration took = net.establish(n, gateway).get(30, TimeUnit.MINUTES);
                check(rig, n);
                // While the sites still answer the gateway's liveness checks: forgotten, they would not, and after the dead peer
                // timeout (45 s) the SAs would go.
                double[] status = timed(rig::statusJson);
                double[] scrape = timed(rig::scrapeText);
                double timerNs = timerCost(net.loop);
                double emptyTimerNs;
                try (InMemoryPeers fresh = new InMemoryPeers()) {
                    emptyTimerNs = timerCost(fresh.loop);
                }
                check(rig, n);
                net.forget();
                MemoryReading up = MemoryReading.now();
                check(rig, n);
                long pending = up.instances(TIMER) - before.instances(TIMER);
                return new Figures(n, readMs, took.toNanos() / 1e9, before.heapBytes(), configured.heapBytes(), up.heapBytes(),
                        before.nativeTotalKb(), configured.nativeTotalKb(), up.nativeTotalKb(), up.tracked(), grown(before, up),
                        pending, timerNs, emptyTimerNs, status[0], status[2], (int) status[1], scrape[0], scrape[2], (int) scrape[1],
                        topClasses(before, up, n, 30),
                        linuxDataplane ? "linux" : "memory");
            } finally {
                dataplane.close();
            }
        }
    }

    /** Every site up at the gateway: an IKE SA established with one child SA, installed in the data plane. */
    private static void check(TunnelRig rig, int n) throws Exception {
        int[] counts = rig.onIkeThread(() -> {
            int established = 0;
            int children = 0;
            for (IkeSa sa : rig.engine().ikeSas()) {
                if (sa.state() == IkeSaState.ESTABLISHED) {
                    established++;
                    children += sa.childSas().size();
                }
            }
            return new int[] {established, children};
        });
        long installed = rig.dataplane().sequenceState().size();
        if (counts[0] != n || counts[1] != n || installed != n) {
            throw new IllegalStateException("expected " + n + " IKE SAs with a child SA each, installed; the gateway has " + counts[0]
                    + " IKE SAs established, " + counts[1] + " child SAs, " + installed + " installed in the data plane");
        }
    }

    private interface Producing {
        byte[] get() throws Exception;
    }

    /**
     * What a timer costs on {@code loop} as the IKE engine uses one (scheduled, then cancelled
     * before it fires, as a retransmission's is when the answer comes): ns for the pair, on the
     * loop's thread, the median of 5 rounds of 20,000. With the tunnels' timers pending on the
     * loop against an empty one, this says what a task per SA in one priority queue costs.
     */
    private static double timerCost(io.netty.channel.DefaultEventLoop loop) throws Exception {
        java.util.concurrent.CompletableFuture<Double> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> {
            double[] rounds = new double[5];
            Runnable nothing = () -> { };
            for (int r = 0; r < rounds.length; r++) {
                long t = System.nanoTime();
                for (int i = 0; i < 20_000; i++) {
                    // Spread over an hour, as rekeys and expiries are: each lands somewhere in the queue, not at its end.
                    loop.schedule(nothing, 1_000_000_000L + (i * 7919L % 3600) * 1_000_000_000L, TimeUnit.NANOSECONDS).cancel(false);
                }
                rounds[r] = (System.nanoTime() - t) / 20_000.0;
            }
            java.util.Arrays.sort(rounds);
            f.complete(rounds[2]);
        });
        return f.get(1, TimeUnit.MINUTES);
    }

    /** A Netty timer: what the IKE engine's timers are, counted in the heap. */
    private static final String TIMER = "io.netty.util.concurrent.ScheduledFutureTask";

    /**
     * The median of 5 runs in ms (after 3 that warm the JIT up, as a gateway scraped every 15 s
     * is), the size of what one produced, and the median CPU time of the process (every thread:
     * the IKE thread's part, the collector's) in ms: on a shared machine the CPU time is what
     * another machine would take, the wall time what this one took.
     */
    private static double[] timed(Producing p) throws Exception {
        for (int i = 0; i < 3; i++) {
            p.get();
        }
        double[] ms = new double[5];
        double[] cpu = new double[5];
        int size = 0;
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < ms.length; i++) {
            long c = os.getProcessCpuTime();
            long t = System.nanoTime();
            size = p.get().length;
            ms[i] = (System.nanoTime() - t) / 1e6;
            cpu[i] = (os.getProcessCpuTime() - c) / 1e6;
        }
        java.util.Arrays.sort(ms);
        java.util.Arrays.sort(cpu);
        return new double[] {ms[ms.length / 2], size, cpu[cpu.length / 2]};
    }

    private static Map<String, Long> grown(MemoryReading before, MemoryReading after) {
        Map<String, Long> out = new LinkedHashMap<>();
        after.nativeKb().forEach((k, v) -> {
            long d = v - before.nativeKb().getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    private static List<ClassShare> topClasses(MemoryReading before, MemoryReading after, int n, int limit) {
        List<ClassShare> out = new ArrayList<>();
        after.classes().forEach((name, v) -> {
            long[] b = before.classes().getOrDefault(name, new long[2]);
            long bytes = v[0] - b[0];
            if (bytes > 0) {
                out.add(new ClassShare(name, (double) bytes / n, (double) (v[1] - b[1]) / n));
            }
        });
        out.sort(Comparator.comparingDouble(ClassShare::bytesPerTunnel).reversed());
        return out.subList(0, Math.min(limit, out.size()));
    }

    /** {@code TunnelsInProcess COUNT WORK_DIR linux|memory JSON_FILE}: one count, its figures as JSON. */
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        Path work = Path.of(args[1]);
        Figures f = run(n, work, args[2].equals("linux"));
        Bench.JSON.writeValue(Path.of(args[3]).toFile(), f);
        System.exit(0);
    }
}
