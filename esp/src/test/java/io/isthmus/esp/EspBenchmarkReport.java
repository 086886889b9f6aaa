package io.isthmus.esp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link EspBenchmark} and the {@link JdkCipherBenchmark} ceiling in one go, with JMH's GC
 * profiler, and prints packets/s, Gbit/s (of inner packet bytes), bytes allocated per packet and
 * the ratio to the JDK for the same operation, size and thread count.
 *
 * <pre>
 *   mvn -pl esp -am -Pbench -DskipTests verify                       # the full run
 *   mvn -pl esp -am -Pbench -DskipTests verify -Djmh.args="--quick --sizes 1400 --suites aes128gcm16"
 * </pre>
 * Options: --quick (1 warmup + 2 measured iterations of 1 s), --threads 1,2, --sizes 64,512,1400,9000,
 * --suites aes128gcm16,..., --ops seal,open,sealOpen, --json FILE.
 */
public final class EspBenchmarkReport {

    record Row(String bench, String suite, int size, int threads, String op, double opsPerSecond, double error, double bytesPerOp) {
        double gbitPerSecond() {
            return opsPerSecond * size * 8 / 1e9;
        }
    }

    public static void main(String[] args) throws RunnerException, IOException {
        boolean quick = false;
        List<Integer> threads = List.of(1, 2);
        String[] sizes = null;
        String[] suites = null;
        String ops = null;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick", "-quick" -> quick = true;
                case "--threads" -> threads = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--sizes" -> sizes = args[++i].split(",");
                case "--suites" -> suites = args[++i].split(",");
                case "--ops" -> ops = args[++i].replace(",", "|");
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --quick --threads 1,2 --sizes 64,1400 --suites aes128gcm16,... --ops seal,open,sealOpen --json FILE)");
            }
        }

        List<Row> rows = new ArrayList<>();
        for (int t : threads) {
            for (Class<?> benchmark : List.of(JdkCipherBenchmark.class, EspBenchmark.class)) {
                ChainedOptionsBuilder options = new OptionsBuilder()
                        .include(benchmark.getName() + "\\." + (ops == null ? "" : "(" + ops + ")$"))
                        .threads(t)
                        .forks(1)
                        .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--add-opens=java.base/com.sun.crypto.provider=ALL-UNNAMED")
                        .addProfiler(GCProfiler.class)
                        .warmupIterations(quick ? 1 : 3)
                        .warmupTime(TimeValue.seconds(1))
                        .measurementIterations(quick ? 2 : 5)
                        .measurementTime(TimeValue.seconds(1));
                if (sizes != null) {
                    options.param("size", sizes);
                }
                if (suites != null) {
                    String[] wanted = benchmark == JdkCipherBenchmark.class
                            ? java.util.Arrays.stream(suites).filter(s -> s.contains("gcm") || s.startsWith("chacha")).toArray(String[]::new)
                            : suites;
                    if (wanted.length == 0) {
                        continue;
                    }
                    options.param("suite", wanted);
                }
                String bench = benchmark == EspBenchmark.class ? "isthmus" : "jdk";
                for (RunResult r : new Runner(options.build()).run()) {
                    rows.add(row(bench, t, r));
                }
            }
        }
        print(rows);
        if (json != null) {
            writeJson(json, rows);
            System.out.println("JSON written to " + json.toAbsolutePath());
        }
    }

    private static Row row(String bench, int threads, RunResult r) {
        var params = r.getParams();
        String label = params.getBenchmark();
        String op = label.substring(label.lastIndexOf('.') + 1);
        Result<?> primary = r.getPrimaryResult();
        double bytesPerOp = r.getSecondaryResults().entrySet().stream()
                .filter(e -> e.getKey().endsWith("gc.alloc.rate.norm"))
                .map(e -> e.getValue().getScore())
                .findFirst().orElse(Double.NaN);
        return new Row(bench, params.getParam("suite"), Integer.parseInt(params.getParam("size")), threads, op,
                primary.getScore(), primary.getScoreError(), bytesPerOp);
    }

    private static Optional<Row> ceiling(Collection<Row> rows, Row r) {
        return rows.stream().filter(c -> c.bench.equals("jdk") && c.suite.equals(r.suite) && c.size == r.size
                && c.threads == r.threads && c.op.equals(r.op)).findFirst();
    }

    private static void print(List<Row> rows) {
        System.out.println();
        System.out.println("ESP seal/open, packets of <size> inner bytes; Gbit/s counts inner bytes; 'vs JDK' = Isthmus / javax.crypto AEAD, same op, size, threads");
        System.out.printf(Locale.ROOT, "%-8s %-17s %5s %3s %-9s %12s %8s %9s %9s%n",
                "impl", "suite", "size", "thr", "op", "Mpackets/s", "Gbit/s", "B/op", "vs JDK");
        for (Row r : rows) {
            String ratio = r.bench.equals("jdk") ? "" : ceiling(rows, r)
                    .map(c -> String.format(Locale.ROOT, "%.2f", r.opsPerSecond / c.opsPerSecond)).orElse("-");
            System.out.printf(Locale.ROOT, "%-8s %-17s %5d %3d %-9s %8.3f±%-3.0f%% %8.2f %9.1f %9s%n",
                    r.bench, r.suite, r.size, r.threads, r.op, r.opsPerSecond / 1e6,
                    100 * r.error / r.opsPerSecond, r.gbitPerSecond(), r.bytesPerOp, ratio);
        }
        rows.stream().filter(r -> r.bench.equals("isthmus") && r.suite.equals("aes128gcm16") && r.size == 1400
                        && r.threads == 1 && r.op.equals("sealOpen"))
                .findFirst().ifPresent(r -> ceiling(rows, r).ifPresent(c -> System.out.printf(Locale.ROOT,
                        "%nTarget (issue 2): seal+open of 1400-byte AES-GCM-128 packets on one core >= 80%% of javax.crypto, 0 B/op:%n"
                                + "  Isthmus %.3f M/s vs javax.crypto %.3f M/s = %.0f%%, allocating %.1f B/op (javax.crypto: %.0f B/op)%n",
                        r.opsPerSecond / 1e6, c.opsPerSecond / 1e6, 100 * r.opsPerSecond / c.opsPerSecond, r.bytesPerOp, c.bytesPerOp)));
    }

    private static void writeJson(Path path, List<Row> rows) throws IOException {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(String.format(Locale.ROOT,
                    "  {\"impl\":\"%s\",\"suite\":\"%s\",\"size\":%d,\"threads\":%d,\"op\":\"%s\",\"packetsPerSecond\":%.1f,"
                            + "\"error\":%.1f,\"gbitPerSecond\":%.4f,\"bytesPerOp\":%.2f}%s%n",
                    r.bench, r.suite, r.size, r.threads, r.op, r.opsPerSecond, r.error, r.gbitPerSecond(), r.bytesPerOp,
                    i + 1 < rows.size() ? "," : ""));
        }
        Files.writeString(path, sb.append("]\n"));
    }

    private EspBenchmarkReport() {
    }
}
