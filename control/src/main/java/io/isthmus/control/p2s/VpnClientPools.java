package io.isthmus.control.p2s;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.VpnClientConfiguration;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The gateway's client address pools as its {@code vpnClientAddressPool} says: one per address
 * family it names, each bounded by the configuration's {@code maxClients}. An instance of an
 * active-active gateway leases from its half of each prefix only, as Azure splits the pool
 * between its two instances: both serve clients at once and keep no common lease table, so the
 * halves are what keeps one address from being given to two clients.
 *
 * @param ipv4     null when the pool has no IPv4 prefix
 * @param ipv6     null when it has no IPv6 prefix
 * @param prefixes what this instance leases from, in the configuration's order (halves on an active-active gateway)
 */
public record VpnClientPools(VirtualAddressPool ipv4, VirtualAddressPool ipv6, List<String> prefixes) {
    /**
     * How long a client's address waits for it after its IKE SA died: long enough for a laptop
     * to change networks and re-establish (no MOBIKE here), short against a pool held by the gone.
     */
    public static final Duration GRACE = Duration.ofMinutes(10);
    /** The whole pool: a gateway with one instance serving (one, or active-standby). */
    public static final int WHOLE = -1;

    public VpnClientPools {
        prefixes = List.copyOf(prefixes);
    }

    /**
     * What {@code instance} of the gateway leases from: on an active-active gateway its half (the
     * first instance the lower), else the whole pool. The gateway must have a vpnClientConfiguration.
     */
    public static VpnClientPools forInstance(GatewayConfig config, GatewayConfig.Instance instance, LongSupplier nanoTime) {
        int index = config.gateway().instances().indexOf(instance);
        if (index < 0) {
            throw new IllegalArgumentException("instance " + instance.name() + " is not one of the gateway's");
        }
        return of(config.gateway().vpnClientConfiguration(), config.gateway().activeActive() ? index : WHOLE, nanoTime);
    }

    /** The whole of each prefix. */
    public static VpnClientPools of(VpnClientConfiguration v, LongSupplier nanoTime) {
        return of(v, WHOLE, nanoTime);
    }

    /**
     * @param half instance 0 or 1 of an active-active gateway: the lower or the upper half of each
     *             prefix (the configuration check refused prefixes too small to split); or {@link #WHOLE}
     */
    public static VpnClientPools of(VpnClientConfiguration v, int half, LongSupplier nanoTime) {
        List<AddressPrefix> prefixes = new ArrayList<>();
        for (String text : v.addressPrefixes()) {
            AddressPrefix p = AddressPrefix.parse(text);
            prefixes.add(half == WHOLE ? p : p.half(half));
        }
        return new VpnClientPools(family(prefixes, true, v.maxClients(), nanoTime), family(prefixes, false, v.maxClients(), nanoTime),
                prefixes.stream().map(AddressPrefix::toString).toList());
    }

    private static VirtualAddressPool family(List<AddressPrefix> prefixes, boolean four, int maxClients, LongSupplier nanoTime) {
        List<InetAddress> networks = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (AddressPrefix p : prefixes) {
            if (p.isIpv4() == four) {
                try {
                    networks.add(InetAddress.getByAddress(p.firstAddress()));
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
                }
                lengths.add(p.length());
            }
        }
        return networks.isEmpty() ? null : new VirtualAddressPool(networks, lengths, maxClients, GRACE, nanoTime);
    }
}
