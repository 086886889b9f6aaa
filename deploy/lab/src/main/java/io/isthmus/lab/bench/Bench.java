package io.isthmus.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.isthmus.lab.Lab;
import io.isthmus.lab.LabGateways;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.Pairing;
import io.isthmus.lab.WireGuard;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The throughput benchmark: for each path in turn, the same lab (host-a, gw-a, gw-b, host-b in
 * network namespaces, {@link Lab}) with different gateways, and the same measurements through
 * it with iperf3 and ping, from host-a to host-b:
 *
 * <ul>
 *   <li>TCP, one stream and four;
 *   <li>UDP packets per second received, IP packets of 64 and 1400 bytes, sent as fast as iperf3 can;
 *   <li>ping round trip, median and 99th percentile;
 *   <li>the gateways' CPU time over all of it (user and system, from /proc of every process in
 *       the two gateway namespaces), also over the time it took (cores kept busy), and the peak
 *       resident memory of the larger one. Kernel work done in softirq on behalf of the
 *       gateways (forwarding, veth) is not theirs in /proc, so plain veth shows none.
 * </ul>
 *
 * Every figure is also given as a ratio to plain veth (the same namespaces, the gateways
 * plain routers), measured in the same run: the machines are shared and noisy, so only ratios
 * measured together compare.
 */
public final class Bench {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** IP packet sizes of the UDP tests, and the iperf3 payloads that make them (minus IPv4 20 and UDP 8). */
    static final int SMALL = 64;
    static final int LARGE = 1400;

    /** What carries the traffic between the two sites. */
    public enum Path {
        PLAIN_VETH("plain veth", "no tunnel: gw-a and gw-b route"),
        ISTHMUS_AES128GCM("isthmus aes128gcm16", "Isthmus to Isthmus, AES-GCM-128, ESP in UDP, one packet thread each"),
        ISTHMUS_NAT_STATIC("isthmus aes128gcm16 static NAT", "as isthmus-aes128gcm, with a Static IngressSnat rule on gw-b's connection "
                + "(site A's 192.168.10.0/24 seen at B as 100.64.10.0/24): every packet translated at gw-b, both ways"),
        ISTHMUS_NAT_DYNAMIC("isthmus aes128gcm16 dynamic NAT", "as isthmus-aes128gcm, with a Dynamic EgressSnat rule on gw-a's connection "
                + "(host-a's network hidden behind 100.70.0.1): every packet translated at gw-a by its flow, both ways"),
        ISTHMUS_AES256GCM("isthmus aes256gcm16", "Isthmus to Isthmus, AES-GCM-256, ESP in UDP, one packet thread each"),
        ISTHMUS_CHACHA20POLY1305("isthmus chacha20poly1305", "Isthmus to Isthmus, ChaCha20-Poly1305, ESP in UDP, one packet thread each"),
        ISTHMUS_RAW_ESP("isthmus aes128gcm16 raw ESP",
                "as isthmus-aes128gcm, but ESP as IP protocol 50 (sendmmsg and recvmmsg batches: raw sockets have no GSO/GRO)"),
        ISTHMUS_NO_OFFLOADS("isthmus aes128gcm16 no offloads", "as isthmus-aes128gcm, but offloads off (a system call per packet)"),
        ISTHMUS_TWO_THREADS("isthmus aes128gcm16 two threads", "as isthmus-aes128gcm, but two packet threads (lanes) per gateway"),
        ISTHMUS_BUSY_POLL("isthmus aes128gcm16 busy poll", "as isthmus-aes128gcm, with tunnel.busyPoll: true (packet threads poll "
                + "200 µs after each packet before they sleep)"),
        ISTHMUS_CAPTURING("isthmus aes128gcm16 capturing", "as isthmus-aes128gcm, with gw-a capturing both layers both ways, "
                + "the first 128 bytes of each packet (isthmus capture start --snap-length 128)"),
        ISTHMUS_STRONGSWAN("isthmus - strongswan", "Isthmus (A, one packet thread) to strongSwan 5.9.8 kernel-libipsec (B), AES-GCM-128"),
        STRONGSWAN_STRONGSWAN("strongswan - strongswan", "strongSwan 5.9.8 kernel-libipsec both ends, AES-GCM-128"),
        WIREGUARD_GO("wireguard-go", "wireguard-go (Debian package) both ends, ChaCha20-Poly1305");

        final String label;
        final String description;

        Path(String label, String description) {
            this.label = label;
            this.description = description;
        }

        public static Path parse(String text) {
            return valueOf(text.toUpperCase().replace('-', '_'));
        }

        public String id() {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /** The paths run by default, in this order (the diagnostic ones only on request). */
    public static final List<Path> DEFAULT = List.of(Path.PLAIN_VETH, Path.ISTHMUS_AES128GCM, Path.ISTHMUS_NAT_STATIC, Path.ISTHMUS_NAT_DYNAMIC,
            Path.ISTHMUS_AES256GCM,
            Path.ISTHMUS_CHACHA20POLY1305, Path.ISTHMUS_STRONGSWAN, Path.STRONGSWAN_STRONGSWAN, Path.WIREGUARD_GO);

    /** One path's figures; NaN where a measurement produced nothing. */
    public record Row(String path, String id, String description, double tcp1Gbps, long tcp1Retransmits, double tcp4Gbps,
                      double udp64Pps, double udp1400Pps, double pingMedianMs, double pingP99Ms, int pings, double gatewayCpuSeconds,
                      double measuredSeconds, long peakRssKb, String error) {
        /** The gateways' CPU time over the time measured: how many cores they kept busy on average. */
        public double gatewayCores() {
            return measuredSeconds > 0 ? gatewayCpuSeconds / measuredSeconds : Double.NaN;
        }

        /** Whether every figure was produced. */
        public boolean complete() {
            return error == null && tcp1Gbps > 0 && tcp4Gbps > 0 && udp64Pps > 0 && udp1400Pps > 0 && pingMedianMs > 0 && pingP99Ms > 0;
        }
    }

    private final java.nio.file.Path work;
    private final int seconds;
    private final int pings;
    private final PrintStream log;

    public Bench(java.nio.file.Path work, int seconds, int pings, PrintStream log) {
        this.work = work;
        this.seconds = seconds;
        this.pings = pings;
        this.log = log;
    }

    public List<Row> run(List<Path> paths) throws InterruptedException {
        List<Row> rows = new ArrayList<>();
        for (Path p : paths) {
            log.printf("%s: %s ...%n", p.label, p.description);
            Row r = run(p);
            log.printf("%s: %s%n", p.label, r.error != null ? "FAILED: " + r.error : String.format(
                    "TCP %.2f / %.2f Gbit/s, UDP %.0f / %.0f packets/s, ping %.3f / %.3f ms, CPU %.1f s in %.0f s, RSS %d MB", r.tcp1Gbps,
                    r.tcp4Gbps, r.udp64Pps, r.udp1400Pps, r.pingMedianMs, r.pingP99Ms, r.gatewayCpuSeconds, r.measuredSeconds,
                    r.peakRssKb / 1024));
            rows.add(r);
        }
        return rows;
    }

    private Row run(Path path) throws InterruptedException {
        try (Lab lab = Lab.up(work, false)) {
            start(lab, path);
            // Room for two JVMs to start and meet on a machine other work loads: at a load of 19 on two
            // cores both gateways took over 40 s to start and begin IKE.
            if (!lab.awaitPath(Duration.ofSeconds(120), false)) {
                return failed(path, "no traffic from host-a to host-b after 120 s; logs in " + lab.work());
            }
            natApplied(lab, path);
            Thread.sleep(500);
            CaptureKeeper keeper = path == Path.ISTHMUS_CAPTURING ? new CaptureKeeper(LabGateways.socket(lab, Lab.Side.A)) : null;
            lab.spawn(Lab.HOST_B, lab.work().resolve("iperf3-server.log"), List.of("iperf3", "-s"));
            Thread.sleep(500);
            Iperf iperf = new Iperf(lab, Lab.HOST_A, Lab.HOST_B_IP, seconds);
            // Unmeasured: the JIT compiles Isthmus's packet paths, every path gets the same.
            iperf.run(Math.min(2, seconds));
            long cpuBefore = cpuTicks(lab);
            long wallBefore = System.nanoTime();
            JsonNode tcp1 = iperf.tcp(1);
            // One stream's cost to two Isthmus gateways per GB carried: load from elsewhere on the machine moves it far less than the rate.
            double tcp1Gb = tcp1.path("end").path("sum_received").path("bytes").asDouble() / 1e9;
            if (path.name().startsWith("ISTHMUS_") && path != Path.ISTHMUS_STRONGSWAN && tcp1Gb > 0) {
                log.printf("%s: one TCP stream took the gateways %.2f CPU s per GB%n", path.label, (cpuTicks(lab) - cpuBefore) / 100.0 / tcp1Gb);
            }
            JsonNode tcp4 = iperf.tcp(4);
            double udp64 = iperf.udpPacketsPerSecond(SMALL);
            double udp1400 = iperf.udpPacketsPerSecond(LARGE);
            double[] rtt = iperf.ping(pings);
            double cpu = (cpuTicks(lab) - cpuBefore) / 100.0; // USER_HZ
            double wall = (System.nanoTime() - wallBefore) / 1e9;
            if (keeper != null) {
                log.println(keeper.stop());
            }
            return new Row(path.label, path.id(), path.description, Iperf.gbps(tcp1), Iperf.retransmits(tcp1),
                    Iperf.gbps(tcp4), udp64, udp1400, percentile(rtt, 0.5), percentile(rtt, 0.99), rtt.length, cpu, wall, peakRssKb(lab), null);
        } catch (IOException | RuntimeException e) {
            return failed(path, e.getMessage());
        }
    }

    /**
     * Keeps gw-a capturing everything it carries, both layers, cut to 128 bytes: at these rates a
     * capture fills its largest file (1 GiB) in seconds, so when one ends the next starts
     * (checked every 100 ms), and the figures say how many it took and how long none ran.
     */
    private static final class CaptureKeeper {
        private final java.nio.file.Path socket;
        private final Thread thread;
        private volatile boolean stop;
        private int captures;
        private long packets;
        private long dropped;
        private long bytes;
        private long gapNanos;

        CaptureKeeper(java.nio.file.Path socket) throws IOException {
            this.socket = socket;
            start();
            this.thread = Thread.ofVirtual().name("bench-capture-keeper").start(this::keep);
        }

        private void start() throws IOException {
            JsonNode started = io.isthmus.control.GatewayClient.startCapture(socket,
                    "{\"snapLength\": 128, \"maxBytes\": 1073741824, \"durationSeconds\": 3600}");
            if (started.has("error")) {
                throw new IOException("capture: " + started.path("error").asText());
            }
            captures++;
        }

        private void keep() {
            while (!stop) {
                try {
                    Thread.sleep(100);
                    JsonNode st = io.isthmus.control.GatewayClient.captures(socket);
                    if (!st.has("running") && !stop) {
                        long gapFrom = System.nanoTime();
                        count(st.path("last"));
                        start();
                        gapNanos += System.nanoTime() - gapFrom + 50_000_000L; // half a check's period, on average, before it was seen
                    }
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }

        /** Adds an ended capture's figures, and deletes its file: a gigabyte of benchmark packets is nobody's to keep. */
        private void count(JsonNode summary) {
            packets += summary.path("packets").asLong();
            dropped += summary.path("dropped").asLong();
            bytes += summary.path("bytes").asLong();
            try {
                Files.deleteIfExists(java.nio.file.Path.of(summary.path("file").asText()));
            } catch (IOException | java.nio.file.InvalidPathException ignored) {
                // the lab's directory goes with the lab's next run
            }
        }

        /** Ends the last capture; what they all held. */
        String stop() throws IOException, InterruptedException {
            stop = true;
            thread.join();
            count(io.isthmus.control.GatewayClient.post(socket, "captures/stop"));
            return String.format("capture: %d capture(s), %d packets, %d MB, %d dropped (the writer behind), about %d ms with none running",
                    captures, packets, bytes >> 20, dropped, gapNanos / 1_000_000);
        }
    }

    private static Row failed(Path path, String why) {
        return new Row(path.label, path.id(), path.description, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0,
                Double.NaN, Double.NaN, 0, why);
    }

    private void start(Lab lab, Path path) throws IOException, InterruptedException {
        switch (path) {
            case PLAIN_VETH -> {
                lab.in(Lab.GW_A, "ip", "route", "add", "192.168.20.0/24", "via", Lab.GW_B_WAN);
                lab.in(Lab.GW_B, "ip", "route", "add", "192.168.10.0/24", "via", lab.gatewayAWan());
            }
            case ISTHMUS_AES128GCM -> Pairing.ISTHMUS_ISTHMUS.start(lab, Pairing.POLICY, Bench::isthmus);
            case ISTHMUS_NAT_STATIC, ISTHMUS_NAT_DYNAMIC -> {
                String[] configs = natConfigs(lab, path == Path.ISTHMUS_NAT_STATIC);
                LabGateways.startIsthmus(lab, Lab.Side.B, configs[1]);
                Thread.sleep(1500); // listening before the first IKE_SA_INIT comes
                LabGateways.startIsthmus(lab, Lab.Side.A, configs[0]);
            }
            case ISTHMUS_AES256GCM -> Pairing.ISTHMUS_ISTHMUS.start(lab, policy("GCMAES256"), Bench::isthmus);
            case ISTHMUS_CHACHA20POLY1305 -> Pairing.ISTHMUS_ISTHMUS.start(lab, policy("CHACHA20POLY1305"), Bench::isthmus);
            case ISTHMUS_RAW_ESP -> Pairing.ISTHMUS_ISTHMUS.start(lab, Pairing.POLICY, o -> o.withPacketThreads(1));
            case ISTHMUS_NO_OFFLOADS -> Pairing.ISTHMUS_ISTHMUS.start(lab, Pairing.POLICY, o -> isthmus(o).withoutOffloads());
            case ISTHMUS_TWO_THREADS -> Pairing.ISTHMUS_ISTHMUS.start(lab, Pairing.POLICY, o -> isthmus(o).withPacketThreads(2));
            case ISTHMUS_CAPTURING -> Pairing.ISTHMUS_ISTHMUS.start(lab, Pairing.POLICY, Bench::isthmus);
            case ISTHMUS_BUSY_POLL -> {
                LabGateways.startIsthmus(lab, Lab.Side.B, busyPoll(LabGateways.isthmusConfig(lab, Lab.Side.B,
                        isthmus(new IsthmusOptions("ResponderOnly", Pairing.POLICY)))));
                Thread.sleep(1500); // listening before the first IKE_SA_INIT comes
                LabGateways.startIsthmus(lab, Lab.Side.A, busyPoll(LabGateways.isthmusConfig(lab, Lab.Side.A,
                        isthmus(new IsthmusOptions("InitiatorOnly", Pairing.POLICY)))));
            }
            case ISTHMUS_STRONGSWAN -> Pairing.ISTHMUS_STRONGSWAN.start(lab, Pairing.POLICY, o -> o.withPacketThreads(1));
            case STRONGSWAN_STRONGSWAN -> Pairing.STRONGSWAN_STRONGSWAN.start(lab);
            case WIREGUARD_GO -> WireGuard.start(lab);
        }
    }

    /** A lab gateway's configuration with {@code tunnel.busyPoll: true} added (the busy-poll path). */
    static String busyPoll(String config) {
        String threads = "\n    packetThreads: 1\n";
        if (!config.contains(threads)) {
            throw new IllegalStateException("the lab's configuration no longer sets packetThreads as the busy-poll path expects:\n" + config);
        }
        return config.replace(threads, threads + "    busyPoll: true\n");
    }

    /** The address a Dynamic rule hides host-a's network behind, in the dynamic NAT path. */
    static final String HIDDEN_AS = "100.70.0.1";

    /**
     * gw-a's and gw-b's configurations of a NAT path: those of isthmus-aes128gcm, on VpnGw2 (NAT's
     * least SKU) with one rule on the measured connection. Static: at gw-b, an IngressSnat rule
     * shows site A as 100.64.10.0/24 (host-b answers 100.64.10.10, routed back into the tunnel);
     * dynamic: at gw-a, an EgressSnat rule hides 192.168.10.0/24 behind 100.70.0.1, which gw-b
     * takes as one of site A's prefixes. host-a still sends to host-b's real address, so every
     * measurement is the same as without NAT.
     */
    public static String[] natConfigs(Lab lab, boolean staticRule) {
        String a = LabGateways.isthmusConfig(lab, Lab.Side.A, isthmus(new IsthmusOptions("InitiatorOnly", Pairing.POLICY)));
        String b = LabGateways.isthmusConfig(lab, Lab.Side.B, isthmus(new IsthmusOptions("ResponderOnly", Pairing.POLICY)));
        if (staticRule) {
            b = withNatRule(b, "{name: site-a-in, type: Static, mode: IngressSnat, internalMappings: [192.168.10.0/24], "
                    + "externalMappings: [100.64.10.0/24]}", "ingressNatRules: [site-a-in]");
        } else {
            a = withNatRule(a, "{name: hide-a, type: Dynamic, mode: EgressSnat, internalMappings: [192.168.10.0/24], "
                    + "externalMappings: [" + HIDDEN_AS + "/32]}", "egressNatRules: [hide-a]");
            String prefixes = "addressPrefixes: [192.168.10.0/24, fd10::/64]";
            if (!b.contains(prefixes)) {
                throw new IllegalStateException("gw-b's configuration no longer names site A's prefixes as " + prefixes);
            }
            b = b.replace(prefixes, "addressPrefixes: [192.168.10.0/24, fd10::/64, " + HIDDEN_AS + "/32]");
        }
        return new String[] {a, b};
    }

    private static String withNatRule(String config, String rule, String use) {
        if (!config.contains("sku: VpnGw1") || !config.contains("\nlocalNetworkGateways:") || !config.endsWith("\n")) {
            throw new IllegalStateException("the lab's configuration is not as the NAT paths expect it:\n" + config);
        }
        return config.replace("sku: VpnGw1", "sku: VpnGw2").replace("\nlocalNetworkGateways:", "\n  natRules:\n    - " + rule
                + "\nlocalNetworkGateways:") + "    " + use + "\n";
    }

    /**
     * A NAT path measures NAT only if the gateway applies its rule: its status lists it, and a
     * Dynamic one holds the flow of the ping that found the path. Else the row fails.
     */
    private static void natApplied(Lab lab, Path path) throws IOException {
        if (path != Path.ISTHMUS_NAT_STATIC && path != Path.ISTHMUS_NAT_DYNAMIC) {
            return;
        }
        JsonNode st = io.isthmus.control.GatewayClient.status(LabGateways.socket(lab, path == Path.ISTHMUS_NAT_STATIC ? Lab.Side.B : Lab.Side.A));
        JsonNode rules = st.path("connections").get(0).path("natRules");
        if (rules.size() != 1 || path == Path.ISTHMUS_NAT_DYNAMIC && rules.get(0).path("flowsInUse").asInt() < 1) {
            throw new IOException("the NAT rule is not applied: " + st.path("connections").get(0));
        }
    }

    /**
     * How the benchmark runs Isthmus: ESP in UDP (where the kernel's UDP GSO and GRO apply; raw
     * ESP has no such offload), and one packet thread per gateway, because here two gateways,
     * iperf3 and the kernel share two cores (the two-threads row shows the difference).
     */
    private static IsthmusOptions isthmus(IsthmusOptions o) {
        return o.withUdpEncapsulation().withPacketThreads(1);
    }

    /** The lab's policy with another ESP cipher (IKE stays AES-GCM-128). */
    private static String policy(String espCipher) {
        return Pairing.POLICY.replace("ipsecEncryption: GCMAES128", "ipsecEncryption: " + espCipher)
                .replace("ipsecIntegrity: GCMAES128", "ipsecIntegrity: " + espCipher);
    }

    public static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** The processes of both gateway namespaces (Isthmus JVMs, charons, wireguard-go). */
    private static List<Long> gatewayPids(Lab lab) throws IOException, InterruptedException {
        List<Long> pids = new ArrayList<>();
        for (String ns : List.of(Lab.GW_A, Lab.GW_B)) {
            for (String pid : Lab.sh("ip", "netns", "pids", ns).split("\\s+")) {
                if (!pid.isBlank()) {
                    pids.add(Long.parseLong(pid.strip()));
                }
            }
        }
        return pids;
    }

    /** User and system time of the gateways' processes, in clock ticks (utime and stime of /proc/PID/stat). */
    private static long cpuTicks(Lab lab) throws IOException, InterruptedException {
        long ticks = 0;
        for (long pid : gatewayPids(lab)) {
            try {
                String stat = Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException e) {
                // gone in between
            }
        }
        return ticks;
    }

    /** The largest VmHWM (peak resident set) among the gateways' processes, in KB. */
    private static long peakRssKb(Lab lab) throws IOException, InterruptedException {
        long peak = 0;
        for (long pid : gatewayPids(lab)) {
            try {
                for (String line : Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid), "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        peak = Math.max(peak, Long.parseLong(line.replaceAll("[^0-9]", "")));
                    }
                }
            } catch (IOException e) {
                // gone in between
            }
        }
        return peak;
    }

    // ------------------------------------------------------------------------------------------
    // Output
    // ------------------------------------------------------------------------------------------

    /** The whole run as JSON: when, where, how long each measurement, and the rows. */
    public String json(List<Row> rows, Instant started) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("started", started.toString());
        doc.put("cores", Runtime.getRuntime().availableProcessors());
        doc.put("kernel", System.getProperty("os.version"));
        doc.put("secondsPerMeasurement", seconds);
        doc.put("pings", pings);
        doc.put("udpPacketBytes", List.of(SMALL, LARGE));
        doc.put("rows", rows);
        return JSON.writeValueAsString(doc);
    }

    /**
     * The row the others are compared with: plain veth here, plain routing between two machines
     * ({@code isthmus bench remote}); null if the run has none.
     */
    static Row baseline(List<Row> rows) {
        return rows.stream().filter(r -> r.id.startsWith("plain-") && r.error == null).findFirst().orElse(null);
    }

    /** A Markdown table: each figure with its ratio to the baseline, plain veth (ping: the time added to it). */
    public static String table(List<Row> rows) {
        Row base = baseline(rows);
        StringBuilder t = new StringBuilder();
        t.append("| path | TCP 1 stream Gbit/s | TCP 4 streams Gbit/s | UDP 64 B packets/s | UDP 1400 B packets/s | ping median ms "
                + "| ping p99 ms | gateways CPU s (cores) | peak RSS MB |\n");
        t.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            if (r.error != null) {
                t.append("| ").append(r.path).append(" | failed: ").append(r.error.replace('|', '/').replace('\n', ' ')).append(" |||||||\n");
                continue;
            }
            t.append("| ").append(r.path)
                    .append(" | ").append(ratio("%.2f", r.tcp1Gbps, base == null ? Double.NaN : base.tcp1Gbps))
                    .append(" | ").append(ratio("%.2f", r.tcp4Gbps, base == null ? Double.NaN : base.tcp4Gbps))
                    .append(" | ").append(ratio("%,.0f", r.udp64Pps, base == null ? Double.NaN : base.udp64Pps))
                    .append(" | ").append(ratio("%,.0f", r.udp1400Pps, base == null ? Double.NaN : base.udp1400Pps))
                    .append(" | ").append(added(r.pingMedianMs, base == null ? Double.NaN : base.pingMedianMs))
                    .append(" | ").append(added(r.pingP99Ms, base == null ? Double.NaN : base.pingP99Ms))
                    .append(" | ").append(String.format("%.1f (%.2f)", r.gatewayCpuSeconds, r.gatewayCores()))
                    .append(" | ").append(r.peakRssKb == 0 ? "-" : Long.toString(r.peakRssKb / 1024))
                    .append(" |\n");
        }
        return t.toString();
    }

    private static String ratio(String format, double value, double base) {
        String v = String.format(format, value);
        return Double.isNaN(base) || base <= 0 ? v : v + String.format(" (%.3f)", value / base);
    }

    private static String added(double ms, double baseMs) {
        String v = String.format("%.3f", ms);
        return Double.isNaN(baseMs) ? v : v + String.format(" (+%.0f µs)", (ms - baseMs) * 1000);
    }

    /** The lines that answer the targets: Isthmus AES-GCM-128 against plain veth and wireguard-go. */
    public static String summary(List<Row> rows) {
        Map<String, Row> by = new LinkedHashMap<>();
        rows.forEach(r -> by.put(r.id, r));
        Row veth = baseline(rows);
        Row isthmus = by.get(Path.ISTHMUS_AES128GCM.id());
        Row wg = by.get(Path.WIREGUARD_GO.id());
        if (veth == null || isthmus == null || isthmus.error != null) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        s.append(String.format("Isthmus AES-GCM-128, one TCP stream: %.2f Gbit/s = %.1f%% of %s", isthmus.tcp1Gbps,
                100 * isthmus.tcp1Gbps / veth.tcp1Gbps, veth.path));
        if (wg != null && wg.error == null) {
            s.append(String.format(", %.1f times wireguard-go", isthmus.tcp1Gbps / wg.tcp1Gbps));
        }
        s.append(String.format("%nping through the tunnel adds %.0f µs at the median over %s", (isthmus.pingMedianMs - veth.pingMedianMs) * 1000,
                veth.path));
        if (wg != null && wg.error == null) {
            s.append(String.format("%n64-byte UDP: %,.0f packets/s, %.2f times wireguard-go's %,.0f", isthmus.udp64Pps, isthmus.udp64Pps / wg.udp64Pps,
                    wg.udp64Pps));
        }
        return s.append('\n').toString();
    }

    /** Runs, prints the table, and writes the JSON to {@code jsonFile}. */
    public static List<Row> runAndReport(List<Path> paths, int seconds, int pings, java.nio.file.Path jsonFile, PrintStream out)
            throws IOException, InterruptedException {
        Instant started = Instant.now();
        Bench bench = new Bench(java.nio.file.Path.of("/tmp/isthmus-bench"), seconds, pings, out);
        List<Row> rows = bench.run(paths);
        Files.writeString(jsonFile, bench.json(rows, started));
        out.println();
        out.printf("%d s per measurement, %d pings; in brackets: ratio to plain veth (ping: time added); JSON in %s%n%n", seconds, pings,
                jsonFile);
        out.print(table(rows));
        out.println();
        out.print(summary(rows));
        return rows;
    }
}
