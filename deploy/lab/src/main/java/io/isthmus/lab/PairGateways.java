package io.isthmus.lab;

import io.isthmus.control.ha.KeepalivedConfig.HealthCheck;
import io.isthmus.control.ha.KeepalivedConfig.ParameterMatch;
import io.isthmus.control.ha.KeepalivedConfig.TrackedProcess;
import io.isthmus.control.ha.PairCertificates;
import io.isthmus.lab.PairLab.Instance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Isthmus as the pair in {@link PairLab}: both instances of one gateway with their floating
 * addresses and sync link, keepalived tracking the daemons, and a strongSwan peer whose tunnel
 * lands on gw1's floating address (vip1).
 */
public final class PairGateways {
    public static final String GATEWAY = "lab-pair";
    public static final String CONNECTION = "to-peer";
    /**
     * How stale the alive file may be before keepalived's check fails: 20 of the daemon's touches.
     * A gateway's first IKE negotiation holds its IKE thread for most of a second while the JVM
     * loads and compiles the crypto (measured: 650-780 ms on this shared machine), which must not
     * count as a pause; a longer limit lets a 2 s pause pass unseen between two of keepalived's
     * checks, which come once a second (1500 ms did, in one run of the failover test).
     */
    static final int ALIVE_LIMIT_MS = 1000;
    private static final Pattern IKE_SPIS = Pattern.compile("([0-9a-f]{16})_i\\*? ([0-9a-f]{16})_r");
    private static final Pattern CHILD_SPIS = Pattern.compile("in +([0-9a-f]{8}).*?out +([0-9a-f]{8})", Pattern.DOTALL);

    private final PairLab lab;
    private final Map<Instance, Process> daemons = new EnumMap<>(Instance.class);

    private final boolean stateSync;
    private final IkeCipher ike;
    private final boolean bgp;

    /** With BGP: each instance's own address, from which its BIRD peers with the site through the tunnel it carries. */
    public static final String GW1_BGP = "169.254.21.1";
    public static final String GW2_BGP = "169.254.22.1";
    /** The site's BGP speaker (the peer's BIRD), on the peer's loopback. */
    public static final String PEER_BGP = "169.254.21.2";
    /** With BGP, gw2's own tunnel to the same site: one connection per instance, as Azure's active-active gateway has. */
    public static final String CONNECTION_2 = "to-peer-2";

    /** The IKE SA's cipher, for both the pair and the peer (ESP stays AES-GCM-128). */
    public enum IkeCipher {
        /** AES-GCM-128, PRF SHA-256, ECP-256: the lab's default. */
        AES_GCM("ikeEncryption: GCMAES128", Pairing.SW_IKE),
        /** AES-CBC-256 with HMAC-SHA-256, ECP-256: Azure's default kind, and what strongSwan answers RFC 6311 under. */
        AES_CBC("ikeEncryption: AES256", "aes256-sha256-ecp256");

        final String policyLine;
        final String strongSwan;

        IkeCipher(String policyLine, String strongSwan) {
            this.policyLine = policyLine;
            this.strongSwan = strongSwan;
        }
    }

    private PairGateways(PairLab lab, boolean stateSync, IkeCipher ike, boolean bgp) {
        this.lab = lab;
        this.stateSync = stateSync;
        this.ike = ike;
        this.bgp = bgp;
    }

    public Path stateDirectory() {
        return lab.work().resolve("pair-state");
    }

    /**
     * The gateway's configuration, the same file for both instances (each started with --instance).
     * One packet lane each: four gateways share this machine's two cores in the pair lab, and lanes
     * waiting their turn on one SA took CPU the IKE threads needed (pauses that ran leases out).
     */
    public String config() {
        Path certs = lab.work().resolve("pair-certs");
        return """
                virtualNetworkGateway:
                  name: %1$s
                  vpnType: RouteBased
                  sku: VpnGw2
                  activeActive: true
                  instances:
                    - name: gw1
                      publicIpAddress: %2$s
                      floatingIpAddress: %3$s
                    - name: gw2
                      publicIpAddress: %4$s
                      floatingIpAddress: %5$s
                  tunnel:
                    packetThreads: 1
                %15$slocalNetworkGateways:
                  - name: peer
                    gatewayIpAddress: %6$s
                    %16$s
                connections:
                  - name: %7$s
                    localNetworkGateway: peer
                    sharedKey: "%8$s"
                    connectionMode: ResponderOnly
                    pairInstance: gw1
                    enableBgp: %17$s
                    ipsecPolicies:
                      - %9$s
                %18$spair:
                  stateDirectory: %10$s
                  stateSync: %14$s
                  instances:
                    - name: gw1
                      syncAddress: %11$s
                      certificate: %12$s/gw1.crt
                      privateKey: %12$s/gw1.key
                    - name: gw2
                      syncAddress: %13$s
                      certificate: %12$s/gw2.crt
                      privateKey: %12$s/gw2.key
                """.formatted(GATEWAY, Instance.GW1.wan, PairLab.VIP1, Instance.GW2.wan, PairLab.VIP2, PairLab.PEER_WAN, CONNECTION,
                LabGateways.PSK, policy().replace("\n", "\n        "), stateDirectory(), Instance.GW1.sync, certs,
                Instance.GW2.sync, stateSync, bgp ? BGP_SETTINGS : "", bgp ? "bgpSettings: {asn: 65010, bgpPeeringAddress: " + PEER_BGP + "}"
                        : "addressPrefixes: [192.168.10.0/24]", bgp, bgp ? secondConnection() : "");
    }

    /** The gateway's BGP speaker: AS 65515 as Azure's, each instance with an APIPA address of its own; the network side advertised. */
    private static final String BGP_SETTINGS = "  addressSpace: [192.168.20.0/24]\n"
            + "  bgpSettings:\n"
            + "    asn: 65515\n"
            + "    bgpPeeringAddresses:\n"
            + "      - {instance: gw1, customBgpIpAddresses: [" + GW1_BGP + "]}\n"
            + "      - {instance: gw2, customBgpIpAddresses: [" + GW2_BGP + "]}\n";

    /** gw2's tunnel to the same site, its BGP session its own. */
    private String secondConnection() {
        return "  - name: " + CONNECTION_2 + "\n"
                + "    localNetworkGateway: peer\n"
                + "    sharedKey: \"" + LabGateways.PSK + "\"\n"
                + "    connectionMode: ResponderOnly\n"
                + "    pairInstance: gw2\n"
                + "    enableBgp: true\n"
                + "    ipsecPolicies:\n"
                + "      - " + policy().replace("\n", "\n        ") + "\n";
    }

    private String policy() {
        return Pairing.POLICY.replace("ikeEncryption: GCMAES128", ike.policyLine).strip();
    }

    /**
     * Starts both Isthmus instances, then keepalived tracking them; returns once gw1 holds vip1
     * and gw2 vip2.
     */
    public static PairGateways start(PairLab lab, PairLab.Options options) throws IOException, InterruptedException {
        return start(lab, options, true);
    }

    /** As {@link #start(PairLab, PairLab.Options)}; {@code stateSync} false: the pair without its sync (the comparison). */
    public static PairGateways start(PairLab lab, PairLab.Options options, boolean stateSync) throws IOException, InterruptedException {
        return start(lab, options, stateSync, IkeCipher.AES_GCM);
    }

    /** As {@link #start(PairLab, PairLab.Options, boolean)}, with this IKE cipher (the peer's must be the same: {@link #startImpatientPeer}). */
    public static PairGateways start(PairLab lab, PairLab.Options options, boolean stateSync, IkeCipher ike)
            throws IOException, InterruptedException {
        return start(new PairGateways(lab, stateSync, ike, false), options);
    }

    /**
     * The pair with BGP (issue 14): the site's prefixes only from BGP, a tunnel to the site per
     * instance (to-peer on gw1, to-peer-2 on gw2) and a session through each; the peer is
     * {@link #startBgpPeer}.
     */
    public static PairGateways startWithBgp(PairLab lab, PairLab.Options options) throws IOException, InterruptedException {
        return start(new PairGateways(lab, true, IkeCipher.AES_GCM, true), options);
    }

    private static PairGateways start(PairGateways p, PairLab.Options options) throws IOException, InterruptedException {
        PairLab lab = p.lab;
        Path certs = lab.work().resolve("pair-certs");
        Files.createDirectories(certs);
        Files.createDirectories(p.stateDirectory());
        for (Instance gw : Instance.values()) {
            PairCertificates.generate(gw.label, certs.resolve(gw.label + ".crt"), certs.resolve(gw.label + ".key"));
        }
        // keepalived runs the check as root only if no one else can change it.
        Path check = lab.work().resolve("alive-check");
        try (var script = PairGateways.class.getResourceAsStream("alive-check")) {
            if (script == null) {
                throw new IOException("alive-check is not in the lab's jar (the build copies deploy/package/root/usr/lib/isthmus/alive-check)");
            }
            Files.copy(script, check, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(check, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Instance gw : Instance.values()) {
            p.startDaemon(gw);
        }
        for (Instance gw : Instance.values()) {
            awaitFile(p.aliveFile(gw), Duration.ofSeconds(60), lab.work().resolve(gw.label + ".log"));
        }
        lab.startKeepalived(options.withDaemon(p::daemon));
        for (Instance gw : Instance.values()) {
            String vip = gw == Instance.GW1 ? PairLab.VIP1 : PairLab.VIP2;
            if (lab.awaitAddress(gw, vip, Duration.ofSeconds(30)) < 0) {
                throw new IOException(gw.label + " did not take " + vip + ": see keepalived-" + gw.label + ".log and " + gw.label + ".log in "
                        + lab.work());
            }
        }
        return p;
    }

    /** Starts (or starts again) the Isthmus daemon of {@code gw}. */
    public Process startDaemon(Instance gw) throws IOException {
        Process p = LabGateways.startIsthmus(lab, gw.ns, gw.label, config(), gw.label + ".log", List.of(processMark(gw)),
                List.of("--instance", gw.label));
        daemons.put(gw, p);
        lab.daemon(gw, p);
        return p;
    }

    /** The daemon of {@code gw} as last started. */
    public Process daemon(Instance gw) {
        return daemons.get(gw);
    }

    Path aliveFile(Instance gw) {
        return stateDirectory().resolve(GATEWAY + "-" + gw.label + ".alive");
    }

    Path fifo(Instance gw) {
        return stateDirectory().resolve(GATEWAY + "-" + gw.label + ".keepalived");
    }

    /**
     * The JVM's first option, which keepalived's process tracking matches (it compares a command
     * line's first words, and both gateways, like any Java program, are "java"): this run's and
     * this instance's alone.
     */
    String processMark(Instance gw) {
        return "-Disthmus.pair=" + lab.work().resolve(gw.label);
    }

    /** What keepalived tracks of the Isthmus daemon of {@code gw}: its java process by its first option, its alive file, its FIFO. */
    PairLab.Daemon daemon(PairLab l, Instance gw) {
        List<String> java = LabGateways.javaCommand();
        TrackedProcess process = new TrackedProcess(java.getFirst(), List.of(processMark(gw)), ParameterMatch.INITIAL);
        HealthCheck check = new HealthCheck(List.of(lab.work().resolve("alive-check").toString(), aliveFile(gw).toString(),
                Integer.toString(ALIVE_LIMIT_MS)), 1, 1, 1, 2);
        return new PairLab.Daemon(process, check, List.of(), fifo(gw), stateDirectory().resolve(GATEWAY + "-" + gw.label + ".handover"),
                List.of("gw1", "gw2"));
    }

    /** The strongSwan peer's swanctl.conf: its tunnel goes to vip1, as a site's device would to an Azure gateway's address. */
    public static String peerConfig() {
        return peerConfig(Duration.ofSeconds(10));
    }

    /** With this dead peer detection interval. */
    public static String peerConfig(Duration dpd) {
        return peerConfig(dpd, 1);
    }

    /** With this dead peer detection interval and as many tries to negotiate (0: for ever). */
    public static String peerConfig(Duration dpd, int keyingTries) {
        return peerConfig(dpd, keyingTries, Pairing.SW_IKE);
    }

    private static String peerConfig(Duration dpd, int keyingTries, String ikeProposal) {
        return """
                connections { pair {
                  local_addrs = %1$s
                  remote_addrs = %2$s
                  version = 2
                  proposals = %3$s
                  dpd_delay = %6$ds
                  keyingtries = %7$d
                  local { auth = psk
                    id = %1$s }
                  remote { auth = psk
                    id = %2$s }
                  children { net {
                      local_ts = 192.168.10.0/24
                      remote_ts = 192.168.20.0/24
                      esp_proposals = %4$s
                      start_action = start
                      dpd_action = restart
                      mode = tunnel } } } }
                secrets { ike-pair { secret = "%5$s" } }
                """.formatted(PairLab.PEER_WAN, PairLab.VIP1, ikeProposal, Pairing.SW_ESP, LabGateways.PSK, dpd.toSeconds(), keyingTries);
    }

    /**
     * The site of the BGP pair: strongSwan with a tunnel to each instance's floating address (each
     * child SA covering the site's network and its BGP address towards the network side and that
     * instance's BGP address), and BIRD beside it with a session to each instance through its
     * tunnel, announcing the site's network. Quick timers (hold 6 s, retry 2 s) so that a session
     * whose instance died ends within the test. Returns BIRD's control socket.
     */
    public Path startBgpPeer() throws IOException, InterruptedException {
        lab.in(PairLab.PEER, "ip", "addr", "add", PEER_BGP + "/32", "dev", "lo");
        String tunnels = bgpTunnel("gw1", PairLab.VIP1, GW1_BGP) + bgpTunnel("gw2", PairLab.VIP2, GW2_BGP);
        LabGateways.startStrongSwan(lab, PairLab.PEER, peerDirectory(), "connections {\n" + tunnels + "}\nsecrets { ike-pair { secret = \""
                + LabGateways.PSK + "\" } }\n");
        Path conf = lab.work().resolve("bird-peer.conf");
        Files.writeString(conf, """
                router id %1$s;
                log "%2$s" all;
                timeformat protocol iso long;
                protocol device { scan time 1; }
                ipv4 table igp4;
                protocol static { ipv4 { table igp4; }; route %3$s/32 via "ipsec0"; route %4$s/32 via "ipsec0"; }
                protocol static site { ipv4; route 192.168.10.0/24 blackhole; }
                template bgp azure {
                  local %5$s as 65010; multihop; hold time 6; keepalive time 2; connect retry time 2; error wait time 1, 10;
                  ipv4 { igp table igp4; import all; export where proto = "site"; next hop self; };
                }
                protocol bgp gw1 from azure { neighbor %3$s as 65515; }
                protocol bgp gw2 from azure { neighbor %4$s as 65515; }
                """.formatted(PairLab.PEER_WAN, lab.work().resolve("bird-peer.log"), GW1_BGP, GW2_BGP, PEER_BGP));
        Lab.sh("bird", "-p", "-c", conf.toString());
        Path socket = lab.work().resolve("bird-peer.ctl");
        lab.spawn(PairLab.PEER, lab.work().resolve("bird-peer.out"), List.of("bird", "-f", "-c", conf.toString(), "-s", socket.toString(),
                "-P", lab.work().resolve("bird-peer.pid").toString()));
        return socket;
    }

    private static String bgpTunnel(String name, String vip, String gatewayBgp) {
        return """
                %1$s {
                  local_addrs = %2$s
                  remote_addrs = %3$s
                  version = 2
                  proposals = %4$s
                  dpd_delay = 10s
                  keyingtries = 0
                  local { auth = psk
                    id = %2$s }
                  remote { auth = psk
                    id = %3$s }
                  children { %1$s-net {
                      local_ts = 192.168.10.0/24,%5$s/32
                      remote_ts = 192.168.20.0/24,%6$s/32
                      esp_proposals = %7$s
                      start_action = start
                      dpd_action = restart
                      mode = tunnel } } }
                """.formatted(name, PairLab.PEER_WAN, vip, Pairing.SW_IKE, PEER_BGP, gatewayBgp, Pairing.SW_ESP);
    }

    /** The BIRD socket of instance {@code gw}'s gateway (its runtime directory in the lab's). */
    public Path birdSocket(Instance gw) {
        return lab.work().resolve(gw.label + "-run").resolve(GATEWAY + "-" + gw.label + ".bird.ctl");
    }

    /** Instance {@code gw}'s control socket. */
    public Path socket(Instance gw) {
        return lab.work().resolve(gw.label + ".sock");
    }

    public Path peerDirectory() {
        return lab.work().resolve("sw-peer");
    }

    public void startPeer() throws IOException, InterruptedException {
        LabGateways.startStrongSwan(lab, PairLab.PEER, peerDirectory(), peerConfig(Duration.ofSeconds(10), 1, ike.strongSwan));
    }

    /**
     * A peer that notices a dead gateway fast: dead peer detection every 2 s, its request
     * retransmitted twice a second apart before the IKE SA counts as gone (strongSwan's default
     * takes minutes), then new negotiations until one succeeds. For the comparison without state sync, where that
     * is how the tunnel comes back; far quicker than an Azure peer would see it.
     */
    public void startImpatientPeer() throws IOException, InterruptedException {
        LabGateways.startStrongSwan(lab, PairLab.PEER, peerDirectory(), peerConfig(Duration.ofSeconds(2), 0, ike.strongSwan),
                "retransmit_timeout = 1.0\n  retransmit_base = 1.0\n  retransmit_tries = 2");
    }

    public String peerSas() throws IOException, InterruptedException {
        return LabGateways.swanctl(peerDirectory(), "--list-sas");
    }

    /** The peer's IKE SAs in {@code swanctl --list-sas} output, as initiator-SPI/responder-SPI. */
    public static List<String> ikeSpis(String sas) {
        return pairs(IKE_SPIS, sas);
    }

    /** The peer's child SAs in {@code swanctl --list-sas} output, as inbound-SPI/outbound-SPI. */
    public static List<String> childSpis(String sas) {
        return pairs(CHILD_SPIS, sas);
    }

    private static List<String> pairs(Pattern p, String sas) {
        Matcher m = p.matcher(sas);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(1) + "/" + m.group(2));
        }
        return out;
    }

    /** The peer's SAs once its IKE SA is established and a child SA installed, within {@code limit}. */
    public String awaitPeerTunnel(Duration limit) throws IOException, InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (true) {
            String sas = peerSas();
            if (sas.contains("ESTABLISHED") && sas.contains("INSTALLED")) {
                return sas;
            }
            if (System.nanoTime() > end) {
                throw new IOException("no tunnel from the peer to vip1 within " + limit.toSeconds() + " s: " + sas);
            }
            Thread.sleep(200);
        }
    }

    private static void awaitFile(Path file, Duration limit, Path log) throws IOException, InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > end) {
                throw new IOException(file + " did not appear; the gateway's log " + log + ":\n" + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(50);
        }
    }
}
