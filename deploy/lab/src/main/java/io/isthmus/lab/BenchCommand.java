package io.isthmus.lab;

import io.isthmus.lab.bench.Bench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench}: the throughput benchmark (see {@link Bench}). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        subcommands = {BenchCommand.FailoverCommand.class, RemoteBenchCommand.class, TunnelsCommand.class, IkeLoadCommand.class,
                P2sLoadCommand.class},
        description = "Throughput, packet rate, latency and cost of Isthmus against plain veth, strongSwan and wireguard-go, "
                + "in the namespace lab (needs root). 'bench failover': the active-active pair's failovers. 'bench remote': across two machines. "
                + "'bench tunnels': one instance with thousands of tunnels. 'bench ike-load': IKE SAs set up a second, Isthmus and strongSwan "
                + "as responders. 'bench p2s-load': a thousand point-to-site clients against one instance, a site tunnel beside them.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "10", description = "Length of each iperf3 measurement (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--pings", defaultValue = "500", description = "Pings, 10 ms apart, for the round-trip times (default ${DEFAULT-VALUE}).")
    int pings;

    @Option(names = "--paths", split = ",", description = "Which paths, comma-separated (default: all but the diagnostic ones): "
            + "plain-veth, isthmus-aes128gcm, isthmus-nat-static, isthmus-nat-dynamic, isthmus-aes256gcm, isthmus-chacha20poly1305, "
            + "isthmus-strongswan, strongswan-strongswan, "
            + "wireguard-go; diagnostic: isthmus-raw-esp, isthmus-no-offloads, isthmus-two-threads, isthmus-busy-poll, isthmus-capturing.")
    List<String> paths;

    @Option(names = "--json", defaultValue = "isthmus-bench.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the benchmark builds network namespaces and TUN devices: run it as root (sudo ./deploy/bench)");
            return 1;
        }
        List<Bench.Path> chosen = paths == null ? Bench.DEFAULT : paths.stream().map(Bench.Path::parse).toList();
        List<Bench.Row> rows = Bench.runAndReport(chosen, seconds, pings, json, System.out);
        return rows.stream().allMatch(Bench.Row::complete) ? 0 : 1;
    }

    /** {@code isthmus bench failover}: the pair's failovers (see {@link io.isthmus.lab.bench.Failover}). */
    @Command(name = "failover", mixinStandardHelpOptions = true,
            description = "The active-active pair's failovers against a strongSwan peer, each fault repeated while a paced UDP stream runs "
                    + "through the tunnel: loss window and packets lost (p50, p95, max), with and without state sync, in the pair lab (needs root).")
    static final class FailoverCommand implements Callable<Integer> {
        @Option(names = "--runs", defaultValue = "20", description = "Runs of each fault (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--rate", defaultValue = "10000", description = "UDP datagrams a second through the tunnel (default ${DEFAULT-VALUE}).")
        int rate;

        @Option(names = "--faults", split = ",", defaultValue = "kill,sigterm,wan-down,machine-gone,sigstop,kill-during-rekey",
                description = "Which faults, comma-separated (default ${DEFAULT-VALUE}).")
        List<String> faults;

        @Option(names = "--no-compare", description = "Skip the pair without state sync (its runs take a dead peer detection each).")
        boolean noCompare;

        @Option(names = "--compare-runs", defaultValue = "-1",
                description = "Runs of each fault for the pair without state sync (default: as many as --runs).")
        int compareRuns;

        @Option(names = "--json", defaultValue = "isthmus-failover.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
        Path json;

        @Override
        public Integer call() throws Exception {
            if (!"root".equals(System.getProperty("user.name"))) {
                System.err.println("isthmus: the failover benchmark builds network namespaces: run it as root (sudo ./deploy/bench failover)");
                return 1;
            }
            new io.isthmus.lab.bench.Failover(rate, 6, System.out).runAndReport(faults.stream().map(io.isthmus.lab.bench.Failover.Fault::parse)
                    .toList(), runs, noCompare ? 0 : compareRuns < 0 ? runs : compareRuns, json);
            return 0;
        }
    }
}
