package io.isthmus.lab;

import io.isthmus.lab.bench.Bench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench}: the throughput benchmark (see {@link Bench}). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Throughput, packet rate, latency and cost of Isthmus against plain veth, strongSwan and wireguard-go, "
                + "in the namespace lab (needs root).")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "10", description = "Length of each iperf3 measurement (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--pings", defaultValue = "500", description = "Pings, 10 ms apart, for the round-trip times (default ${DEFAULT-VALUE}).")
    int pings;

    @Option(names = "--paths", split = ",", description = "Which paths, comma-separated (default: all but the diagnostic ones): "
            + "plain-veth, isthmus-aes128gcm, isthmus-aes256gcm, isthmus-chacha20poly1305, isthmus-strongswan, strongswan-strongswan, "
            + "wireguard-go; diagnostic: isthmus-raw-esp, isthmus-no-offloads.")
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
}
