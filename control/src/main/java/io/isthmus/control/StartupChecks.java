package io.isthmus.control;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.TunnelRoutes;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * What this host must offer before the gateway changes anything on it (binds a port, makes its
 * TUN device, adds a route): the instance's address, UDP ports 500 and 4500 free, a TUN driver it
 * may open, IP forwarding on for each family it carries, and no site prefix that would cut the
 * host off ({@link HostNetwork}). Every problem is found, and reported at once in one
 * {@link ConfigException}, one line each, naming the configuration field it concerns: at 3 a.m.
 * an operator fixes them in one round, not one restart at a time. {@code gateway run} exits
 * {@link GatewayCommand#HOST_NOT_READY} (3) for them, not 2: at boot they may pass, and systemd retries.
 */
final class StartupChecks {

    /**
     * The host as the checks see it, read from the kernel at start and made by hand in tests.
     *
     * @param sysctl  a sysctl's value by its name ("net.ipv4.ip_forward"), null if this host has none
     * @param tun     the TUN driver's device, /dev/net/tun
     * @param bind    why a UDP port on an address cannot be bound, null if it can: {@link #bindProblem}, which really binds
     */
    record Host(HostNetwork network, Function<String, String> sysctl, Path tun, Function<InetSocketAddress, String> bind) {
        static Host read(GatewayConfig config) throws IOException, InterruptedException {
            return new Host(HostNetwork.read(config), StartupChecks::readSysctl, Path.of("/dev/net/tun"),
                    at -> bindProblem(at, PortOwners::of));
        }
    }

    private StartupChecks() {
    }

    /** Checks this host for {@code instance} of {@code config}; throws one ConfigException listing every problem. */
    static void run(GatewayConfig config, Instance instance) throws IOException, InterruptedException {
        check(config, instance, Host.read(config));
    }

    static void check(GatewayConfig config, Instance instance, Host host) {
        List<ConfigException> problems = new ArrayList<>();
        boolean addressHere = addressOnHost(config, instance, host, problems);
        if (addressHere) {
            // Binding an address the host lacks fails for that reason alone, already said.
            ports(config, instance, host, problems);
        }
        tunDevice(config, host, problems);
        forwarding(config, host, problems);
        bird(config, problems);
        try {
            host.network().refuseRoutesThatCutTheHostOff(config, config.gateway().tunnel().device());
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        ConfigException.throwIfAny(problems);
    }

    /** A gateway with bgpSettings runs BIRD 2; a host without it is told how to get it. */
    static void bird(GatewayConfig config, List<ConfigException> problems) {
        if (config.gateway().bgpSettings() != null && !Files.isExecutable(io.isthmus.control.bgp.BirdDaemon.BIRD)) {
            problems.add(new ConfigException(config.source(), "virtualNetworkGateway.bgpSettings", "BGP needs BIRD 2, which the gateway runs"
                    + " itself, and " + io.isthmus.control.bgp.BirdDaemon.BIRD + " is not there: apt install bird2"));
        }
    }

    /**
     * What a reload checks again in the file read anew: the running gateway holds its address,
     * ports and TUN device already, but new prefixes may be of a family the host does not forward,
     * or cut the host off. Throws one ConfigException listing every problem.
     */
    static void forReload(GatewayConfig next) throws IOException, InterruptedException {
        forReload(next, Host.read(next));
    }

    static void forReload(GatewayConfig next, Host host) {
        List<ConfigException> problems = new ArrayList<>();
        forwarding(next, host, problems);
        try {
            host.network().refuseRoutesThatCutTheHostOff(next, next.gateway().tunnel().device());
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }
        ConfigException.throwIfAny(problems);
    }

    /** The address IKE and ESP bind (the private one behind a cloud's 1:1 NAT) must be one of this host's. */
    static boolean addressOnHost(GatewayConfig config, Instance instance, Host host, List<ConfigException> problems) {
        InetAddress bind = instance.bindAddress();
        if (host.network().addresses().stream().anyMatch(a -> a.address().equals(bind))) {
            return true;
        }
        String field = instanceField(config, instance) + (instance.privateIpAddress() != null ? ".privateIpAddress" : ".publicIpAddress");
        List<String> own = host.network().addresses().stream().map(HostNetwork.Address::address)
                .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress()).map(InetAddress::getHostAddress).distinct().limit(8).toList();
        String has = own.isEmpty() ? "it has none but loopback and link-local ones" : "it has " + String.join(", ", own);
        String hint = instance.privateIpAddress() != null ? "" : "; behind a cloud's 1:1 NAT, set privateIpAddress to the address the machine itself has";
        problems.add(new ConfigException(config.source(), field, bind.getHostAddress() + " is not an address of this host (" + has + ")" + hint));
        return false;
    }

    /**
     * UDP ports for IKE and for ESP in UDP must be free on the instance's address. Tried by binding,
     * without SO_REUSEADDR: the data plane sets it on its own socket, and two sockets that both
     * set it may share a UDP port on Linux, so another IKE daemon (strongSwan's charon sets it too)
     * would silently take half of the traffic instead of stopping the start.
     */
    static void ports(GatewayConfig config, Instance instance, Host host, List<ConfigException> problems) {
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        record Port(String field, int number, String use) {
        }
        for (Port port : List.of(new Port("virtualNetworkGateway.tunnel.ikePort", t.ikePort(), "IKE"),
                new Port("virtualNetworkGateway.tunnel.natTraversalPort", t.natTraversalPort(), "ESP in UDP, and IKE behind a NAT"))) {
            String problem = host.bind().apply(new InetSocketAddress(instance.bindAddress(), port.number()));
            if (problem != null) {
                problems.add(new ConfigException(config.source(), port.field(), problem + "; the gateway needs it for " + port.use()));
            }
        }
    }

    /** Null if {@code at} could be bound (and was let go at once), otherwise why not, with whoever holds it ({@code owners}: ss's answer). */
    static String bindProblem(InetSocketAddress at, BiFunction<InetAddress, Integer, List<String>> owners) {
        String where = "UDP port " + at.getPort() + " on " + (at.getAddress() instanceof Inet6Address ? "[" + at.getAddress().getHostAddress() + "]"
                : at.getAddress().getHostAddress());
        try (DatagramChannel c = DatagramChannel.open(at.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET)) {
            c.setOption(StandardSocketOptions.SO_REUSEADDR, false);
            c.bind(at);
            return null;
        } catch (BindException e) {
            String reason = String.valueOf(e.getMessage());
            if (reason.contains("in use")) {
                List<String> holders = owners.apply(at.getAddress(), at.getPort());
                return where + " is taken by " + (holders.isEmpty() ? "another process (ss -ulpn does not say which)" : String.join(", ", holders));
            }
            if (reason.contains("ermission")) {
                return "cannot bind " + where + ": permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
            }
            return "cannot bind " + where + ": " + reason;
        } catch (IOException e) {
            return "cannot bind " + where + ": " + e.getMessage();
        }
    }

    /** The TUN driver's device must be there and open for us: the gateway makes its TUN device through it. */
    static void tunDevice(GatewayConfig config, Host host, List<ConfigException> problems) {
        Path tun = host.tun();
        String problem;
        try (FileChannel ignored = FileChannel.open(tun, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return;
        } catch (NoSuchFileException e) {
            problem = tun + " does not exist: the kernel's TUN driver is not loaded (modprobe tun) or, in a container, the device was not"
                    + " passed in";
        } catch (AccessDeniedException e) {
            problem = "cannot open " + tun + ": permission denied (run as root or with CAP_NET_ADMIN; under systemd, DeviceAllow=" + tun + " rw)";
        } catch (IOException | UnsupportedOperationException e) {
            problem = "cannot open " + tun + ": " + e.getMessage();
        }
        problems.add(new ConfigException(config.source(), "virtualNetworkGateway.tunnel.device", problem + "; the gateway makes its TUN device "
                + config.gateway().tunnel().device() + " through it"));
    }

    /**
     * The host forwards between the tunnel and its network only with IP forwarding on: IPv4 if a
     * site prefix is IPv4, IPv6 if one is IPv6. Without it the tunnel comes up and carries nothing
     * to the hosts behind it, which looks like a broken peer; this says where the fault is.
     */
    static void forwarding(GatewayConfig config, Host host, List<ConfigException> problems) {
        for (boolean v6 : new boolean[] {false, true}) {
            var first = TunnelRoutes.of(config).stream()
                    .filter(r -> r.prefix().toString().contains(":") == v6).findFirst();
            if (first.isEmpty()) {
                continue;
            }
            String sysctl = v6 ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward";
            String value = host.sysctl().apply(sysctl);
            String problem;
            if (value == null) {
                problem = v6 ? "this host has no IPv6 (no " + sysctl + ")" : "cannot read " + sysctl;
            } else if (!value.strip().equals("1")) {
                problem = sysctl + " is " + value.strip() + ", so this host would not forward the traffic of " + first.get().prefix()
                        + " between the tunnel and its network; sysctl -w " + sysctl + "=1, and a file in /etc/sysctl.d/ to keep it";
            } else {
                continue;
            }
            problems.add(new ConfigException(config.source(), first.get().field(), problem));
        }
    }

    /** "virtualNetworkGateway.instances[1]". */
    private static String instanceField(GatewayConfig config, Instance instance) {
        return "virtualNetworkGateway.instances[" + config.gateway().instances().indexOf(instance) + "]";
    }

    /** /proc/sys/net/ipv4/ip_forward for net.ipv4.ip_forward; null if there is no such file. */
    private static String readSysctl(String name) {
        try {
            return Files.readString(Path.of("/proc/sys", name.split("\\.")));
        } catch (IOException e) {
            return null;
        }
    }
}
