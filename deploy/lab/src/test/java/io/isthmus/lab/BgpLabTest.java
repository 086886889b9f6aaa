package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BGP through the tunnels, as Azure VPN Gateway peers with its sites: gw-a is Isthmus with
 * bgpSettings (AS 65001, APIPA 169.254.21.1) and two BGP connections, to gw-b, strongSwan 5.9
 * (kernel-libipsec) with BIRD 2 beside it as the README's BGP section tells a site to run it, and
 * to gw-c, Isthmus running its own BIRD from its bgpSettings. Both sessions are eBGP multihop
 * through the ESP tunnels.
 *
 * <p>gw-b announces 192.168.40.0/24 (a network on gw-b, through BIRD's static protocol "site",
 * enabled and disabled with birdc): it must reach gw-a's kernel table 201, gw-a's host route into
 * the TUN device and the tunnel table (a ping from host-a answered through to-site-b), and leave
 * them all when withdrawn (the pings then end in the tunnel device's covering route, counted
 * NO_ROUTE). Prints the delay from each announce to the first reply and from each withdraw to the
 * first lost ping (a ping every 20 ms). gw-c's prefixes go into to-site-c only, gw-b's into
 * to-site-b only, and neither site learns the other's (no transit). {@code birdc show protocols}
 * on gw-a's BIRD and {@code isthmus status} agree on each session, up and down. One interop row per
 * kind of site, pass or fail, printed at the end. Needs root, strongSwan and BIRD 2 (deploy/test.sh
 * installs them).
 */
class BgpLabTest extends LabTestBase {
    static final String GW_A_BGP = "169.254.21.1";
    static final String SITE_B_BGP = "169.254.21.2";
    static final String SITE_C_BGP = "169.254.21.6";
    static final String ANNOUNCED = "192.168.40.0/24";
    static final String ANNOUNCED_HOST = "192.168.40.1";
    /** gw-c's addressSpace is 192.168.30.0/24; it advertises this one as well. */
    static final String SITE_C_ADVERTISED = "192.168.31.0/24";
    /** A route of gw-a's into its TUN device that covers the announced prefix: what the data plane drops when the tunnel table has nothing. */
    static final String COVERING = "192.168.32.0/19";
    static final int ROUNDS = 5;
    static final double PING_INTERVAL_S = 0.02;

    @BeforeAll
    static void bird() {
        assertTrue(Files.isExecutable(Path.of("/usr/sbin/bird")), "BIRD 2 is missing; deploy/test.sh installs bird2 (deploy/lib/packages.sh)");
    }

    static String gatewayA() {
        return """
                # Isthmus lab: gateway a, BGP with two sites
                virtualNetworkGateway:
                  name: lab-gw-a
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.10.0/24]
                  instances:
                    - name: lab-gw-a-0
                      publicIpAddress: 10.77.0.1
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    packetThreads: 1
                  bgpSettings:
                    asn: 65001
                    bgpPeeringAddresses:
                      - customBgpIpAddresses: [%1$s]
                localNetworkGateways:
                  - name: site-b
                    gatewayIpAddress: 10.77.0.2
                    ikeIdentity: 10.77.0.2
                    addressPrefixes: [192.168.20.0/24]
                    bgpSettings: {asn: 65010, bgpPeeringAddress: %2$s}
                  - name: site-c
                    gatewayIpAddress: %3$s
                    bgpSettings: {asn: 65030, bgpPeeringAddress: %4$s}
                connections:
                  - name: to-site-b
                    localNetworkGateway: site-b
                    sharedKey: "%5$s"
                    connectionMode: InitiatorOnly
                    enableBgp: true
                  - name: to-site-c
                    localNetworkGateway: site-c
                    sharedKey: "%5$s"
                    connectionMode: InitiatorOnly
                    enableBgp: true
                """.formatted(GW_A_BGP, SITE_B_BGP, Lab.GW_C_WAN, SITE_C_BGP, LabGateways.PSK);
    }

    /** gw-c: Isthmus as a site with BGP, knowing site A's prefixes only from BGP (no addressPrefixes). */
    static String gatewayC() {
        return """
                # Isthmus lab: gateway c, a BGP site behind gw-a
                virtualNetworkGateway:
                  name: lab-gw-c
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.30.0/24]
                  instances:
                    - name: lab-gw-c-0
                      publicIpAddress: %1$s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    packetThreads: 1
                  bgpSettings:
                    asn: 65030
                    bgpPeeringAddresses:
                      - customBgpIpAddresses: [%2$s]
                    advertisedPrefixes: [%3$s]
                localNetworkGateways:
                  - name: site-a
                    gatewayIpAddress: 10.77.0.1
                    bgpSettings: {asn: 65001, bgpPeeringAddress: %4$s}
                connections:
                  - name: to-site-a
                    localNetworkGateway: site-a
                    sharedKey: "%5$s"
                    connectionMode: ResponderOnly
                    enableBgp: true
                """.formatted(Lab.GW_C_WAN, SITE_C_BGP, SITE_C_ADVERTISED, GW_A_BGP, LabGateways.PSK);
    }

    /** gw-b's swanctl.conf: the IPsec policy covers both BGP addresses and the announced network besides the site's. */
    static String strongSwanB() {
        return """
                connections { lab {
                  local_addrs = 10.77.0.2
                  remote_addrs = 10.77.0.1
                  version = 2
                  proposals = aes256gcm16-prfsha384-ecp384
                  dpd_delay = 10s
                  local { auth = psk
                    id = 10.77.0.2 }
                  remote { auth = psk
                    id = 10.77.0.1 }
                  children { net {
                      local_ts = 192.168.20.0/24,%1$s,%2$s/32
                      remote_ts = 192.168.10.0/24,%3$s/32
                      esp_proposals = aes256gcm16
                      start_action = none
                      dpd_action = restart
                      mode = tunnel } } } }
                secrets { ike-lab { secret = "%4$s" } }
                """.formatted(ANNOUNCED, SITE_B_BGP, GW_A_BGP, LabGateways.PSK);
    }

    /** gw-b's BIRD, as the README's BGP section has it, with the announced network in protocol "site" (disabled until the test enables it). */
    static String birdB(Path log) {
        return birdB(log, 65010);
    }

    /**
     * As {@link #birdB(Path)}, gw-b's BGP speaking as {@code asn}; with protocol "hostile" (disabled
     * until the test enables it) announcing what gw-a must refuse: a default route, gw-a's own
     * addressSpace and a part of it, gw-c's VPN device (its IKE would follow), the wide-area
     * network gw-a's own address is on, an APIPA range with the BGP addresses. (Loopback and multicast
     * prefixes BIRD does not send at all: "Ignoring bogus route".)
     */
    static String birdB(Path log, int asn) {
        return """
                router id 10.77.0.2;
                log "%1$s" all;
                timeformat protocol iso long;
                protocol device { scan time 1; }
                ipv4 table igp4;
                protocol static { ipv4 { table igp4; }; route %2$s/32 via "ipsec0"; }
                protocol static site { disabled; ipv4; route %3$s via "lan40"; }
                protocol static hostile { disabled; ipv4;
                  route 0.0.0.0/0 via "lan40"; route 192.168.10.0/24 via "lan40"; route 192.168.10.128/25 via "lan40";
                  route %6$s/32 via "lan40"; route 10.77.0.0/24 via "lan40"; route 169.254.21.0/24 via "lan40";
                  }
                protocol bgp azure {
                  local %4$s as %5$d; neighbor %2$s as 65001; multihop;
                  connect retry time 2; error wait time 1, 10;
                  ipv4 { igp table igp4; import all; export where proto = "site" || proto = "hostile"; next hop self; };
                }
                """.formatted(log, GW_A_BGP, ANNOUNCED, SITE_B_BGP, asn, Lab.GW_C_WAN);
    }

    /** An Isthmus gateway with its own runtime directory (BIRD's files): a BGP test elsewhere on the machine has its own. */
    Path startIsthmus(String ns, String name, String config) throws IOException {
        Path file = lab.work().resolve(name + ".yaml");
        Files.writeString(file, config);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Path run = Files.createDirectories(lab.work().resolve(name + "-run"));
        Path socket = lab.work().resolve(name + ".sock");
        List<String> command = new ArrayList<>(List.of("env", "RUNTIME_DIRECTORY=" + run));
        command.addAll(LabGateways.javaCommand());
        command.addAll(List.of("io.isthmus.control.Isthmus", "gateway", "run", "--config", file.toString(), "--control-socket", socket.toString(),
                "--capture-directory", lab.work().resolve(name + "-captures").toString()));
        lab.spawn(ns, lab.work().resolve(name + ".log"), command);
        return socket;
    }

    Path birdSocket(String gateway) {
        return lab.work().resolve(gateway + "-run").resolve("lab-" + gateway + "-lab-" + gateway + "-0.bird.ctl");
    }

    static String birdc(Path socket, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("birdc", "-s", socket.toString()));
        cmd.addAll(List.of(args));
        return Lab.sh(cmd.toArray(String[]::new));
    }

    static JsonNode connection(Path socket, String name) throws IOException {
        for (JsonNode c : status(socket).path("connections")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no connection " + name + " in " + status(socket).toPrettyString());
    }

    static long egressPackets(Path socket, String name) throws IOException {
        return connection(socket, name).path("metrics").path("TunnelEgressPackets").asLong();
    }

    static long noRouteDrops(Path socket) throws IOException {
        return status(socket).path("unattributedDrops").path("NO_ROUTE").asLong();
    }

    /** A BGP protocol's line in {@code birdc show protocols}: its protocol state and BGP state. */
    private static final Pattern PROTOCOL = Pattern.compile("^(\\S+)\\s+BGP\\s+\\S+\\s+(\\S+)\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s*(\\S*).*$",
            Pattern.MULTILINE);

    static Map<String, String[]> birdProtocols(Path socket) throws IOException, InterruptedException {
        Map<String, String[]> out = new LinkedHashMap<>();
        Matcher m = PROTOCOL.matcher(birdc(socket, "show", "protocols"));
        while (m.find()) {
            out.put(m.group(1), new String[] {m.group(2), m.group(3)});
        }
        return out;
    }

    /**
     * Whether birdc and isthmus status say the same of connection {@code name}'s session: BIRD's
     * BGP state word in both, and Connected exactly when BIRD says up and Established. Read a few
     * times: a session that changes between the two reads would otherwise look like a disagreement.
     */
    String agreement(Path gatewaySocket, Path bird, String name) throws Exception {
        String last = null;
        for (int i = 0; i < 10; i++) {
            String[] b = birdProtocols(bird).get("c_" + name.replace('-', '_'));
            JsonNode s = connection(gatewaySocket, name).path("bgp");
            String[] again = birdProtocols(bird).get("c_" + name.replace('-', '_'));
            assertNotNull(b, "BIRD has no protocol for " + name + ": " + birdc(bird, "show", "protocols"));
            boolean birdUp = b[0].equals("up") && b[1].equals("Established");
            last = "birdc: " + String.join(" ", b) + ", isthmus status: " + s.path("state").asText() + " (" + s.path("birdState").asText() + ")";
            if (java.util.Arrays.equals(b, again) && s.path("birdState").asText().equals(b[1])
                    && s.path("state").asText().equals("Connected") == birdUp) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("birdc and isthmus status disagree on " + name + ": " + last);
    }

    <T> T await(String what, int seconds, Callable<T> read, Predicate<T> done) throws Exception {
        return Awaiting.until(what, seconds, read, done, lab.work());
    }

    Path birdBConf;

    /** The interop rows: each kind of site and whether everything asked of it held. */
    final Map<String, String> rows = new LinkedHashMap<>();

    void row(String site, ThrowingRunnable checks) throws Exception {
        try {
            checks.run();
            rows.put(site, "pass");
        } catch (Exception | AssertionError e) {
            rows.put(site, "FAIL: " + e.getMessage());
            throw e;
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void bgpSitesThroughTheTunnels() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-bgplab"), false);
        lab.addSiteC();
        Path work = lab.work();
        // The announced network: a link of gw-b's own (no dummy devices on this kernel), answered by gw-b.
        lab.in(Lab.GW_B, "ip", "link", "add", "lan40", "type", "veth", "peer", "name", "lan40-end");
        lab.in(Lab.GW_B, "ip", "link", "set", "lan40", "up");
        lab.in(Lab.GW_B, "ip", "link", "set", "lan40-end", "up");
        lab.in(Lab.GW_B, "ip", "addr", "add", ANNOUNCED_HOST + "/24", "dev", "lan40");
        lab.in(Lab.GW_B, "ip", "addr", "add", SITE_B_BGP + "/32", "dev", "lo");

        LabGateways.startStrongSwan(lab, Lab.GW_B, work.resolve("sw-b"), strongSwanB());
        Path c = startIsthmus(Lab.GW_C, "gw-c", gatewayC());
        Path a = startIsthmus(Lab.GW_A, "gw-a", gatewayA());
        assertTrue(lab.awaitPath(Duration.ofSeconds(60), false), "host-a to host-b (to-site-b's configured prefix) did not come up; logs in " + work);

        birdBConf = work.resolve("bird-b.conf");
        Files.writeString(birdBConf, birdB(work.resolve("bird-b.log")));
        Path birdB = work.resolve("bird-b.ctl");
        Lab.sh("bird", "-p", "-c", birdBConf.toString());
        lab.spawn(Lab.GW_B, work.resolve("bird-b.out"), List.of("bird", "-f", "-c", birdBConf.toString(), "-s", birdB.toString(),
                "-P", work.resolve("bird-b.pid").toString()));
        Path birdA = birdSocket("gw-a");
        Path birdC = birdSocket("gw-c");
        String versions = Lab.sh("bird", "--version").strip() + ", " + LabGateways.swanctl(work.resolve("sw-b"), "--version").strip().replace("\n", " ");

        try {
            row("strongSwan 5.9 (kernel-libipsec) + BIRD 2 as the site (gw-b)", () -> strongSwanSite(a, birdA, birdB));
        } finally {
            try {
                row("Isthmus + its BIRD as the site (gw-c, a second BGP connection)", () -> isthmusSite(a, c, birdA, birdB, birdC));
            } finally {
                System.out.println("BGP interop (" + versions + "):");
                rows.forEach((site, result) -> System.out.println("  " + site + ": " + result));
            }
        }
    }

    /** gw-b's session, its announced network in and out of gw-a's tables, the delays, and birdc against isthmus status. */
    void strongSwanSite(Path a, Path birdA, Path birdB) throws Exception {
        JsonNode bgp = await("to-site-b's BGP session", 90, () -> connection(a, "to-site-b").path("bgp"),
                b -> b.path("state").asText().equals("Connected"));
        assertEquals(65010, bgp.path("asn").asLong(), bgp.toString());
        assertEquals(SITE_B_BGP, bgp.path("neighbor").asText(), bgp.toString());
        assertEquals(0, bgp.path("routesReceived").asLong(), "nothing announced yet: " + bgp);
        System.out.println("to-site-b: " + agreement(a, birdA, "to-site-b"));
        // gw-b learned gw-a's addressSpace over the session.
        await("gw-a's addressSpace at gw-b's BIRD", 30, () -> birdc(birdB, "show", "route", "protocol", "azure"),
                r -> r.contains("192.168.10.0/24"));

        lab.in(Lab.GW_A, "ip", "route", "add", COVERING, "dev", "isthmus0");
        try (Pinger ping = new Pinger(lab, ANNOUNCED_HOST, PING_INTERVAL_S)) {
            Thread.sleep(500);
            assertEquals(0, ping.repliesAfter(0), "nothing answers the announced network before it is announced");
            long noRoute = noRouteDrops(a);
            assertTrue(noRoute > 0, "pings into the TUN device with no tunnel for them are counted NO_ROUTE: " + status(a));
            List<Double> announce = new ArrayList<>();
            List<Double> withdraw = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                long egressBefore = egressPackets(a, "to-site-b");
                double t0 = Pinger.now();
                birdc(birdB, "enable", "site");
                double reply = await("a reply from " + ANNOUNCED_HOST + " after the announce", 30, () -> ping.firstReplyAfter(t0), t -> t > 0);
                announce.add((reply - t0) * 1000);
                String table = lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201");
                assertTrue(table.contains(ANNOUNCED + " via " + SITE_B_BGP + " dev isthmus0 proto bird"), table);
                String host = lab.in(Lab.GW_A, "ip", "-4", "route", "show", "proto", "73");
                assertTrue(host.contains(ANNOUNCED + " dev isthmus0"), "the learned host route into the TUN device: " + host);
                Thread.sleep(300);
                assertTrue(egressPackets(a, "to-site-b") - egressBefore >= 5, "the pings went into to-site-b's tunnel: " + connection(a, "to-site-b"));
                assertEquals(1, connection(a, "to-site-b").path("bgp").path("routesReceived").asLong());

                long dropsBefore = noRouteDrops(a);
                double t1 = Pinger.now();
                birdc(birdB, "disable", "site");
                double lost = await("a lost ping after the withdraw", 30, () -> ping.firstLossAfter(t1), t -> t > 0);
                withdraw.add((lost - t1) * 1000);
                await(ANNOUNCED + " out of gw-a's table 201 and host routes", 10,
                        () -> lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201") + lab.in(Lab.GW_A, "ip", "-4", "route", "show", "proto", "73"),
                        t -> !t.contains(ANNOUNCED));
                Thread.sleep(500);
                double settled = Pinger.now();
                Thread.sleep(500);
                assertEquals(0, ping.repliesAfter(settled), "traffic to the withdrawn network stopped");
                assertTrue(noRouteDrops(a) - dropsBefore >= 10, "the pings after the withdraw are counted NO_ROUTE: " + status(a).path("unattributedDrops"));
            }
            System.out.printf("BGP update to traffic, gw-b's BIRD to gw-a (ping every %.0f ms): announce to first reply %s ms, "
                    + "withdraw to first lost ping %s ms%n", PING_INTERVAL_S * 1000, figures(announce), figures(withdraw));
            for (double d : announce) {
                assertTrue(d < 30_000, "announce took " + d + " ms");
            }
        } finally {
            lab.in(Lab.GW_A, "ip", "route", "del", COVERING, "dev", "isthmus0");
        }

        // What a site must not steer: all refused by gw-a's import filter, counted as filtered, none in its tables.
        birdc(birdB, "enable", "hostile");
        JsonNode refused = await("gw-b's hostile routes filtered at gw-a", 30, () -> connection(a, "to-site-b").path("bgp"),
                b -> b.path("routesFiltered").asLong() == 6);
        assertEquals(0, refused.path("routesReceived").asLong(), refused.toString());
        Thread.sleep(500);
        String tables = lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201") + lab.in(Lab.GW_A, "ip", "-4", "route", "show", "proto", "73");
        assertFalse(tables.contains("via " + SITE_B_BGP) || tables.contains("default") || tables.contains("192.168.10.")
                || tables.contains("10.77.0.") || tables.contains(Lab.GW_C_WAN), "nothing of gw-b's hostile routes steers: " + tables);
        assertTrue(lab.awaitPath(Duration.ofSeconds(5), false), "host-a still reaches host-b");
        System.out.println("to-site-b, hostile routes announced: " + refused.path("routesFiltered").asLong() + " filtered, "
                + refused.path("routesReceived").asLong() + " received");
        birdc(birdB, "disable", "hostile");
        await("the hostile routes withdrawn", 30, () -> connection(a, "to-site-b").path("bgp").path("routesFiltered").asLong(), n -> n == 0);

        // The session lost with its network announced (gw-b's BGP protocol disabled): the route leaves, traffic stops, both views agree.
        birdc(birdB, "enable", "site");
        assertTrue(reaches(ANNOUNCED_HOST, 30), "announced again");
        birdc(birdB, "disable", "azure");
        await("to-site-b's session down at gw-a", 30, () -> connection(a, "to-site-b").path("bgp").path("state").asText(),
                s -> !s.equals("Connected"));
        await(ANNOUNCED + " out of gw-a's tables with the session", 10,
                () -> lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201") + lab.in(Lab.GW_A, "ip", "-4", "route", "show", "proto", "73"),
                t -> !t.contains(ANNOUNCED));
        System.out.println("to-site-b, gw-b's protocol disabled: " + agreement(a, birdA, "to-site-b"));
        birdc(birdB, "enable", "azure");
        await("to-site-b's session up again", 60, () -> connection(a, "to-site-b").path("bgp").path("state").asText(),
                s -> s.equals("Connected"));
        System.out.println("to-site-b, again: " + agreement(a, birdA, "to-site-b"));
        assertTrue(reaches(ANNOUNCED_HOST, 30), "the network back with the session");

        // A wrong ASN at the site: the session refused, and isthmus status says why.
        Files.writeString(birdBConf, birdB(lab.work().resolve("bird-b.log"), 65011));
        birdc(birdB, "configure");
        JsonNode wrong = await("to-site-b refused with a wrong ASN", 30, () -> connection(a, "to-site-b").path("bgp"),
                b -> !b.path("state").asText().equals("Connected")
                        && b.path("lastError").asText().toLowerCase(java.util.Locale.ROOT).contains("peer as"));
        System.out.println("to-site-b, site speaking AS 65011 (65010 configured): " + wrong.path("state").asText() + ", last error: "
                + wrong.path("lastError").asText() + "; " + agreement(a, birdA, "to-site-b"));
        assertTrue(wrong.path("lastError").asText().toLowerCase(java.util.Locale.ROOT).contains("peer as"), wrong.toString());
        Files.writeString(birdBConf, birdB(lab.work().resolve("bird-b.log")));
        birdc(birdB, "configure");
        await("to-site-b's session up with the right ASN", 30, () -> connection(a, "to-site-b").path("bgp").path("state").asText(),
                s -> s.equals("Connected"));
    }

    /** gw-c's session: its prefixes into to-site-c alone, gw-a's into gw-c, and no transit between the two sites. */
    void isthmusSite(Path a, Path c, Path birdA, Path birdB, Path birdC) throws Exception {
        await("to-site-c's BGP session", 90, () -> connection(a, "to-site-c").path("bgp"),
                b -> b.path("state").asText().equals("Connected") && b.path("routesReceived").asLong() == 2);
        System.out.println("to-site-c: " + agreement(a, birdA, "to-site-c"));
        System.out.println("gw-c's to-site-a: " + agreement(c, birdC, "to-site-a"));
        // gw-b announces again, so that there is something of gw-b's that gw-c must not get.
        birdc(birdB, "enable", "site");
        await("gw-b's network at gw-a again", 30, () -> lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201"), t -> t.contains(ANNOUNCED));

        String tableA = lab.in(Lab.GW_A, "ip", "-4", "route", "show", "table", "201");
        assertTrue(tableA.contains("192.168.30.0/24 via " + SITE_C_BGP + " dev isthmus0 proto bird"), tableA);
        assertTrue(tableA.contains(SITE_C_ADVERTISED + " via " + SITE_C_BGP + " dev isthmus0 proto bird"), tableA);
        assertTrue(tableA.contains(ANNOUNCED + " via " + SITE_B_BGP + " dev isthmus0 proto bird"), tableA);
        assertEquals(3, tableA.lines().filter(l -> !l.isBlank()).count(), "gw-a learned gw-b's one network and gw-c's two: " + tableA);

        String tableC = await("gw-a's addressSpace at gw-c", 30, () -> lab.in(Lab.GW_C, "ip", "-4", "route", "show", "table", "201"),
                t -> t.contains("192.168.10.0/24 via " + GW_A_BGP));
        assertFalse(tableC.contains("192.168.40.") || tableC.contains("192.168.20."), "gw-c got nothing of gw-b's (no transit): " + tableC);
        assertEquals(1, tableC.lines().filter(l -> !l.isBlank()).count(), tableC);
        String atB = birdc(birdB, "show", "route", "protocol", "azure");
        assertTrue(atB.contains("192.168.10.0/24"), atB);
        assertFalse(atB.contains("192.168.30.") || atB.contains("192.168.31."), "gw-b got nothing of gw-c's (no transit): " + atB);

        // Traffic from host-a to gw-c's site goes by learned routes alone at both ends, through to-site-c and not to-site-b.
        assertTrue(reaches(Lab.SITE_C_IP, 30), "host-a to gw-c's site over the learned routes; logs in " + lab.work());
        long toB = egressPackets(a, "to-site-b");
        long toC = egressPackets(a, "to-site-c");
        lab.in(Lab.HOST_A, "ping", "-c", "50", "-i", "0.02", "-W", "1", Lab.SITE_C_IP);
        assertTrue(egressPackets(a, "to-site-c") - toC >= 50, "into to-site-c: " + connection(a, "to-site-c").path("metrics"));
        assertTrue(egressPackets(a, "to-site-b") - toB < 10, "not into to-site-b: " + connection(a, "to-site-b").path("metrics"));
        // And gw-b's network still through to-site-b, beside it.
        toB = egressPackets(a, "to-site-b");
        assertTrue(reaches(ANNOUNCED_HOST, 10), "gw-b's announced network beside gw-c's");
        assertTrue(egressPackets(a, "to-site-b") > toB);
    }

    static String figures(List<Double> ms) {
        return ms.stream().map(d -> String.format("%.0f", d)).toList().toString();
    }

    /**
     * {@code ping -D -O} from host-a, one every {@code interval} seconds, its replies and losses
     * kept with ping's own time stamps (seconds since the epoch, as {@link #now}). A loss is
     * reported by ping one interval after it sent that packet: the send time kept is the report's
     * less one interval.
     */
    static final class Pinger implements AutoCloseable {
        private static final Pattern LINE = Pattern.compile("^\\[(\\d+\\.\\d+)\\] (.*)$");
        private final Process process;
        private final double interval;
        private final List<double[]> events = new ArrayList<>();
        private final Thread reader;

        Pinger(Lab lab, String address, double interval) throws IOException {
            this.interval = interval;
            this.process = lab.start(Lab.HOST_A, List.of("ping", "-n", "-D", "-O", "-i", String.valueOf(interval), "-W", "1", address));
            this.reader = Thread.ofPlatform().daemon().start(this::read);
        }

        static double now() {
            java.time.Instant i = java.time.Instant.now();
            return i.getEpochSecond() + i.getNano() / 1e9;
        }

        private void read() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = LINE.matcher(line);
                    if (!m.matches()) {
                        continue;
                    }
                    double at = Double.parseDouble(m.group(1));
                    String what = m.group(2);
                    synchronized (events) {
                        if (what.contains(" bytes from ")) {
                            events.add(new double[] {at, 1});
                        } else if (what.startsWith("no answer yet")) {
                            events.add(new double[] {at - interval, 0});
                        } else if (what.startsWith("From ")) {
                            events.add(new double[] {at, 0});
                        }
                    }
                }
            } catch (IOException e) {
                // the ping ended
            }
        }

        double firstReplyAfter(double t) {
            synchronized (events) {
                return events.stream().filter(e -> e[1] == 1 && e[0] >= t).mapToDouble(e -> e[0]).findFirst().orElse(0);
            }
        }

        /** The send time of the first ping sent after {@code t} that was not answered. */
        double firstLossAfter(double t) {
            synchronized (events) {
                return events.stream().filter(e -> e[1] == 0 && e[0] >= t).mapToDouble(e -> e[0]).findFirst().orElse(0);
            }
        }

        long repliesAfter(double t) {
            synchronized (events) {
                return events.stream().filter(e -> e[1] == 1 && e[0] >= t).count();
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor();
            reader.join(1000);
        }
    }
}
