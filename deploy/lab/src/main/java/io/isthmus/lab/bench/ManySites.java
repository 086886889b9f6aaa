package io.isthmus.lab.bench;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A gateway configuration with {@code n} sites and a connection to each, for
 * {@code isthmus bench tunnels}: site i's VPN device at 100.64.0.0/10 + i + 1 (the shared address
 * space, never a route here), its network 10.x.y.0/24 (i = 256x + y), a pre-shared key of its own,
 * the gateway at {@link #GATEWAY} (198.18.0.0/15, the benchmarking range) with 192.168.0.0/16
 * behind it, SKU Isthmus (10,000 tunnels). Every connection is ResponderOnly: the gateway waits for
 * its peers, so a start or a reload sends nothing and measures only the gateway's own work.
 */
public final class ManySites {
    /** The gateway instance's address. */
    public static final String GATEWAY = "198.18.0.1";
    /** Its network on the lab's link, where the default route's next hop is. */
    public static final String GATEWAY_NETWORK = "198.18.0.0/24";
    public static final String NEXT_HOP = "198.18.0.254";
    /** The most sites the address plan holds (10.0.0.0/8 in /24s). */
    public static final int MOST = 65_536;

    private ManySites() {
    }

    /** Writes a configuration for the owner alone (0600), as one with keys in it should be: no warning about its mode. */
    public static void write(java.nio.file.Path file, String yaml) throws java.io.IOException {
        java.nio.file.Files.writeString(file, yaml);
        java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    /** Site i's VPN device. */
    public static InetAddress peer(int i) {
        int a = (100 << 24 | 64 << 16) + i + 1;
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Site i's network. */
    public static String prefix(int i) {
        return "10." + (i >>> 8 & 255) + "." + (i & 255) + ".0/24";
    }

    /** Connection i's pre-shared key. */
    public static String key(int i) {
        return "bench-key-" + i + "-of-many-sites";
    }

    public static String connection(int i) {
        return "conn-" + i;
    }

    /**
     * The YAML of a gateway with {@code n} sites; with {@code changed}, sites 0 to changed - 1
     * have a second prefix (a host of 172.16.0.0/16): what a reload that changes them reads.
     *
     * @param device the TUN device
     * @param logLevel the level of every subsystem (info, as a gateway runs by default, or warning)
     */
    public static String yaml(int n, int changed, String device, String logLevel) {
        if (n < 1 || n > MOST) {
            throw new IllegalArgumentException("1 to " + MOST + " sites, not " + n);
        }
        StringBuilder y = new StringBuilder(200 * n + 1000);
        y.append("""
                virtualNetworkGateway:
                  name: many-sites
                  vpnType: RouteBased
                  sku: Isthmus
                  addressSpace: [192.168.0.0/16]
                  instances:
                    - name: bench-0
                      publicIpAddress: %s
                  tunnel:
                    device: %s
                logging:
                  levels: {ike: %s, esp: %s, dataplane: %s, config: %s, control: %s, netty: warning}
                localNetworkGateways:
                """.formatted(GATEWAY, device, logLevel, logLevel, logLevel, logLevel, logLevel));
        for (int i = 0; i < n; i++) {
            y.append("  - name: site-").append(i).append('\n');
            y.append("    gatewayIpAddress: ").append(peer(i).getHostAddress()).append('\n');
            y.append("    addressPrefixes: [").append(prefix(i));
            if (i < changed) {
                y.append(", 172.16.").append(i >>> 8 & 255).append('.').append(i & 255).append("/32");
            }
            y.append("]\n");
        }
        y.append("connections:\n");
        for (int i = 0; i < n; i++) {
            y.append("  - name: ").append(connection(i)).append('\n');
            y.append("    localNetworkGateway: site-").append(i).append('\n');
            y.append("    sharedKey: \"").append(key(i)).append("\"\n");
            y.append("    connectionMode: ResponderOnly\n");
        }
        return y.toString();
    }
}
