package io.isthmus.dataplane;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link ForwardingBenchmark} (the tunnel table, the SA table, both as the packet threads
 * read them, and the whole outbound path, with 1 of 1 tunnels and with 1,000 of 10,000) and
 * prints ns per packet and the ratio of many tunnels to one, from the same run. {@code isthmus bench tunnels} runs it too.
 *
 * <pre>
 *   mvn -pl dataplane -am -Pforwarding-bench -DskipTests verify [-Djmh.args=--quick]
 * </pre>
 */
public final class ForwardingBenchmarkReport {
    /** One benchmark at one shape: ns per packet (the samples' median), half their interquartile range, and the ratio to the same benchmark with 1 of 1 tunnels. */
    public record Row(String benchmark, String tunnels, double nsPerPacket, double error, double ratioToOne) {
    }

    private ForwardingBenchmarkReport() {
    }

    /**
     * Runs the benchmarks at both shapes in a JVM of their own (one fork) with {@code jvmArgs};
     * {@code quick}: 1 warm-up and 3 measured iterations of 1 s, else 3 and 5; {@code log}: where
     * JMH's own output (and the forked JVM's) goes, null for this process's standard output.
     */
    public static List<Row> run(boolean quick, List<String> jvmArgs, java.nio.file.Path log) throws RunnerException {
        return run(quick ? 1 : 3, TimeValue.seconds(1), quick ? 3 : 5, TimeValue.seconds(1), jvmArgs, log);
    }

    /**
     * Every row once, its figures of no worth (one warm-up of 200 ms, one measured iteration of
     * 500 ms): for a test that checks each row is produced, in a fraction of the quick form's time.
     */
    public static List<Row> smoke(List<String> jvmArgs, java.nio.file.Path log) throws RunnerException {
        return run(1, TimeValue.milliseconds(200), 1, TimeValue.milliseconds(500), jvmArgs, log);
    }

    private static List<Row> run(int warmups, TimeValue warmupTime, int iterations, TimeValue iterationTime, List<String> jvmArgs,
                                 java.nio.file.Path log) throws RunnerException {
        OptionsBuilder options = new OptionsBuilder();
        if (log != null) {
            options.output(log.toString());
        }
        options.include(ForwardingBenchmark.class.getName() + "\\.")
                .forks(1)
                .warmupIterations(warmups)
                .warmupTime(warmupTime)
                .measurementIterations(iterations)
                .measurementTime(iterationTime)
                .jvmArgsAppend(jvmArgs.toArray(String[]::new));
        List<Row> raw = new ArrayList<>();
        for (RunResult r : new Runner(options.build()).run()) {
            String label = r.getParams().getBenchmark();
            // The median of the samples, and half the spread between their quartiles as the error: a mean would carry the
            // moments another process had the core.
            var st = r.getPrimaryResult().getStatistics();
            raw.add(new Row(label.substring(label.lastIndexOf('.') + 1), r.getParams().getParam("tunnels"), st.getPercentile(50),
                    (st.getPercentile(75) - st.getPercentile(25)) / 2, Double.NaN));
        }
        List<Row> rows = new ArrayList<>();
        for (Row r : raw) {
            double one = raw.stream().filter(o -> o.benchmark().equals(r.benchmark()) && o.tunnels().equals("1/1")).mapToDouble(Row::nsPerPacket)
                    .findFirst().orElse(Double.NaN);
            rows.add(new Row(r.benchmark(), r.tunnels(), r.nsPerPacket(), r.error(), r.nsPerPacket() / one));
        }
        return rows;
    }

    public static void print(List<Row> rows, PrintStream out) {
        out.println("Forwarding with many tunnels: ns per packet (JMH, the median of sampled batches of " + ForwardingBenchmark.BATCH
                + "), against 1 of 1 tunnels in the same run");
        out.printf(Locale.ROOT, "%-8s %-14s %10s %9s %10s%n", "bench", "tunnels", "ns/packet", "± (IQR/2)", "vs 1 of 1");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-8s %-14s %10.1f %9.1f %10.2f%n", r.benchmark(), r.tunnels().replace("/", " of "), r.nsPerPacket(), r.error(),
                    r.ratioToOne());
        }
    }

    /** Options: --quick. */
    public static void main(String[] args) throws RunnerException {
        boolean quick = List.of(args).contains("--quick");
        print(run(quick, List.of("--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/com.sun.crypto.provider=ALL-UNNAMED",
                "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"), null), System.out);
    }
}
