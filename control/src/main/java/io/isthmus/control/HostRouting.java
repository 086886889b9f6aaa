package io.isthmus.control;

import io.isthmus.control.config.GatewayConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's side of the tunnel, with ip(8) as an operator would: the TUN device's MTU, queue and
 * link, a route into it for every site prefix (translated by IngressSnat rules), and a warning when the host does not forward.
 * (Whether those routes would cut the host off is {@link HostNetwork}'s check, made before.)
 */
final class HostRouting {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private HostRouting() {
    }

    static void configure(GatewayConfig config) throws IOException, InterruptedException {
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        // No IPv6 link-local address on the device: the kernel would send router solicitations into the tunnel.
        try {
            Files.writeString(Path.of("/proc/sys/net/ipv6/conf/" + t.device() + "/addr_gen_mode"), "1");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "IPv6 address generation on {0} stays on: {1}", t.device(), e.toString());
        }
        // A deeper queue towards our outbound thread: bursts wait rather than being dropped.
        run("ip", "link", "set", "dev", t.device(), "mtu", Integer.toString(t.mtu()), "txqueuelen", "4096", "up");
        boolean ipv4 = false;
        boolean ipv6 = false;
        // The site prefixes as the gateway's network sees them (translated where IngressSnat rules say so), and the BGP peers'
        // host routes: their sessions go through the tunnel (BIRD's multihop next hops resolve through them).
        List<String> prefixes = new ArrayList<>(config.routedPrefixes());
        if (config.gateway().vpnClientConfiguration() != null) {
            // The clients' pool: replies to them go into the device, where each client's host route leads to its tunnel.
            prefixes.addAll(config.gateway().vpnClientConfiguration().addressPrefixes());
        }
        for (String prefix : prefixes) {
            ipv6 |= prefix.contains(":");
            ipv4 |= !prefix.contains(":");
        }
        // One ip(8) for all of them: a process per prefix is 10 ms here, 100 s for 10,000 sites (1,000 in one batch: 80 ms).
        // It stops at the first that fails, which stops the start (the routes go with the device).
        Batch done = batch(List.of("ip"), prefixes.stream().map(p -> "route replace " + p + " dev " + t.device()).toList(), false);
        if (!done.failed().isEmpty()) {
            throw new IOException(done.failed().getFirst());
        }
        LOG.log(System.Logger.Level.INFO, "routes into {0}: {1}", t.device(), prefixes.size() <= 16 ? prefixes : prefixes.size() + " prefixes");
        // Only the families the sites use: IPv6 forwarding stays off on purpose on hosts whose IPv6
        // default route comes from router advertisements (forwarding makes the kernel ignore them).
        List<String> sysctls = new ArrayList<>();
        if (ipv4) {
            sysctls.add("/proc/sys/net/ipv4/ip_forward");
        }
        if (ipv6) {
            sysctls.add("/proc/sys/net/ipv6/conf/all/forwarding");
        }
        for (String sysctl : sysctls) {
            try {
                if (!Files.readString(Path.of(sysctl)).strip().equals("1")) {
                    LOG.log(System.Logger.Level.WARNING, "{0} is 0: this host will not forward its sites'' traffic into the tunnel", sysctl);
                }
            } catch (IOException ignored) {
                // not Linux-like enough to tell
            }
        }
    }

    /**
     * Instance {@code self}'s BGP addresses on the TUN device (as /32: nothing else is on-link
     * there), where BIRD's sessions come from, and its pair partner's as routes into the device;
     * both go with the device when the gateway stops.
     */
    static void addBgpAddresses(GatewayConfig config, GatewayConfig.Instance self) throws IOException, InterruptedException {
        GatewayConfig.BgpPeeringAddress mine = config.gateway().bgpSettings().of(self.name());
        for (java.net.InetAddress a : mine.all()) {
            run("ip", "-4", "addr", "replace", a.getHostAddress() + "/32", "dev", config.gateway().tunnel().device());
        }
        // A pair partner's: its sessions' packets reach this instance while it carries the partner's tunnels. Routed back into
        // the TUN device, where no tunnel leads to them (dropped, counted NO_ROUTE), never onto a network by the default route.
        for (GatewayConfig.BgpPeeringAddress other : config.gateway().bgpSettings().bgpPeeringAddresses()) {
            if (!other.instance().equals(self.name())) {
                for (java.net.InetAddress a : other.all()) {
                    run("ip", "-4", "route", "replace", a.getHostAddress() + "/32", "dev", config.gateway().tunnel().device());
                }
            }
        }
    }

    /** A reload's changes to the routes into {@code device}: the same ip(8) commands as at start, all of a reload's in one process. */
    static SiteRoutes into(String device) {
        return into(device, List.of("ip"));
    }

    /** With {@code ip} as the command: {@code ip -n NAMESPACE} in tests. */
    static SiteRoutes into(String device, List<String> ip) {
        return new SiteRoutes() {
            @Override
            public void add(List<String> prefixes) throws IOException, InterruptedException {
                if (prefixes.isEmpty()) {
                    return;
                }
                Batch done = batch(ip, prefixes.stream().map(p -> "route replace " + p + " dev " + device).toList(), false);
                if (!done.failed().isEmpty()) {
                    // ip stopped at the one that failed: those before it are in, and go again (all or none).
                    Batch undone = batch(ip, prefixes.subList(0, done.completed()).stream().map(p -> "route del " + p + " dev " + device).toList(), true);
                    undone.failed().forEach(line -> LOG.log(System.Logger.Level.WARNING, "a route added by a failed reload stays: {0}", line));
                    throw new IOException(done.failed().getFirst());
                }
                LOG.log(System.Logger.Level.INFO, "routes into {0} added: {1}", device, prefixes.size() <= 16 ? prefixes : prefixes.size() + " prefixes");
            }

            @Override
            public List<String> remove(List<String> prefixes) throws IOException, InterruptedException {
                if (prefixes.isEmpty()) {
                    return List.of();
                }
                Batch done = batch(ip, prefixes.stream().map(p -> "route del " + p + " dev " + device).toList(), true);
                LOG.log(System.Logger.Level.INFO, "routes into {0} removed: {1}", device, prefixes.size() <= 16 ? prefixes : prefixes.size() + " prefixes");
                return done.failed();
            }
        };
    }

    /**
     * What an {@code ip -batch} did: without {@code -force}, ip stops at the first line that
     * fails, so {@code completed} lines went in before it; with it, every line is tried.
     *
     * @param failed a line for each command that failed: "ip route replace 10.1.0.0/24 dev isthmus0 failed: RTNETLINK answers: ..."
     */
    record Batch(int completed, List<String> failed) {
    }

    /**
     * Runs {@code commands} (ip(8) commands without "ip", one each) through one {@code ip -batch},
     * reading ip's answer while writing (thousands of failing lines fill the pipe back). ip names a
     * failed command by its line ("Command failed -:7") after what the kernel said.
     */
    static Batch batch(List<String> ip, List<String> commands, boolean force) throws IOException, InterruptedException {
        if (commands.isEmpty()) {
            return new Batch(0, List.of());
        }
        List<String> args = new ArrayList<>(ip);
        if (force) {
            args.add("-force");
        }
        args.addAll(List.of("-batch", "-"));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        java.util.concurrent.CompletableFuture<String> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes());
            } catch (IOException e) {
                return e.toString();
            }
        }, Thread::startVirtualThread);
        try (var in = p.getOutputStream()) {
            in.write((String.join("\n", commands) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // ip exited early (it stops at the first failure without -force): what it said tells which.
        }
        String out = output.join();
        int rc = p.waitFor();
        List<String> failed = new ArrayList<>();
        StringBuilder said = new StringBuilder();
        int firstFailed = -1;
        for (String line : out.split("\n")) {
            java.util.regex.Matcher m = FAILED_LINE.matcher(line.strip());
            if (m.matches()) {
                int n = Integer.parseInt(m.group(1));
                String command = n >= 1 && n <= commands.size() ? commands.get(n - 1) : "line " + n;
                failed.add(String.join(" ", ip) + " " + command + " failed: " + said.toString().strip());
                firstFailed = firstFailed < 0 ? n - 1 : firstFailed;
                said.setLength(0);
            } else if (!line.isBlank()) {
                said.append(said.isEmpty() ? "" : "; ").append(line.strip());
            }
        }
        if (rc != 0 && failed.isEmpty()) {
            // A line ip could not even parse ends it without naming the line.
            failed.add(String.join(" ", args) + " failed (exit " + rc + "): " + (out.length() > 2000 ? out.substring(0, 2000) + "..." : out.strip()));
            firstFailed = 0;
        }
        return new Batch(firstFailed < 0 ? commands.size() : firstFailed, failed);
    }

    private static final java.util.regex.Pattern FAILED_LINE = java.util.regex.Pattern.compile("Command failed -:(\\d+)");

    /**
     * The host routes of prefixes learned over BGP, into {@code device}, marked with their own
     * protocol number ({@link LearnedRoutes#HOST_ROUTE_PROTOCOL}) so that those a crashed run
     * left are found and only those. Thousands at a time: one {@code ip -batch} with
     * {@code -force} (a line that fails does not stop the others; ip(8) says which failed).
     */
    static LearnedRoutes.HostRoutes learnedInto(String device) {
        return learnedInto(device, List.of("ip"));
    }

    /** With {@code ip} as the command: {@code ip -n NAMESPACE} in tests, which must never touch the host's own routes. */
    static LearnedRoutes.HostRoutes learnedInto(String device, List<String> ip) {
        String proto = Integer.toString(LearnedRoutes.HOST_ROUTE_PROTOCOL);
        return new LearnedRoutes.HostRoutes() {
            @Override
            public void apply(List<String> add, List<String> remove) throws IOException, InterruptedException {
                StringBuilder lines = new StringBuilder();
                for (String prefix : remove) {
                    lines.append("route del ").append(prefix).append(" dev ").append(device).append(" proto ").append(proto).append('\n');
                }
                for (String prefix : add) {
                    lines.append("route replace ").append(prefix).append(" dev ").append(device).append(" proto ").append(proto).append('\n');
                }
                batch(ip, lines.toString());
                LOG.log(System.Logger.Level.INFO, "learned routes into {0}: {1} added, {2} removed", device, add.size(), remove.size());
            }

            @Override
            public void removeAll() throws IOException, InterruptedException {
                // Only this device's: a second gateway on the host (isthmus@ units) has its own device and keeps its routes.
                run(command(ip, "-4", "route", "flush", "dev", device, "proto", proto));
                run(command(ip, "-6", "route", "flush", "dev", device, "proto", proto));
            }

            @Override
            public List<String> installed() throws IOException, InterruptedException {
                List<String> out = new ArrayList<>();
                for (String family : List.of("-4", "-6")) {
                    for (String line : output(command(ip, family, "route", "show", "dev", device, "proto", proto)).split("\n")) {
                        String[] words = line.strip().split("\\s+");
                        if (words.length == 0 || words[0].isEmpty()) {
                            continue;
                        }
                        String p = words[0];
                        out.add(p.contains("/") ? p : p + (family.equals("-6") ? "/128" : "/32"));
                    }
                }
                return out;
            }
        };
    }

    private static String[] command(List<String> ip, String... args) {
        List<String> c = new ArrayList<>(ip);
        c.addAll(List.of(args));
        return c.toArray(String[]::new);
    }

    private static void batch(List<String> ip, String lines) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(ip, "-force", "-batch", "-")).redirectErrorStream(true).start();
        // Read while writing: thousands of failing lines fill the pipe back, and ip(8) would wait on it as we wait on ip.
        java.util.concurrent.CompletableFuture<String> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes()).strip();
            } catch (IOException e) {
                return e.toString();
            }
        }, Thread::startVirtualThread);
        try (var in = p.getOutputStream()) {
            in.write(lines.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        String out = output.join();
        if (p.waitFor() != 0) {
            throw new IOException("ip -force -batch: " + (out.length() > 2000 ? out.substring(0, 2000) + "..." : out));
        }
    }

    private static String output(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readNBytes(64 << 20));
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        LOG.log(System.Logger.Level.INFO, "{0}", String.join(" ", command));
    }
}
