package io.isthmus.ike;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real strongSwan 5.9.8 charon in its own network namespace, started with
 * deploy/lab/strongswan-peer.sh and driven with swanctl. Needs root and Debian's strongSwan
 * packages, which deploy/test.sh installs.
 */
final class StrongSwanPeer implements AutoCloseable {
    static final Path SCRIPT = locate("deploy/lab/strongswan-peer.sh");

    final String name;
    final Path dir;

    private StrongSwanPeer(String name, Path dir) {
        this.name = name;
        this.dir = dir;
    }

    /** Why interop tests cannot run here, or null if they can. */
    static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "strongSwan interop tests need root (network namespaces, port 500); CI runs as root";
        }
        if (!Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) || !Files.isExecutable(Path.of("/usr/sbin/swanctl"))) {
            return "strongSwan is not installed: deploy/test.sh installs it (deploy/lib/packages.sh names the packages)";
        }
        return null;
    }

    /**
     * This run's peer: its namespace (and the veth pair, "NAME-h" and "NAME-p") named after this
     * process, so a concurrent run on the same machine has its own; its directory exists (for
     * files the configuration names) but it is not running yet.
     */
    static StrongSwanPeer prepare() throws IOException {
        Path dir = directory();
        Files.createDirectories(dir);
        return new StrongSwanPeer("isw" + ProcessHandle.current().pid(), dir);
    }

    /** Where this run's peer keeps its configuration, keys and log. */
    static Path directory() {
        return Path.of("/tmp/isthmus-interop-" + ProcessHandle.current().pid());
    }

    /**
     * A third octet N such that no address of this host is in 10.91.N.0/24, starting from one
     * derived from this process's id: the host side of the veth lives in the root namespace.
     */
    static int freeSubnet() {
        String addresses;
        try {
            Process p = new ProcessBuilder("ip", "-o", "addr", "show").redirectErrorStream(true).start();
            addresses = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
        } catch (IOException e) {
            addresses = "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            addresses = "";
        }
        int start = (int) (ProcessHandle.current().pid() % 250) + 1;
        for (int i = 0; i < 250; i++) {
            int n = (start + i - 1) % 250 + 1;
            if (!addresses.contains(" 10.91." + n + ".") && !addresses.contains(" fd91:" + n + "::")) {
                return n;
            }
        }
        throw new IllegalStateException("every 10.91.N.0/24 is in use on this host");
    }

    /** Builds the namespace and starts charon with this swanctl.conf loaded. */
    void start(String hostCidr, String peerCidr, String siteCidr, String swanctlConf) throws IOException {
        Files.writeString(dir.resolve("swanctl.conf"), swanctlConf);
        run(List.of(SCRIPT.toString(), "start", name, dir.toString(), hostCidr, peerCidr, siteCidr), 30);
    }

    String swanctl(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("swanctl"));
        command.addAll(List.of(args));
        command.add("--uri");
        command.add("unix://" + dir.resolve("charon.vici"));
        return run(command, 30);
    }

    /** swanctl when failing is the point: its output either way. */
    String swanctlAllowingFailure(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("swanctl"));
        command.addAll(List.of(args));
        command.add("--uri");
        command.add("unix://" + dir.resolve("charon.vici"));
        return run(command, 30, false);
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("charon.log"), StandardCharsets.ISO_8859_1);
    }

    /**
     * The last key charon logged under {@code label} ("encryption initiator key", "Sk_d secret" ...):
     * its hex dump follows on lines "   0: 4F 17 ...".
     */
    byte[] loggedKey(String label) throws IOException {
        String log = log();
        int at = log.lastIndexOf("] " + label + " => ");
        if (at < 0) {
            return null;
        }
        Matcher size = Pattern.compile(" => (\\d+) bytes").matcher(log).region(at, log.length());
        if (!size.find()) {
            return null;
        }
        int n = Integer.parseInt(size.group(1));
        StringBuilder hex = new StringBuilder();
        Matcher line = Pattern.compile("\\]\\s+\\d+: ((?:[0-9A-F]{2} ){1,16})").matcher(log).region(size.end(), log.length());
        while (hex.length() < 2 * n && line.find()) {
            hex.append(line.group(1).replace(" ", ""));
        }
        return HexFormat.of().parseHex(hex.substring(0, 2 * n));
    }

    private String run(List<String> command, int seconds) throws IOException {
        return run(command, seconds, true);
    }

    private String run(List<String> command, int seconds, boolean mustSucceed) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command + " did not finish in " + seconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (mustSucceed && p.exitValue() != 0) {
            throw new IOException(command + " failed (" + p.exitValue() + "):\n" + out);
        }
        return out;
    }

    /** Kills charon without a word to its peer, as a crash would. */
    void kill() throws IOException {
        String pid = Files.readString(dir.resolve("charon.pid")).strip();
        run(List.of("kill", "-9", pid), 5);
    }

    @Override
    public void close() throws IOException {
        run(List.of(SCRIPT.toString(), "stop", name, dir.toString()), 30);
    }

    private static Path locate(String relative) {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(relative))) {
                return p.resolve(relative);
            }
        }
        throw new IllegalStateException(relative + " not found above " + here);
    }
}
