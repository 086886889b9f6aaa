package io.isthmus.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * wireguard-go (Debian's package) as the two gateways of a {@link Lab}, for the benchmark's
 * comparison: wg-a and wg-b in the two gateway namespaces (different names, because
 * wireguard-go's control socket, /var/run/wireguard/NAME.sock, is shared by all namespaces),
 * keys made fresh, UDP 51820, MTU 1420 (its default), each site's prefix routed into it.
 */
public final class WireGuard {
    private static final int PORT = 51820;

    private WireGuard() {
    }

    public static void start(Lab lab) throws IOException, InterruptedException {
        String keyA = Lab.sh("wg", "genkey").strip();
        String keyB = Lab.sh("wg", "genkey").strip();
        String pubA = publicKey(lab, keyA, "a");
        String pubB = publicKey(lab, keyB, "b");
        up(lab, Lab.GW_A, keyA, "a", pubB, Lab.GW_B_WAN, "192.168.20.0/24");
        up(lab, Lab.GW_B, keyB, "b", pubA, lab.gatewayAWan(), "192.168.10.0/24");
    }

    private static Path keyFile(Namespaces lab, String side, String key) throws IOException {
        Path f = lab.work().resolve("wg-" + side + ".key");
        Files.deleteIfExists(f);
        Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(f, key + "\n");
        return f;
    }

    public static String publicKey(Namespaces lab, String key, String side) throws IOException, InterruptedException {
        Path f = keyFile(lab, side, key);
        return Lab.sh("sh", "-c", "wg pubkey < " + f).strip();
    }

    private static void up(Lab lab, String ns, String key, String side, String peerKey, String peerAddress, String remoteNet)
            throws IOException, InterruptedException {
        up(lab, ns, key, side, peerKey, peerAddress, remoteNet, PORT);
    }

    /**
     * wireguard-go as device {@code wg-SIDE} in {@code ns}, listening on {@code port} and sending
     * to the peer there, {@code remoteNet} routed into it; it goes when its process is stopped.
     */
    public static void up(Namespaces lab, String ns, String key, String side, String peerKey, String peerAddress, String remoteNet, int port)
            throws IOException, InterruptedException {
        String dev = "wg-" + side;
        lab.spawn(ns, lab.work().resolve("wireguard-go-" + side + ".log"), List.of("env", "WG_PROCESS_FOREGROUND=1", "wireguard-go", "-f", dev));
        for (int i = 0; ; i++) {
            try {
                lab.in(ns, "ip", "link", "show", dev);
                break;
            } catch (IOException e) {
                if (i > 100) {
                    throw new IOException("wireguard-go did not create " + dev + " in " + ns + ": see " + lab.work(), e);
                }
                Thread.sleep(50);
            }
        }
        lab.in(ns, "wg", "set", dev, "private-key", keyFile(lab, side, key).toString(), "listen-port", Integer.toString(port), "peer", peerKey,
                "allowed-ips", remoteNet, "endpoint", peerAddress + ":" + port);
        lab.in(ns, "ip", "link", "set", dev, "mtu", "1420", "up");
        lab.in(ns, "ip", "route", "add", remoteNet, "dev", dev);
    }
}
