package io.isthmus.control;

import io.isthmus.control.lab.Lab;
import io.isthmus.control.lab.Pairing;
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
                        """, p.label(), nat ? " with NAT" : "", up ? "up" : "NOT carrying traffic", WORK, Lab.HOST_A, Lab.HOST_B_IP,
                        Lab.HOST_A, WORK);
                new CountDownLatch(1).await();
            }
            return 0;
        }
    }

    @Command(name = "down", description = "Remove a lab left behind (namespaces and their processes).")
    static final class Down implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Lab.down();
            return 0;
        }
    }

    @Command(name = "iperf", description = "Build the lab, measure one TCP stream from site A to site B with iperf3, take it down.")
    static final class Iperf implements Callable<Integer> {
        @Option(names = "--pairing", defaultValue = "isthmus-isthmus")
        String pairing;

        @Option(names = "--seconds", defaultValue = "5")
        int seconds;

        @Option(names = "--nat")
        boolean nat;

        @Override
        public Integer call() throws Exception {
            Pairing p = Pairing.parse(pairing);
            try (Lab lab = Lab.up(WORK, nat)) {
                p.start(lab);
                if (!lab.awaitPath(Duration.ofSeconds(30), false)) {
                    System.err.println("isthmus: the lab carries no traffic; logs in " + WORK);
                    return 1;
                }
                System.out.printf("%s: %s%n", p.label(), Demo.iperf(lab, seconds));
            }
            return 0;
        }
    }
}
