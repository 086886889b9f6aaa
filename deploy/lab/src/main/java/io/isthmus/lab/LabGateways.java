package io.isthmus.lab;

import io.isthmus.control.Isthmus;
import io.isthmus.lab.Lab.Side;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateways of a {@link Lab}: Isthmus daemons (this very build, in a JVM per gateway) and
 * strongSwan 5.9.8 charons (kernel-libipsec, as this kernel has no ESP of its own), with the
 * configurations that join them.
 */
public final class LabGateways {
    public static final String PSK = "isthmus lab shared key, not for production";

    private LabGateways() {
    }

    /** How a lab's Isthmus gateway is configured, beyond the defaults. */
    public record IsthmusOptions(String connectionMode, String ipsecPolicy, String vpnType, boolean forceUdpEncapsulation,
                                 boolean offloads, int packetThreads) {
        public static final IsthmusOptions DEFAULT = new IsthmusOptions("Default", null, "RouteBased");

        public IsthmusOptions(String connectionMode, String ipsecPolicy) {
            this(connectionMode, ipsecPolicy, "RouteBased");
        }

        public IsthmusOptions(String connectionMode, String ipsecPolicy, String vpnType) {
            this(connectionMode, ipsecPolicy, vpnType, false, true, 2);
        }

        public IsthmusOptions withMode(String mode) {
            return new IsthmusOptions(mode, ipsecPolicy, vpnType, forceUdpEncapsulation, offloads, packetThreads);
        }

        /** A custom IPsec/IKE policy, as YAML lines under {@code ipsecPolicies: - }. */
        public IsthmusOptions withPolicy(String policy) {
            return new IsthmusOptions(connectionMode, policy, vpnType, forceUdpEncapsulation, offloads, packetThreads);
        }

        /** RouteBased or PolicyBased. */
        public IsthmusOptions withVpnType(String type) {
            return new IsthmusOptions(connectionMode, ipsecPolicy, type, forceUdpEncapsulation, offloads, packetThreads);
        }

        /** ESP in UDP even without a NAT (where the kernel's UDP offloads apply). */
        public IsthmusOptions withUdpEncapsulation() {
            return new IsthmusOptions(connectionMode, ipsecPolicy, vpnType, true, offloads, packetThreads);
        }

        /** One packet thread for both directions (for gateways that share the machine's cores). */
        public IsthmusOptions withPacketThreads(int threads) {
            return new IsthmusOptions(connectionMode, ipsecPolicy, vpnType, forceUdpEncapsulation, offloads, threads);
        }

        /** The data plane without the kernel's offloads, one system call per packet. */
        public IsthmusOptions withoutOffloads() {
            return new IsthmusOptions(connectionMode, ipsecPolicy, vpnType, forceUdpEncapsulation, false, packetThreads);
        }
    }

    /** The configuration of an Isthmus gateway on {@code side}, in the Azure resource model. */
    public static String isthmusConfig(Lab lab, Side side, IsthmusOptions options) {
        boolean a = side == Side.A;
        String me = a ? lab.gatewayAWan() : Lab.GW_B_WAN;
        String peer = a ? Lab.GW_B_WAN : lab.gatewayAAsSeenByB();
        String peerIdentity = a ? Lab.GW_B_WAN : lab.gatewayAWan();
        String policy = options.ipsecPolicy() == null ? "" : """
                    ipsecPolicies:
                      - %s
                """.formatted(options.ipsecPolicy().strip().replace("\n", "\n        "));
        return """
                # Isthmus lab: gateway %1$s
                virtualNetworkGateway:
                  name: lab-gw-%1$s
                  vpnType: %11$s
                  sku: VpnGw1
                  addressSpace: [%2$s]
                  instances:
                    - name: lab-gw-%1$s-0
                      publicIpAddress: %3$s
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                    offloads: %12$s
                    packetThreads: %14$s
                localNetworkGateways:
                  - name: site-%4$s
                    gatewayIpAddress: %5$s
                    ikeIdentity: %6$s
                    addressPrefixes: [%7$s]
                connections:
                  - name: to-site-%4$s
                    localNetworkGateway: site-%4$s
                    sharedKey: "%8$s"
                    connectionMode: %9$s
                    forceUdpEncapsulation: %13$s
                %10$s""".formatted(a ? "a" : "b", a ? "192.168.10.0/24, fd10::/64" : "192.168.20.0/24, fd20::/64", me, a ? "b" : "a", peer,
                peerIdentity, a ? "192.168.20.0/24, fd20::/64" : "192.168.10.0/24, fd10::/64", PSK, options.connectionMode(), policy,
                options.vpnType(), options.offloads(), options.forceUdpEncapsulation(), options.packetThreads());
    }

    /** Starts an Isthmus gateway on {@code side} with this configuration; its log is {@code gw-a.log} or {@code gw-b.log}. */
    public static Path startIsthmus(Lab lab, Side side, String config) throws IOException {
        startIsthmus(lab, side, config, side == Side.A ? "gw-a.log" : "gw-b.log");
        return socket(lab, side);
    }

    /** As {@link #startIsthmus(Lab, Side, String)}, logging to {@code logName} in the lab's directory; returns the gateway's process. */
    public static Process startIsthmus(Lab lab, Side side, String config, String logName) throws IOException {
        return startIsthmus(lab, side == Side.A ? Lab.GW_A : Lab.GW_B, side == Side.A ? "gw-a" : "gw-b", config, logName);
    }

    /**
     * An Isthmus gateway in namespace {@code ns} (gw-c's, say), its files in the lab's directory
     * named after {@code name}: {@code name.yaml}, {@code logName}, and its control socket
     * {@code name.sock}; returns its process.
     */
    public static Process startIsthmus(Namespaces lab, String ns, String name, String config, String logName) throws IOException {
        return startIsthmus(lab, ns, name, config, logName, List.of());
    }

    /** As {@link #startIsthmus(Namespaces, String, String, String, String)}, with more arguments to {@code gateway run} ({@code --instance gw2}). */
    public static Process startIsthmus(Namespaces lab, String ns, String name, String config, String logName, List<String> more) throws IOException {
        return startIsthmus(lab, ns, name, config, logName, List.of(), more);
    }

    /**
     * As {@link #startIsthmus(Namespaces, String, String, String, String, List)}, with
     * {@code firstJvmOptions} right after the java command: what keepalived's process tracking
     * tells two gateways' JVMs apart by (it compares the command line's first words).
     */
    public static Process startIsthmus(Namespaces lab, String ns, String name, String config, String logName, List<String> firstJvmOptions,
                                       List<String> more) throws IOException {
        return startIsthmus(lab, ns, name, config, logName, firstJvmOptions, more, List.of());
    }

    private static Process startIsthmus(Namespaces lab, String ns, String name, String config, String logName, List<String> firstJvmOptions,
                                        List<String> more, List<String> environment) throws IOException {
        Path file = lab.work().resolve(name + ".yaml");
        Files.writeString(file, config);
        // It holds the shared key: for its owner alone, as the gateway asks of such a file.
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path socket = lab.work().resolve(name + ".sock");
        List<String> command = new ArrayList<>(javaCommand());
        command.addAll(1, firstJvmOptions);
        command.addAll(List.of("io.isthmus.control.Isthmus", "gateway", "run", "--config", file.toString(), "--control-socket", socket.toString(),
                "--capture-directory", lab.work().resolve(name + "-captures").toString()));
        command.addAll(more);
        // Its runtime files (BIRD's configuration and socket) in the lab's directory: another run's gateway of the same name has its own.
        command.addAll(0, List.of("env", "RUNTIME_DIRECTORY=" + Files.createDirectories(lab.work().resolve(name + "-run"))));
        command.addAll(2, environment);
        return lab.spawn(ns, lab.work().resolve(logName), command);
    }

    /** As {@link #startIsthmus(Lab, Side, String)}, with environment variables ({@code NAME=value}) for the gateway's process, such as a test hook's. */
    public static Path startIsthmus(Lab lab, Side side, String config, List<String> environment) throws IOException {
        startIsthmus(lab, side == Side.A ? Lab.GW_A : Lab.GW_B, side == Side.A ? "gw-a" : "gw-b", config,
                side == Side.A ? "gw-a.log" : "gw-b.log", List.of(), List.of(), environment);
        return socket(lab, side);
    }

    public static Path socket(Lab lab, Side side) {
        return lab.work().resolve(side == Side.A ? "gw-a.sock" : "gw-b.sock");
    }

    /** This JVM again, with the flags Isthmus needs, on this JVM's class path. */
    public static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "-Xmx384m", "-XX:+UseSerialGC"));
        command.addAll(Isthmus.jvmOptions());
        // For profiling the lab's JVMs, e.g. -Disthmus.lab.jvmOptions=-XX:StartFlightRecording=filename=/tmp/gw.jfr
        String extra = System.getProperty("isthmus.lab.jvmOptions", "").strip();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(List.of("-cp", classpath));
        return command;
    }

    /** The swanctl.conf of a strongSwan gateway on {@code side}, talking to the gateway on the other. */
    public static String strongSwanConfig(Lab lab, Side side, boolean initiate, String ike, String esp) {
        boolean a = side == Side.A;
        String me = a ? lab.gatewayAWan() : Lab.GW_B_WAN;
        String peer = a ? Lab.GW_B_WAN : lab.gatewayAAsSeenByB();
        String peerId = a ? Lab.GW_B_WAN : lab.gatewayAWan();
        return """
                connections { lab {
                  local_addrs = %s
                  remote_addrs = %s
                  version = 2
                  proposals = %s
                  dpd_delay = 10s
                  local { auth = psk
                    id = %s }
                  remote { auth = psk
                    id = %s }
                  children { net {
                      local_ts = %s
                      remote_ts = %s
                      esp_proposals = %s
                      start_action = %s
                      dpd_action = restart
                      mode = tunnel } } } }
                secrets { ike-lab { secret = "%s" } }
                """.formatted(me, peer, ike, me, peerId, a ? "192.168.10.0/24,fd10::/64" : "192.168.20.0/24,fd20::/64",
                a ? "192.168.20.0/24,fd20::/64" : "192.168.10.0/24,fd10::/64", esp, initiate ? "start" : "none", PSK);
    }

    /**
     * Starts charon in the gateway namespace of {@code side}, in its own mount namespace (so its
     * pid file and sockets stay its own), with this swanctl.conf loaded.
     */
    public static void startStrongSwan(Lab lab, Side side, String swanctlConf) throws IOException, InterruptedException {
        startStrongSwan(lab, side == Side.A ? Lab.GW_A : Lab.GW_B, lab.work().resolve(side == Side.A ? "sw-a" : "sw-b"), swanctlConf);
    }

    /** As {@link #startStrongSwan(Lab, Side, String)}: charon in namespace {@code ns}, its files in {@code dir}. */
    public static void startStrongSwan(Namespaces lab, String ns, Path dir, String swanctlConf) throws IOException, InterruptedException {
        startStrongSwan(lab, ns, dir, swanctlConf, "");
    }

    /** As {@link #startStrongSwan(Namespaces, String, Path, String)}, with more {@code charon} settings ("retransmit_tries = 3"). */
    public static void startStrongSwan(Namespaces lab, String ns, Path dir, String swanctlConf, String charonSettings) throws IOException, InterruptedException {
        startStrongSwan(lab, ns, dir, swanctlConf, charonSettings, STRONGSWAN_PLUGINS);
    }

    /**
     * As {@link #startStrongSwan(Namespaces, String, Path, String, String)}, loading these plugins
     * (the two-machine bench leaves kernel-libipsec out where the kernel does ESP itself).
     */
    public static void startStrongSwan(Namespaces lab, String ns, Path dir, String swanctlConf, String charonSettings, List<String> plugins)
            throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("swanctl.conf"), swanctlConf);
        Files.writeString(dir.resolve("strongswan.conf"), """
                charon {
                  load = %2$s
                  install_routes = yes
                  %3$s
                  plugins { vici { socket = unix://%1$s/charon.vici } }
                  filelog { f { path = %1$s/charon.log
                      default = 1
                      ike = 2
                      time_format = %%T
                      flush_line = yes } }
                }
                """.formatted(dir, String.join(" ", plugins), charonSettings));
        Files.deleteIfExists(dir.resolve("charon.vici"));
        lab.spawn(ns, dir.resolve("charon.out"), List.of("unshare", "-m", "sh", "-c",
                "mount -t tmpfs none /run; STRONGSWAN_CONF=" + dir.resolve("strongswan.conf") + " exec /usr/lib/ipsec/charon"));
        String uri = "unix://" + dir.resolve("charon.vici");
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            try {
                Lab.sh("swanctl", "--stats", "--uri", uri);
                break;
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw new IOException("charon did not start: " + Files.readString(dir.resolve("charon.out")), e);
                }
                Thread.sleep(100);
            }
        }
        requirePlugins(Lab.sh("swanctl", "--stats", "--uri", uri), plugins);
        Lab.sh("swanctl", "--load-all", "--file", dir.resolve("swanctl.conf").toString(), "--uri", uri);
    }

    /** What the lab's charons load: kernel-libipsec because this kernel has no xfrm ESP. */
    public static final List<String> STRONGSWAN_PLUGINS = List.of("random", "nonce", "aes", "sha1", "sha2", "hmac", "gcm", "chapoly", "curve25519",
            "gmp", "x509", "pubkey", "pem", "pkcs1", "pkcs8", "openssl", "kdf", "kernel-libipsec", "kernel-netlink", "socket-default", "vici");

    /**
     * A plugin charon could not load is one line in its log, and the symptom comes much later
     * (without gcm, charon answers an AES-GCM IKE_SA_INIT and silently drops the IKE_AUTH): fail
     * now, naming the package that brings it.
     */
    public static void requirePlugins(String stats) throws IOException {
        requirePlugins(stats, STRONGSWAN_PLUGINS);
    }

    static void requirePlugins(String stats, List<String> plugins) throws IOException {
        List<String> loaded = stats.lines().filter(l -> l.startsWith("loaded plugins: ")).findFirst()
                .map(l -> List.of(l.substring("loaded plugins: ".length()).strip().split("\\s+"))).orElse(List.of());
        List<String> missing = plugins.stream().filter(p -> !loaded.contains(p)).toList();
        if (!missing.isEmpty()) {
            throw new IOException("charon did not load the plugins " + missing + ": gcm, openssl and aesni come with "
                    + "libstrongswan-standard-plugins, kernel-libipsec, chapoly and curve25519 with libstrongswan-extra-plugins "
                    + "(deploy/test.sh installs both; deploy/lib/packages.sh names them)");
        }
    }

    public static String swanctl(Lab lab, Side side, String... args) throws IOException, InterruptedException {
        return swanctl(lab.work().resolve(side == Side.A ? "sw-a" : "sw-b"), args);
    }

    /** swanctl against the charon whose files are in {@code dir}. */
    public static String swanctl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("swanctl"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--uri", "unix://" + dir.resolve("charon.vici")));
        return Lab.sh(cmd.toArray(String[]::new));
    }
}
