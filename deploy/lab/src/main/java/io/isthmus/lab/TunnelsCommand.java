package io.isthmus.lab;

import io.isthmus.lab.bench.TunnelsBench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench tunnels}: one gateway instance with many tunnels (see {@link TunnelsBench}). */
@Command(name = "tunnels", mixinStandardHelpOptions = true,
        description = "One gateway instance with many tunnels, at each count: the daemon's start-up, reload, status and metrics scrape "
                + "times and memory with that many connections; heap and native memory per tunnel, timers, status and scrape with that many "
                + "IKE SAs and child SAs up; and forwarding across 1,000 of 10,000 tunnels against 1 of 1 (JMH). Needs root (network "
                + "namespaces, TUN devices).")
final class TunnelsCommand implements Callable<Integer> {
    @Option(names = "--count", split = ",", defaultValue = "1,1000,10000",
            description = "How many tunnels, comma-separated (default ${DEFAULT-VALUE}); at most 10,000, what SKU Isthmus takes.")
    List<Integer> counts;

    @Option(names = "--no-lookups", description = "Skip the forwarding benchmark (JMH, about a minute).")
    boolean noLookups;

    @Option(names = "--quick-lookups", description = "The forwarding benchmark's short form: 1 warm-up and 3 measured iterations of a second.")
    boolean quickLookups;

    @Option(names = "--json", defaultValue = "isthmus-tunnels.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the tunnels benchmark makes network namespaces and TUN devices: run it as root");
            return 1;
        }
        for (int n : counts) {
            if (n < 1 || n > 10_000) {
                System.err.println("isthmus: --count: " + n + " is not allowed; 1 to 10000");
                return 2;
            }
        }
        return TunnelsBench.runAndReport(counts, !noLookups, quickLookups, json, System.out).complete() ? 0 : 1;
    }
}
