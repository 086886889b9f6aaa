package io.isthmus.lab.bench;

import io.isthmus.control.Isthmus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway daemon itself ({@code isthmus gateway run}, this build, as systemd would run it) on
 * a configuration of n sites ({@link ManySites}), alone in a network namespace of its own with a
 * link to where the peers would be: how long it takes to start (configuration read and checked,
 * the host checked, the TUN device, the routes, the data plane's tables, the IKE engine's
 * connections), to reload the file unchanged and with 1 % of the sites given a prefix more, to
 * answer {@code /v1/status} and a Prometheus scrape, and what memory it holds, all measured from
 * outside as an operator would: curl's time for each answer, the daemon's own log line for its
 * start, /proc for its CPU time and RSS, jcmd for its live heap and native memory. Its
 * connections are ResponderOnly: nothing is sent, no SA comes up (the SAs' memory is
 * {@link TunnelsInProcess}'s part).
 */
public final class DaemonAtScale {
    private static final Pattern STARTED = Pattern.compile("gateway started in (\\d+) ms: configuration read and checked in (\\d+) ms, "
            + "the host in (\\d+) ms, the gateway with (\\d+) connections in (\\d+) ms");
    private static final Duration START_LIMIT = Duration.ofMinutes(10);

    /**
     * What the daemon did with n sites; times in seconds as seen from outside (curl, the process
     * spawned), CPU in seconds of the daemon's process; memory after the reloads, live heap after
     * a full collection.
     */
    public record Figures(int tunnels, double startSeconds, double startCpuSeconds, long loggedStartMs, long loggedConfigMs, long loggedHostMs,
                   long loggedGatewayMs, int routes, double reloadUnchangedSeconds, double reloadUnchangedCpuSeconds,
                   int changedSites, double reloadChangedSeconds, double reloadChangedCpuSeconds, double statusSeconds, double statusCpuSeconds,
                   long statusBytes, double scrapeSeconds, double scrapeCpuSeconds, long scrapeBytes, long rssKb, long heapLiveBytes,
                   long nativeKb) {
    }

    private final Path work;
    private final String ns;
    private final int n;
    /** Status and scrape requests measured, each after as many that warm the JIT up; 1: one, none before (CI's short form). */
    private final int runs;

    /** In {@code ns}, a {@link #namespace} made for it. */
    DaemonAtScale(Path work, int n, String ns, int runs) {
        this.work = work;
        this.n = n;
        this.ns = ns;
        this.runs = runs;
    }

    Figures run() throws IOException, InterruptedException {
        Files.createDirectories(work);
        Path config = work.resolve("daemon-" + n + ".yaml");
        Path socket = work.resolve("daemon-" + n + ".sock");
        Path log = work.resolve("daemon-" + n + ".log");
        ManySites.write(config, ManySites.yaml(n, 0, "tunbench0", "info"));
        {
            List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, javaCommand()));
            command.addAll(Isthmus.jvmOptions());
            command.addAll(List.of("-XX:NativeMemoryTracking=summary", "-cp", classPath(), Isthmus.class.getName(),
                    "gateway", "run", "--config", config.toString(), "--control-socket", socket.toString(), "--capture-directory",
                    work.resolve("captures-" + n).toString()));
            long spawned = System.nanoTime();
            Process daemon = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                long[] logged = awaitStart(daemon, log);
                double startSeconds = (System.nanoTime() - spawned) / 1e9;
                long pid = javaPid(daemon);
                double startCpu = cpuSeconds(pid);
                int routes = in("ip", "-4", "route", "show", "dev", "tunbench0").strip().split("\n").length;
                Thread.sleep(runs > 1 ? 1000 : 0);
                // After 3 requests each that warm the JIT up (a gateway scraped every 15 s is warm), 3 measured.
                List<String> statusRequest = List.of("curl", "-s", "--unix-socket", socket.toString(), "-o", "/dev/null", "-w",
                        "%{time_total} %{size_download} %{http_code}", "http://gateway/v1/status");
                List<String> scrapeRequest = List.of("ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w",
                        "%{time_total} %{size_download} %{http_code}", "http://127.0.0.1:9850/metrics");
                if (runs > 1) {
                    curl(statusRequest, runs, 0);
                    curl(scrapeRequest, runs, 0);
                    Thread.sleep(1100);
                }
                double c0 = cpuSeconds(pid);
                double[] status = curl(statusRequest, runs);
                double c1 = cpuSeconds(pid);
                double[] scrape = curl(scrapeRequest, runs);
                double c2 = cpuSeconds(pid);
                List<String> reload = List.of("curl", "-s", "--unix-socket", socket.toString(), "-X", "POST", "-o", "/dev/null", "-w",
                        "%{time_total} %{size_download} %{http_code}", "http://gateway/v1/reload");
                double cpu0 = cpuSeconds(pid);
                double[] unchanged = curl(reload, 1);
                double cpu1 = cpuSeconds(pid);
                int changed = Math.max(1, n / 100);
                ManySites.write(config, ManySites.yaml(n, changed, "tunbench0", "info"));
                double[] withChange = curl(reload, 1);
                double cpu2 = cpuSeconds(pid);
                int routesAfter = in("ip", "-4", "route", "show", "dev", "tunbench0").strip().split("\n").length;
                if (routesAfter != routes + changed) {
                    throw new IllegalStateException("after the reload that gave " + changed + " sites a prefix more, " + routesAfter
                            + " routes into the tunnel device, not " + (routes + changed));
                }
                long rss = rssKb(pid);
                long heap = heapLiveBytes(pid);
                long nativeKb = nativeKb(pid);
                return new Figures(n, startSeconds, startCpu, logged[0], logged[1], logged[2], logged[4], routes, unchanged[0], cpu1 - cpu0,
                        changed, withChange[0], cpu2 - cpu1, status[0], (c1 - c0) / 3, (long) status[1], scrape[0], (c2 - c1) / 3,
                        (long) scrape[1], rss, heap, nativeKb);
            } finally {
                stop(daemon);
            }
        }
    }

    /**
     * A namespace for one count: lo, and a veth pair whose one end holds the gateway's address,
     * with a default route through a router there (every peer's way, as ip route get answers).
     */
    static void namespace(String ns) throws IOException, InterruptedException {
        output(List.of("ip", "netns", "add", ns));
        for (List<String> c : List.of(List.of("ip", "link", "set", "lo", "up"), List.of("ip", "link", "add", "bench0", "type", "veth", "peer",
                "name", "bench1"), List.of("ip", "addr", "add", ManySites.GATEWAY + "/24", "dev", "bench0"), List.of("ip", "link", "set", "bench0",
                "up"), List.of("ip", "link", "set", "bench1", "up"), List.of("ip", "route", "add", "default", "via", ManySites.NEXT_HOP, "dev",
                "bench0"), List.of("sysctl", "-qw", "net.ipv4.ip_forward=1"))) {
            List<String> in = new ArrayList<>(List.of("ip", "netns", "exec", ns));
            in.addAll(c);
            output(in);
        }
    }

    static void deleteNamespace(String ns) throws IOException, InterruptedException {
        new ProcessBuilder("ip", "netns", "del", ns).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
    }

    /** Copies the daemon's output to its log until it says it started; returns the times it logged. */
    private long[] awaitStart(Process daemon, Path log) throws IOException, InterruptedException {
        CompletableFuture<long[]> started = new CompletableFuture<>();
        // A thread of its own: a virtual one reading a pipe could wait behind the others for a carrier.
        Thread.ofPlatform().daemon().name("daemon-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(daemon.getInputStream()));
                 var out = Files.newBufferedWriter(log)) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    out.write(line);
                    out.newLine();
                    out.flush();
                    Matcher m = STARTED.matcher(line);
                    if (m.find()) {
                        out.flush();
                        started.complete(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                                Long.parseLong(m.group(4)), Long.parseLong(m.group(5))});
                    }
                }
            } catch (IOException e) {
                started.completeExceptionally(e);
            }
            started.completeExceptionally(new IllegalStateException("the gateway ended before it started: see " + log));
        });
        try {
            return started.get(START_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the gateway did not start within " + START_LIMIT.toMinutes() + " minutes: see " + log);
        }
    }

    /** The java process under ip netns exec (which execs it, so the same process). */
    private static long javaPid(Process daemon) {
        return daemon.pid();
    }

    /**
     * {@code runs} requests, more than a second apart (a scrape reuses a snapshot younger than a
     * second); the median time, the size answered. Fails on an answer other than 200.
     */
    private double[] curl(List<String> command, int runs) throws IOException, InterruptedException {
        return curl(command, runs, 0);
    }

    /** As {@link #curl(List, int)}, after {@code warmUp} requests not counted (the JIT's first compilations). */
    private double[] curl(List<String> command, int runs, int warmUp) throws IOException, InterruptedException {
        if (warmUp > 0) {
            curl(command, warmUp, 0);
            Thread.sleep(1100);
        }
        double[] seconds = new double[runs];
        long size = 0;
        for (int i = 0; i < runs; i++) {
            if (i > 0) {
                Thread.sleep(1100);
            }
            String[] w = output(command).strip().split(" ");
            if (w.length != 3 || !w[2].equals("200")) {
                throw new IllegalStateException(String.join(" ", command) + " answered " + String.join(" ", w));
            }
            seconds[i] = Double.parseDouble(w[0]);
            size = Long.parseLong(w[1]);
        }
        Arrays.sort(seconds);
        return new double[] {seconds[runs / 2], size};
    }

    /** User and system CPU of the process so far, from /proc (clock ticks of 1/100 s). */
    private static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** Live heap after a full collection: the class histogram's total. */
    private static long heapLiveBytes(long pid) throws IOException, InterruptedException {
        String text = output(List.of(jcmd(), Long.toString(pid), "GC.class_histogram"));
        Matcher m = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Native memory committed outside the heap (Native Memory Tracking's total less its Java Heap), in KB. */
    private static long nativeKb(long pid) throws IOException, InterruptedException {
        String text = output(List.of(jcmd(), Long.toString(pid), "VM.native_memory", "summary"));
        Matcher total = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB").matcher(text);
        Matcher heap = Pattern.compile("Java Heap \\(reserved=\\d+KB, committed=(\\d+)KB\\)").matcher(text);
        return total.find() && heap.find() ? Long.parseLong(total.group(1)) - Long.parseLong(heap.group(1)) : -1;
    }

    private static String jcmd() {
        return Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    }

    /** This JVM's class path (under surefire, the tests', which its own property names). */
    static String classPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    static String javaCommand() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** SIGTERM, as systemd stops it; a kill if it has not gone within 30 s. */
    private static void stop(Process daemon) throws InterruptedException {
        daemon.destroy();
        if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
            daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private String in(String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(command));
        return output(c);
    }

    static String output(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }
}
