package io.isthmus.lab.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.isthmus.lab.ikeload.IkeLoadGenerator;
import io.isthmus.lab.ikeload.IkeLoadLab;
import io.isthmus.lab.ikeload.IkeLoadLab.Responder;
import io.isthmus.lab.ikeload.IkeLoadLab.Setup;
import io.isthmus.lab.ikeload.LoadPki;
import io.isthmus.lab.ikeload.LoadReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The IKE SA setup rate ({@code isthmus bench ike-load}): the project's own load generator
 * ({@link IkeLoadGenerator}) against Isthmus and against strongSwan as responders, in the same
 * run, one responder at a time, each started afresh for each row (its configuration differs),
 * with a warm-up before the measured window:
 *
 * <ul>
 *   <li>steady rows: IKE SAs with their child SA established a second, PSK and ECDSA
 *       certificates, cookies off and on (each responder's defaults), with the offered load,
 *       how every attempt ended, latency, and the CPU each side took (the responder's in
 *       milliseconds per IKE SA; the generator's to show it was not the bottleneck);
 *   <li>burst rows: a number of IKE_SA_INIT requests at once, each from its own address, against
 *       each responder's defaults (cookies, half-open limits): how many were established,
 *       cookied, refused, and how many were never answered (lost without a word);
 *   <li>flood rows: the generator as a flood tool, completing IKE_SA_INIT (cookies answered) and
 *       never IKE_AUTH, from thousands of addresses, while a legitimate peer from an address of
 *       its own makes an IKE SA twice a second: whether the responder still answers it, and how fast.
 * </ul>
 */
public final class IkeLoad {
    /** What a run measures, and how hard it pushes. */
    public record Options(List<Responder> responders, List<String> auths, List<Boolean> cookies, int threads, int window, double rate,
                          double jitWarmup, double warmup, double seconds, int sources, int burst, double floodSeconds, int priming) {
        /** With the generator's own warm-up at its default. */
        public Options(List<Responder> responders, List<String> auths, List<Boolean> cookies, int threads, int window, double rate,
                       double jitWarmup, double warmup, double seconds, int sources, int burst, double floodSeconds) {
            this(responders, auths, cookies, threads, window, rate, jitWarmup, warmup, seconds, sources, burst, floodSeconds,
                    IkeLoadGenerator.PRIMING);
        }

        public static Options defaults() {
            return new Options(List.of(Responder.ISTHMUS, Responder.STRONGSWAN), List.of("psk", "ecdsa"), List.of(false, true), 2, 64, 0, 60, 3,
                    10, 4096, 3000, 15);
        }
    }

    /** One row: a responder under one kind of load, what the generator counted, and what the responder said of itself after. */
    public record Row(String kind, String responder, String auth, String cookies, LoadReport report, LoadReport legitimate, String responderCount) {
    }

    private final IkeLoadLab lab;
    private final Options options;
    private final PrintStream out;

    private IkeLoad(IkeLoadLab lab, Options options, PrintStream out) {
        this.lab = lab;
        this.options = options;
        this.out = out;
    }

    /** Runs every row of {@code options}, prints the table on {@code out}, writes JSON to {@code json}. */
    public static List<Row> runAndReport(Options options, Path json, PrintStream out) throws Exception {
        Instant started = Instant.now();
        List<Row> rows = new ArrayList<>();
        try (IkeLoadLab lab = IkeLoadLab.up(Path.of("/tmp/isthmus-ikeload"))) {
            IkeLoad run = new IkeLoad(lab, options, out);
            for (String auth : options.auths()) {
                for (Responder r : options.responders()) {
                    rows.addAll(run.steady(r, auth));
                }
            }
            if (options.burst() > 0) {
                for (Responder r : options.responders()) {
                    rows.add(run.burst(r));
                }
            }
            if (options.floodSeconds() > 0) {
                for (Responder r : options.responders()) {
                    rows.add(run.flood(r));
                }
            }
            lab.stopResponder();
        }
        ObjectNode root = Bench.JSON.createObjectNode();
        root.put("started", started.toString());
        root.putPOJO("options", options);
        root.put("cpus", Runtime.getRuntime().availableProcessors());
        ArrayNode r = root.putArray("rows");
        rows.forEach(r::addPOJO);
        Files.writeString(json, Bench.JSON.writeValueAsString(root));
        out.println();
        out.print(table(rows, options));
        out.println("JSON in " + json);
        return rows;
    }

    /**
     * One responder with one authentication: started once and warmed up (a JVM compiles its hot
     * code over its first thousands of IKE SAs; a gateway that has run for a while has), then a
     * row for each cookie setting, the responder reconfigured in between (Isthmus reloads,
     * charon restarts), the IKE SAs of each row deleted after it.
     */
    private List<Row> steady(Responder r, String auth) throws Exception {
        List<Row> rows = new ArrayList<>();
        String name = r.label + "-" + auth;
        long pid = -1;
        for (boolean cookies : options.cookies()) {
            Setup setup = new Setup(auth, cookies);
            if (pid < 0) {
                pid = lab.startResponder(r, setup, name);
                if (options.jitWarmup() > 0) {
                    // Each IKE SA deleted as it is made: the rows start with the responder warm but not holding the warm-up's tens of thousands.
                    List<String> warmLoad = new ArrayList<>(load(0, options.jitWarmup()));
                    warmLoad.add("--churn");
                    LoadReport warm = generate(name + "-warmup", r, pid, auth, warmLoad);
                    rows.add(new Row("warm-up", r.label, auth, cookies ? "on" : "off", warm, null, lab.responderCount(r, name)));
                    out.printf("%-10s %-5s warm-up     %s%n", r.label, auth, warm.summary());
                }
            } else {
                pid = lab.reconfigureResponder(r, setup, name);
            }
            String row = name + (cookies ? "-cookies" : "");
            LoadReport report = generate(row, r, pid, auth, load(options.warmup(), options.seconds()));
            rows.add(new Row("steady", r.label, auth, cookies ? "on" : "off", report, null, lab.responderCount(r, name)));
            out.printf("%-10s %-5s cookies %-3s %s%n", r.label, auth, cookies ? "on" : "off", report.summary());
        }
        lab.stopResponder();
        return rows;
    }

    /** The generator's arguments for the steady load of {@code options}. */
    private List<String> load(double warmup, double seconds) {
        return List.of("--threads", "" + options.threads(), "--window", "" + options.window(), "--rate", "" + options.rate(), "--warmup",
                "" + warmup, "--seconds", "" + seconds, "--sources", "" + options.sources(), "--first-source", IkeLoadLab.FIRST_SOURCE);
    }

    /** {@code burst} IKE_SA_INIT at once, one per address, against the responder's defaults. */
    private Row burst(Responder r) throws Exception {
        String name = r.label + "-burst";
        long pid = lab.startResponder(r, new Setup("psk", true), name);
        int threads = options.threads();
        LoadReport report = generate(name, r, pid, "psk", List.of("--threads", "" + threads, "--window", "" + (options.burst() + threads - 1) / threads,
                "--attempts", "" + options.burst(), "--warmup", "0", "--seconds", "60", "--sources", "" + Math.max(options.burst(), 1),
                "--first-source", IkeLoadLab.FIRST_SOURCE));
        Row row = new Row("burst", r.label, "psk", "defaults", report, null, lab.responderCount(r, name));
        out.printf("%-10s burst of %d: %s%n", r.label, options.burst(), report.summary());
        lab.stopResponder();
        return row;
    }

    /** A half-open flood with cookies answered, and a legitimate peer beside it. */
    private Row flood(Responder r) throws Exception {
        String name = r.label + "-flood";
        long pid = lab.startResponder(r, new Setup("psk", true), name);
        double seconds = options.floodSeconds();
        Process flood = startGenerator(name, r, pid, "psk", List.of("--abandon", "--threads", "" + options.threads(), "--window", "256",
                "--warmup", "0", "--seconds", "" + seconds, "--sources", "" + options.sources(), "--first-source", IkeLoadLab.FIRST_SOURCE));
        Thread.sleep(2000);
        // Once a second at most, one attempt at a time, from an address the flood does not use.
        Process legitimate = startGenerator(name + "-legitimate", r, 0, "psk", List.of("--threads", "1", "--window", "1", "--rate", "2",
                "--warmup", "0", "--seconds", "" + Math.max(1, seconds - 4), "--sources", "1", "--first-source", IkeLoadLab.LEGITIMATE_SOURCE,
                "--retransmit", "1", "--tries", "4"));
        LoadReport legit = finish(legitimate, name + "-legitimate", seconds + 60);
        LoadReport report = finish(flood, name, seconds + 60);
        Row row = new Row("flood", r.label, "psk", "defaults", report, legit, lab.responderCount(r, name));
        out.printf("%-10s half-open flood: %s%n%-10s legitimate peer beside it: %s%n", r.label, report.summary(), "", legit.summary());
        lab.stopResponder();
        return row;
    }

    private LoadReport generate(String name, Responder r, long responderPid, String auth, List<String> more) throws Exception {
        return finish(startGenerator(name, r, responderPid, auth, more), name, options.jitWarmup() + options.warmup() + options.seconds() + 180);
    }

    private Process startGenerator(String name, Responder r, long responderPid, String auth, List<String> more) throws IOException {
        List<String> command = new ArrayList<>(IkeLoadLab.java("3g", List.of()));
        command.add(IkeLoadGenerator.class.getName());
        command.addAll(List.of("--responder", r.address, "--responder-pid", "" + responderPid, "--auth", auth, "--json",
                lab.work().resolve(name + "-report.json").toString()));
        LoadPki.Certificates pki = lab.certificates();
        if (auth.equals("psk")) {
            command.addAll(List.of("--psk-file", lab.pskFile().toString(), "--responder-id", r.address));
        } else {
            command.addAll(List.of("--certificate", pki.generatorCertificate().toString(), "--key", pki.generatorKey().toString(), "--ca",
                    pki.ca().toString(), "--responder-id", LoadPki.RESPONDER_DN));
        }
        command.addAll(List.of("--priming", "" + options.priming()));
        command.addAll(more);
        Files.deleteIfExists(lab.work().resolve(name + "-report.json"));
        return lab.spawn(IkeLoadLab.GENERATOR, lab.work().resolve(name + "-generator.log"), command);
    }

    private LoadReport finish(Process generator, String name, double limitSeconds) throws Exception {
        if (!generator.waitFor((long) limitSeconds, TimeUnit.SECONDS)) {
            generator.destroyForcibly();
            throw new IOException("the generator of " + name + " did not finish in " + limitSeconds + " s; see "
                    + lab.work().resolve(name + "-generator.log"));
        }
        Path report = lab.work().resolve(name + "-report.json");
        if (generator.exitValue() != 0 || !Files.exists(report)) {
            throw new IOException("the generator of " + name + " failed (exit " + generator.exitValue() + "): "
                    + Files.readString(lab.work().resolve(name + "-generator.log")));
        }
        return Bench.JSON.readValue(report.toFile(), LoadReport.class);
    }

    /** The table: steady rows, then bursts and floods, each responder against the other where both ran. */
    static String table(List<Row> rows, Options o) {
        StringBuilder t = new StringBuilder();
        t.append(String.format("IKE SA setup rate: IKE SAs with a child SA each, %s %s, %d source addresses, generator %d threads x %d outstanding, "
                + "%s, warm-up %.0f s, window %.0f s; %d CPUs shared by generator and responder (and whatever else runs: see the load average);%n"
                + "SAs/core-s: IKE SAs a second the responder makes per core of CPU it gets (1000 / its ms of CPU per IKE SA)%n%n",
                "IKE aes128gcm16-prfsha256-x25519",
                "ESP aes128gcm16", o.sources(), o.threads(), o.window(), o.rate() > 0 ? "offered " + o.rate() + "/s" : "as fast as answered",
                o.warmup(), o.seconds(), Runtime.getRuntime().availableProcessors()));
        t.append(String.format("%-10s %-5s %-7s %9s %9s %8s %9s %8s %11s %10s %10s %11s %14s %8s%n", "responder", "auth", "cookies", "IKE SAs/s",
                "offered/s", "cookied", "no answer", "refused", "p50/p95 ms", "resp cores", "resp ms/SA", "SAs/core-s", "gen cores(max)",
                "load avg"));
        for (Row r : rows) {
            if (!r.kind().equals("steady")) {
                continue;
            }
            LoadReport x = r.report();
            t.append(String.format("%-10s %-5s %-7s %9.0f %9.0f %7.0f%% %9d %8d %11s %10.2f %10.2f %11.0f %8.2f(%3.0f%%) %8.1f%n", r.responder(),
                    r.auth(), r.cookies(), x.ikeSasPerSecond(), x.startedPerSecond(), percent(x.cookiedInWindow(), x.outcomesInWindow()), x.unanswered(),
                    refused(x), String.format("%.0f/%.0f", x.latencyMs().get(0), x.latencyMs().get(1)), x.responderCores(), x.responderMsPerIkeSa(),
                    x.responderMsPerIkeSa() > 0 ? 1000 / x.responderMsPerIkeSa() : 0, x.generatorCores(), x.generatorBusiestThread() * 100,
                    x.loadAverage()));
        }
        for (Row isthmus : rows) {
            if (!isthmus.kind().equals("steady") || !isthmus.responder().equals(Responder.ISTHMUS.label)) {
                continue;
            }
            rows.stream().filter(s -> s.kind().equals("steady") && s.responder().equals(Responder.STRONGSWAN.label) && s.auth().equals(isthmus.auth())
                    && s.cookies().equals(isthmus.cookies())).findFirst().ifPresent(s -> t.append(String.format(
                    "  %s, cookies %s: Isthmus %.2fx strongSwan's rate, %.2fx its CPU per IKE SA%n", isthmus.auth(), isthmus.cookies(),
                    ratio(isthmus.report().ikeSasPerSecond(), s.report().ikeSasPerSecond()),
                    ratio(isthmus.report().responderMsPerIkeSa(), s.report().responderMsPerIkeSa()))));
        }
        for (Row r : rows) {
            LoadReport x = r.report();
            if (r.kind().equals("burst")) {
                t.append(String.format("%n%-10s burst of %d IKE_SA_INIT at once (defaults): %d established, %d cookied, %d refused, %d never answered, "
                                + "%d gone, all done in %.1f s (%.0f/s); responder after: %s", r.responder(), x.attempts(),
                        x.outcomes().get("ESTABLISHED"), x.cookied(), refused(x), x.unanswered(), x.outcomes().get("GONE"), x.windowSeconds(),
                        x.ikeSasPerSecond(), r.responderCount()));
            } else if (r.kind().equals("flood")) {
                LoadReport l = r.legitimate();
                t.append(String.format("%n%-10s half-open flood (cookies answered, no IKE_AUTH): %.0f half-open IKE SAs made a second, %d cookied of %d, "
                                + "%d never answered; a legitimate peer beside it: %d of %d established, latency p50 %.0f ms, max %.0f ms; "
                                + "responder after: %s", r.responder(), x.outcomesInWindow().get("ABANDONED") / x.windowSeconds(), x.cookied(),
                        x.attempts(), x.unanswered(), l.outcomes().get("ESTABLISHED"), l.attempts(), l.latencyMs().get(0), l.latencyMs().get(3),
                        r.responderCount()));
            }
        }
        t.append(String.format("%n"));
        return t.toString();
    }

    private static long refused(LoadReport x) {
        return x.outcomes().get("REFUSED") + x.outcomes().get("NO_CHILD");
    }

    private static double percent(long part, java.util.Map<String, Long> whole) {
        long all = whole.values().stream().mapToLong(Long::longValue).sum();
        return all == 0 ? 0 : 100.0 * part / all;
    }

    private static double ratio(double a, double b) {
        return b <= 0 ? 0 : a / b;
    }
}
