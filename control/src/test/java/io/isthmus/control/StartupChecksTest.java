package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks made before the gateway changes anything on the host, each with the host's facts
 * given by the test (addresses, sysctls, the TUN device's path), except ports: those are bound
 * for real, as the check binds them, on ports this test holds or has just found free.
 */
class StartupChecksTest {
    static final long PID = ProcessHandle.current().pid();
    static final Path TUN = Path.of("/dev/net/tun");

    @TempDir
    Path dir;

    /** A gateway on {@code instance} (instances[0]: publicIpAddress, then privateIpAddress if given), its site behind 198.51.100.7. */
    static GatewayConfig config(String instance, int ikePort, int natTraversalPort, String prefixes) {
        return ConfigReader.parse(Path.of("gw.yaml"), """
                virtualNetworkGateway:
                  name: gw
                  vpnType: RouteBased
                  sku: VpnGw1
                  instances:
                    - %s
                  tunnel:
                    device: isthmus7
                    ikePort: %d
                    natTraversalPort: %d
                localNetworkGateways:
                  - name: branch
                    gatewayIpAddress: 198.51.100.7
                    addressPrefixes: [%s]
                connections:
                  - name: to-branch
                    localNetworkGateway: branch
                    sharedKey: k
                """.formatted(instance, ikePort, natTraversalPort, prefixes), k -> null);
    }

    /** This host as the tests describe it: loopback only, forwarding on, the real TUN device, ss for port owners. */
    static StartupChecks.Host host(Map<String, String> sysctls, Path tun) {
        HostNetwork network = new HostNetwork(List.of(new HostNetwork.Address(ip("127.0.0.1"), "lo", 8), new HostNetwork.Address(ip("::1"), "lo")),
                List.of());
        return new StartupChecks.Host(network, sysctls::get, tun, at -> StartupChecks.bindProblem(at, PortOwners::of));
    }

    static final Map<String, String> FORWARDING = Map.of("net.ipv4.ip_forward", "1\n", "net.ipv6.conf.all.forwarding", "1\n");

    /** For checks that must not get as far as the ports. */
    static String neverBound(InetSocketAddress at) {
        throw new AssertionError("no port is tried on an address the host does not have: " + at);
    }

    static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    /** A UDP port nobody holds at this moment (the kernel's choice, let go at once). */
    static int freePort() throws IOException {
        try (DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET)) {
            c.bind(new InetSocketAddress(ip("127.0.0.1"), 0));
            return ((InetSocketAddress) c.getLocalAddress()).getPort();
        }
    }

    static List<String> problems(GatewayConfig config, StartupChecks.Host host) {
        ConfigException e = assertThrows(ConfigException.class, () -> StartupChecks.check(config, config.instance(null), host));
        return e.problems().stream().map(ConfigException::getMessage).toList();
    }

    @Test
    void aHostThatHasEverythingPasses() throws Exception {
        GatewayConfig c = config("publicIpAddress: 127.0.0.1", freePort(), freePort(), "192.168.20.0/24, fd20::/64");
        assertDoesNotThrow(() -> StartupChecks.check(c, c.instance(null), host(FORWARDING, TUN)));
    }

    @Test
    void anAddressNotOnThisHostIsNamedWithWhatTheHostHas() throws Exception {
        GatewayConfig c = config("publicIpAddress: 203.0.113.10", 500, 4500, "192.168.20.0/24");
        StartupChecks.Host host = new StartupChecks.Host(HostNetworkTest.host(), FORWARDING::get, TUN, StartupChecksTest::neverBound);
        assertEquals(List.of("gw.yaml: virtualNetworkGateway.instances[0].publicIpAddress: 203.0.113.10 is not an address of this host (it has"
                + " 192.0.2.2, fd00:0:0:0:0:0:0:2, 10.99.0.5, 192.168.77.1); behind a cloud's 1:1 NAT, set privateIpAddress to the address the machine"
                + " itself has"), problems(c, host));
    }

    @Test
    void behindANatThePrivateAddressIsTheOneThatMustBeHere() throws Exception {
        GatewayConfig c = config("{publicIpAddress: 203.0.113.10, privateIpAddress: 10.99.0.6}", 500, 4500, "192.168.20.0/24");
        StartupChecks.Host host = new StartupChecks.Host(HostNetworkTest.host(), FORWARDING::get, TUN, StartupChecksTest::neverBound);
        assertEquals(List.of("gw.yaml: virtualNetworkGateway.instances[0].privateIpAddress: 10.99.0.6 is not an address of this host (it has"
                + " 192.0.2.2, fd00:0:0:0:0:0:0:2, 10.99.0.5, 192.168.77.1)"), problems(c, host));
    }

    @Test
    void aTakenPortIsNamedWithTheProcessThatHoldsIt() throws Exception {
        try (DatagramChannel holder = DatagramChannel.open(StandardProtocolFamily.INET)) {
            holder.bind(new InetSocketAddress(ip("127.0.0.1"), 0));
            int taken = ((InetSocketAddress) holder.getLocalAddress()).getPort();
            GatewayConfig c = config("publicIpAddress: 127.0.0.1", taken, freePort(), "192.168.20.0/24");
            List<String> problems = problems(c, host(FORWARDING, TUN));
            assertEquals(1, problems.size(), problems::toString);
            assertTrue(problems.getFirst().startsWith("gw.yaml: virtualNetworkGateway.tunnel.ikePort: UDP port " + taken
                    + " on 127.0.0.1 is taken by "), problems::toString);
            assertTrue(problems.getFirst().contains("(pid " + PID + ")"), () -> "ss names this JVM: " + problems);
            assertTrue(problems.getFirst().endsWith("; the gateway needs it for IKE"), problems::toString);
        }
    }

    /**
     * charon sets SO_REUSEADDR, and so does the data plane: both could bind UDP 4500 and share it.
     * The check binds without it, so such a holder still stops the start. A holder on the wildcard
     * address holds the port on every address.
     */
    @Test
    void aHolderThatAllowsSharingOrBindsEveryAddressStillStopsTheStart() throws Exception {
        try (DatagramChannel shared = DatagramChannel.open(StandardProtocolFamily.INET);
             DatagramChannel wildcard = DatagramChannel.open(StandardProtocolFamily.INET)) {
            shared.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            shared.bind(new InetSocketAddress(ip("127.0.0.1"), 0));
            wildcard.bind(new InetSocketAddress(0));
            int sharedPort = ((InetSocketAddress) shared.getLocalAddress()).getPort();
            int wildcardPort = ((InetSocketAddress) wildcard.getLocalAddress()).getPort();
            GatewayConfig c = config("publicIpAddress: 127.0.0.1", wildcardPort, sharedPort, "192.168.20.0/24");
            List<String> problems = problems(c, host(FORWARDING, TUN));
            assertEquals(2, problems.size(), problems::toString);
            assertTrue(problems.get(0).startsWith("gw.yaml: virtualNetworkGateway.tunnel.ikePort: UDP port " + wildcardPort + " on 127.0.0.1"
                    + " is taken by "), problems::toString);
            assertTrue(problems.get(1).startsWith("gw.yaml: virtualNetworkGateway.tunnel.natTraversalPort: UDP port " + sharedPort
                    + " on 127.0.0.1 is taken by "), problems::toString);
            assertTrue(problems.get(1).endsWith("; the gateway needs it for ESP in UDP, and IKE behind a NAT"), problems::toString);
        }
    }

    @Test
    void whenSsCannotTellTheLineSaysSo() throws Exception {
        try (DatagramChannel holder = DatagramChannel.open(StandardProtocolFamily.INET)) {
            holder.bind(new InetSocketAddress(ip("127.0.0.1"), 0));
            int taken = ((InetSocketAddress) holder.getLocalAddress()).getPort();
            GatewayConfig c = config("publicIpAddress: 127.0.0.1", freePort(), taken, "192.168.20.0/24");
            HostNetwork loopback = host(FORWARDING, TUN).network();
            assertEquals(List.of("gw.yaml: virtualNetworkGateway.tunnel.natTraversalPort: UDP port " + taken + " on 127.0.0.1 is taken by another"
                    + " process (ss -ulpn does not say which); the gateway needs it for ESP in UDP, and IKE behind a NAT"),
                    problems(c, new StartupChecks.Host(loopback, FORWARDING::get, TUN, at -> StartupChecks.bindProblem(at, (a, p) -> List.of()))));
        }
    }

    @Test
    void ssLinesAreReadForTheAddressAndPortAsked() {
        String ss = """
                UNCONN 0      0             10.0.0.4:500        0.0.0.0:*    users:(("charon",pid=812,fd=13))
                UNCONN 0      0              0.0.0.0:4500       0.0.0.0:*    users:(("charon",pid=812,fd=14),("charon",pid=812,fd=15))
                UNCONN 0      0            10.0.0.5:500         0.0.0.0:*    users:(("other",pid=9,fd=3))
                UNCONN 0      0                [::]:4500           [::]:*    users:(("pluto",pid=77,fd=6))
                UNCONN 0      0      [fd00::4]%eth0:500            [::]:*    users:(("v6only",pid=5,fd=1))
                UNCONN 0      0             10.0.0.4:5000       0.0.0.0:*    users:(("not-this-port",pid=1,fd=1))
                UNCONN 0      0             10.0.0.4:500        0.0.0.0:*    users:(("evil\\"\u0007name",pid=66,fd=1))
                garbage
                """;
        assertEquals(List.of("charon (pid 812)", "evil\\\"?name (pid 66)"), PortOwners.parse(ss, ip("10.0.0.4"), 500));
        assertEquals(List.of("charon (pid 812)", "pluto (pid 77)"), PortOwners.parse(ss, ip("10.0.0.4"), 4500));
        assertEquals(List.of("pluto (pid 77)"), PortOwners.parse(ss, ip("fd00::9"), 4500), "0.0.0.0 holds no IPv6 address");
        assertEquals(List.of("v6only (pid 5)"), PortOwners.parse(ss, ip("fd00::4"), 500));
        assertEquals(List.of(), PortOwners.parse("", ip("10.0.0.4"), 500));
    }

    @Test
    void withoutTheTunDriverTheDeviceFieldIsNamed() throws Exception {
        GatewayConfig c = config("publicIpAddress: 127.0.0.1", freePort(), freePort(), "192.168.20.0/24");
        Path missing = dir.resolve("net-tun");
        assertEquals(List.of("gw.yaml: virtualNetworkGateway.tunnel.device: " + missing + " does not exist: the kernel's TUN driver is not loaded"
                + " (modprobe tun) or, in a container, the device was not passed in; the gateway makes its TUN device isthmus7 through it"),
                problems(c, host(FORWARDING, missing)));
        Path notADevice = Files.createDirectory(dir.resolve("a-directory"));
        List<String> problems = problems(c, host(FORWARDING, notADevice));
        assertEquals(1, problems.size());
        assertTrue(problems.getFirst().startsWith("gw.yaml: virtualNetworkGateway.tunnel.device: cannot open " + notADevice + ": "), problems::toString);
    }

    @Test
    void forwardingMustBeOnForEachFamilyTheSitesUse() throws Exception {
        GatewayConfig both = config("publicIpAddress: 127.0.0.1", freePort(), freePort(), "192.168.20.0/24, fd20::/64");
        assertEquals(List.of("gw.yaml: localNetworkGateways[0].addressPrefixes[0]: net.ipv4.ip_forward is 0, so this host would not forward the"
                + " traffic of 192.168.20.0/24 between the tunnel and its network; sysctl -w net.ipv4.ip_forward=1, and a file in /etc/sysctl.d/"
                + " to keep it", "gw.yaml: localNetworkGateways[0].addressPrefixes[1]: net.ipv6.conf.all.forwarding is 0, so this host would not"
                + " forward the traffic of fd20::/64 between the tunnel and its network; sysctl -w net.ipv6.conf.all.forwarding=1, and a file in"
                + " /etc/sysctl.d/ to keep it"), problems(both, host(Map.of("net.ipv4.ip_forward", "0\n", "net.ipv6.conf.all.forwarding", "0\n"),
                TUN)));
        assertEquals(List.of("gw.yaml: localNetworkGateways[0].addressPrefixes[1]: this host has no IPv6 (no net.ipv6.conf.all.forwarding)"),
                problems(both, host(Map.of("net.ipv4.ip_forward", "1\n"), TUN)));

        GatewayConfig v4only = config("publicIpAddress: 127.0.0.1", freePort(), freePort(), "192.168.20.0/24");
        assertDoesNotThrow(() -> StartupChecks.check(v4only, v4only.instance(null), host(Map.of("net.ipv4.ip_forward", "1",
                "net.ipv6.conf.all.forwarding", "0"), TUN)), "IPv6 forwarding is none of an IPv4-only gateway's business");
    }

    /** The route check that was there before joins the same report: every problem of the host at once, one line each. */
    @Test
    void aPrefixThatCutsTheHostOffIsReportedWithTheRest() throws Exception {
        GatewayConfig c = config("publicIpAddress: 10.99.0.5", 500, 4500, "192.0.2.0/25");
        StartupChecks.Host host = new StartupChecks.Host(HostNetworkTest.host(), Map.of("net.ipv4.ip_forward", "0")::get, dir.resolve("none"),
                at -> null);
        List<String> problems = problems(c, host);
        assertEquals(3, problems.size(), problems::toString);
        assertTrue(problems.get(0).startsWith("gw.yaml: virtualNetworkGateway.tunnel.device: " + dir.resolve("none") + " does not exist"), problems::toString);
        assertTrue(problems.get(1).startsWith("gw.yaml: localNetworkGateways[0].addressPrefixes[0]: net.ipv4.ip_forward is 0"), problems::toString);
        assertEquals("gw.yaml: localNetworkGateways[0].addressPrefixes[0]: 192.0.2.0/25 holds 192.0.2.1, the next hop of this host's default route"
                + " (dev eth0); a route for it into isthmus7 would cut the host off, so the gateway does not start (nothing was changed)",
                problems.get(2));
        for (String p : problems) {
            assertTrue(p.lines().count() == 1, p);
        }
    }

    /* A reload repeats what still applies to a running gateway: forwarding for each family, and the routes; not its own ports. */
    @Test
    void aReloadChecksForwardingAndRoutesButNotThePortsItHolds() {
        StartupChecks.Host noV6Forwarding = new StartupChecks.Host(host(FORWARDING, TUN).network(), Map.of("net.ipv4.ip_forward", "1\n",
                "net.ipv6.conf.all.forwarding", "0\n")::get, Path.of("/nonexistent/tun"), StartupChecksTest::neverBound);
        assertDoesNotThrow(() -> StartupChecks.forReload(config("publicIpAddress: 192.0.2.1", 500, 4500, "192.168.20.0/24"), noV6Forwarding),
                "an address not on the host, a TUN device missing: the running gateway has its own");
        ConfigException e = assertThrows(ConfigException.class, () -> StartupChecks.forReload(
                config("publicIpAddress: 192.0.2.1", 500, 4500, "192.168.20.0/24, fd20::/64, 127.0.0.0/8"), noV6Forwarding));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.problems().get(0).getMessage().contains("net.ipv6.conf.all.forwarding is 0"), e.getMessage());
        assertTrue(e.problems().get(1).getMessage().contains("127.0.0.0/8 holds 127.0.0.1"), e.getMessage());
    }
}
