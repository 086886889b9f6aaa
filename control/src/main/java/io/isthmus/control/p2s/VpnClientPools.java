package io.isthmus.control.p2s;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.VpnClientConfiguration;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The gateway's client address pools as its {@code vpnClientAddressPool} says: one per address
 * family it names, each bounded by the configuration's {@code maxClients}.
 *
 * @param ipv4 null when the pool has no IPv4 prefix
 * @param ipv6 null when it has no IPv6 prefix
 */
public record VpnClientPools(VirtualAddressPool ipv4, VirtualAddressPool ipv6) {
    /**
     * How long a client's address waits for it after its IKE SA died: long enough for a laptop
     * to change networks and re-establish (no MOBIKE here), short against a pool held by the gone.
     */
    public static final Duration GRACE = Duration.ofMinutes(10);

    public static VpnClientPools of(VpnClientConfiguration v, LongSupplier nanoTime) {
        return new VpnClientPools(family(v, true, nanoTime), family(v, false, nanoTime));
    }

    private static VirtualAddressPool family(VpnClientConfiguration v, boolean four, LongSupplier nanoTime) {
        List<InetAddress> networks = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (String text : v.addressPrefixes()) {
            AddressPrefix p = AddressPrefix.parse(text);
            if (p.isIpv4() == four) {
                String[] parts = text.split("/", 2);
                networks.add(InetAddress.ofLiteral(parts[0].strip()));
                lengths.add(p.length());
            }
        }
        return networks.isEmpty() ? null : new VirtualAddressPool(networks, lengths, v.maxClients(), GRACE, nanoTime);
    }
}
