package io.isthmus.control;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.GatewayConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Which connection a peer's address belongs to, as a configuration has them (the first in the
 * file, if several share it): for a capture filtered by connection. One device is found in a
 * map (10,000 sites); a site whose devices come from a range is found by the range holding the
 * address, after the devices of their own, as the IKE engine picks its candidates.
 */
final class ConnectionsByPeer implements Function<InetAddress, String> {
    private record Range(AddressPrefix prefix, String connection) {
    }

    private final Map<InetAddress, String> byPeer = new HashMap<>();
    /** Few: a gateway has a range per group of devices, not per device. */
    private final List<Range> ranges = new ArrayList<>();

    ConnectionsByPeer(GatewayConfig config) {
        for (GatewayConfig.Connection c : config.connections()) {
            GatewayConfig.LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
            if (site.gatewayRange() != null) {
                ranges.add(new Range(site.gatewayRange(), c.name()));
            } else {
                byPeer.putIfAbsent(site.gatewayIpAddress(), c.name());
            }
        }
    }

    /** The connection of the peer at {@code address}, or null. */
    @Override
    public String apply(InetAddress address) {
        String one = byPeer.get(address);
        if (one != null) {
            return one;
        }
        for (Range r : ranges) {
            if (r.prefix().contains(address)) {
                return r.connection();
            }
        }
        return null;
    }
}
