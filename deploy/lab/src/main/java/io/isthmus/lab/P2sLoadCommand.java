package io.isthmus.lab;

import io.isthmus.lab.bench.P2sLoad;
import io.isthmus.lab.ikeload.IkeLoadGenerator;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench p2s-load}: point-to-site clients at scale against one instance (see {@link P2sLoad}). */
@Command(name = "p2s-load", mixinStandardHelpOptions = true,
        description = "Point-to-site clients, each from its own address with its own certificate and a CFG_REQUEST, against one Isthmus "
                + "instance with a vpnClientConfiguration, while a site-to-site tunnel beside them carries a ping every 10 ms: clients served, "
                + "distinct addresses, clients a second, the gateway's CPU, heap and RSS per client, the pool, the site's loss; then clients past "
                + "maxClients, which must be refused with INTERNAL_ADDRESS_FAILURE; then a half-open flood from many addresses (cookies answered, "
                + "no IKE_AUTH). The site must keep its IKE SA and lose at most one ping a row (needs root).")
final class P2sLoadCommand implements Callable<Integer> {
    @Option(names = "--clients", defaultValue = "1000", description = "Clients in the burst; maxClients is set to this (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--over-limit", defaultValue = "100", description = "Clients past maxClients afterwards; 0: none (default ${DEFAULT-VALUE}).")
    int overLimit;

    @Option(names = "--threads", defaultValue = "2", description = "Generator threads, each an IKE engine (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--window", defaultValue = "64", description = "Clients connecting at once per generator thread (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--flood-seconds", defaultValue = "15", description = "The half-open flood's length; 0: none (default ${DEFAULT-VALUE}).")
    double floodSeconds;

    @Option(names = "--flood-sources", defaultValue = "4096", description = "The flood's source addresses (default ${DEFAULT-VALUE}).")
    int floodSources;

    @Option(names = "--json", defaultValue = "isthmus-p2s-load.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the point-to-site benchmark builds network namespaces: run it as root (sudo ./deploy/isthmus bench p2s-load)");
            return 1;
        }
        if (clients < 1 || clients > 30_000 || overLimit < 0 || overLimit > 30_000 || floodSeconds < 0 || floodSources < 1 || floodSources > 16_000) {
            System.err.println("isthmus: --clients from 1 to 30000 and --over-limit from 0 to 30000 (each from an address of its own in a /16 halved), "
                    + "--flood-seconds 0 or more, --flood-sources from 1 to 16000 (in the /16's last quarter)");
            return 2;
        }
        List<P2sLoad.Row> rows = P2sLoad.runAndReport(new P2sLoad.Options(clients, overLimit, threads, window, IkeLoadGenerator.PRIMING, floodSeconds,
                floodSources), json, System.out);
        P2sLoad.Row first = rows.getFirst();
        boolean allServed = first.report().clientsWithAddress() == clients && first.report().duplicateAddresses() == 0;
        boolean restRefused = overLimit == 0 || rows.get(1).report().refusedWith("INTERNAL_ADDRESS_FAILURE") == overLimit;
        boolean siteUndisturbed = rows.stream().allMatch(r -> P2sLoad.siteKept(r) && r.site().lost() <= 1);
        return allServed && restRefused && siteUndisturbed ? 0 : 1;
    }
}
