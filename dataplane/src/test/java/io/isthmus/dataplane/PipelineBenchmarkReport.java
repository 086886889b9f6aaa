package io.isthmus.dataplane;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link PipelineBenchmark} at 1, 2 and 4 lanes (JMH threads), one SA and an SA per lane,
 * and prints packets/s through both gateways, the ratio to one lane of the same kind from the
 * same run, and the bytes allocated per packet (JMH's GC profiler: 0 means the packet paths
 * allocate nothing).
 *
 * <pre>
 *   mvn -pl dataplane -am -Pbench-pipeline -DskipTests verify
 *   mvn -pl dataplane -am -Pbench-pipeline -DskipTests verify -Djmh.args="--quick --threads 1,2,4,8 --sizes 1400"
 * </pre>
 */
public final class PipelineBenchmarkReport {
    record Row(String sharing, int size, int threads, double packetsPerSecond, double error, double packetsPerCpuSecond, double bytesPerPacket) {
    }

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        List<Integer> threads = List.of(1, 2, 4);
        String[] sizes = {"64", "1400"};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--threads" -> threads = Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--sizes" -> sizes = args[++i].split(",");
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (known: --quick --threads 1,2,4 --sizes 64,1400)");
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int t : threads) {
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(PipelineBenchmark.class.getName() + "\\.dutyCycle$")
                    .threads(t)
                    .forks(1)
                    .param("size", sizes)
                    .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/com.sun.crypto.provider=ALL-UNNAMED")
                    .addProfiler(GCProfiler.class)
                    .warmupIterations(quick ? 3 : 6)
                    .warmupTime(TimeValue.seconds(1))
                    .measurementIterations(quick ? 3 : 5)
                    .measurementTime(TimeValue.seconds(1));
            for (RunResult r : new Runner(options.build()).run()) {
                var secondary = r.getSecondaryResults();
                var packets = secondary.get("packets");
                var allocRate = secondary.entrySet().stream().filter(e -> e.getKey().endsWith("gc.alloc.rate")).map(e -> e.getValue().getScore())
                        .findFirst().orElse(Double.NaN);
                double pps = packets.getScore();
                double perCpuSecond = secondary.get("packetCount").getScore() / secondary.get("cpuMicros").getScore() * 1e6;
                rows.add(new Row(r.getParams().getParam("sharing"), Integer.parseInt(r.getParams().getParam("size")), t, pps,
                        packets.getScoreError(), perCpuSecond, allocRate * 1024 * 1024 / pps));
            }
        }
        System.out.println();
        System.out.println("Two gateways' packet paths in memory (A: TUN read, route, seal, send; B: receive, open, replay check, TUN write),");
        System.out.println("one JMH thread per lane; ratios over the same kind's 1-lane figure from this run; "
                + Runtime.getRuntime().availableProcessors() + " cores here, load average " + String.format(Locale.ROOT, "%.1f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        System.out.println("packets per CPU-second: the lanes' packets over their threads' CPU time (what a lane costs, whoever else runs)");
        System.out.printf(Locale.ROOT, "%n| SAs | size B | lanes | packets/s | ratio | packets per CPU-second | ratio | bytes allocated per packet |%n"
                + "|---|---|---|---|---|---|---|---|%n");
        for (Row r : rows) {
            Row base = rows.stream().filter(o -> o.sharing.equals(r.sharing) && o.size == r.size && o.threads == 1).findFirst().orElse(null);
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %,.0f ± %.0f%% | %s | %,.0f | %s | %.2f |%n", r.sharing, r.size, r.threads,
                    r.packetsPerSecond, 100 * r.error / r.packetsPerSecond,
                    base == null ? "-" : String.format(Locale.ROOT, "%.2f", r.packetsPerSecond / base.packetsPerSecond), r.packetsPerCpuSecond,
                    base == null ? "-" : String.format(Locale.ROOT, "%.2f", r.packetsPerCpuSecond / base.packetsPerCpuSecond), r.bytesPerPacket);
        }
    }

    private PipelineBenchmarkReport() {
    }
}
