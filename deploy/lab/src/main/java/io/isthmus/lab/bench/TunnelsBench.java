package io.isthmus.lab.bench;

import io.isthmus.control.Isthmus;
import io.isthmus.dataplane.ForwardingBenchmarkReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code isthmus bench tunnels}: one gateway instance with many tunnels, at each count asked
 * (1, 1,000 and 10,000 by default), each count in a network namespace and JVMs of its own:
 *
 * <ul>
 *   <li>the daemon ({@link DaemonAtScale}): start-up, reload (unchanged, and 1 % of the sites with a
 *       prefix more), status and a metrics scrape, its memory, with n ResponderOnly connections;
 *   <li>the gateway's own parts in a JVM with n IKE SAs and child SAs up ({@link TunnelsInProcess}):
 *       heap and native memory per tunnel, timers pending, status and scrape with every SA there;
 *   <li>once: forwarding across 1,000 of 10,000 tunnels against 1 of 1 (JMH,
 *       {@link ForwardingBenchmarkReport}), ns per packet and the ratio.
 * </ul>
 *
 * A table, and the figures as JSON. Only ratios measured in the same run compare across
 * machines; the machine this is run on is said with them.
 */
public final class TunnelsBench {
    /** One count's figures; an error instead of what could not be measured. */
    public record Row(int tunnels, DaemonAtScale.Figures daemon, TunnelsInProcess.Figures inProcess, String error) {
        public boolean complete() {
            return error == null && daemon != null && inProcess != null;
        }
    }

    /** Everything one run measured. */
    public record Result(List<Row> rows, List<ForwardingBenchmarkReport.Row> forwarding, String forwardingError, Map<String, String> machine) {
        /** Every figure there (the forwarding benchmark's eight rows unless it was skipped). */
        public boolean complete() {
            return rows.stream().allMatch(Row::complete) && forwardingError == null && (forwarding.isEmpty() || forwarding.size() == 8);
        }
    }

    private final Path work;
    private final PrintStream log;
    /** CI's form: every figure once (status and scrape once, no warm-up; the forwarding benchmark's smoke form), none worth quoting. */
    private final boolean smoke;

    public TunnelsBench(Path work, PrintStream log) {
        this(work, log, false);
    }

    private TunnelsBench(Path work, PrintStream log, boolean smoke) {
        this.work = work;
        this.log = log;
        this.smoke = smoke;
    }

    /**
     * @param quickLookups JMH's short form (1 warm-up, 3 measured iterations of a second)
     * @param lookups whether to run the forwarding benchmark at all
     */
    public Result run(List<Integer> counts, boolean lookups, boolean quickLookups) throws InterruptedException {
        // Ctrl-C: the daemons and JVMs started go, and the namespace with them.
        Thread cleanup = new Thread(() -> {
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroy);
            String ns = current;
            if (ns != null) {
                try {
                    DaemonAtScale.deleteNamespace(ns);
                } catch (IOException | InterruptedException e) {
                    // going anyway
                }
            }
        }, "tunnels-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        List<Row> rows = new ArrayList<>();
        try {
            for (int n : counts) {
                log.printf("%,d tunnels ...%n", n);
                rows.add(count(n));
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
        List<ForwardingBenchmarkReport.Row> forwarding = List.of();
        String forwardingError = null;
        if (lookups) {
            log.println("forwarding across 1,000 of 10,000 tunnels against 1 of 1 (JMH) ...");
            try {
                // Another benchmark on the machine (JMH's lock) only adds to the noise both shapes see alike: the ratio is what counts.
                System.setProperty("jmh.ignoreLock", "true");
                // JMH's output to its log, and what the forked JVM prints too (the data plane logs each SA it installs: 10,000
                // lines), which JMH hands to this process's own streams.
                Path jmhLog = work.resolve("forwarding-jmh.log");
                PrintStream out = System.out;
                PrintStream err = System.err;
                try (PrintStream forked = new PrintStream(Files.newOutputStream(work.resolve("forwarding-jvm.log")), true)) {
                    System.setOut(forked);
                    System.setErr(forked);
                    forwarding = smoke ? ForwardingBenchmarkReport.smoke(Isthmus.jvmOptions(), jmhLog)
                            : ForwardingBenchmarkReport.run(quickLookups, Isthmus.jvmOptions(), jmhLog);
                } finally {
                    System.setOut(out);
                    System.setErr(err);
                }
            } catch (Exception e) {
                forwardingError = e.toString();
            }
        }
        return new Result(rows, forwarding, forwardingError, machine());
    }

    /** The namespace of the count under way, for the cleanup on Ctrl-C. */
    private volatile String current;

    private Row count(int n) throws InterruptedException {
        String ns = "tunnels-" + ProcessHandle.current().pid() + "-" + n;
        current = ns;
        DaemonAtScale.Figures daemon = null;
        TunnelsInProcess.Figures inProcess = null;
        List<String> errors = new ArrayList<>();
        try {
            Files.createDirectories(work);
            DaemonAtScale.namespace(ns);
            try {
                daemon = new DaemonAtScale(work, n, ns, smoke ? 1 : 3).run();
            } catch (Exception e) {
                errors.add("daemon: " + e.getMessage());
            }
            try {
                inProcess = inProcess(n, ns);
            } catch (Exception e) {
                errors.add("in process: " + e.getMessage());
            }
        } catch (IOException e) {
            errors.add(e.getMessage());
        } finally {
            try {
                DaemonAtScale.deleteNamespace(ns);
                current = null;
            } catch (IOException e) {
                errors.add("namespace " + ns + " not deleted: " + e.getMessage());
            }
        }
        return new Row(n, daemon, inProcess, errors.isEmpty() ? null : String.join("; ", errors));
    }

    /** {@link TunnelsInProcess} in a JVM of its own (Native Memory Tracking on), in the count's namespace, with the data plane on a TUN device. */
    private TunnelsInProcess.Figures inProcess(int n, String ns) throws IOException, InterruptedException {
        Path json = work.resolve("in-process-" + n + ".json");
        Path out = work.resolve("in-process-" + n + ".log");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, DaemonAtScale.javaCommand()));
        command.addAll(Isthmus.jvmOptions());
        command.addAll(List.of("-XX:NativeMemoryTracking=summary", "-cp", DaemonAtScale.classPath(), TunnelsInProcess.class.getName(),
                Integer.toString(n), work.toString(), "linux", json.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("not done within an hour: see " + out);
        }
        if (p.exitValue() != 0 || !Files.exists(json)) {
            List<String> lines = Files.readAllLines(out);
            throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())));
        }
        return Bench.JSON.readerFor(TunnelsInProcess.Figures.class).without(com.fasterxml.jackson.databind.DeserializationFeature
                .FAIL_ON_UNKNOWN_PROPERTIES).readValue(json.toFile());
    }

    private static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("java", Runtime.version().toString());
        try {
            m.put("loadAverage", Files.readString(Path.of("/proc/loadavg")).strip());
        } catch (IOException e) {
            m.put("loadAverage", "unknown");
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------

    public static void print(Result r, PrintStream out) {
        out.println();
        out.println("The daemon with n ResponderOnly connections: seconds as curl and the process see them (cpu: the daemon's user + system "
                + "seconds for it; status and scrape: median of 3, at least a second apart)");
        out.printf(Locale.ROOT, "%8s %12s %7s %16s %16s %16s %16s %7s %8s%n", "tunnels", "start (cpu)", "routes", "reload (cpu)",
                "reload 1% (cpu)", "status (cpu) MB", "scrape (cpu) MB", "RSS MB", "heap MB");
        for (Row row : r.rows()) {
            DaemonAtScale.Figures d = row.daemon();
            if (d == null) {
                out.printf(Locale.ROOT, "%8d  %s%n", row.tunnels(), row.error());
                continue;
            }
            out.printf(Locale.ROOT, "%8d %5.2f (%4.2f) %7d %7.2f (%5.2f) %7.2f (%5.2f) %5.2f (%4.2f) %4.1f %5.2f (%4.2f) %4.1f %7.0f %8.1f%n",
                    d.tunnels(), d.startSeconds(), d.startCpuSeconds(), d.routes(), d.reloadUnchangedSeconds(), d.reloadUnchangedCpuSeconds(),
                    d.reloadChangedSeconds(), d.reloadChangedCpuSeconds(), d.statusSeconds(), d.statusCpuSeconds(), d.statusBytes() / 1e6,
                    d.scrapeSeconds(), d.scrapeCpuSeconds(), d.scrapeBytes() / 1e6, d.rssKb() / 1024.0, d.heapLiveBytes() / 1e6);
        }
        out.println();
        out.println("The gateway's parts with n IKE SAs and child SAs up: memory per tunnel (what n tunnels add to the JVM with its data plane"
                + " and no configuration, / n), status and scrape (median of 5; cpu: the process's)");
        out.printf(Locale.ROOT, "%8s %10s %22s %10s %14s %18s %18s %10s%n", "tunnels", "heap B/tun", "native B/tun (data, GC)", "timers/tun",
                "timer ns (0)", "status s (cpu) MB", "scrape s (cpu) MB", "set up /s");
        for (Row row : r.rows()) {
            TunnelsInProcess.Figures f = row.inProcess();
            if (f == null) {
                continue;
            }
            out.printf(Locale.ROOT, "%8d %10.0f %22s %10.1f %6.0f (%4.0f) %7.2f (%4.2f) %4.1f %7.2f (%4.2f) %4.1f %10.0f%n", f.tunnels(),
                    f.heapPerTunnelBytes(), f.nativeTracked() ? String.format(Locale.ROOT, "%.0f (%.0f, %.0f)", f.nativePerTunnelBytes(),
                            f.nativeDataPerTunnelBytes(), f.nativeCollectorPerTunnelBytes()) : "-",
                    (double) f.timersPending() / f.tunnels(), f.timerNs(), f.emptyLoopTimerNs(), f.statusMs() / 1000, f.statusCpuMs() / 1000, f.statusBytes() / 1e6, f.scrapeMs() / 1000, f.scrapeCpuMs() / 1000,
                    f.scrapeBytes() / 1e6, f.tunnels() / f.establishSeconds());
        }
        marginal(r, out);
        if (!r.forwarding().isEmpty()) {
            out.println();
            ForwardingBenchmarkReport.print(r.forwarding(), out);
        } else if (r.forwardingError() != null) {
            out.println("forwarding benchmark: " + r.forwardingError());
        }
        r.rows().stream().filter(row -> row.error() != null).forEach(row -> out.printf("%d tunnels: %s%n", row.tunnels(), row.error()));
        out.println("machine: " + r.machine());
    }

    /** Between the two largest counts: what one tunnel more costs, without what every gateway holds anyway. */
    private static void marginal(Result r, PrintStream out) {
        List<TunnelsInProcess.Figures> f = r.rows().stream().map(Row::inProcess).filter(java.util.Objects::nonNull).toList();
        if (f.size() < 2) {
            return;
        }
        TunnelsInProcess.Figures a = f.get(f.size() - 2);
        TunnelsInProcess.Figures b = f.getLast();
        if (b.tunnels() <= a.tunnels()) {
            return;
        }
        double heap = (double) ((b.heapUpBytes() - b.heapBeforeBytes()) - (a.heapUpBytes() - a.heapBeforeBytes())) / (b.tunnels() - a.tunnels());
        double nat = (b.nativeDataPerTunnelBytes() * b.tunnels() - a.nativeDataPerTunnelBytes() * a.tunnels()) / (b.tunnels() - a.tunnels());
        double gc = (b.nativeCollectorPerTunnelBytes() * b.tunnels() - a.nativeCollectorPerTunnelBytes() * a.tunnels()) / (b.tunnels() - a.tunnels());
        out.printf(Locale.ROOT, "each tunnel from %,d to %,d: %.0f B of heap, %.0f B native (and %.0f B of the collector's, which follow the"
                + " heap committed; target: under 50 KB each)%n", a.tunnels(), b.tunnels(), heap, nat, gc);
        out.println("where the heap goes at " + String.format(Locale.ROOT, "%,d", b.tunnels()) + " (B per tunnel, by class):");
        for (TunnelsInProcess.ClassShare c : b.topClasses()) {
            out.printf(Locale.ROOT, "  %8.0f  %5.1f x %s%n", c.bytesPerTunnel(), c.instancesPerTunnel(), c.name());
        }
    }

    /** Runs, prints and writes the JSON; returns the result. */
    public static Result runAndReport(List<Integer> counts, boolean lookups, boolean quickLookups, Path json, PrintStream out)
            throws IOException, InterruptedException {
        return runAndReport(counts, lookups, quickLookups, false, json, out);
    }

    /** As {@link #runAndReport(List, boolean, boolean, Path, PrintStream)} in CI's form (see {@link #smoke}): about half the time. */
    public static Result runSmokeAndReport(List<Integer> counts, Path json, PrintStream out) throws IOException, InterruptedException {
        return runAndReport(counts, true, true, true, json, out);
    }

    private static Result runAndReport(List<Integer> counts, boolean lookups, boolean quickLookups, boolean smoke, Path json, PrintStream out)
            throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("isthmus-tunnels-");
        Result r = new TunnelsBench(work, out, smoke).run(counts, lookups, quickLookups);
        print(r, out);
        Bench.JSON.writeValue(json.toFile(), r);
        out.println("JSON written to " + json.toAbsolutePath() + "; logs in " + work);
        return r;
    }
}
