package io.isthmus.control;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.GatewayConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * What a route learned over BGP may not take into the tunnel, because the host would be cut off
 * (DESIGN.md: no route that captures the way to a peer or the host's default route): the IKE
 * peers' addresses, the next hops of the host's default routes and of its way to each peer, the
 * instances' own addresses and the host's, the gateway's own address space, the NAT rules'
 * external mappings (translated space is the translating connection's), the networks the host is
 * on, and the default route itself unless forced tunnelling is configured.
 *
 * <p>Addresses are protected against any prefix that holds them. Networks only against a prefix
 * inside them (the same or longer): Azure lets a peer advertise a supernet of the virtual
 * network (10.0.0.0/8 over a 10.1.0.0/16 address space), which the network's own, longer routes
 * win against, but not the network's own prefixes.
 */
final class ProtectedDestinations {
    /** An address a learned prefix may not hold, and what it is, for the log. */
    record Address(InetAddress address, String what) {
    }

    /** A network a learned prefix may not lie in. */
    record Network(AddressPrefix prefix, String what) {
    }

    private final List<Address> addresses;
    private final List<Network> networks;
    private final boolean forcedTunnelling;

    ProtectedDestinations(List<Address> addresses, List<Network> networks, boolean forcedTunnelling) {
        this.addresses = List.copyOf(addresses);
        this.networks = List.copyOf(networks);
        this.forcedTunnelling = forcedTunnelling;
    }

    /** Nothing protected but the default route: for tests of everything else. */
    static ProtectedDestinations none() {
        return new ProtectedDestinations(List.of(), List.of(), false);
    }

    /** From the configuration and the host as {@link HostNetwork} read it; what is on {@code tunnelDevice} is the tunnel's own. */
    static ProtectedDestinations of(GatewayConfig config, HostNetwork host, String tunnelDevice) {
        List<Address> addresses = new ArrayList<>();
        List<Network> peerRanges = new ArrayList<>();
        for (GatewayConfig.LocalNetworkGateway site : config.localNetworkGateways()) {
            if (site.gatewayRange() != null) {
                // Inside it (a route to some of the peers), or around it (its first address stands for the rest).
                peerRanges.add(new Network(site.gatewayRange(), "the range the IKE peers of " + site.name() + " come from"));
                addresses.add(new Address(site.gatewayIpAddress(), "in the range the IKE peers of " + site.name() + " come from"));
            } else {
                addresses.add(new Address(site.gatewayIpAddress(), "the IKE peer of " + site.name()));
            }
        }
        for (GatewayConfig.Instance i : config.gateway().instances()) {
            for (InetAddress a : new InetAddress[] {i.publicIpAddress(), i.privateIpAddress(), i.floatingIpAddress()}) {
                if (a != null) {
                    addresses.add(new Address(a, "an address of instance " + i.name()));
                }
            }
        }
        for (HostNetwork.NextHop hop : host.nextHops()) {
            addresses.add(new Address(hop.address(), "the next hop of this host's " + hop.leadsTo()));
        }
        List<Network> networks = new ArrayList<>(peerRanges);
        for (String space : config.gateway().addressSpace()) {
            networks.add(new Network(AddressPrefix.parse(space), "the gateway's addressSpace " + space));
        }
        // Translated space belongs to the connections whose rules map onto it: a peer's route there (the same or longer)
        // would capture another site's traffic, or take over the route the gateway installs for it.
        for (GatewayConfig.NatRule rule : config.gateway().natRules()) {
            AddressPrefix external = rule.externalMapping().addressSpace();
            networks.add(new Network(external, "the externalMapping of NAT rule " + rule.name()));
        }
        for (HostNetwork.Address a : host.addresses()) {
            if (!a.device().equals(tunnelDevice)) {
                addresses.add(new Address(a.address(), "an address of this host (dev " + a.device() + ")"));
                networks.add(new Network(a.network(), "a network this host is on (dev " + a.device() + ")"));
            }
        }
        return new ProtectedDestinations(addresses, networks, false);
    }

    /** Why {@code prefix} may not go into the tunnel, or null if it may. */
    String refusal(AddressPrefix prefix) {
        if (prefix.isDefault() && !forcedTunnelling) {
            return "the default route (forced tunnelling is not configured)";
        }
        for (Address a : addresses) {
            if (prefix.contains(a.address())) {
                return "holds " + a.address().getHostAddress() + ", " + a.what();
            }
        }
        for (Network n : networks) {
            if (prefix.length() >= n.prefix().length() && prefix.overlaps(n.prefix())) {
                return "lies in " + n.prefix() + ", " + n.what();
            }
        }
        return null;
    }
}
