package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.dataplane.linux.NetNamespace;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host's routes into the tunnel device, thousands at a time, against a real kernel in a
 * network namespace of the test's own (ip -n, or this thread moved into it): a reload's routes in
 * one ip -batch, all or none, a removal that names each prefix it could not take out, and every
 * peer's way asked of the kernel in one process, 10,000 peers behind one router checked as one
 * next hop. Needs root, as CI has.
 */
class HostRoutesBatchTest {
    private static final String DEVICE = "scale10k0";
    private NetNamespace ns;

    @TempDir
    Path dir;

    @BeforeAll
    static void root() {
        String why = "root".equals(System.getProperty("user.name")) ? null : "network namespaces need root; CI runs as root";
        assertNull(why, why);
    }

    @BeforeEach
    void namespace() throws Exception {
        ns = new NetNamespace("scale10k-routes");
        // Stands in for the TUN device (a veth pair: this kernel may lack the dummy driver).
        ns.ip("link", "add", DEVICE, "type", "veth", "peer", "name", "scale10k1");
        ns.ip("link", "set", DEVICE, "up");
        ns.ip("link", "set", "scale10k1", "up");
        ns.ip("addr", "add", "198.18.0.1/24", "dev", "scale10k1");
        ns.ip("route", "add", "default", "via", "198.18.0.254", "dev", "scale10k1");
    }

    @AfterEach
    void gone() throws Exception {
        ns.close();
    }

    private List<String> routes() throws IOException, InterruptedException {
        List<String> out = new ArrayList<>();
        for (String family : List.of("-4", "-6")) {
            for (String line : ns.ip(family, "route", "show", "dev", DEVICE).split("\n")) {
                if (!line.isBlank() && !line.startsWith("fe80")) {
                    out.add(line.strip().split("\\s+")[0]);
                }
            }
        }
        return out;
    }

    @Test
    void thousandsOfRoutesGoInAndOutInOneProcessEach() throws Exception {
        SiteRoutes routes = HostRouting.into(DEVICE, List.of("ip", "-n", ns.name));
        List<String> prefixes = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            prefixes.add("10." + (i >>> 8) + "." + (i & 255) + ".0/24");
        }
        prefixes.add("fd00:10::/64");
        routes.add(prefixes);
        List<String> there = routes();
        assertEquals(5001, there.size());
        assertTrue(there.containsAll(List.of("10.0.0.0/24", "10.19.135.0/24", "fd00:10::/64")), there.subList(0, 5).toString());
        assertEquals(List.of(), routes.remove(prefixes.subList(0, 4990)));
        assertEquals(List.of("10.19.126.0/24", "10.19.127.0/24", "10.19.128.0/24", "10.19.129.0/24", "10.19.130.0/24", "10.19.131.0/24",
                "10.19.132.0/24", "10.19.133.0/24", "10.19.134.0/24", "10.19.135.0/24", "fd00:10::/64"), routes());
    }

    @Test
    void aRouteTheKernelRefusesTakesTheOnesBeforeItOutAgainAndNamesItself() throws Exception {
        SiteRoutes routes = HostRouting.into(DEVICE, List.of("ip", "-n", ns.name));
        routes.add(List.of("10.1.0.0/24", "10.2.0.0/24"));
        // Host bits set: the kernel answers EINVAL for that line (the gateway's own prefixes are checked before; a device gone would do the same).
        IOException e = assertThrows(IOException.class, () -> routes.add(List.of("10.3.0.0/24", "10.4.0.0/24", "10.5.0.1/24", "10.6.0.0/24")));
        assertTrue(e.getMessage().startsWith("ip -n " + ns.name + " route replace 10.5.0.1/24 dev " + DEVICE + " failed: "), e.getMessage());
        assertEquals(List.of("10.1.0.0/24", "10.2.0.0/24"), routes(), "the failed batch's routes are out again, the others stay");
    }

    @Test
    void aRemovalNamesEachPrefixItCouldNotTakeOut() throws Exception {
        SiteRoutes routes = HostRouting.into(DEVICE, List.of("ip", "-n", ns.name));
        routes.add(List.of("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24"));
        List<String> failed = routes.remove(List.of("10.1.0.0/24", "10.9.0.0/24", "10.3.0.0/24", "10.8.0.0/24"));
        assertEquals(2, failed.size(), failed.toString());
        assertTrue(failed.get(0).startsWith("ip -n " + ns.name + " route del 10.9.0.0/24 dev " + DEVICE + " failed: "), failed.get(0));
        assertTrue(failed.get(1).startsWith("ip -n " + ns.name + " route del 10.8.0.0/24 dev " + DEVICE + " failed: "), failed.get(1));
        assertEquals(List.of("10.2.0.0/24"), routes());
    }

    /** A gateway at 198.18.0.1 with {@code sites} sites, peer i at 100.64.0.0 + i + 1, site i's prefix 10.x.y.0/24 (and {@code extra} for site 0). */
    private GatewayConfig config(int sites, String extra) throws IOException {
        StringBuilder y = new StringBuilder("""
                virtualNetworkGateway:
                  name: scale
                  vpnType: RouteBased
                  sku: Isthmus
                  instances:
                    - publicIpAddress: 198.18.0.1
                localNetworkGateways:
                """);
        for (int i = 0; i < sites; i++) {
            int a = (100 << 24 | 64 << 16) + i + 1;
            y.append("  - name: s").append(i).append("\n    gatewayIpAddress: ").append(a >>> 24).append('.').append(a >>> 16 & 255).append('.')
                    .append(a >>> 8 & 255).append('.').append(a & 255).append("\n    addressPrefixes: [10.").append(i >>> 8).append('.')
                    .append(i & 255).append(".0/24").append(i == 0 && extra != null ? ", " + extra : "").append("]\n");
        }
        y.append("connections:\n");
        for (int i = 0; i < sites; i++) {
            y.append("  - name: c").append(i).append("\n    localNetworkGateway: s").append(i).append("\n    sharedKey: key-").append(i).append('\n');
        }
        Path f = Files.writeString(dir.resolve("gw.yaml"), y);
        return ConfigReader.read(f);
    }

    @Test
    void everyPeersWayIsAskedAtOnceAndOneRouterIsOneNextHop() throws Exception {
        GatewayConfig config = config(3000, null);
        HostNetwork host = ns.inside(() -> HostNetwork.read(config));
        InetAddress router = InetAddress.ofLiteral("198.18.0.254");
        assertEquals(1, host.nextHops().size(), host.nextHops().toString());
        assertEquals(new HostNetwork.NextHop(router, "scale10k1", "default route"), host.nextHops().getFirst());
        host.refuseRoutesThatCutTheHostOff(config, DEVICE);
        assertTrue(host.addresses().stream().anyMatch(a -> a.address().equals(InetAddress.ofLiteral("198.18.0.1"))), host.addresses().toString());
    }

    @Test
    void aPeerReachedThroughAnotherRouterIsAHopOfItsOwnAndAPrefixHoldingItIsRefused() throws Exception {
        ns.ip("route", "add", "100.64.0.7/32", "via", "198.18.0.253", "dev", "scale10k1");
        GatewayConfig config = config(50, "198.18.0.248/29");
        HostNetwork host = ns.inside(() -> HostNetwork.read(config));
        assertEquals(List.of("default route", "way to the peer 100.64.0.7"), host.nextHops().stream().map(HostNetwork.NextHop::leadsTo).toList());
        ConfigException e = assertThrows(ConfigException.class, () -> host.refuseRoutesThatCutTheHostOff(config, DEVICE));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("localNetworkGateways[0].addressPrefixes[1]: 198.18.0.248/29 holds 198.18.0.254, the next hop of this"
                + " host's default route (dev scale10k1)"), e.getMessage());
    }
}
