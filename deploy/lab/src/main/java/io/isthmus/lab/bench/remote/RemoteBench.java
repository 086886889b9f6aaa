package io.isthmus.lab.bench.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.isthmus.lab.bench.Bench;
import io.isthmus.lab.bench.Bench.Row;
import io.isthmus.lab.bench.Iperf;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The throughput benchmark across two machines, driven from gateway-a: one gateway per machine
 * on its real interface, a site namespace behind each ({@link BenchMachine}), gateway-b's part
 * done by a {@link BenchAgent} reached over SSH or started by hand ({@link RemoteLink}). For
 * each path in turn, both gateways are started (b first, as the responder), the path is waited
 * for with ping, and the namespace bench's measurements are made from site A to site B
 * ({@link Iperf}); the rows are {@link Bench.Row}s, printed by the same table, each figure a
 * ratio to plain routing between the same two machines in the same run.
 *
 * <p>CPU time is both machines' gateway processes together (as the namespace bench counts both
 * gateways), peak RSS the larger of the two. A path that one machine cannot run (a program
 * missing, a port taken) is skipped with the reason printed, never measured half.
 */
public final class RemoteBench {
    /** The sites behind the two machines: from the range set aside for benchmarks (RFC 2544), so no real network is shadowed. */
    public static final String SITE_A = "198.18.1.0/24";
    public static final String SITE_B = "198.18.2.0/24";

    private final String peer;
    private final int seconds;
    private final int pings;
    private final boolean keepLogs;
    private final PrintStream log;

    /**
     * @param peer     gateway-b's address, as gateway-a sends to it (its tunnel endpoint)
     * @param keepLogs keep each machine's logs (not the configurations, which hold the key) in /tmp after the run
     */
    public RemoteBench(String peer, int seconds, int pings, boolean keepLogs, PrintStream log) {
        this.peer = peer;
        this.seconds = seconds;
        this.pings = pings;
        this.keepLogs = keepLogs;
        this.log = log;
    }

    /** A path left out, and why. */
    public record Skipped(String path, String id, String reason) {
    }

    /** The whole run's result: the rows measured, the paths skipped, and both machines' facts. */
    public record Result(List<Row> rows, List<Skipped> skipped, MachineFacts a, MachineFacts b) {
        /** Every path that was not skipped produced every figure. */
        public boolean complete() {
            return !rows.isEmpty() && rows.stream().allMatch(Row::complete);
        }
    }

    /** Runs every path over {@code link}; both machines are cleaned up when it returns or throws. */
    public Result run(RemoteLink link, List<RemotePath> paths) throws IOException, InterruptedException {
        BenchMachine machine = new BenchMachine(true, SITE_A, SITE_B, Path.of("/tmp/isthmus-bench-remote"), keepLogs);
        try (link; machine) {
            link.onLoss(() -> {
                log.println("gateway-b is gone: the run stops");
                machine.abort("gateway-b is gone");
            });
            MachineFacts a = MachineFacts.probe(MachineFacts.ipv4("--peer", peer));
            ObjectNode hello = AgentChannel.message("hello").put("a", a.address()).put("b", peer).put("seconds", seconds).put("keepLogs", keepLogs);
            MachineFacts b = AgentChannel.JSON.treeToValue(link.request(hello).path("facts"), MachineFacts.class);
            log.printf("gateway-a %s (%s, %d cores, kernel %s) - gateway-b %s (%s, %d cores, kernel %s)%n", a.address(), a.device(), a.cores(),
                    a.kernel(), b.address(), b.device(), b.cores(), b.kernel());
            for (var m : List.of(a, b)) {
                if (!m.has("iperf3") || !m.has("ping")) {
                    throw new IOException((m == a ? "gateway-a" : "gateway-b") + " lacks iperf3 or ping: apt install iperf3 iputils-ping");
                }
            }
            machine.up();
            List<Row> rows = new ArrayList<>();
            List<Skipped> skipped = new ArrayList<>();
            for (RemotePath p : paths) {
                String why = skipReason(p, a, b);
                if (why != null) {
                    log.printf("%s: skipped: %s%n", p.label(), why);
                    skipped.add(new Skipped(p.label(), p.id(), why));
                    continue;
                }
                if (!link.alive()) {
                    skipped.add(new Skipped(p.label(), p.id(), "not run: gateway-b is gone"));
                    continue;
                }
                log.printf("%s: %s ...%n", p.label(), p.description);
                Row r;
                try {
                    r = measure(p, machine, link, a);
                } catch (IOException e) {
                    // The link is gone (measure lets only that through): this row failed, the rest cannot run.
                    r = failed(p, e.getMessage());
                }
                log.printf("%s: %s%n", p.label(), r.error() != null ? "FAILED: " + r.error() : String.format(
                        "TCP %.2f / %.2f Gbit/s, UDP %.0f / %.0f packets/s, ping %.3f / %.3f ms, CPU %.1f s in %.0f s, RSS %d MB", r.tcp1Gbps(),
                        r.tcp4Gbps(), r.udp64Pps(), r.udp1400Pps(), r.pingMedianMs(), r.pingP99Ms(), r.gatewayCpuSeconds(),
                        r.measuredSeconds(), r.peakRssKb() / 1024));
                rows.add(r);
            }
            if (link.alive()) {
                link.request(AgentChannel.message("bye"));
            }
            return new Result(rows, skipped, a, b);
        }
    }

    /** Why a path cannot run on these two machines, or null. */
    static String skipReason(RemotePath p, MachineFacts a, MachineFacts b) {
        List<String> why = new ArrayList<>();
        for (boolean onA : new boolean[] {true, false}) {
            MachineFacts m = onA ? a : b;
            String who = onA ? "gateway-a" : "gateway-b";
            RemotePath.Kind kind = p.kind(onA);
            List<String> programs = switch (kind) {
                case STRONGSWAN -> List.of("charon", "swanctl");
                case WIREGUARD -> List.of("wireguard-go", "wg");
                default -> List.of();
            };
            List<String> missing = programs.stream().filter(x -> !m.has(x)).toList();
            if (!missing.isEmpty()) {
                why.add(who + " has no " + String.join(" or ", missing) + " (apt install " + MachineFacts.packagesFor(kind) + ")");
            }
            List<Integer> ports = switch (kind) {
                case ISTHMUS, STRONGSWAN -> List.of(500, 4500);
                case WIREGUARD -> List.of(RemotePath.WIREGUARD_PORT);
                case PLAIN -> List.of();
            };
            List<Integer> taken = ports.stream().filter(m.busyUdpPorts()::contains).toList();
            if (!taken.isEmpty()) {
                why.add(who + ": UDP " + taken + " in use by another program (an IPsec or WireGuard daemon? `ss -ulpn` says which; stop it for the run)");
            }
            if (kind == RemotePath.Kind.PLAIN && !m.onLink()) {
                why.add(who + " reaches the other through a router, which knows no route to the bench's sites: plain routing needs the two on one link");
            }
        }
        return why.isEmpty() ? null : String.join("; ", why);
    }

    private Row measure(RemotePath path, BenchMachine machine, RemoteLink link, MachineFacts a) throws InterruptedException, IOException {
        try {
            String[] wg = path.kind(true) == RemotePath.Kind.WIREGUARD ? machine.wireguardKeys(path) : null;
            ObjectNode up = AgentChannel.message("up").put("path", path.id());
            if (wg != null) {
                up.put("wireguardPublicKey", wg[1]);
            }
            JsonNode b = link.request(up);
            machine.startGateway(path, new GatewayConfigs(true, a.address(), peer, SITE_A, SITE_B, link.presharedKey()), a,
                    wg == null ? null : wg[0], b.path("wireguardPublicKey").asText(null));
            String far = BenchMachine.host(SITE_B);
            if (!awaitPath(machine, far)) {
                throw new IOException("no traffic from site A to site B after 40 s (a firewall's forward chain? `nft list ruleset`, "
                        + "`iptables -S FORWARD` on both)");
            }
            Thread.sleep(500);
            Iperf iperf = new Iperf(machine, machine.siteNamespace(), far, seconds);
            // Unmeasured: the JIT compiles Isthmus's packet paths, every path gets the same.
            iperf.run(Math.min(2, seconds));
            long cpuBefore = machine.cpuTicks() + link.request(AgentChannel.message("usage")).path("cpuTicks").asLong();
            long wallBefore = System.nanoTime();
            JsonNode tcp1 = iperf.tcp(1);
            JsonNode tcp4 = iperf.tcp(4);
            double udp64 = iperf.udpPacketsPerSecond(64);
            double udp1400 = iperf.udpPacketsPerSecond(1400);
            double[] rtt = iperf.ping(pings);
            JsonNode usage = link.request(AgentChannel.message("usage"));
            double cpu = (machine.cpuTicks() + usage.path("cpuTicks").asLong() - cpuBefore) / 100.0; // USER_HZ
            double wall = (System.nanoTime() - wallBefore) / 1e9;
            return new Row(path.label(), path.id(), path.description, Iperf.gbps(tcp1), Iperf.retransmits(tcp1), Iperf.gbps(tcp4), udp64,
                    udp1400, Bench.percentile(rtt, 0.5), Bench.percentile(rtt, 0.99), rtt.length, cpu, wall,
                    Math.max(machine.peakRssKb(), usage.path("peakRssKb").asLong()), null);
        } catch (IOException e) {
            // A measurement that failed because gateway-b died (its iperf3 server with it) must say so, and end the run,
            // even before the link's reader has seen the end: asking gateway-b for its logs finds out (and throws if so).
            return failed(path, e.getMessage() + logs(machine, link));
        } finally {
            machine.stopGateway();
            if (link.alive()) {
                try {
                    link.request(AgentChannel.message("down"));
                } catch (IOException e) {
                    log.printf("gateway-b did not stop its gateway: %s%n", e.getMessage());
                }
            }
        }
    }

    private static boolean awaitPath(BenchMachine machine, String far) throws InterruptedException, IOException {
        long end = System.nanoTime() + 40_000_000_000L;
        while (System.nanoTime() < end) {
            try {
                machine.in(machine.siteNamespace(), "ping", "-c", "1", "-W", "1", far);
                return true;
            } catch (IOException e) {
                if (machine.aborted() != null) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
        return false;
    }

    /** Both machines' log ends for a failed row; throws if gateway-b is gone (its logs with it). */
    private static String logs(BenchMachine machine, RemoteLink link) throws IOException {
        String b;
        try {
            b = link.request(AgentChannel.message("logs")).path("logs").asText();
        } catch (RemoteLink.Refused e) {
            b = e.getMessage();
        }
        return "; gateway-a logs: " + machine.logTails() + "; gateway-b logs: " + b;
    }

    private static Row failed(RemotePath path, String error) {
        return new Row(path.label(), path.id(), path.description, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0,
                0, 0, 0, error);
    }

    // ------------------------------------------------------------------------------------------
    // Output: the namespace bench's table, and its JSON with both machines' facts and the skipped paths
    // ------------------------------------------------------------------------------------------

    public String json(Result r, Instant started) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("started", started.toString());
        doc.put("mode", "two machines");
        doc.put("gatewayA", r.a());
        doc.put("gatewayB", r.b());
        doc.put("sites", List.of(SITE_A, SITE_B));
        doc.put("secondsPerMeasurement", seconds);
        doc.put("pings", pings);
        doc.put("udpPacketBytes", List.of(64, 1400));
        doc.put("rows", r.rows());
        doc.put("skipped", r.skipped());
        return Bench.JSON.writeValueAsString(doc);
    }

    /** Runs, prints the table and the skipped paths, and writes the JSON to {@code jsonFile}. */
    public Result runAndReport(RemoteLink link, List<RemotePath> paths, Path jsonFile, PrintStream out) throws IOException, InterruptedException {
        Instant started = Instant.now();
        Result r = run(link, paths);
        Files.writeString(jsonFile, json(r, started));
        out.println();
        out.printf("gateway-a %s - gateway-b %s; %d s per measurement, %d pings; in brackets: ratio to plain routing (ping: time added); "
                + "JSON in %s%n%n", r.a().address(), r.b().address(), seconds, pings, jsonFile);
        out.print(Bench.table(r.rows()));
        for (Skipped s : r.skipped()) {
            out.printf("%nskipped %s: %s", s.path(), s.reason());
        }
        out.println();
        out.print(Bench.summary(r.rows()));
        return r;
    }
}
