package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.TunnelRoutes;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * This host's network as the kernel has it (from {@code ip -j}): its addresses, and the next
 * hops it reaches the world and each peer through. Read at start, before any route goes into the
 * TUN device, to refuse a site prefix that would cut the host off: one that holds an address of
 * this host or the next hop of its default route (or of its way to a peer), or overlaps a network
 * one of its interfaces is on (a management LAN the operator reaches it through). The configuration
 * alone cannot tell: it knows the gateway's instance addresses, not the host's other interfaces
 * nor where its default route leads.
 */
final class HostNetwork {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An address of one of this host's interfaces, and the length of the network it puts on that link. */
    record Address(InetAddress address, String device, int prefixLength) {
        Address(InetAddress address, String device) {
            this(address, device, address.getAddress().length * 8);
        }

        /** The link's network, e.g. 10.99.0.0/16 for 10.99.0.5/16. */
        AddressPrefix network() {
            byte[] a = address.getAddress();
            for (int bit = prefixLength; bit < a.length * 8; bit++) {
                a[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
            }
            try {
                return AddressPrefix.parse(InetAddress.getByAddress(a).getHostAddress() + "/" + prefixLength);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A router this host sends through, and for what ("default route", "the way to the peer 203.0.113.5"). */
    record NextHop(InetAddress address, String device, String leadsTo) {
    }

    private final List<Address> addresses;
    private final List<NextHop> nextHops;

    HostNetwork(List<Address> addresses, List<NextHop> nextHops) {
        // Loopback last: a prefix that holds 127.0.0.1 and a real address is better explained by the real one.
        this.addresses = addresses.stream().sorted(Comparator.comparing(a -> a.address().isLoopbackAddress())).toList();
        // Each router once, with the first thing it leads to: 10,000 peers behind one router are one next hop to check
        // every site prefix against, not 10,000.
        java.util.Map<List<Object>, NextHop> distinct = new java.util.LinkedHashMap<>();
        for (NextHop hop : nextHops) {
            distinct.putIfAbsent(List.of(hop.address(), hop.device()), hop);
        }
        this.nextHops = List.copyOf(distinct.values());
    }

    List<Address> addresses() {
        return addresses;
    }

    List<NextHop> nextHops() {
        return nextHops;
    }

    /** Asks the kernel: addresses, both default routes, and the route to every peer of {@code config}. */
    static HostNetwork read(GatewayConfig config) throws IOException, InterruptedException {
        List<NextHop> hops = new ArrayList<>();
        hops.addAll(nextHops(ip("-4", "-j", "route", "show", "default"), "default route"));
        hops.addAll(nextHops(ip("-6", "-j", "route", "show", "default"), "default route"));
        // Every peer's route in one ip(8): a process per peer is 10 ms here, 100 s for 10,000 sites. A peer with no route at all prints
        // nothing here (ip -force goes on): IKE will say so, and there is nothing to protect.
        Set<String> peers = new java.util.LinkedHashSet<>();
        for (GatewayConfig.LocalNetworkGateway site : config.localNetworkGateways()) {
            peers.add(site.gatewayIpAddress().getHostAddress());
        }
        for (JsonNode routes : routesTo(peers)) {
            for (JsonNode route : routes) {
                String peer = route.path("dst").asText("?");
                hops.addAll(nextHops(JSON.createArrayNode().add(route), "way to the peer " + peer));
            }
        }
        return new HostNetwork(addresses(ip("-j", "address", "show")), hops);
    }

    /** {@code ip -j route get} for each of {@code peers}, in one process: each answer a JSON array, in order. */
    private static List<JsonNode> routesTo(Set<String> peers) throws IOException, InterruptedException {
        if (peers.isEmpty()) {
            return List.of();
        }
        Process p = new ProcessBuilder("ip", "-j", "-force", "-batch", "-").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        java.util.concurrent.CompletableFuture<byte[]> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        }, Thread::startVirtualThread);
        StringBuilder lines = new StringBuilder();
        peers.forEach(peer -> lines.append("route get ").append(peer).append('\n'));
        try (var in = p.getOutputStream()) {
            in.write(lines.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        byte[] out = output.join();
        p.waitFor();
        // One JSON array after another (not a MappingIterator: it would take the first array's elements for the sequence).
        List<JsonNode> answers = new ArrayList<>();
        try (com.fasterxml.jackson.core.JsonParser parser = JSON.createParser(out)) {
            while (parser.nextToken() != null) {
                answers.add(JSON.readTree(parser));
            }
        }
        return answers;
    }

    /**
     * Refuses, with one {@link ConfigException} listing every offending site prefix, a
     * configuration whose routes into {@code tunnelDevice} would take this host's own addresses
     * or its next hops. Addresses on the tunnel device itself are its own business.
     */
    void refuseRoutesThatCutTheHostOff(GatewayConfig config, String tunnelDevice) {
        List<ConfigException> problems = new ArrayList<>();
        List<AddressPrefix> networks = addresses.stream().map(Address::network).toList();
        // The routes translated by IngressSnat rules and the BGP peers' host routes too: a peer address that is this host's next hop would cut it off as surely.
        for (TunnelRoutes.SiteRoute route : TunnelRoutes.of(config)) {
            String why = null;
            for (NextHop hop : nextHops) {
                if (route.prefix().contains(hop.address())) {
                    why = "holds " + hop.address().getHostAddress() + ", the next hop of this host's " + hop.leadsTo()
                            + " (dev " + hop.device() + ")";
                    break;
                }
            }
            for (int i = 0; why == null && i < addresses.size(); i++) {
                Address a = addresses.get(i);
                if (!a.device().equals(tunnelDevice) && route.prefix().contains(a.address())) {
                    why = "holds " + a.address().getHostAddress() + ", an address of this host (dev " + a.device() + ")";
                }
            }
            // A prefix inside a network this host is on (its management LAN, say) would take that part of it away.
            for (int i = 0; why == null && i < addresses.size(); i++) {
                Address a = addresses.get(i);
                if (!a.device().equals(tunnelDevice) && route.prefix().overlaps(networks.get(i))) {
                    why = "overlaps " + networks.get(i) + ", a network this host is on (dev " + a.device() + ", "
                            + a.address().getHostAddress() + "/" + a.prefixLength() + ")";
                }
            }
            if (why != null) {
                problems.add(new ConfigException(config.source(), route.field(), route.prefix() + " " + why
                        + "; a route for it into " + tunnelDevice + " would cut the host off, so the gateway does not start (nothing was changed)"));
            }
        }
        ConfigException.throwIfAny(problems);
    }

    /** From {@code ip -j address show}. */
    static List<Address> addresses(String json) throws IOException {
        List<Address> out = new ArrayList<>();
        for (JsonNode link : JSON.readTree(json)) {
            String device = link.path("ifname").asText("?");
            for (JsonNode info : link.path("addr_info")) {
                InetAddress a = literal(info.path("local").asText(null));
                if (a != null) {
                    out.add(new Address(a, device, info.path("prefixlen").asInt(a.getAddress().length * 8)));
                }
            }
        }
        return out;
    }

    /** From {@code ip -j route show ...} or {@code ip -j route get ...}: the gateways, also of multipath and "via" routes. */
    static List<NextHop> nextHops(String json, String leadsTo) throws IOException {
        return nextHops(JSON.readTree(json), leadsTo);
    }

    private static List<NextHop> nextHops(JsonNode routes, String leadsTo) {
        List<NextHop> out = new ArrayList<>();
        for (JsonNode route : routes) {
            List<JsonNode> hops = new ArrayList<>();
            route.path("nexthops").forEach(hops::add);
            if (hops.isEmpty()) {
                hops.add(route);
            }
            for (JsonNode hop : hops) {
                InetAddress a = literal(hop.hasNonNull("gateway") ? hop.get("gateway").asText() : hop.path("via").path("address").asText(null));
                if (a != null) {
                    out.add(new NextHop(a, hop.path("dev").asText(route.path("dev").asText("?")), leadsTo));
                }
            }
        }
        return out;
    }

    private static InetAddress literal(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return InetAddress.ofLiteral(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
        // Older ip(8) prints nothing rather than [] when there is nothing.
        return out.isEmpty() ? "[]" : out;
    }
}
