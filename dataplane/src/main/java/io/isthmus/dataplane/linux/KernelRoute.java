package io.isthmus.dataplane.linux;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * One route of the kernel's routing tables as rtnetlink(7) describes it (struct rtmsg and its
 * attributes), only what the gateway reads: where it leads ({@link #destination}/{@link
 * #prefixLength}), in which table, put there by which protocol ({@code proto bird} is 12), and
 * through which next hops (one from RTA_GATEWAY or RTA_VIA, or several from RTA_MULTIPATH).
 *
 * @param type     rtm_type: {@link #RTN_UNICAST} for a route that forwards; blackhole,
 *                 unreachable and prohibit routes lead nowhere
 * @param priority RTA_PRIORITY, the metric (0 if absent)
 * @param nextHops empty for a route without a gateway (a device route)
 */
public record KernelRoute(boolean ipv6, byte[] destination, int prefixLength, int table, int protocol, int type, int tos, int priority,
                          List<NextHop> nextHops) {
    public static final int RTN_UNICAST = 1;
    /** rtm_protocol of the routes BIRD puts into the kernel (RTPROT_BIRD in linux/rtnetlink.h). */
    public static final int RTPROT_BIRD = 12;

    /** A gateway and the interface (its index) it is reached through; {@code gateway} is null for a device-only next hop. */
    public record NextHop(InetAddress gateway, int ifindex) {
    }

    public KernelRoute {
        destination = destination.clone();
        nextHops = List.copyOf(nextHops);
    }

    @Override
    public byte[] destination() {
        return destination.clone();
    }

    /** "10.99.0.0/24", "2001:db8::/32". */
    public String prefix() {
        try {
            return InetAddress.getByAddress(destination).getHostAddress() + "/" + prefixLength;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * What the kernel tells one route from another in a table: an IPv4 route is (table, prefix,
     * tos, metric), so a replace that changes only the gateway keeps it; IPv6 keeps several
     * routes of one prefix and metric apart by their gateway (ECMP siblings, each announced on
     * its own), so its first gateway is part of it.
     */
    public String key() {
        String base = table + " " + prefix() + " tos " + tos + " metric " + priority;
        if (!ipv6 || nextHops.size() != 1 || nextHops.getFirst().gateway() == null) {
            return base;
        }
        return base + " via " + nextHops.getFirst().gateway().getHostAddress();
    }

    /** The key without the gateway: what a replace (NLM_F_REPLACE) replaces. */
    String replacedKey() {
        return table + " " + prefix() + " tos " + tos + " metric " + priority;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KernelRoute r && r.ipv6 == ipv6 && Arrays.equals(r.destination, destination) && r.prefixLength == prefixLength
                && r.table == table && r.protocol == protocol && r.type == type && r.tos == tos && r.priority == priority
                && r.nextHops.equals(nextHops);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(destination) * 31 + prefixLength * 7 + table + nextHops.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(prefix());
        for (NextHop h : nextHops) {
            s.append(h.gateway() != null ? " via " + h.gateway().getHostAddress() : "").append(" dev#").append(h.ifindex());
        }
        return s.append(" table ").append(table).append(" proto ").append(protocol).append(" metric ").append(priority)
                .append(type != RTN_UNICAST ? " type " + type : "").toString();
    }
}
