package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A bad day for a gateway in the lab, replayed against two Isthmus gateways while a paced UDP
 * stream crosses the tunnel (host-a to host-b), its loss counted: a forged copy of the last
 * request, IKE_SA_INIT floods on ports 500 and 4500 (valid and bad key exchange values) and
 * malformed ESP, all sent from the peer gateway's own namespace and address as a spoofer would,
 * bounded in rate and time; kill -9 of a gateway and its restart; rekeys started by the peer.
 * Each prints its figures (the closing note quotes them) and asserts what must hold.
 */
class ReliabilityTest extends LabTestBase {
    static final String A_WAN = "10.77.0.1";

    /** Two Isthmus gateways, gw-a answering and gw-b initiating (unless both are Default), one IKE SA each. */
    Path[] pair(IsthmusOptions a, IsthmusOptions b) throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-reliability"), false);
        Path sa = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, a));
        Path sb = LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, b));
        assertTrue(lab.awaitPath(Duration.ofSeconds(90), false), "no tunnel; logs in " + lab.work());
        awaitOneIkeSa(sa, Duration.ofSeconds(30));
        awaitOneIkeSa(sb, Duration.ofSeconds(30));
        return new Path[] {sa, sb};
    }


    static JsonNode established(JsonNode status) {
        for (JsonNode sa : status.path("connections").get(0).path("ikeSas")) {
            if (sa.path("state").asText().equals("ESTABLISHED")) {
                return sa;
            }
        }
        return null;
    }

    static long established(Path socket) throws IOException {
        long n = 0;
        for (JsonNode sa : status(socket).path("connections").get(0).path("ikeSas")) {
            n += sa.path("state").asText().equals("ESTABLISHED") ? 1 : 0;
        }
        return n;
    }

    static void awaitOneIkeSa(Path socket, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (established(socket) != 1) {
            assertTrue(System.nanoTime() < end, "not one established IKE SA: " + status(socket).toPrettyString());
            Thread.sleep(200);
        }
    }

    /** host-a to host-b, {@code perSecond} datagrams of 200 bytes for {@code seconds}, in the background. */
    CompletableFuture<Transfer> stream(int perSecond, int seconds, int silenceMillis) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return LabTraffic.udp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, perSecond * seconds, 200, perSecond, silenceMillis);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    long logLines(String gateway) throws IOException {
        return Files.readAllLines(lab.work().resolve(gateway + ".log")).size();
    }

    /** Counts UDP datagrams from gw-a's IKE ports arriving in gw-b's namespace. */
    void countIkeFromA() throws IOException, InterruptedException {
        lab.in(Lab.GW_B, "nft", "add table inet probe");
        lab.in(Lab.GW_B, "nft", "add chain inet probe input { type filter hook input priority 0 ; }");
        lab.in(Lab.GW_B, "nft", "add rule inet probe input ip saddr " + A_WAN + " udp sport { 500, 4500 } counter");
    }

    long ikeFromA() throws IOException, InterruptedException {
        Matcher m = Pattern.compile("counter packets (\\d+)").matcher(lab.in(Lab.GW_B, "nft", "list chain inet probe input"));
        assertTrue(m.find());
        return Long.parseLong(m.group(1));
    }

    static long number(String line, String key) {
        Matcher m = Pattern.compile(key + "=(\\d+)").matcher(line);
        assertTrue(m.find(), key + " in " + line);
        return Long.parseLong(m.group(1));
    }

    /*
     * Someone who saw the SPIs sends copies of "the last request" with a live IKE SA's SPIs and
     * every message ID from 0 to 31, on both ports. gw-a answered gw-b's IKE_AUTH, so message ID
     * 1 is its last: before the fix, each forged copy of it made gw-a send its cached response to
     * gw-b (64 responses in this test). Now none verifies and none is answered. Meanwhile gw-a
     * gets a SIGHUP, which used to stop it, and now reloads its unchanged file.
     */
    @Test
    void forgedRetransmissionsAreNotAnswered() throws Exception {
        Path[] s = pair(IsthmusOptions.DEFAULT.withMode("ResponderOnly"), IsthmusOptions.DEFAULT.withMode("InitiatorOnly"));
        JsonNode sa = established(status(s[0]));
        countIkeFromA();
        CompletableFuture<Transfer> stream = stream(2000, 8, 5000);
        long before = ikeFromA();
        String on500 = LabTraffic.flood(lab, Lab.GW_B, "forged", A_WAN, "500", sa.path("initiatorSpi").asText(),
                sa.path("responderSpi").asText(), "2000");
        String on4500 = LabTraffic.flood(lab, Lab.GW_B, "forged", A_WAN, "4500", sa.path("initiatorSpi").asText(),
                sa.path("responderSpi").asText(), "2000");
        long answers = ikeFromA() - before;
        // An operator's reflex, kill -HUP, reloads the unchanged file: it must not stop the gateway or touch its SAs.
        for (String pid : Lab.sh("ip", "netns", "pids", Lab.GW_A).split("\\s+")) {
            if (!pid.isBlank()) {
                Lab.sh("kill", "-HUP", pid.strip());
            }
        }
        Transfer t = stream.get(60, TimeUnit.SECONDS);
        System.out.printf("forged retransmissions: port 500 %s, port 4500 %s; gw-a sent %d IKE datagrams to gw-b meanwhile;"
                + " stream %s%n", on500, on4500, answers, t);
        assertTrue(answers <= 4, "gw-a answered forged requests: " + answers + " IKE datagrams to gw-b (liveness checks are at most a few)");
        assertEquals(sa.path("initiatorSpi").asText(), established(status(s[0])).path("initiatorSpi").asText(), "the SA stays");
        assertEquals(0, t.lost(), "the tunnel's stream: " + t);
        assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("SIGHUP"), "the gateway said what it did with SIGHUP");
    }

    /*
     * Floods from the peer's address, 5,000 a second for 4 s each: IKE_SA_INIT with a bad KE
     * value on port 500, IKE_SA_INIT with a valid one on 500, the same on 4500, and malformed
     * ESP on 4500. Cookies must be asked for, key pairs and log lines stay few, the
     * heap and resident memory stay bounded, status answers meanwhile, the tunnel stays up.
     */
    @Test
    void floodsEngageCookiesAndLeaveTheTunnelAlone() throws Exception {
        Path[] s = pair(IsthmusOptions.DEFAULT.withMode("ResponderOnly"), IsthmusOptions.DEFAULT.withMode("InitiatorOnly"));
        JsonNode st0 = status(s[0]);
        JsonNode sa = established(st0);
        long lines0 = logLines("gw-a");
        CompletableFuture<Transfer> stream = stream(2000, 22, 5000);
        StringBuilder report = new StringBuilder();
        long slowestStatus = 0;
        // Bad KE first: its requests never become half-open SAs, so only the rate can engage cookies.
        String[][] floods = {
            {"ike-init", A_WAN, "500", "4", "5000", "bad-ke"},
            {"ike-init", A_WAN, "500", "4", "5000", "valid"},
            {"ike-init", A_WAN, "4500", "4", "5000", "valid"},
            {"esp", A_WAN, "4500", "4", "5000", established(st0).path("childSas").get(0).path("inboundSpi").asText()},
        };
        for (String[] f : floods) {
            CompletableFuture<String> flood = CompletableFuture.supplyAsync(() -> {
                try {
                    return LabTraffic.flood(lab, Lab.GW_B, f);
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(2500);
            long t0 = System.nanoTime();
            status(s[0]); // an operator asks, mid-flood
            slowestStatus = Math.max(slowestStatus, (System.nanoTime() - t0) / 1_000_000);
            String result = flood.get(60, TimeUnit.SECONDS);
            report.append(String.join(" ", f)).append(": ").append(result).append('\n');
            if (f[0].equals("ike-init")) {
                long sent = number(result, "sent");
                assertTrue(sent >= 10_000, "the flood reached its rate: " + result);
                assertTrue(number(result, "cookies") >= sent / 2, "cookies asked for: " + result);
                assertTrue(number(result, "answered") + number(result, "refused") <= 1000, "few requests did real work: " + result);
            }
        }
        Transfer t = stream.get(60, TimeUnit.SECONDS);
        JsonNode st1 = status(s[0]);
        long lines1 = logLines("gw-a");
        JsonNode d0 = st0.path("defense");
        JsonNode d1 = st1.path("defense");
        JsonNode p0 = st0.path("process");
        JsonNode p1 = st1.path("process");
        System.out.printf("%sgw-a before: heap %d MB (live %d MB), RSS %d MB; after: heap %d MB (live %d MB), RSS %d MB%n"
                        + "cookies sent %d, key pairs made %d, IKE on 4500 handed over %d, dropped %d; log lines written %d;"
                        + " slowest status %d ms; drops %s %s%nstream through the tunnel: %s%n",
                report, p0.path("heapUsedBytes").asLong() >> 20, p0.path("heapLiveAfterLastGcBytes").asLong() >> 20,
                p0.path("residentBytes").asLong() >> 20, p1.path("heapUsedBytes").asLong() >> 20,
                p1.path("heapLiveAfterLastGcBytes").asLong() >> 20, p1.path("residentBytes").asLong() >> 20,
                d1.path("cookiesSent").asLong() - d0.path("cookiesSent").asLong(),
                d1.path("keyPairsGenerated").asLong() - d0.path("keyPairsGenerated").asLong(),
                d1.path("ikeFromPort4500").asLong() - d0.path("ikeFromPort4500").asLong(), d1.path("ikeFromPort4500Dropped").asLong(),
                lines1 - lines0, slowestStatus, st1.path("unattributedDrops"), st1.path("connections").get(0).path("drops"), t);
        assertTrue(lines1 - lines0 < 300, (lines1 - lines0) + " log lines for about 80,000 hostile datagrams");
        assertTrue(d1.path("keyPairsGenerated").asLong() - d0.path("keyPairsGenerated").asLong() < 1000, "key pairs: " + d1);
        assertTrue(p1.path("heapLiveAfterLastGcBytes").asLong() - p0.path("heapLiveAfterLastGcBytes").asLong() < 64L << 20,
                "live heap grew: " + p0 + " -> " + p1);
        assertTrue(p1.path("residentBytes").asLong() - p0.path("residentBytes").asLong() < 128L << 20, "RSS grew: " + p0 + " -> " + p1);
        assertTrue(slowestStatus < 5000, "status took " + slowestStatus + " ms during a flood");
        JsonNode after = established(st1);
        assertNotNull(after, st1.toPrettyString());
        assertEquals(sa.path("initiatorSpi").asText(), after.path("initiatorSpi").asText(), "the same IKE SA throughout");
        long espDrops = st1.path("unattributedDrops").path("UNKNOWN_SPI").asLong() + st1.path("unattributedDrops").path("ESP_TOO_SHORT").asLong()
                + st1.path("connections").get(0).path("drops").path("ESP_BAD_ICV").asLong();
        assertTrue(espDrops > 10_000, "malformed ESP dropped and counted: " + st1.path("unattributedDrops"));
        assertTrue(t.lost() <= t.bytesSent() / 200 / 100, "the tunnel's stream lost more than 1%: " + t);
    }

    /*
     * kill -9 of gw-b and a restart, while 200 datagrams a second cross from host-a to host-b.
     * Both ends run Default mode, as Azure does. The restarted gw-b says INITIAL_CONTACT, gw-a
     * drops the old SA at once; traffic must come back within seconds and stay back (before:
     * 6 to 8 s, then in 3 of 6 runs it flapped for 25 to 45 s more).
     */
    @Test
    void killNineAndRestartTrafficComesBackAndStays() throws Exception {
        int rate = 200;
        int seconds = 30;
        lab = Lab.up(Path.of("/tmp/isthmus-reliability"), false);
        Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT));
        String configB = LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT);
        Process b = LabGateways.startIsthmus(lab, Side.B, configB, "gw-b.log");
        assertTrue(lab.awaitPath(Duration.ofSeconds(90), false), "no tunnel; logs in " + lab.work());
        awaitOneIkeSa(a, Duration.ofSeconds(30));
        CompletableFuture<Transfer> stream = stream(rate, seconds, 40_000);
        Thread.sleep(5000);
        b.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Thread.sleep(1000);
        LabGateways.startIsthmus(lab, Side.B, configB, "gw-b-restarted.log");
        Transfer t = stream.get(120, TimeUnit.SECONDS);
        StringBuilder ranges = new StringBuilder();
        for (int[] r : t.lostRanges()) {
            ranges.append(String.format("%.2f-%.2f s ", r[0] / (double) rate, (r[1] + 1) / (double) rate));
        }
        // The kill comes 5 s into the stream (give or take the stream's start): a datagram or two lost before it, on
        // a machine loaded by other tests, is not this test's subject; it is reported, and held to a few.
        int killedAt = 4 * rate;
        List<int[]> before = t.lostRanges().stream().filter(r -> r[1] < killedAt).toList();
        List<int[]> after = t.lostRanges().stream().filter(r -> r[1] >= killedAt).toList();
        assertTrue(!after.isEmpty(), "the kill interrupted nothing? " + t);
        int[] outage = after.getFirst();
        double outageSeconds = (outage[1] - outage[0] + 1) / (double) rate;
        double stayedBack = seconds - (after.getLast()[1] + 1) / (double) rate;
        System.out.printf("kill -9 of gw-b, restarted 1 s later, %d datagrams/s: %d of %d lost, in %d run(s) (stream time): %s;"
                + " traffic back %.2f s after it stopped, then no loss for the remaining %.1f s%n", rate, t.lost(), rate * seconds,
                t.lostRanges().size(), ranges, outageSeconds, stayedBack);
        assertTrue(before.stream().mapToInt(r -> r[1] - r[0] + 1).sum() <= rate / 20, "lost before the kill: " + ranges);
        assertEquals(1, after.size(), "one outage, no flapping afterwards: " + ranges);
        assertTrue(outageSeconds < 12, "traffic back only " + outageSeconds + " s after it stopped");
        awaitOneIkeSa(a, Duration.ofSeconds(5));
    }

    /*
     * gw-b's child SAs live 15 s, gw-a's 7.5 hours: every rekey is started by the peer, so gw-a
     * moves its outbound traffic when gw-b deletes the old SA, the path where a packet thread
     * could seal with an SA already destroyed. 2,000 datagrams a second for 40 s: none lost,
     * no seal failure.
     */
    @Test
    void rekeysStartedByThePeerLoseNothing() throws Exception {
        Path[] s = pair(IsthmusOptions.DEFAULT.withMode("ResponderOnly").withPolicy(GCM128_POLICY),
                IsthmusOptions.DEFAULT.withMode("InitiatorOnly").withPolicy("saLifeTimeSeconds: 15\n" + GCM128_POLICY));
        JsonNode before = status(s[0]).path("connections").get(0).path("drops"); // pings while the tunnel came up: NO_SA
        Transfer t = stream(2000, 40, 5000).get(120, TimeUnit.SECONDS);
        JsonNode st = status(s[0]);
        String log = Files.readString(lab.work().resolve("gw-a.log"));
        long peerRekeys = log.lines().filter(l -> l.contains("CHILD_SA rekeyed")).count();
        JsonNode drops = st.path("connections").get(0).path("drops");
        System.out.printf("rekeys started by the peer during a 2,000 datagrams/s stream for 40 s: %d; stream %s; gw-a drops %s%n",
                peerRekeys, t, drops);
        assertTrue(peerRekeys >= 2, "gw-b rekeyed: " + peerRekeys);
        drops.fieldNames().forEachRemaining(name -> assertTrue(!name.startsWith("SEAL_")
                && !(name.equals("NO_SA") && drops.path(name).asLong() > before.path(name).asLong()), "gw-a dropped: " + before + " -> " + drops));
        assertEquals(0, t.lost(), "across the peer's rekeys: " + t);
    }
}
