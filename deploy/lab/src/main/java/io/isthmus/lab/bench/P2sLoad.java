package io.isthmus.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.Lab;
import io.isthmus.lab.LabGateways;
import io.isthmus.lab.ikeload.IkeLoadGenerator;
import io.isthmus.lab.ikeload.IkeLoadLab;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Point-to-site at scale ({@code isthmus bench p2s-load}): one Isthmus instance with a
 * vpnClientConfiguration (a pool of twice {@code clients} addresses, {@code maxClients} =
 * {@code clients}) and one site-to-site tunnel, in the IKE load lab ({@link IkeLoadLab}):
 *
 * <pre>
 *   ikeload-gen   the generator: a client per source address of 10.80.0.0/16, each its own
 *                 certificate (from the CA the gateway's vpnClientRootCertificates names) and a CFG_REQUEST
 *   ikeload-isthmus  Isthmus 10.79.1.1, its site 172.19.0.1 (addressSpace 172.19.0.0/24) on lo
 *   ikeload-swan  strongSwan 10.79.2.1 as the branch (172.18.0.1 on lo), a site-to-site tunnel to Isthmus
 *                 through the generator's namespace (which forwards), a ping every 10 ms across it
 * </pre>
 *
 * Rows: the burst of {@code clients} clients at once (the generator's window bounds how many are
 * in flight), then {@code overLimit} more from other addresses and identities, past maxClients,
 * which must all be refused with INTERNAL_ADDRESS_FAILURE while the clients already in and the
 * site tunnel go on undisturbed; then a half-open flood for {@code floodSeconds} from
 * {@code floodSources} other addresses (the generator's {@code --abandon}: IKE_SA_INIT with
 * cookies answered, never IKE_AUTH, as the P2S connection lets any address try), which must not
 * touch the site either. For each: clients served and the addresses they were given
 * (distinct, duplicates), clients a second, the responder's CPU per client, its heap (after a full
 * collection asked with jcmd) and RSS before and after, per client, the pool as {@code isthmus
 * status} tells it, the half-open IKE SAs and cookies it counts, the site tunnel's pings sent and
 * answered over the row, and its IKE SA (by SPIs) before and after: the same one, or the site was
 * disturbed.
 */
public final class P2sLoad {
    /** The branch's and the gateway's site prefixes of the site-to-site tunnel, and the two hosts that ping. */
    static final String BRANCH_PREFIX = "172.18.0.0/24";
    static final String BRANCH_HOST = "172.18.0.1";
    static final String GATEWAY_SITE_PREFIX = "172.19.0.0/24";
    static final String GATEWAY_SITE_HOST = "172.19.0.1";
    /** Where the pool lies: apart from the lab's addresses and both sites. */
    static final String POOL_BASE = "10.90.0.0";
    /** The first source of the clients past the limit: far from the first row's, so other identities. */
    static final String OVER_LIMIT_SOURCE = "10.80.128.1";
    /** The flood's first source: apart from both rows of clients (up to 16,000 from it). */
    static final String FLOOD_SOURCE = "10.80.192.1";
    /** The site's connection, as the gateway's status names it. */
    static final String SITE = "branch";
    /** A ping every 10 ms; the last second's (100) are left out of a row's count: their answers may be on their way. */
    static final int PINGS_IN_FLIGHT = 100;

    /**
     * What a run asks: clients in the burst, clients past maxClients, the generator's threads and
     * attempts in flight per thread, its warm-up; the half-open flood's seconds (0: none) and source addresses.
     */
    public record Options(int clients, int overLimit, int threads, int window, int priming, double floodSeconds, int floodSources) {
        public static Options defaults() {
            return new Options(1000, 100, 2, 64, IkeLoadGenerator.PRIMING, 15, 4096);
        }
    }

    /**
     * What the gateway said of itself at one moment (heap after a full collection where jcmd could
     * ask one): the site's IKE SAs as {@code initiatorSpi_responderSpi}, joined by commas ("" for none).
     */
    public record Gauge(int connectedClients, int poolLiveClients, int poolHeldAddresses, long poolCapacity, long heapBytes, long residentBytes,
                        String siteIkeSa, int halfOpenIkeSas, long cookiesSent) {
    }

    /**
     * Pings across the site tunnel over a row: those sent until a second before the count, and of
     * them those answered; the last second's ({@code leftOut}) are not counted either way.
     */
    public record SiteLoss(long sent, long answered, long leftOut) {
        public long lost() {
            return sent - answered;
        }
    }

    /**
     * One row: what the generator counted, the gateway before and after, the site tunnel's pings.
     * Per client figures divide by {@code report.clientsWithAddress()}; the row past the limit
     * divides its CPU by the attempts (none got in).
     */
    public record Row(String kind, int clients, LoadReport report, Gauge before, Gauge after, SiteLoss site, double responderMsPerClient,
                      double heapBytesPerClient, double residentBytesPerClient) {
    }

    private final IkeLoadLab lab;
    private final Options options;
    private final PrintStream out;
    private Path socket;
    private long pid;

    private P2sLoad(IkeLoadLab lab, Options options, PrintStream out) {
        this.lab = lab;
        this.options = options;
        this.out = out;
    }

    /** Runs the rows, prints the table on {@code out}, writes JSON to {@code json}. */
    public static List<Row> runAndReport(Options options, Path json, PrintStream out) throws Exception {
        Instant started = Instant.now();
        List<Row> rows = new ArrayList<>();
        try (IkeLoadLab lab = IkeLoadLab.up(Path.of("/tmp/isthmus-p2sload"))) {
            P2sLoad run = new P2sLoad(lab, options, out);
            run.start();
            rows.add(run.row("clients", options.clients(), run.gauge(), () -> run.generate("clients", options.clients(), IkeLoadLab.FIRST_SOURCE)));
            if (options.overLimit() > 0) {
                // What the gateway was after the row before is what it is before this one.
                rows.add(run.row("past maxClients", options.overLimit(), rows.getLast().after(),
                        () -> run.generate("past-maxClients", options.overLimit(), OVER_LIMIT_SOURCE)));
            }
            if (options.floodSeconds() > 0) {
                rows.add(run.row("half-open flood", options.floodSources(), rows.getLast().after(), run::flood));
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

    /** Isthmus with the pool and the branch; the branch's charon with its tunnel up and a first ping through. */
    private void start() throws Exception {
        // The branch reaches the gateway through the generator's namespace, which forwards; each site has its host on lo.
        lab.in(IkeLoadLab.GENERATOR, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        lab.in(IkeLoadLab.STRONGSWAN, "ip", "route", "add", "10.79.1.0/24", "via", "10.79.2.2");
        lab.in(IkeLoadLab.ISTHMUS, "ip", "route", "add", "10.79.2.0/24", "via", "10.79.1.2");
        lab.in(IkeLoadLab.STRONGSWAN, "ip", "addr", "add", BRANCH_HOST + "/32", "dev", "lo");
        lab.in(IkeLoadLab.ISTHMUS, "ip", "addr", "add", GATEWAY_SITE_HOST + "/32", "dev", "lo");
        long t0 = System.nanoTime();
        pid = lab.startIsthmus("p2s", isthmusConfig(options.clients(), lab.certificates()));
        long t1 = System.nanoTime();
        socket = lab.work().resolve("p2s.sock");
        Path branch = lab.work().resolve("branch");
        LabGateways.startStrongSwan(lab, IkeLoadLab.STRONGSWAN, branch, branchConfig());
        String uri = "unix://" + branch.resolve("charon.vici");
        Lab.sh("swanctl", "--initiate", "--child", "site", "--timeout", "30", "--uri", uri);
        // The child SA is in; its first packets may still meet a route being installed.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                lab.in(IkeLoadLab.STRONGSWAN, "ping", "-n", "-q", "-c", "1", "-W", "1", "-I", BRANCH_HOST, GATEWAY_SITE_HOST);
                break;
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw new IOException("the site tunnel carries no ping: " + e.getMessage(), e);
                }
            }
        }
        out.printf("gateway up in %.1f s, the branch's tunnel carrying pings %.1f s later%n", (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    }

    /** What the generator does in a row. */
    private interface Load {
        LoadReport run() throws Exception;
    }

    /** {@code load} (of {@code clients} clients, or sources), with the site's pings around it. */
    private Row row(String kind, int clients, Gauge before, Load load) throws Exception {
        Path pingLog = lab.work().resolve("ping-" + kind.replace(' ', '-') + ".log");
        // Not quiet: each answer's line says which ping it answers.
        Process ping = lab.spawn(IkeLoadLab.STRONGSWAN, pingLog, List.of("ping", "-n", "-i", "0.01", "-I", BRANCH_HOST, GATEWAY_SITE_HOST));
        Thread.sleep(200);
        long t0 = System.nanoTime();
        LoadReport report = load.run();
        long generated = System.nanoTime() - t0;
        // A second more of pings: the load's last ones are answered by the time the count leaves the last second out.
        Thread.sleep(1000);
        // SIGINT: ping prints what it counted and ends.
        Lab.sh("kill", "-INT", "" + ping.pid());
        if (!ping.waitFor(10, TimeUnit.SECONDS)) {
            ping.destroyForcibly();
        }
        SiteLoss site = pings(Files.readString(pingLog));
        Gauge after = gauge();
        long served = report.clientsWithAddress();
        double cpuMs = report.responderCores() < 0 ? -1 : report.responderCores() * report.windowSeconds() * 1000;
        // Per client served; where none was (past maxClients), per client refused.
        double per = served > 0 ? served : Math.max(1, report.attempts());
        Row row = new Row(kind, clients, report, before, after, site, round(cpuMs / per),
                round((after.heapBytes() - before.heapBytes()) / per), round((after.residentBytes() - before.residentBytes()) / per));
        out.printf("%-16s %s; site pings %d sent, %d lost; site IKE SA before %s, after %s; gateway after: %s; the generator's JVM took %.1f s "
                + "in all%n", kind, report.summary(), site.sent(), site.lost(), before.siteIkeSa(), after.siteIkeSa(), after, generated / 1e9);
        return row;
    }

    /**
     * The half-open flood: as IkeLoad's (PSK offered, which nothing here checks: no IKE_AUTH ever
     * goes), from addresses the point-to-site connection accepts as it accepts any, 256 in flight a thread.
     */
    private LoadReport flood() throws Exception {
        List<String> command = new ArrayList<>(IkeLoadLab.java("3g", List.of()));
        command.add(IkeLoadGenerator.class.getName());
        Path json = lab.work().resolve("flood-report.json");
        Files.deleteIfExists(json);
        command.addAll(List.of("--responder", IkeLoadLab.ISTHMUS_IP, "--responder-pid", "" + pid, "--responder-id", IkeLoadLab.ISTHMUS_IP,
                "--auth", "psk", "--psk-file", lab.pskFile().toString(), "--abandon", "--threads", "" + options.threads(), "--window", "256",
                "--warmup", "0", "--seconds", "" + options.floodSeconds(), "--sources", "" + options.floodSources(), "--first-source", FLOOD_SOURCE,
                "--priming", "0", "--json", json.toString()));
        return finish(lab.spawn(IkeLoadLab.GENERATOR, lab.work().resolve("flood-generator.log"), command), "flood", json);
    }

    private LoadReport generate(String name, int clients, String firstSource) throws Exception {
        LoadPki.Certificates pki = lab.certificates();
        List<String> command = new ArrayList<>(IkeLoadLab.java("3g", List.of()));
        command.add(IkeLoadGenerator.class.getName());
        Path json = lab.work().resolve(name + "-report.json");
        Files.deleteIfExists(json);
        command.addAll(List.of("--responder", IkeLoadLab.ISTHMUS_IP, "--responder-pid", "" + pid, "--responder-id", LoadPki.RESPONDER_DN,
                "--auth", "ecdsa", "--p2s", "--certificate", pki.generatorCertificate().toString(), "--key", pki.generatorKey().toString(),
                "--ca", pki.ca().toString(), "--ca-key", pki.caKey().toString(), "--threads", "" + options.threads(), "--window",
                "" + options.window(), "--attempts", "" + clients, "--sources", "" + clients, "--first-source", firstSource, "--warmup", "0",
                "--seconds", "600", "--no-delete-at-end", "--priming", "" + options.priming(), "--json", json.toString()));
        return finish(lab.spawn(IkeLoadLab.GENERATOR, lab.work().resolve(name + "-generator.log"), command), name, json);
    }

    private LoadReport finish(Process generator, String name, Path json) throws Exception {
        Path log = lab.work().resolve(name + "-generator.log");
        if (!generator.waitFor(900, TimeUnit.SECONDS)) {
            generator.destroyForcibly();
            throw new IOException("the generator of " + name + " did not finish; see " + log);
        }
        if (generator.exitValue() != 0 || !Files.exists(json)) {
            throw new IOException("the generator of " + name + " failed (exit " + generator.exitValue() + "): " + Files.readString(log));
        }
        return Bench.JSON.readValue(json.toFile(), LoadReport.class);
    }

    /** The gateway now, by its status, after a full collection (jcmd GC.run) so that the heap is what is live. */
    private Gauge gauge() throws IOException, InterruptedException {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        boolean collected;
        try {
            Lab.sh(jcmd, "" + pid, "GC.run");
            collected = true;
        } catch (IOException e) {
            collected = false;
        }
        JsonNode s = GatewayClient.status(socket);
        JsonNode p2s = s.path("pointToSite");
        JsonNode pool = p2s.path("ipv4Pool");
        JsonNode process = s.path("process");
        long heap = collected ? process.path("heapUsedBytes").asLong(-1) : process.path("heapLiveAfterLastGcBytes").asLong(-1);
        List<String> siteSas = new ArrayList<>();
        for (JsonNode c : s.path("connections")) {
            if (c.path("name").asText().equals(SITE)) {
                for (JsonNode sa : c.path("ikeSas")) {
                    siteSas.add(sa.path("initiatorSpi").asText() + "_" + sa.path("responderSpi").asText());
                }
            }
        }
        JsonNode defense = s.path("defense");
        return new Gauge(p2s.path("connectedClients").asInt(-1), pool.path("liveClients").asInt(-1), pool.path("heldAddresses").asInt(-1),
                pool.path("capacity").asLong(-1), heap, process.path("residentBytes").asLong(-1), String.join(",", siteSas),
                defense.path("halfOpenIkeSas").asInt(-1), defense.path("cookiesSent").asLong(-1));
    }

    private static final Pattern PING = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
    private static final Pattern ANSWER = Pattern.compile("bytes from [^ ]+ icmp_seq=(\\d+) ");

    /**
     * The site's loss from ping's output (an answer's line each, the totals at the end): the pings
     * but the last {@link #PINGS_IN_FLIGHT}, sent until about a second before ping was stopped, and
     * how many of them were answered. Sequence numbers are 16 bits: a row of 10 minutes or more
     * wraps them, and is counted by ping's totals instead (less the pings left out, as if unanswered).
     */
    public static SiteLoss pings(String output) throws IOException {
        Matcher m = PING.matcher(output);
        if (!m.find()) {
            throw new IOException("ping said no totals: " + output);
        }
        long transmitted = Long.parseLong(m.group(1));
        long leftOut = Math.min(transmitted, PINGS_IN_FLIGHT);
        long counted = transmitted - leftOut;
        if (transmitted > 65_535) {
            return new SiteLoss(counted, Math.min(counted, Long.parseLong(m.group(2))), leftOut);
        }
        java.util.BitSet answered = new java.util.BitSet();
        Matcher a = ANSWER.matcher(output);
        while (a.find()) {
            int seq = Integer.parseInt(a.group(1));
            if (seq >= 1 && seq <= counted) {
                answered.set(seq);
            }
        }
        return new SiteLoss(counted, answered.cardinality(), leftOut);
    }

    /** The pool: the smallest prefix with room for twice the clients (the pool holds at most 2 x maxClients, kept ones for a return). */
    public static String pool(int clients) {
        int bits = 1;
        while ((1L << bits) - 2 < 2L * clients) {
            bits++;
        }
        return POOL_BASE + "/" + (32 - bits);
    }

    public static String isthmusConfig(int clients, LoadPki.Certificates pki) {
        return """
                # The point-to-site bench's gateway: the clients' pool and roots, and one branch over a site-to-site tunnel.
                virtualNetworkGateway:
                  name: p2sload
                  vpnType: RouteBased
                  sku: VpnGw5
                  addressSpace: [%1$s]
                  instances:
                    - name: p2sload-0
                      publicIpAddress: %2$s
                  tunnel:
                    device: p2sload0
                  vpnClientConfiguration:
                    vpnClientAddressPool: {addressPrefixes: [%3$s]}
                    vpnClientProtocols: [IkeV2]
                    vpnAuthenticationTypes: [Certificate]
                    vpnClientRootCertificates:
                      - {name: LoadRoot, publicCertFile: %4$s}
                    maxClients: %5$d
                    serverCertificate: %6$s
                    serverPrivateKey: %7$s
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: %8$s
                    addressPrefixes: [%9$s]
                connections:
                  - name: branch
                    localNetworkGateway: branch
                    connectionMode: ResponderOnly
                    sharedKey: "%10$s"
                """.formatted(GATEWAY_SITE_PREFIX, IkeLoadLab.ISTHMUS_IP, pool(clients), pki.ca(), clients, pki.responderCertificate(),
                pki.responderKey(), IkeLoadLab.STRONGSWAN_IP, BRANCH_PREFIX, IkeLoadLab.PSK);
    }

    static String branchConfig() {
        return """
                connections { branch {
                  local_addrs = %1$s
                  remote_addrs = %2$s
                  version = 2
                  proposals = aes128gcm16-prfsha256-x25519
                  local { auth = psk
                    id = %1$s }
                  remote { auth = psk
                    id = %%any }
                  children { site {
                      local_ts = %3$s
                      remote_ts = %4$s
                      esp_proposals = aes128gcm16
                      mode = tunnel } } } }
                secrets { ike-branch { secret = "%5$s" } }
                """.formatted(IkeLoadLab.STRONGSWAN_IP, IkeLoadLab.ISTHMUS_IP, BRANCH_PREFIX, GATEWAY_SITE_PREFIX, IkeLoadLab.PSK);
    }

    /** The table: a line per row, then what the pool and the site said. */
    static String table(List<Row> rows, Options o) {
        StringBuilder t = new StringBuilder();
        t.append(String.format("Point-to-site at scale: clients with a certificate each (ECDSA P-256) and a CFG_REQUEST, IKE aes128gcm16-prfsha256-x25519, "
                        + "ESP aes128gcm16, one Isthmus instance (maxClients %d, pool %s), generator %d threads x %d in flight; then a half-open "
                        + "flood (IKE_SA_INIT, cookies answered, no IKE_AUTH) from %d addresses for %.0f s; a site-to-site tunnel beside them "
                        + "carrying a ping every 10 ms; %d CPUs shared by generator, gateway and branch (see the load average)%n%n",
                o.clients(), pool(o.clients()), o.threads(), o.window(), o.floodSources(), o.floodSeconds(), Runtime.getRuntime().availableProcessors()));
        t.append(String.format("%-16s %7s %7s %8s %5s %9s %9s %9s %11s %10s %12s %12s %10s %13s %8s %8s%n", "row", "clients", "served", "distinct",
                "dups", "refused*", "clients/s", "cookied", "p50/p95 ms", "ms CPU/cl", "heap B/cl", "RSS B/cl", "pool live", "site lost/sent",
                "site SA", "load avg"));
        for (Row r : rows) {
            LoadReport x = r.report();
            t.append(String.format("%-16s %7d %7d %8d %5d %9d %9.1f %9d %11s %10.2f %12.0f %12.0f %4d/%-5d %6d/%-6d %8s %8.1f%n", r.kind(), r.clients(),
                    x.clientsWithAddress(), x.distinctAddresses(), x.duplicateAddresses(), x.refusedWith("INTERNAL_ADDRESS_FAILURE"),
                    x.ikeSasPerSecond(), x.cookied(), String.format("%.0f/%.0f", x.latencyMs().get(0), x.latencyMs().get(1)), r.responderMsPerClient(),
                    r.heapBytesPerClient(), r.residentBytesPerClient(), r.after().poolLiveClients(), r.after().poolCapacity(), r.site().lost(),
                    r.site().sent(), siteKept(r) ? "same" : "CHANGED", x.loadAverage()));
        }
        t.append(String.format("%n* refused with INTERNAL_ADDRESS_FAILURE (IKE SA authenticated, no address, no child SA). ms CPU/cl: the gateway's CPU "
                + "over the row per client served (per attempt where none was). heap: live heap after a full collection, after minus before, per client "
                + "served (per attempt where none was); RSS likewise. site lost/sent: pings sent until a second before the count (the last second's "
                + "left out, their answers maybe on their way), and those of them never answered. site SA: the site's IKE SA (SPIs) after the row, "
                + "the one before it or not.%n"));
        for (Row r : rows) {
            LoadReport x = r.report();
            t.append(String.format("%-16s %d attempts: %s; gateway before: %d connected, heap %.1f MB, RSS %.1f MB; after: %d connected, pool %d live,"
                            + " %d held of %d, heap %.1f MB, RSS %.1f MB%n", r.kind(), x.attempts(), x.outcomes(), r.before().connectedClients(),
                    r.before().heapBytes() / 1e6, r.before().residentBytes() / 1e6, r.after().connectedClients(), r.after().poolLiveClients(),
                    r.after().poolHeldAddresses(), r.after().poolCapacity(), r.after().heapBytes() / 1e6, r.after().residentBytes() / 1e6));
            t.append(String.format("%-16s site IKE SA before %s, after %s; %d of the site's pings left out (the last second); gateway after: %d half-open "
                            + "IKE SAs, %d cookies asked for since it started%n", "", r.before().siteIkeSa(), r.after().siteIkeSa(), r.site().leftOut(),
                    r.after().halfOpenIkeSas(), r.after().cookiesSent()));
            if (x.abandon()) {
                t.append(String.format("%-16s half-open flood from %d addresses for %.1f s: %.0f half-open IKE SAs made a second (%d in all), %d cookied of "
                                + "%d attempts, %d never answered; the gateway %.2f cores%n", "", x.sources(), x.windowSeconds(),
                        x.outcomesInWindow().get("ABANDONED") / Math.max(0.01, x.windowSeconds()), x.outcomes().get("ABANDONED"), x.cookied(),
                        x.attempts(), x.unanswered(), x.responderCores()));
            }
        }
        return t.toString();
    }

    /** The site's IKE SA after the row is the one before it: the row did not make the site re-establish. */
    public static boolean siteKept(Row r) {
        return !r.before().siteIkeSa().isEmpty() && r.before().siteIkeSa().equals(r.after().siteIkeSa());
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
