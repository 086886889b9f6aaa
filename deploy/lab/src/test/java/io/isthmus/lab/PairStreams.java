package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The two streams the pair's faults run under (issue 12): a paced UDP stream with sequence
 * numbers from host-b to host-a, and an iperf3 TCP stream from host-a to host-b (its server
 * started by {@link #server}). A fault passes when the TCP connection was never reset and the UDP
 * stream flows again before its end; the longest gap and the loss are its figures.
 */
final class PairStreams {
    /** Datagrams a second, 200 bytes each (228 inside the tunnel). */
    static final int RATE = 2000;

    private final PairLab lab;
    private final int datagrams;
    private final int seconds;
    private final Process tcp;
    private final CompletableFuture<LabTraffic.Transfer> udp;

    private PairStreams(PairLab lab, int seconds) throws Exception {
        this.lab = lab;
        this.seconds = seconds;
        this.datagrams = RATE * seconds;
        this.tcp = lab.start(PairLab.HOST_A, List.of("iperf3", "-c", PairLab.HOST_B_IP, "-t", Integer.toString(seconds + 1), "-b", "2M",
                "--connect-timeout", "5000"));
        this.udp = CompletableFuture.supplyAsync(() -> {
            try {
                return LabTraffic.udp(lab, PairLab.HOST_B, PairLab.HOST_A, PairLab.HOST_A_IP, datagrams, 200, RATE, 8000);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** iperf3's server on host-b, once per lab. */
    static void server(PairLab lab) throws Exception {
        lab.in(PairLab.HOST_B, "sh", "-c", "iperf3 -s -D --pidfile " + lab.work().resolve("iperf3.pid"));
        Thread.sleep(1000);
    }

    /** Both streams for {@code seconds}, starting now. */
    static PairStreams start(PairLab lab, int seconds) throws Exception {
        return new PairStreams(lab, seconds);
    }

    /** What the streams saw of one fault. */
    record Outcome(String name, LabTraffic.Transfer udp, int datagrams, boolean tcpIntact, String tcpOut) {
        double longestGapMillis() {
            return udp.lostRanges().stream().mapToInt(r -> r[1] - r[0] + 1).max().orElse(0) * 1000.0 / RATE;
        }

        /** The stream lost nothing in its last half second: it flowed again after the fault. */
        boolean flowsAfter() {
            return udp.lostRanges().stream().noneMatch(r -> r[1] >= datagrams - RATE / 2);
        }

        boolean ok() {
            return tcpIntact && flowsAfter();
        }

        String figure() {
            return String.format("UDP: %4d of %d lost, longest gap %4.0f ms; TCP %s", udp.lost(), datagrams, longestGapMillis(),
                    tcpIntact ? "intact" : "FAILED");
        }

        void check() {
            assertEquals(true, tcpIntact, name + ": the TCP stream survived: " + tcpOut);
            assertTrue(flowsAfter(), name + ": the stream flows after it: " + udp);
        }
    }

    /** Waits for both to end (a stalled TCP connection is bounded, and a failure). */
    Outcome finish(String name) throws Exception {
        LabTraffic.Transfer t = udp.get();
        boolean ended = tcp.waitFor(seconds + 30L, TimeUnit.SECONDS);
        if (!ended) {
            tcp.destroyForcibly();
        }
        String out = new String(tcp.getInputStream().readAllBytes());
        return new Outcome(name, t, datagrams, ended && tcp.exitValue() == 0, out);
    }
}
