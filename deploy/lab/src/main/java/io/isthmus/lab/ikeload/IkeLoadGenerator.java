package io.isthmus.lab.ikeload;

import io.isthmus.control.Pem;
import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.Subsystem;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.lab.bench.Bench;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The project's IKE load generator: many initiators from many source addresses, each making one
 * IKE SA with its child SA (IKE_SA_INIT, IKE_AUTH) against one responder, with the IKE engine
 * of the gateway itself as initiator, so each is an honest one (the responder's AUTH verified,
 * the keys derived; see {@link Initiators}). Runs in its own JVM in a namespace whose
 * addresses it binds (port 500 on each), a warm-up first, then a measured window, and writes
 * what it counted as one JSON object ({@link LoadReport}): IKE SAs a second, how every attempt
 * ended, latency, and the CPU it took itself (to show it is not the bottleneck) and, given its
 * process id, the responder's. Started by {@code isthmus bench ike-load}; also on its own.
 */
@Command(name = "ike-load-generator", mixinStandardHelpOptions = true,
        description = "IKE SAs with a child SA each, from many source addresses against one responder, as fast as it answers or at a rate.")
public final class IkeLoadGenerator implements Callable<Integer> {
    /** The one connection every initiator of a thread uses. */
    static final String CONNECTION = "ike-load";
    /**
     * The child SAs' traffic selectors, the same against both responders: a site behind the
     * generators and one behind the responder, neither holding an address in use. Not any to
     * any: strongSwan's kernel-libipsec routes a child SA's remote selector into its TUN device
     * whatever install_routes says, and 0.0.0.0/0 there would capture its answers to every other peer.
     */
    public static final String SITE_TS = "172.16.0.0/16";
    /** IKE SAs made in this JVM before the run, to warm its code up (see {@link Priming}). */
    public static final int PRIMING = 300;
    public static final String RESPONDER_TS = "172.17.0.0/16";

    @Option(names = "--responder", required = true, description = "The responder's address (port 500).")
    InetAddress responder;

    @Option(names = "--responder-port", defaultValue = "500", description = "The responder's IKE port (default ${DEFAULT-VALUE}); ours is the same.")
    int responderPort;

    @Option(names = "--responder-id", description = "The identity the responder must prove (default: any its key or certificate proves).")
    String responderId;

    @Option(names = "--responder-pid", defaultValue = "0", description = "The responder's process, whose CPU time is measured over the window.")
    long responderPid;

    @Option(names = "--first-source", required = true, description = "The first source address; the next ones follow it (they must be this host's).")
    InetAddress firstSource;

    @Option(names = "--sources", defaultValue = "1024", description = "How many source addresses (default ${DEFAULT-VALUE}).")
    int sources;

    @Option(names = "--threads", defaultValue = "2", description = "Threads, each with an engine and its share of the addresses (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--window", defaultValue = "64", description = "Attempts outstanding per thread at most (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--rate", defaultValue = "0", description = "Attempts a second in all; 0: as fast as the responder answers (default).")
    double rate;

    @Option(names = "--warmup", defaultValue = "3", description = "Seconds before the measured window (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--seconds", defaultValue = "10", description = "The measured window in seconds (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--attempts", defaultValue = "0", description = "Attempts in all, then stop (0: as many as the time takes).")
    long attempts;

    @Option(names = "--auth", defaultValue = "psk", description = "psk or ecdsa (default ${DEFAULT-VALUE}).")
    String auth;

    @Option(names = "--psk-file", description = "The pre-shared key (psk).")
    Path pskFile;

    @Option(names = "--certificate", description = "Our certificate (ecdsa).")
    Path certificate;

    @Option(names = "--key", description = "Our private key (ecdsa).")
    Path key;

    @Option(names = "--ca", description = "The CA the responder's certificate must chain to (ecdsa).")
    Path ca;

    @Option(names = "--ike", defaultValue = "aes128gcm16-prfsha256-x25519", description = "IKE proposal (default ${DEFAULT-VALUE}).")
    String ike;

    @Option(names = "--esp", defaultValue = "aes128gcm16", description = "ESP proposal (default ${DEFAULT-VALUE}).")
    String esp;

    @Option(names = "--key-share-uses", defaultValue = "64",
            description = "IKE_SA_INITs one of our key pairs serves (RFC 7296 §2.12), to cost less than the responder (default ${DEFAULT-VALUE}).")
    int keyShareUses;

    @Option(names = "--retransmit", defaultValue = "2", description = "First retransmission after this many seconds (default ${DEFAULT-VALUE}).")
    double retransmit;

    @Option(names = "--tries", defaultValue = "3", description = "Transmissions of a request before it counts as unanswered (default ${DEFAULT-VALUE}).")
    int tries;

    @Option(names = "--priming", defaultValue = "" + PRIMING,
            description = "IKE SAs made in this JVM before the run, to warm its code up (default ${DEFAULT-VALUE}; 0 for none).")
    int priming;

    @Option(names = "--abandon", description = "A half-open flood: IKE_SA_INIT (cookies answered), never IKE_AUTH.")
    boolean abandon;

    @Option(names = "--churn", description = "Delete each IKE SA as soon as it is made (the responder then holds a window's worth, not all).")
    boolean churn;

    @Option(names = "--delete-at-end", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "When done, delete the IKE SAs made, the responder told, so that it starts the next run without them (default).")
    boolean deleteAtEnd;

    @Option(names = "--p2s", description = "Point-to-site clients: each source address a client of its own identity with a certificate issued "
            + "here under --ca (its key --ca-key), asking for a virtual address (CFG_REQUEST); the addresses given are counted.")
    boolean p2s;

    @Option(names = "--ca-key", description = "The CA's private key, to issue the clients' certificates (--p2s).")
    Path caKey;

    @Option(names = "--json", description = "Where to write the report (default: stdout).")
    Path json;

    public static void main(String[] args) {
        LogOutput.install();
        // Every failure is counted in the report; a line for each would cost the generator more than the count.
        LogLevel level = LogLevel.byWord(System.getProperty("ikeload.log", "error")).orElse(LogLevel.ERROR);
        for (Subsystem s : Subsystem.values()) {
            LogOutput.process().level(s, level);
        }
        System.exit(new CommandLine(new IkeLoadGenerator()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        LoadReport report = run();
        String text = Bench.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report);
        if (json != null) {
            Files.writeString(json, text);
        } else {
            System.out.println(text);
        }
        System.err.println(report.summary());
        return 0;
    }

    /** The measured run. */
    LoadReport run() throws Exception {
        List<List<InetAddress>> shares = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            shares.add(new ArrayList<>());
        }
        byte[] first = firstSource.getAddress();
        for (int i = 0; i < sources; i++) {
            shares.get(i % threads).add(plus(first, i));
        }
        Priming.run(connection(0, shares.getFirst().getFirst()), priming);
        List<Initiators> all = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                List<Connection> connections = new ArrayList<>();
                if (p2s) {
                    // A connection per client: each its own identity and certificate, as each laptop is.
                    for (InetAddress a : shares.get(t)) {
                        connections.add(connection(t, a));
                    }
                } else {
                    connections.add(connection(t, shares.get(t).getFirst()));
                }
                all.add(new Initiators(shares.get(t), new InetSocketAddress(responder, responderPort), connections, p2s ? IkeLoadGenerator::clientConnection
                        : a -> CONNECTION, window, rate / threads, keyShareUses, abandon, churn));
            }
            long start = System.nanoTime();
            long windowStart = start + (long) (warmup * 1e9);
            long windowEnd = windowStart + (long) (seconds * 1e9);
            for (int t = 0; t < threads; t++) {
                // The larger shares of attempts to the lower threads, as of the addresses (i % threads): with as many attempts as
                // addresses, each address is used once (a point-to-site client connects once, not twice under its identity).
                all.get(t).start(attempts <= 0 ? 0 : (attempts + threads - 1 - t) / threads, windowStart, windowEnd);
            }
            sleepUntil(windowStart);
            CpuSample before = CpuSample.take(all, responderPid);
            // A burst (a number of attempts) ends its window once every attempt has ended.
            while (System.nanoTime() < windowEnd && !(attempts > 0 && started(all) >= attempts && outstanding(all) == 0)) {
                Thread.sleep(Math.max(1, Math.min(20, (windowEnd - System.nanoTime()) / 1_000_000)));
            }
            CpuSample after = CpuSample.take(all, responderPid);
            all.forEach(Initiators::stop);
            // What is under way may finish: each request gets its transmissions, then it counts as unanswered.
            long drainEnd = System.nanoTime() + drain().toNanos();
            while (System.nanoTime() < drainEnd && outstanding(all) > 0) {
                Thread.sleep(50);
            }
            List<Initiators.Tally> tallies = new ArrayList<>();
            for (Initiators i : all) {
                tallies.add(i.tally());
            }
            long deleted = 0;
            long undeleted = 0;
            if (deleteAtEnd) {
                all.forEach(Initiators::deleteAll);
                long deleteEnd = System.nanoTime() + drain().toNanos() + 10_000_000_000L;
                while (System.nanoTime() < deleteEnd && undeleted(all) > 0) {
                    Thread.sleep(50);
                }
                for (Initiators i : all) {
                    deleted += i.deleted();
                    undeleted += i.undeleted();
                }
            }
            return LoadReport.of(this, tallies, before, after, deleted, undeleted);
        } finally {
            all.forEach(Initiators::close);
        }
    }

    /** How long a request may go unanswered in all: every transmission's wait, as the engine retransmits. */
    Duration drain() {
        double total = 0;
        for (int n = 0; n < tries; n++) {
            total += retransmit * Math.pow(1.8, n);
        }
        return Duration.ofMillis((long) (Math.min(total, retransmit * 10 + 5) * 1000) + 2000);
    }

    private static long undeleted(List<Initiators> all) throws Exception {
        long n = 0;
        for (Initiators i : all) {
            n += i.undeleted();
        }
        return n;
    }

    private static long started(List<Initiators> all) {
        return all.stream().mapToLong(Initiators::started).sum();
    }

    private static int outstanding(List<Initiators> all) throws Exception {
        int n = 0;
        for (Initiators i : all) {
            n += i.outstanding();
        }
        return n;
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left;
        while ((left = nanos - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }

    /** The point-to-site client of source address {@code a}: its connection's name, and its identity. */
    static String clientConnection(InetAddress a) {
        return "p2s-" + a.getHostAddress();
    }

    static String clientIdentity(InetAddress a) {
        return "c" + a.getHostAddress().replace('.', '-') + ".p2s.ikeload.test";
    }

    private java.security.cert.X509Certificate caCertificate;
    private java.security.PrivateKey caPrivateKey;

    /**
     * Thread {@code t}'s connection: identity gen-T.ikeload.test (PSK) or the certificate's;
     * with {@code --p2s}, the client of {@code local}'s (its own certificate, a CFG_REQUEST for
     * any IPv4 address, any to any narrowed by the gateway to that address and what it reaches);
     * liveness checks off, retransmissions short.
     */
    private Connection connection(int t, InetAddress local) throws IOException {
        Connection.Builder b = Connection.builder(p2s ? clientConnection(local) : CONNECTION);
        Duration base = Duration.ofMillis((long) (retransmit * 1000));
        // No liveness checks of ours: the measured SAs sit idle; the give-up time is the drain's.
        b.timers(Connection.Timers.AZURE.withLiveness(Duration.ofHours(1), drain().minusSeconds(1), base, tries));
        switch (auth) {
            case "psk" -> {
                if (pskFile == null) {
                    throw new CommandLine.ParameterException(new CommandLine(this), "--psk-file is needed with --auth psk");
                }
                b.local(local, Identity.parse("gen-" + t + ".ikeload.test"))
                        .preSharedKey(Files.readString(pskFile, StandardCharsets.US_ASCII).strip().getBytes(StandardCharsets.US_ASCII));
            }
            case "ecdsa" -> {
                if (certificate == null || key == null || ca == null) {
                    throw new CommandLine.ParameterException(new CommandLine(this), "--certificate, --key and --ca are needed with --auth ecdsa");
                }
                b.local(local, Identity.parse(LoadPki.GENERATOR_ID)).authentication(new Authentication.Certificates(Pem.privateKey(key),
                        Pem.certificates(certificate), Pem.certificates(ca), false));
            }
            default -> throw new CommandLine.ParameterException(new CommandLine(this), "--auth is psk or ecdsa, not " + auth);
        }
        if (p2s) {
            if (!auth.equals("ecdsa") || caKey == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--p2s needs --auth ecdsa, --ca and --ca-key");
            }
            if (caPrivateKey == null) {
                caCertificate = Pem.certificates(ca).getFirst();
                caPrivateKey = Pem.privateKey(caKey);
            }
            LoadPki.Client c = LoadPki.client(caCertificate, caPrivateKey, clientIdentity(local));
            b.local(local, Identity.parse(clientIdentity(local))).authentication(new Authentication.Certificates(c.key(),
                    List.of(c.certificate()), List.of(caCertificate), false));
            return b.remote(responder, responderId == null ? null : Identity.parse(responderId)).ike(ike).esp(esp)
                    .virtualIp(InetAddress.ofLiteral("0.0.0.0")).localTs("0.0.0.0/0").remoteTs("0.0.0.0/0")
                    .mode(Connection.Mode.INITIATOR_ONLY).build();
        }
        return b.remote(responder, responderId == null ? null : Identity.parse(responderId)).ike(ike).esp(esp)
                .localTs(SITE_TS).remoteTs(RESPONDER_TS).mode(Connection.Mode.INITIATOR_ONLY).build();
    }

    static InetAddress plus(byte[] first, long n) {
        byte[] a = first.clone();
        long carry = n;
        for (int i = a.length - 1; i >= 0 && carry != 0; i--) {
            long sum = (a[i] & 0xFF) + carry;
            a[i] = (byte) sum;
            carry = sum >>> 8;
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** CPU time so far: this process, each engine thread, the responder's process. */
    record CpuSample(long nanos, long processCpuNanos, long[] threadCpuNanos, long responderCpuNanos, double loadAverage) {
        static CpuSample take(List<Initiators> all, long responderPid) {
            long[] threads = new long[all.size()];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = all.get(i).cpuNanos();
            }
            long process = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
            return new CpuSample(System.nanoTime(), process, threads, responderPid > 0 ? processCpuNanos(responderPid) : -1, readLoadAverage());
        }

        /** The machine's one-minute load average, or -1. */
        static double readLoadAverage() {
            try {
                return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /** utime + stime of a process from /proc (clock ticks of 10 ms, the kernel's USER_HZ). */
        static long processCpuNanos(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
    }
}
