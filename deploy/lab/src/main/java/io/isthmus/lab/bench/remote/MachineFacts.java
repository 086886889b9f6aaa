package io.isthmus.lab.bench.remote;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one machine of the two-machine bench has, found out before anything is started: its
 * address towards the other machine and whether that one is on a link of its own (plain routing
 * needs it), the programs each path needs, whether its kernel does ESP (xfrm) for strongSwan,
 * and which of the UDP ports the gateways want are taken already (a running IPsec daemon or
 * WireGuard would take the tunnel's packets). Exchanged as JSON in the agents' hello.
 *
 * @param address      this machine's source address towards the other ({@code ip route get})
 * @param device       the interface that route leaves by
 * @param onLink       whether the other machine is reached without a router between
 * @param programs     each program a path needs, and whether it is there
 * @param kernelEsp    whether the kernel takes an AES-GCM ESP state (else strongSwan runs its own ESP, kernel-libipsec)
 * @param busyUdpPorts of {@link #PORTS}, the ones something here already uses
 */
public record MachineFacts(String address, String device, boolean onLink, String kernel, int cores, Map<String, Boolean> programs,
                           boolean kernelEsp, List<Integer> busyUdpPorts) {
    /** IKE, NAT-T (ESP in UDP) and the bench's WireGuard port: what the gateways bind. */
    public static final List<Integer> PORTS = List.of(500, 4500, RemotePath.WIREGUARD_PORT);

    /** Each program by path kind, with where Debian has it. */
    static final Map<String, String> PROGRAMS = Map.of(
            "iperf3", "/usr/bin/iperf3",
            "ping", "/usr/bin/ping",
            "charon", "/usr/lib/ipsec/charon",
            "swanctl", "/usr/sbin/swanctl",
            "wireguard-go", "/usr/bin/wireguard-go",
            "wg", "/usr/bin/wg");

    /** The Debian packages that bring what a path of {@code kind} needs: what a skipped path's reason names. */
    static String packagesFor(RemotePath.Kind kind) {
        return switch (kind) {
            case STRONGSWAN -> "strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins";
            case WIREGUARD -> "wireguard-go wireguard-tools";
            default -> "iperf3 iputils-ping";
        };
    }

    /** Looks at this machine, whose peer is at {@code peer}. */
    static MachineFacts probe(String peer) throws IOException, InterruptedException {
        return probe(peer, BenchMachine.FAMILY + ProcessHandle.current().pid() + "-probe");
    }

    static MachineFacts probe(String peer, String probeNamespace) throws IOException, InterruptedException {
        String route = Lab.sh("ip", "-4", "-o", "route", "get", peer);
        String address = field(route, "src");
        String device = field(route, "dev");
        if (address == null || device == null) {
            throw new IOException("no route from this machine to " + peer + ": " + route.strip());
        }
        Map<String, Boolean> programs = new java.util.TreeMap<>();
        PROGRAMS.forEach((name, path) -> programs.put(name, Files.isExecutable(Path.of(path))));
        List<Integer> busy = new ArrayList<>();
        for (int port : PORTS) {
            // A wildcard bind fails if anything holds the port on any address: what would stop the gateway binding it.
            try (DatagramSocket s = new DatagramSocket(port)) {
                s.getLocalPort();
            } catch (SocketException e) {
                busy.add(port);
            }
        }
        return new MachineFacts(address, device, !route.contains(" via "), System.getProperty("os.version"),
                Runtime.getRuntime().availableProcessors(), programs, kernelEsp(probeNamespace), busy);
    }

    /** The word after {@code key} in {@code ip route get}'s one line, or null. */
    static String field(String line, String key) {
        String[] w = line.strip().split("\\s+");
        for (int i = 0; i < w.length - 1; i++) {
            if (w[i].equals(key)) {
                return w[i + 1];
            }
        }
        return null;
    }

    /**
     * Whether the kernel takes an ESP state with AES-GCM: tried in a namespace made for it and
     * removed at once, so that nothing of the machine's own IPsec is touched.
     */
    private static boolean kernelEsp(String ns) throws InterruptedException {
        try {
            Lab.sh("ip", "netns", "add", ns);
            try {
                Lab.sh("ip", "-n", ns, "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp", "spi", "0x100",
                        "mode", "tunnel", "aead", "rfc4106(gcm(aes))", "0x" + "11".repeat(20), "128");
                return true;
            } finally {
                Lab.sh("ip", "netns", "del", ns);
            }
        } catch (IOException e) {
            return false;
        }
    }

    boolean has(String program) {
        return Boolean.TRUE.equals(programs.get(program));
    }

    /** An IPv4 address literal, checked: addresses come from the other machine and end up in commands and configurations. */
    static String ipv4(JsonNode n, String field) throws IOException {
        return ipv4(field, n.path(field).asText(""));
    }

    /** As {@link #ipv4(JsonNode, String)}, of a text named {@code field} in the message. */
    public static String ipv4(String field, String text) throws IOException {
        String[] octets = text.split("\\.", -1);
        byte[] bytes = new byte[4];
        boolean ok = octets.length == 4;
        for (int i = 0; ok && i < 4; i++) {
            ok = octets[i].matches("\\d{1,3}") && Integer.parseInt(octets[i]) <= 255;
            bytes[i] = ok ? (byte) Integer.parseInt(octets[i]) : 0;
        }
        if (!ok) {
            throw new IOException(field + ": '" + abbreviate(text) + "' is not an IPv4 address");
        }
        // From the bytes, never from the text: a name would be looked up in the DNS.
        InetAddress a = InetAddress.getByAddress(bytes);
        if (!(a instanceof Inet4Address) || a.isAnyLocalAddress() || a.isMulticastAddress() || a.isLoopbackAddress()) {
            throw new IOException(field + ": " + text + " is not a unicast IPv4 address of a machine");
        }
        return a.getHostAddress();
    }

    static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
