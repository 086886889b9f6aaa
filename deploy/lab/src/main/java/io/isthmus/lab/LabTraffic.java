package io.isthmus.lab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs {@link Traffic} between the lab's hosts and compares what was sent with what arrived. */
public final class LabTraffic {
    private static final Pattern RESULT = Pattern.compile("bytes=(\\d+) sha256=([0-9a-f]+)(?: received=(\\d+) lost=(\\d+)(?: lost-ranges=([0-9,-]+))?)?");
    private static int nextPort = 5201;

    private LabTraffic() {
    }

    /** One transfer: what the sender sent, what the receiver got. */
    public record Transfer(long bytesSent, String sentHash, long bytesReceived, String receivedHash, int lost, double seconds,
                           List<int[]> lostRanges) {
        public boolean intact() {
            return bytesSent == bytesReceived && sentHash.equals(receivedHash) && lost == 0;
        }

        public double megabitsPerSecond() {
            return bytesReceived * 8 / seconds / 1e6;
        }

        @Override
        public String toString() {
            return String.format("%d bytes sent, %d received, %s, %.0f Mbit/s%s", bytesSent, bytesReceived,
                    intact() ? "SHA-256 equal" : "SHA-256 DIFFERS", megabitsPerSecond(), lost > 0 ? ", " + lost + " datagrams lost" : "");
        }
    }

    /** Runs {@link Flood} in namespace {@code ns} to its end; returns its line of counts. */
    public static String flood(Namespaces lab, String ns, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(LabGateways.javaCommand());
        cmd.add(Flood.class.getName());
        cmd.addAll(List.of(args));
        return lab.in(ns, cmd.toArray(String[]::new)).strip();
    }

    static List<String> traffic(String... args) {
        List<String> cmd = new ArrayList<>(LabGateways.javaCommand());
        cmd.add(Traffic.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    public static Transfer tcp(Namespaces lab, String fromNs, String toNs, String toAddress, long bytes) throws IOException, InterruptedException {
        int port = nextPort++;
        Process receiver = lab.start(toNs, traffic("tcp-receive", Integer.toString(port)));
        BufferedReader r = awaitListening(receiver);
        long start = System.nanoTime();
        String sent = lab.in(fromNs, traffic("tcp-send", toAddress, Integer.toString(port), Long.toString(bytes), "7").toArray(String[]::new));
        String got = finish(receiver, r);
        return result(sent, got, (System.nanoTime() - start) / 1e9);
    }

    public static Transfer udp(Namespaces lab, String fromNs, String toNs, String toAddress, int datagrams, int size, int perSecond)
            throws IOException, InterruptedException {
        return udp(lab, fromNs, toNs, toAddress, datagrams, size, perSecond, 5000);
    }

    /** With the receiver waiting up to {@code silenceMillis} for the next datagram (across an outage) before it reports. */
    public static Transfer udp(Namespaces lab, String fromNs, String toNs, String toAddress, int datagrams, int size, int perSecond,
                               int silenceMillis) throws IOException, InterruptedException {
        int port = nextPort++;
        Process receiver = lab.start(toNs, traffic("udp-receive", Integer.toString(port), Integer.toString(datagrams),
                Integer.toString(silenceMillis)));
        BufferedReader r = awaitListening(receiver);
        long start = System.nanoTime();
        String sent = lab.in(fromNs, traffic("udp-send", toAddress, Integer.toString(port), Integer.toString(datagrams), Integer.toString(size),
                Integer.toString(perSecond), "11").toArray(String[]::new));
        String got = finish(receiver, r);
        return result(sent, got, (System.nanoTime() - start) / 1e9);
    }

    private static BufferedReader awaitListening(Process receiver) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(receiver.getInputStream()));
        String line = r.readLine();
        if (!"listening".equals(line)) {
            throw new IOException("the receiver did not start: " + line);
        }
        return r;
    }

    private static String finish(Process receiver, BufferedReader r) throws IOException, InterruptedException {
        StringBuilder out = new StringBuilder();
        for (String line; (line = r.readLine()) != null; ) {
            out.append(line).append('\n');
        }
        if (!receiver.waitFor(90, TimeUnit.SECONDS)) {
            receiver.destroyForcibly();
        }
        return out.toString();
    }

    private static Transfer result(String sent, String got, double seconds) throws IOException {
        Matcher s = RESULT.matcher(sent.strip());
        Matcher g = RESULT.matcher(got.strip());
        if (!s.find() || !g.find()) {
            throw new IOException("unexpected traffic output: sender '" + sent.strip() + "', receiver '" + got.strip() + "'");
        }
        List<int[]> ranges = new ArrayList<>();
        if (g.group(5) != null) {
            for (String r : g.group(5).split(",")) {
                String[] ends = r.split("-");
                ranges.add(new int[] {Integer.parseInt(ends[0]), Integer.parseInt(ends[1])});
            }
        }
        return new Transfer(Long.parseLong(s.group(1)), s.group(2), Long.parseLong(g.group(1)), g.group(2),
                g.group(4) == null ? 0 : Integer.parseInt(g.group(4)), seconds, ranges);
    }
}
