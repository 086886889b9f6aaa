package io.isthmus.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.Lab.Side;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code isthmus demo}: two Isthmus gateways in network namespaces, on the embedded
 * configurations gw-a.yaml and gw-b.yaml, join two sites; hosts on either side ping each other
 * and iperf3 measures the tunnel; then everything is taken down again (also on Ctrl-C).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Two gateways in network namespaces carrying traffic between two sites (needs root).")
final class Demo implements Callable<Integer> {
    static final Path WORK = Path.of("/tmp/isthmus-demo");

    @Option(names = "--seconds", defaultValue = "5", description = "How long iperf3 measures.")
    int seconds;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("isthmus: the demo builds network namespaces and TUN devices: run it as root (sudo ./deploy/demo.sh)");
            return 1;
        }
        out.println("""
                Isthmus demo: two sites, two gateways, one IPsec tunnel, all in network namespaces on this machine.

                  host-a 192.168.10.10 -- gw-a 10.77.0.1 ==== IKEv2 + ESP ==== 10.77.0.2 gw-b -- host-b 192.168.20.10
                         fd10::10                                                                    fd20::10
                """);
        long start = System.nanoTime();
        try (Lab lab = Lab.up(WORK, false)) {
            Path a = start(lab, Side.A);
            start(lab, Side.B);
            out.printf("gateways started (configurations %s/gw-a.yaml and gw-b.yaml, logs gw-a.log and gw-b.log)%n", lab.work());
            if (!lab.awaitPath(Duration.ofSeconds(30), false)) {
                out.println("the tunnel did not come up within 30 s; the gateways' logs say why:");
                out.println(tail(lab.work().resolve("gw-a.log")));
                return 1;
            }
            out.printf("tunnel up %.1f s after start%n%n", (System.nanoTime() - start) / 1e9);
            out.println("$ ping -c 3 192.168.20.10   (from host-a)");
            out.println(lastLines(lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", Lab.HOST_B_IP), 2));
            out.println("$ ping -6 -c 3 fd20::10     (from host-a, IPv6 through the same tunnel)");
            out.println(lastLines(lab.in(Lab.HOST_A, "ping", "-6", "-c", "3", "-i", "0.2", Lab.HOST_B_IP6), 2));
            out.println("$ ping -c 3 192.168.10.10   (from host-b, the other way)");
            out.println(lastLines(lab.in(Lab.HOST_B, "ping", "-c", "3", "-i", "0.2", Lab.HOST_A_IP), 2));
            out.println();
            out.println("one TCP stream from host-a to host-b: " + iperf(lab, seconds));
            out.println("a 16 MB file host-b -> host-a over TCP: " + LabTraffic.tcp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, 16 << 20));
            out.println();
            out.println("$ isthmus status   (gw-a)");
            JsonNode status = GatewayClient.status(a);
            out.print(GatewayClient.render(status));
            out.println();
            out.println("taking the lab down");
        }
        return 0;
    }

    private static Path start(Lab lab, Side side) throws IOException {
        String name = side == Side.A ? "gw-a.yaml" : "gw-b.yaml";
        try (InputStream in = Demo.class.getResourceAsStream("demo/" + name)) {
            return LabGateways.startIsthmus(lab, side, new String(in.readAllBytes()));
        }
    }

    /** One TCP stream's result. */
    record Iperf(double gigabits, int seconds, long retransmits, boolean byIperf3) {
        @Override
        public String toString() {
            return byIperf3 ? String.format("%.2f Gbit/s (iperf3, %d s, %d retransmits)", gigabits, seconds, retransmits)
                    : String.format("%.2f Gbit/s (64 MB timed; iperf3 is not installed)", gigabits);
        }
    }

    /** One TCP stream, host-a to host-b, with iperf3 if it is installed (else a timed transfer). */
    static String iperf(Lab lab, int seconds) throws IOException, InterruptedException {
        return iperfResult(lab, seconds).toString();
    }

    static Iperf iperfResult(Lab lab, int seconds) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/iperf3"))) {
            var t = LabTraffic.tcp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, 64L << 20);
            return new Iperf(t.megabitsPerSecond() / 1000, 0, 0, false);
        }
        Process server = lab.start(Lab.HOST_B, List.of("iperf3", "-s", "-1"));
        Thread.sleep(500);
        String json = lab.in(Lab.HOST_A, "iperf3", "-c", Lab.HOST_B_IP, "-t", Integer.toString(seconds), "-J");
        server.waitFor(5, TimeUnit.SECONDS);
        JsonNode end = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).path("end");
        return new Iperf(end.path("sum_received").path("bits_per_second").asDouble() / 1e9, seconds,
                end.path("sum_sent").path("retransmits").asLong(), true);
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.strip().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    private static String tail(Path log) {
        try {
            return lastLines(Files.readString(log), 15);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
