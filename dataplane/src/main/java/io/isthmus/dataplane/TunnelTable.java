package io.isthmus.dataplane;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.ArrayList;
import java.util.List;

/**
 * Which tunnel carries a packet: longest-prefix match on its destination over every tunnel's
 * prefixes (a local network gateway's address space), IPv4 and IPv6. Immutable: a change builds a
 * new table and swaps it in while packets keep flowing.
 */
public final class TunnelTable {
    /** One prefix of the table: configured (a local network gateway's), or {@code learned} from the connection's BGP peer. */
    public record Route(byte[] prefix, int length, Tunnel tunnel, boolean learned) {
        public Route(byte[] prefix, int length, Tunnel tunnel) {
            this(prefix, length, tunnel, false);
        }

        /** "10.1.0.0/16", as the route was given. */
        public String prefixText() {
            return PrefixTrie.text(prefix) + "/" + length;
        }

        @Override
        public String toString() {
            return prefixText() + " -> " + tunnel.name() + (learned ? " (learned)" : "");
        }
    }

    static final TunnelTable EMPTY = new TunnelTable(List.of());

    private final Ipv4PrefixTable<Tunnel> v4 = new Ipv4PrefixTable<>();
    private final PrefixTrie<Tunnel> v6 = new PrefixTrie<>(16);
    private final List<Route> routes;

    /** Where two routes have the same prefix and length, the later one in {@code routes} wins. */
    TunnelTable(List<Route> routes) {
        this.routes = List.copyOf(routes);
        for (Route r : routes) {
            if (r.prefix().length == 4) {
                v4.put(r.prefix(), r.length(), r.tunnel());
            } else {
                v6.put(r.prefix(), r.length(), r.tunnel());
            }
        }
        v4.seal();
        v6.seal();
    }

    /** How many of the routes are learned ones. */
    int learnedCount() {
        int n = 0;
        for (Route r : routes) {
            n += r.learned() ? 1 : 0;
        }
        return n;
    }

    /** The tunnel for the packet at {@code off} (by its destination), or null. */
    Tunnel lookup(byte[] p, int off) {
        int v = IpPacket.version(p, off);
        return v == 4 ? v4.lookup(p, off + 16) : v == 6 ? v6.lookup(p, off + 24) : null;
    }

    public List<Route> routes() {
        return routes;
    }

    /** "10.1.0.0/16" or "fd00::/48" to bytes and length; the host bits must be zero. */
    public static Route route(String prefix, Tunnel tunnel) {
        int slash = prefix.indexOf('/');
        try {
            byte[] address = java.net.InetAddress.ofLiteral(slash < 0 ? prefix : prefix.substring(0, slash)).getAddress();
            int length = slash < 0 ? address.length * 8 : Integer.parseInt(prefix.substring(slash + 1));
            if (length < 0 || length > address.length * 8) {
                throw new IllegalArgumentException("prefix length " + length + " in " + prefix);
            }
            for (int bit = length; bit < address.length * 8; bit++) {
                if ((address[bit >>> 3] & (0x80 >>> (bit & 7))) != 0) {
                    throw new IllegalArgumentException(prefix + " has host bits set");
                }
            }
            return new Route(address, length, tunnel);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + prefix + "' is not an address prefix: " + e.getMessage(), e);
        }
    }

    static List<Route> union(List<Route> a, List<Route> b) {
        List<Route> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
