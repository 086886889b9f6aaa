package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.PairLab.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BGP with the active-active pair (issue 14), as Azure's active-active gateway peers with a site:
 * a tunnel from the site (strongSwan 5.9 with BIRD 2) to each instance's floating address, and a
 * BGP session through each to that instance's own APIPA address. The site's network is known to
 * the pair only from BGP. Each instance's BIRD runs only its own session, and each sends the
 * network side's traffic into its own tunnel. gw1 killed: gw2 takes vip1 and gw1's SAs, but gw1's
 * session and routes went with gw1, so host-b's traffic (to vip1's network-side address, now on
 * gw2) goes into gw2's own tunnel; the site's session to gw1 ends at its hold time, gw2's stays.
 * gw1 back: its session comes up again through its tunnel and carries host-b's traffic again.
 * The site keeps both its IKE SAs throughout.
 * Needs root, keepalived, strongSwan and BIRD 2 (deploy/test.sh installs them).
 */
class PairBgpLabTest extends PairLabTestBase {
    static final String SITE = "192.168.10.0/24";
    static final int PINGS = 30;
    private static final Pattern RECEIVED = Pattern.compile("(\\d+) received");

    PairGateways pair;
    final List<String> figures = new ArrayList<>();

    @BeforeAll
    static void bird() {
        assertTrue(Files.isExecutable(Path.of("/usr/sbin/bird")), "BIRD 2 is missing; deploy/test.sh installs bird2 (deploy/lib/packages.sh)");
    }

    @AfterEach
    void print() {
        figures.forEach(System.out::println);
    }

    @Test
    void eachInstanceRoutesByItsOwnSessionAndADeadInstancesRoutesGoWithIt() throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-bgp-test"));
        pair = PairGateways.startWithBgp(lab, Options.DEFAULT);
        Path site = pair.startBgpPeer();

        await("the site's sessions with both instances", 120, () -> BgpLabTest.birdProtocols(site),
                m -> established(m, "gw1") && established(m, "gw2"));
        List<String> ikeSas = PairGateways.ikeSpis(pair.peerSas());
        assertEquals(2, ikeSas.size(), "the site's IKE SAs with both instances: " + pair.peerSas());
        // Each instance's BIRD has its own session only; isthmus status says what birdc says.
        assertEquals(Set.of("c_to_peer"), BgpLabTest.birdProtocols(pair.birdSocket(Instance.GW1)).keySet());
        assertEquals(Set.of("c_to_peer_2"), BgpLabTest.birdProtocols(pair.birdSocket(Instance.GW2)).keySet());
        for (Instance gw : Instance.values()) {
            String own = own(gw);
            await(gw.label + "'s session in its status and its route learned", 30,
                    () -> connection(status(gw), own).path("bgp").path("state").asText() + "; table 201: " + learned(gw),
                    s -> s.startsWith("Connected;") && s.contains(SITE + " via " + PairGateways.PEER_BGP));
            assertTrue(connection(status(gw), own(gw.other())).path("bgp").isMissingNode(),
                    gw.label + " runs no session for its partner's tunnel: " + connection(status(gw), own(gw.other())));
        }

        // host-b's gateway is vip1's network-side address: gw1 sends into its own tunnel.
        awaitPing(60);
        Map<String, Long> before = egress(Instance.GW1);
        int replies = ping();
        Map<String, Long> after = egress(Instance.GW1);
        figures.add("gw1 alive: " + replies + "/" + PINGS + " replies; gw1 sent " + delta(before, after, PairGateways.CONNECTION) + " into "
                + PairGateways.CONNECTION + ", " + delta(before, after, PairGateways.CONNECTION_2) + " into " + PairGateways.CONNECTION_2);
        assertTrue(replies >= PINGS - 2, figures.getLast());
        assertTrue(delta(before, after, PairGateways.CONNECTION) >= replies, figures.getLast());

        lab.killDaemon(Instance.GW1);
        long killed = System.nanoTime();
        assertTrue(lab.awaitAddress(Instance.GW2, PairLab.NET_VIP1, Duration.ofSeconds(20)) >= 0, "gw2 took vip1");
        double firstReply = awaitPing(30) - (killed / 1e6);
        before = egress(Instance.GW2);
        replies = ping();
        after = egress(Instance.GW2);
        figures.add("gw1 killed: first reply through gw2 " + Math.round(firstReply) + " ms after the kill; " + replies + "/" + PINGS
                + " replies; gw2 sent " + delta(before, after, PairGateways.CONNECTION_2) + " into its own " + PairGateways.CONNECTION_2 + ", "
                + delta(before, after, PairGateways.CONNECTION) + " into gw1's " + PairGateways.CONNECTION + " (which it carries now)");
        assertTrue(replies >= PINGS - 2, figures.getLast());
        assertTrue(delta(before, after, PairGateways.CONNECTION_2) >= replies, "gw1's routes went with it: " + figures.getLast());
        assertTrue(delta(before, after, PairGateways.CONNECTION) <= 2, "gw1's routes went with it: " + figures.getLast());
        assertTrue(carries(Instance.GW2, PairGateways.CONNECTION), "gw2 carries gw1's tunnel on: " + status(Instance.GW2));
        Map<String, String[]> m = await("the site's session with gw1 ended (hold time 6 s), gw2's up", 40, () -> BgpLabTest.birdProtocols(site),
                x -> !established(x, "gw1") && established(x, "gw2"));
        figures.add("the site's sessions " + (System.nanoTime() - killed) / 1_000_000 + " ms after the kill: gw1 " + String.join(" ", m.get("gw1"))
                + ", gw2 " + String.join(" ", m.get("gw2")));

        // gw1 back: it takes vip1 and its tunnel back, its session comes up through it, and it carries host-b's traffic again.
        pair.startDaemon(Instance.GW1);
        long back = System.nanoTime();
        assertTrue(lab.awaitAddress(Instance.GW1, PairLab.NET_VIP1, Duration.ofSeconds(60)) >= 0, "gw1 took vip1 back");
        await("the site's session with gw1 again", 60, () -> BgpLabTest.birdProtocols(site), x -> established(x, "gw1") && established(x, "gw2"));
        await("gw1's route learned again", 30, () -> learned(Instance.GW1), r -> r.contains(SITE + " via " + PairGateways.PEER_BGP));
        figures.add("gw1 back: session and route " + (System.nanoTime() - back) / 1_000_000 + " ms after its start");
        awaitPing(30);
        before = egress(Instance.GW1);
        replies = ping();
        after = egress(Instance.GW1);
        figures.add("gw1 back: " + replies + "/" + PINGS + " replies; gw1 sent " + delta(before, after, PairGateways.CONNECTION) + " into "
                + PairGateways.CONNECTION);
        assertTrue(replies >= PINGS - 2 && delta(before, after, PairGateways.CONNECTION) >= replies, figures.getLast());
        // Through it all the site kept its IKE SAs: gw2 carried gw1's on, and gw1 took it back (a failback while gw1 was still
        // starting BIRD once lost it: its groups came before its connections).
        assertEquals(ikeSas, PairGateways.ikeSpis(pair.peerSas()), "the site's IKE SAs are the same ones");
    }

    static String own(Instance gw) {
        return gw == Instance.GW1 ? PairGateways.CONNECTION : PairGateways.CONNECTION_2;
    }

    static boolean established(Map<String, String[]> protocols, String name) {
        String[] p = protocols.get(name);
        return p != null && p[0].equals("up") && p[1].equals("Established");
    }

    JsonNode status(Instance gw) throws IOException {
        return GatewayClient.status(pair.socket(gw));
    }

    static JsonNode connection(JsonNode status, String name) {
        for (JsonNode c : status.path("connections")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no connection " + name + " in " + status.toPrettyString());
    }

    /** BIRD's routes in the instance's table 201, as ip(8) shows them ("192.168.10.0/24 via 169.254.21.2 dev isthmus0 proto bird ..."). */
    String learned(Instance gw) throws IOException, InterruptedException {
        return lab.in(gw.ns, "ip", "-4", "route", "show", "table", "201");
    }

    boolean carries(Instance gw, String connection) throws IOException {
        return !connection(status(gw), connection).path("ikeSas").path(0).path("childSas").isMissingNode();
    }

    /** Each connection's outbound packets as {@code gw}'s status counts them. */
    Map<String, Long> egress(Instance gw) throws IOException {
        JsonNode s = status(gw);
        return Map.of(PairGateways.CONNECTION, connection(s, PairGateways.CONNECTION).path("metrics").path("TunnelEgressPackets").asLong(),
                PairGateways.CONNECTION_2, connection(s, PairGateways.CONNECTION_2).path("metrics").path("TunnelEgressPackets").asLong());
    }

    static long delta(Map<String, Long> before, Map<String, Long> after, String connection) {
        return after.get(connection) - before.get(connection);
    }

    /** {@value #PINGS} pings from host-b to host-a, 50 ms apart; how many were answered. */
    int ping() throws IOException, InterruptedException {
        String out;
        try {
            out = lab.in(PairLab.HOST_B, "ping", "-c", Integer.toString(PINGS), "-i", "0.05", "-W", "2", PairLab.HOST_A_IP);
        } catch (IOException e) {
            out = e.getMessage();
        }
        Matcher r = RECEIVED.matcher(out);
        return r.find() ? Integer.parseInt(r.group(1)) : 0;
    }

    /** Pings host-a from host-b until one is answered; when that was, in ms of System.nanoTime. */
    double awaitPing(int seconds) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (System.nanoTime() < end) {
            try {
                lab.in(PairLab.HOST_B, "ping", "-c", "1", "-W", "1", PairLab.HOST_A_IP);
                return System.nanoTime() / 1e6;
            } catch (IOException lost) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("host-b does not reach host-a within " + seconds + " s; gw1: " + safeStatus(Instance.GW1) + "\ngw2: "
                + safeStatus(Instance.GW2) + "\nlogs in " + lab.work());
    }

    String safeStatus(Instance gw) {
        try {
            return status(gw).toPrettyString();
        } catch (IOException e) {
            return "no status: " + e.getMessage();
        }
    }

    <T> T await(String what, int seconds, Callable<T> read, Predicate<T> done) throws Exception {
        return Awaiting.until(what, seconds, read, done, lab.work());
    }
}
