package io.isthmus.lab;

import io.isthmus.lab.bench.IkeLoad;
import io.isthmus.lab.ikeload.IkeLoadLab.Responder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus bench ike-load}: the IKE SA setup rate (see {@link IkeLoad}). */
@Command(name = "ike-load", mixinStandardHelpOptions = true,
        description = "IKE SAs (each with its child SA) set up a second by the project's own load generator, from thousands of source "
                + "addresses, against Isthmus and strongSwan as responders in the same run: PSK and ECDSA certificates, cookies off and on, "
                + "a burst against the half-open limits, and a half-open flood beside a legitimate peer (needs root).")
final class IkeLoadCommand implements Callable<Integer> {
    @Option(names = "--responders", split = ",", defaultValue = "isthmus,strongswan", description = "Which responders (default ${DEFAULT-VALUE}).")
    List<String> responders;

    @Option(names = "--auth", split = ",", defaultValue = "psk,ecdsa", description = "Which authentications (default ${DEFAULT-VALUE}).")
    List<String> auths;

    @Option(names = "--cookies", split = ",", defaultValue = "off,on",
            description = "Cookies off, and/or on as each responder has them by default (default ${DEFAULT-VALUE}).")
    List<String> cookies;

    @Option(names = "--threads", defaultValue = "2", description = "Generator threads, each an IKE engine (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--window", defaultValue = "64", description = "Exchanges outstanding per generator thread (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--rate", defaultValue = "0", description = "Attempts a second offered; 0: as fast as the responder answers (default).")
    double rate;

    @Option(names = "--jit-warmup", defaultValue = "60",
            description = "Seconds of load on each responder just started, before its rows (a JVM compiles its hot code meanwhile) (default ${DEFAULT-VALUE}).")
    double jitWarmup;

    @Option(names = "--warmup", defaultValue = "3", description = "Seconds of load before each measured window (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--seconds", defaultValue = "10", description = "The measured window of each row (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--sources", defaultValue = "4096", description = "Source addresses of the generator, from 10.80.0.1 (default ${DEFAULT-VALUE}).")
    int sources;

    @Option(names = "--burst", defaultValue = "3000", description = "IKE_SA_INIT at once in the burst rows; 0: none (default ${DEFAULT-VALUE}).")
    int burst;

    @Option(names = "--flood-seconds", defaultValue = "15", description = "Length of the flood rows; 0: none (default ${DEFAULT-VALUE}).")
    double floodSeconds;

    @Option(names = "--json", defaultValue = "isthmus-ike-load.json", description = "Where to write the results as JSON (default ${DEFAULT-VALUE}).")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the IKE load benchmark builds network namespaces: run it as root (sudo ./deploy/isthmus bench ike-load)");
            return 1;
        }
        IkeLoad.Options o = new IkeLoad.Options(responders.stream().map(r -> Responder.valueOf(r.toUpperCase())).toList(), auths,
                cookies.stream().map(c -> switch (c) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("--cookies takes off and on, not " + c);
                }).toList(), threads, window, rate, jitWarmup, warmup, seconds, sources, burst, floodSeconds);
        List<IkeLoad.Row> rows = IkeLoad.runAndReport(o, json, System.out);
        return rows.stream().allMatch(r -> r.report().established() > 0 || !r.kind().equals("steady")) ? 0 : 1;
    }
}
