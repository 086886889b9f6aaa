package io.isthmus.dataplane.nat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One NAT rule of a connection, as Azure's VPN gateway natRules have it. The control plane
 * builds these from configuration; the data plane compiles them into a {@link TunnelNat}.
 *
 * <ul>
 * <li>{@link Mode#INGRESS_SNAT} translates the on-premises side: {@code internal} is the site's
 *     real range, {@code external} what the gateway's own network sees. Packets from the tunnel
 *     have their source translated internal to external; packets into the tunnel their
 *     destination external to internal.</li>
 * <li>{@link Mode#EGRESS_SNAT} translates the gateway's side (the virtual network): packets into
 *     the tunnel have their source translated internal to external, packets from it their
 *     destination external to internal.</li>
 * <li>{@link Type#STATIC}: prefix to prefix of the same length, host bits carried over;
 *     optional port ranges of equal size (a port maps to the same offset in the other range,
 *     and only TCP and UDP packets whose port is in the range are translated).</li>
 * <li>{@link Type#DYNAMIC}: many internal addresses to the external address (or a small pool),
 *     source ports and ICMP echo identifiers translated, the flows kept in a bounded
 *     {@link FlowTable} of {@code flowCapacity} entries. With an external port range, ports are
 *     allocated from it; with an internal one, only TCP/UDP from ports in it are translated.
 *     The other side reaches its internal addresses only through its flows: a packet to one by
 *     its real address (what the rule would translate) is dropped.</li>
 * </ul>
 * IPv4 only, as Azure's NAT.
 *
 * @param flowCapacity the most flows a dynamic rule keeps at once (0: {@link #DEFAULT_FLOW_CAPACITY});
 *                     ignored by static rules
 */
public record NatRule(String name, Mode mode, Type type, Mapping internal, Mapping external, int flowCapacity) {
    /** Flows of a dynamic rule by default: about 5 MB of tables (some 76 bytes a flow), preallocated. */
    public static final int DEFAULT_FLOW_CAPACITY = 65_536;
    /** The most a dynamic rule may keep (memory is preallocated: about 80 MB at this size). */
    public static final int MAX_FLOW_CAPACITY = 1 << 20;
    /** Pool of a dynamic rule: at most a /24 (Azure's "small pool"). */
    public static final int MIN_DYNAMIC_POOL_BITS = 24;

    public enum Mode { INGRESS_SNAT, EGRESS_SNAT }

    public enum Type { STATIC, DYNAMIC }

    /** An inclusive port range, {@code 1000-1999}. */
    public record PortRange(int first, int last) {
        public PortRange {
            if (first < 0 || last > 0xFFFF || first > last) {
                throw new IllegalArgumentException("port range " + first + "-" + last + ": 0 to 65535, first not above last");
            }
        }

        public int size() {
            return last - first + 1;
        }

        public boolean contains(int port) {
            return port >= first && port <= last;
        }

        /** "1000-1999" or "80". */
        public static PortRange parse(String text) {
            String t = text.strip();
            int dash = t.indexOf('-');
            try {
                return dash < 0 ? new PortRange(Integer.parseInt(t), Integer.parseInt(t))
                        : new PortRange(Integer.parseInt(t.substring(0, dash).strip()), Integer.parseInt(t.substring(dash + 1).strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not a port range such as 1000-1999");
            }
        }

        @Override
        public String toString() {
            return first == last ? Integer.toString(first) : first + "-" + last;
        }
    }

    /**
     * One side of a rule (Azure's VpnNatRuleMapping): an IPv4 prefix ({@code addressSpace}, host
     * bits zero) and an optional port range (null: every port).
     */
    public record Mapping(String addressSpace, PortRange ports) {
        public Mapping {
            Objects.requireNonNull(addressSpace, "addressSpace");
        }

        public Mapping(String addressSpace) {
            this(addressSpace, null);
        }

        /** The prefix's network address as an int. */
        int network() {
            return parse()[0];
        }

        /** The prefix length. */
        int bits() {
            return parse()[1];
        }

        /** {network, bits}, or an IllegalArgumentException saying what is wrong. */
        private int[] parse() {
            String t = addressSpace.strip();
            int slash = t.indexOf('/');
            String a = slash < 0 ? t : t.substring(0, slash);
            byte[] b;
            try {
                if (!a.matches("[0-9.]+")) {
                    throw new IllegalArgumentException();
                }
                b = InetAddress.ofLiteral(a).getAddress();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + addressSpace + "' is not an IPv4 prefix such as 10.0.0.0/24 (NAT is IPv4 only)");
            }
            int bits;
            try {
                bits = slash < 0 ? 32 : Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (b.length != 4 || bits < 0 || bits > 32) {
                throw new IllegalArgumentException("'" + addressSpace + "' is not an IPv4 prefix such as 10.0.0.0/24 (NAT is IPv4 only)");
            }
            int n = ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
            if ((n & ~mask(bits)) != 0) {
                throw new IllegalArgumentException("'" + addressSpace + "' has host bits set");
            }
            return new int[] {n, bits};
        }

        @Override
        public String toString() {
            return addressSpace + (ports == null ? "" : ":" + ports);
        }
    }

    public NatRule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(internal, "internal");
        Objects.requireNonNull(external, "external");
        List<String> problems = problems(type, internal, external, flowCapacity);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("NAT rule " + name + ": " + String.join("; ", problems));
        }
    }

    public NatRule(String name, Mode mode, Type type, Mapping internal, Mapping external) {
        this(name, mode, type, internal, external, 0);
    }

    /** The flows a dynamic rule keeps at most (what its table is made for). */
    public int capacity() {
        if (type == Type.STATIC) {
            return 0;
        }
        long ports = external.ports() == null ? 65536 - FlowTable.FIRST_PORT : external.ports().size();
        long room = (1L << (32 - external.bits())) * ports;
        return (int) Math.min(room, flowCapacity == 0 ? DEFAULT_FLOW_CAPACITY : flowCapacity);
    }

    private static List<String> problems(Type type, Mapping internal, Mapping external, int flowCapacity) {
        List<String> out = new ArrayList<>();
        int ib = -1;
        int eb = -1;
        try {
            ib = internal.bits();
        } catch (IllegalArgumentException e) {
            out.add("internal mapping: " + e.getMessage());
        }
        try {
            eb = external.bits();
        } catch (IllegalArgumentException e) {
            out.add("external mapping: " + e.getMessage());
        }
        if (type == Type.STATIC) {
            if (ib >= 0 && eb >= 0 && ib != eb) {
                out.add("a static rule maps prefixes of the same length, not /" + ib + " to /" + eb);
            }
            if ((internal.ports() == null) != (external.ports() == null)) {
                out.add("a static rule has port ranges on both sides or on neither");
            } else if (internal.ports() != null && internal.ports().size() != external.ports().size()) {
                out.add("a static rule's port ranges are of the same size, not " + internal.ports().size() + " and " + external.ports().size());
            }
        } else {
            if (eb >= 0 && eb < MIN_DYNAMIC_POOL_BITS) {
                out.add("a dynamic rule's external mapping is one address or a small pool (/" + MIN_DYNAMIC_POOL_BITS + " to /32), not /" + eb);
            }
            if (external.ports() != null && external.ports().first() < 1) {
                out.add("a dynamic rule allocates ports from 1 up, not from 0");
            }
            if (flowCapacity < 0 || flowCapacity > MAX_FLOW_CAPACITY) {
                out.add("flow capacity 0 (the default, " + DEFAULT_FLOW_CAPACITY + ") to " + MAX_FLOW_CAPACITY + ", not " + flowCapacity);
            }
        }
        return out;
    }

    /**
     * Whether {@code o} translates exactly as this rule does: the same but for the name (and the
     * spelling of its prefixes, or a flow capacity left to the default rather than given as it).
     */
    public boolean translatesAs(NatRule o) {
        return mode == o.mode && type == o.type && sameMapping(internal, o.internal) && sameMapping(external, o.external)
                && capacity() == o.capacity();
    }

    private static boolean sameMapping(Mapping a, Mapping b) {
        return a.network() == b.network() && a.bits() == b.bits() && Objects.equals(a.ports(), b.ports());
    }

    static int mask(int bits) {
        return bits == 0 ? 0 : -1 << (32 - bits);
    }

    @Override
    public String toString() {
        return name + " (" + mode + ", " + type + ", " + internal + " <-> " + external + ")";
    }
}
