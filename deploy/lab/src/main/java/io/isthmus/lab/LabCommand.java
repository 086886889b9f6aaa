package io.isthmus.lab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus lab}: the two-site lab in network namespaces, by hand. */
@Command(name = "lab", description = "Two sites and two gateways in network namespaces on this machine (root).",
        subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.Iperf.class})
final class LabCommand {
    static final Path WORK = Path.of("/tmp/isthmus-lab");

    @Command(name = "up", description = "Build the lab, start the gateways, keep them up until Ctrl-C.")
    static final class Up implements Callable<Integer> {
        @Option(names = "--pairing", defaultValue = "isthmus-isthmus",
                description = "isthmus-isthmus, isthmus-strongswan, strongswan-isthmus or strongswan-strongswan (site A's gateway first).")
        String pairing;

        @Option(names = "--nat", description = "Put site A's gateway behind a NAT.")
        boolean nat;

        @Override
        public Integer call() throws Exception {
            Pairing p = Pairing.parse(pairing);
            try (Lab lab = Lab.up(WORK, nat)) {
                p.start(lab);
                boolean up = lab.awaitPath(Duration.ofSeconds(30), false);
                System.out.printf("""
                        lab %s%s is %s; logs and configurations in %s
                          ip netns exec %s ping %s
                          ip netns exec %s bash          (a shell on site A's host)
                          isthmus status --control-socket %s/gw-a.sock
                        Ctrl-C takes it all down.
                        """, p.label(), nat ? " with NAT" : "", up ? "up" : "NOT carrying traffic", lab.work(), Lab.HOST_A, Lab.HOST_B_IP,
                        Lab.HOST_A, lab.work());
                new CountDownLatch(1).await();
            }
            return 0;
        }
    }

    @Command(name = "down", description = "Remove labs left behind by runs that are gone (namespaces and their processes).")
    static final class Down implements Callable<Integer> {
        @Option(names = "--all", description = "Also the labs of runs still going (a demo, a test run).")
        boolean all;

        @Override
        public Integer call() throws Exception {
            Lab.down(all);
            return 0;
        }
    }

    @Command(name = "iperf", description = "For each pairing in turn: build the lab, measure one TCP stream from site A to site B "
            + "with iperf3, take it down; then a table with each pairing's ratio to the first.")
    static final class Iperf implements Callable<Integer> {
        @Option(names = "--pairing", defaultValue = "isthmus-isthmus", split = ",",
                description = "One or more, comma-separated, e.g. isthmus-isthmus,strongswan-strongswan.")
        java.util.List<String> pairings;

        @Option(names = "--seconds", defaultValue = "5")
        int seconds;

        @Option(names = "--nat")
        boolean nat;

        @Override
        public Integer call() throws Exception {
            java.util.List<String[]> rows = new java.util.ArrayList<>();
            double first = 0;
            for (String name : pairings) {
                Pairing p = Pairing.parse(name);
                try (Lab lab = Lab.up(WORK, nat)) {
                    p.start(lab);
                    if (!lab.awaitPath(Duration.ofSeconds(30), false)) {
                        System.err.println("isthmus: " + p.label() + " carries no traffic; logs in " + lab.work());
                        return 1;
                    }
                    Demo.Iperf result = Demo.iperfResult(lab, seconds);
                    first = first == 0 ? result.gigabits() : first;
                    rows.add(new String[] {p.label(), result.toString(), String.format("%.2f", result.gigabits() / first)});
                    System.out.printf("%s: %s%n", p.label(), result);
                }
            }
            System.out.printf("%n| pairing%s | one TCP stream, A to B | ratio to %s |%n", nat ? " (NAT)" : "", pairings.getFirst());
            for (String[] r : rows) {
                System.out.printf("| %s | %s | %s |%n", r[0], r[1], r[2]);
            }
            return 0;
        }
    }
}
