package io.isthmus.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Namespaces;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's traffic: iperf3 and ping run in the sending site's namespace ({@code client})
 * towards a host of the other site that runs {@code iperf3 -s}. The namespace bench sends from
 * host-a to host-b; the two-machine bench from machine A's site namespace to machine B's.
 */
public final class Iperf {
    private final Namespaces lab;
    private final String client;
    private final String server;
    private final int seconds;

    /**
     * @param lab     where {@code client} is
     * @param client  the namespace iperf3 and ping run in
     * @param server  the address of the far host running {@code iperf3 -s}
     * @param seconds length of each TCP measurement, and how many one-second UDP runs
     */
    public Iperf(Namespaces lab, String client, String server, int seconds) {
        this.lab = lab;
        this.client = client;
        this.server = server;
        this.seconds = seconds;
    }

    /** One iperf3 run of {@code seconds} with these extra arguments ("-P", "4"), its JSON report. */
    public JsonNode run(int seconds, String... extra) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("iperf3", "-c", server, "-t", Integer.toString(seconds), "-J"));
        command.addAll(Arrays.asList(extra));
        String out;
        try {
            out = lab.in(client, command.toArray(String[]::new));
        } catch (IOException e) {
            // iperf3 -J reports its error inside the JSON, and exits 1.
            throw new IOException(String.join(" ", command) + ": " + e.getMessage());
        }
        // iperf3 may warn on the terminal before its JSON.
        JsonNode json = Bench.JSON.readTree(out.substring(Math.max(0, out.indexOf('{'))));
        if (json.has("error")) {
            throw new IOException(String.join(" ", command) + ": " + json.get("error").asText());
        }
        return json;
    }

    /**
     * TCP with {@code streams} streams for the configured seconds, iperf3's JSON report. iperf3's
     * control connection goes through the path too, and through a slow one (strongSwan's
     * userspace ESP) four streams can starve it until the server gives up on it ("unable to
     * receive control message"): a run that fails is tried once more.
     */
    public JsonNode tcp(int streams) throws IOException, InterruptedException {
        String[] extra = streams == 1 ? new String[0] : new String[] {"-P", Integer.toString(streams)};
        try {
            return run(seconds, extra);
        } catch (IOException e) {
            Thread.sleep(1000);
            return run(seconds, extra);
        }
    }

    public static double gbps(JsonNode iperf) {
        return iperf.path("end").path("sum_received").path("bits_per_second").asDouble() / 1e9;
    }

    public static long retransmits(JsonNode iperf) {
        return iperf.path("end").path("sum_sent").path("retransmits").asLong();
    }

    /**
     * Datagrams of {@code packetBytes} (IP) that arrived per second: received bytes over payload
     * size, as iperf3's server counted them. Measured in one-second runs: iperf3's control
     * connection goes through the tunnel too, and a flood of several seconds through a slow
     * tunnel (strongSwan's) starves it until iperf3 gives up. A run that fails that way is
     * tried once more.
     */
    public double udpPacketsPerSecond(int packetBytes) throws IOException, InterruptedException {
        int payload = packetBytes - 28;
        double bytes = 0;
        double time = 0;
        for (int i = 0; i < seconds; i++) {
            JsonNode r;
            try {
                r = run(1, "-u", "-b", "0", "-l", Integer.toString(payload));
            } catch (IOException e) {
                Thread.sleep(1000);
                r = run(1, "-u", "-b", "0", "-l", Integer.toString(payload));
            }
            JsonNode received = r.path("end").path("sum_received");
            bytes += received.path("bytes").asDouble();
            time += received.path("seconds").asDouble();
        }
        return time <= 0 ? Double.NaN : bytes / payload / time;
    }

    /** {@code count} pings 10 ms apart, their round-trip times in ms, sorted. */
    public double[] ping(int count) throws IOException, InterruptedException {
        String out = lab.in(client, "ping", "-c", Integer.toString(count), "-i", "0.01", "-W", "1", server);
        return out.lines().filter(l -> l.contains("time=")).mapToDouble(l -> {
            String t = l.substring(l.indexOf("time=") + 5);
            return Double.parseDouble(t.substring(0, t.indexOf(' ')));
        }).sorted().toArray();
    }
}
