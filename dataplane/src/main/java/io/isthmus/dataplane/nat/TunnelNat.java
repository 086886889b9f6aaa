package io.isthmus.dataplane.nat;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The NAT rules of one tunnel, compiled for the packet threads: {@link #outbound} rewrites a
 * packet on its way into the tunnel (after the tunnel lookup, before sealing), {@link #inbound}
 * one that came out of it (after opening and the traffic-selector check, before the TUN write).
 * In each direction a packet may have its source translated internal to external by one rule
 * (EgressSnat outbound, IngressSnat inbound) and its destination external to internal by another
 * (IngressSnat outbound, EgressSnat inbound); of several rules that hold an address the one with
 * the longest prefix on that side wins. The source is translated first, and a dynamic rule's
 * reverse lookup of the destination takes the translated source as the remote end: so each
 * dynamic flow names its remote end as seen on the side its rule's internal addresses live. A
 * dynamic rule's internal addresses are reached from the other side only through its flows: a
 * packet to one of them by its real address is dropped ({@link NatDrop#UNTRANSLATED}).
 *
 * <p>IPv4 only; IPv6 passes as it is. The IPv4 header checksum and the TCP, UDP (0 stays 0: no
 * checksum) and ICMP checksums are updated incrementally ({@link Checksum}). ICMP errors
 * (destination unreachable, source quench, time exceeded, parameter problem) are translated by
 * the packet they quote, which travelled the other way: its addresses, ports and checksums, its
 * IP header checksum and the ICMP checksum; for a dynamic rule the flow is found from the quoted
 * header, and no flow is ever made by an error. Fragments: only the first carries ports, so a
 * later fragment passes a static rule without port ranges (addresses only, as the first) and is
 * dropped ({@link NatDrop#FRAGMENT}) by a dynamic rule or one with port ranges; senders through
 * such rules are expected to use path MTU discovery (the tunnel's own ICMP errors say how big).
 *
 * <p>Immutable but for the dynamic rules' {@link FlowTable}s, whose concurrency argument is
 * theirs: one instance serves both packet threads at once, each calling its own direction. Bad
 * packets never throw: a result is 0 (go on) or a {@link NatDrop#code()}.
 */
public final class TunnelNat {
    /** A tunnel without NAT rules. */
    public static final TunnelNat NONE = new TunnelNat(List.of(), new Rule[0], new Rule[0], new Rule[0], new Rule[0], System::nanoTime);
    /** What a translation returns for a packet that goes on, translated or not. */
    public static final int PASS = 0;
    private static final int NO_RULE = -1;

    /** A rule compiled: its two sides as masks and networks, port ranges as bounds (-1: none). */
    static final class Rule {
        final NatRule rule;
        final boolean dynamic;
        final int internalNetwork;
        final int internalMask;
        final int externalNetwork;
        final int externalMask;
        final int internalFirst;
        final int internalLast;
        final int externalFirst;
        final int externalLast;
        final FlowTable flows;

        Rule(NatRule rule, FlowTable flows) {
            this.rule = rule;
            this.dynamic = rule.type() == NatRule.Type.DYNAMIC;
            this.internalNetwork = rule.internal().network();
            this.internalMask = NatRule.mask(rule.internal().bits());
            this.externalNetwork = rule.external().network();
            this.externalMask = NatRule.mask(rule.external().bits());
            NatRule.PortRange ip = rule.internal().ports();
            NatRule.PortRange ep = rule.external().ports();
            this.internalFirst = ip == null ? -1 : ip.first();
            this.internalLast = ip == null ? -1 : ip.last();
            this.externalFirst = ep == null ? -1 : ep.first();
            this.externalLast = ep == null ? -1 : ep.last();
            this.flows = flows;
        }

        boolean internalHas(int address) {
            return (address & internalMask) == internalNetwork;
        }

        boolean externalHas(int address) {
            return (address & externalMask) == externalNetwork;
        }

        /** Static: the external address for an internal one, host bits carried over. */
        int toExternal(int address) {
            return externalNetwork | address & ~externalMask;
        }

        int toInternal(int address) {
            return internalNetwork | address & ~internalMask;
        }

        int portToExternal(int port) {
            return internalFirst < 0 ? port : externalFirst + port - internalFirst;
        }

        int portToInternal(int port) {
            return externalFirst < 0 ? port : internalFirst + port - externalFirst;
        }
    }

    private final List<Rule> rules;
    private final Rule[] outSource;
    private final Rule[] outDestination;
    private final Rule[] inSource;
    private final Rule[] inDestination;
    private final LongSupplier clock;

    private TunnelNat(List<Rule> rules, Rule[] outSource, Rule[] outDestination, Rule[] inSource, Rule[] inDestination, LongSupplier clock) {
        this.rules = rules;
        this.outSource = outSource;
        this.outDestination = outDestination;
        this.inSource = inSource;
        this.inDestination = inDestination;
        this.clock = clock;
    }

    /**
     * Compiles a tunnel's rules. A dynamic rule that translates as one of {@code previous} did (a
     * reload that left it as it was, or only renamed it) keeps that one's flow table, and with it
     * its flows; any other gets a new, empty one. No table goes to two rules.
     *
     * @param clock nanoseconds, as {@link System#nanoTime()}: what flows are timed by
     */
    public static TunnelNat of(List<NatRule> natRules, TunnelNat previous, LongSupplier clock) {
        if (natRules.isEmpty()) {
            return NONE;
        }
        // Tables carried over: to the same rule by name first, then to one only renamed.
        FlowTable[] kept = new FlowTable[natRules.size()];
        if (previous != null) {
            Map<FlowTable, Boolean> taken = new IdentityHashMap<>();
            for (boolean byName : new boolean[] {true, false}) {
                for (int i = 0; i < kept.length; i++) {
                    NatRule r = natRules.get(i);
                    if (kept[i] == null && r.type() == NatRule.Type.DYNAMIC) {
                        kept[i] = previous.flowTable(r, byName, taken);
                    }
                }
            }
        }
        List<Rule> compiled = new ArrayList<>();
        for (int i = 0; i < kept.length; i++) {
            NatRule r = natRules.get(i);
            FlowTable flows = kept[i];
            if (flows == null && r.type() == NatRule.Type.DYNAMIC) {
                int ports = r.external().ports() == null ? 65536 - FlowTable.FIRST_PORT : r.external().ports().size();
                int first = r.external().ports() == null ? FlowTable.FIRST_PORT : r.external().ports().first();
                flows = new FlowTable(r.capacity(), r.external().network(), 1 << (32 - r.external().bits()), first, ports);
            }
            compiled.add(new Rule(r, flows));
        }
        Comparator<Rule> byInternal = Comparator.comparingInt((Rule r) -> Integer.bitCount(r.internalMask)).reversed();
        Comparator<Rule> byExternal = Comparator.comparingInt((Rule r) -> Integer.bitCount(r.externalMask)).reversed();
        List<Rule> egress = compiled.stream().filter(r -> r.rule.mode() == NatRule.Mode.EGRESS_SNAT).toList();
        List<Rule> ingress = compiled.stream().filter(r -> r.rule.mode() == NatRule.Mode.INGRESS_SNAT).toList();
        return new TunnelNat(List.copyOf(compiled), egress.stream().sorted(byInternal).toArray(Rule[]::new),
                ingress.stream().sorted(byExternal).toArray(Rule[]::new), ingress.stream().sorted(byInternal).toArray(Rule[]::new),
                egress.stream().sorted(byExternal).toArray(Rule[]::new), clock);
    }

    /**
     * The flow table, not yet {@code taken} (and then taken), of this rule ({@code byName}) or of
     * one that translates as it does under another name (the name changes no translation, and
     * the configuration's diff ignores it too); null if none.
     */
    private FlowTable flowTable(NatRule r, boolean byName, Map<FlowTable, Boolean> taken) {
        for (Rule c : rules) {
            if (c.flows != null && !taken.containsKey(c.flows) && (byName ? c.rule.equals(r) : c.rule.translatesAs(r))) {
                taken.put(c.flows, Boolean.TRUE);
                return c.flows;
            }
        }
        return null;
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    public List<NatRule> rules() {
        return rules.stream().map(r -> r.rule).toList();
    }

    /** Each dynamic rule's flow table, by rule (identity of the compiled rule's config record). */
    public Map<NatRule, FlowTable> flowTables() {
        Map<NatRule, FlowTable> out = new IdentityHashMap<>();
        for (Rule r : rules) {
            if (r.flows != null) {
                out.put(r.rule, r.flows);
            }
        }
        return out;
    }

    /** A packet into the tunnel, in place: {@link #PASS} or a {@link NatDrop#code()}. */
    public int outbound(byte[] p, int off, int len) {
        return translate(p, off, len, outSource, outDestination, inSource);
    }

    /** A packet out of the tunnel, in place: {@link #PASS} or a {@link NatDrop#code()}. */
    public int inbound(byte[] p, int off, int len) {
        return translate(p, off, len, inSource, inDestination, outSource);
    }

    /**
     * Called by each packet thread once a duty cycle: frees up to {@code slots} expired flows of
     * each dynamic rule whose flows that thread makes (outbound: EgressSnat's, inbound:
     * IngressSnat's), so an idle table empties without a per-packet scan.
     */
    public void sweep(boolean outboundThread, int slots) {
        Rule[] owned = outboundThread ? outSource : inSource;
        long now = 0;
        for (Rule r : owned) {
            if (r.flows != null) {
                if (now == 0) {
                    now = clock.getAsLong();
                }
                r.flows.sweep(now, slots);
            }
        }
    }

    /** Whether this thread has sweeping to do at all. */
    public boolean hasFlows(boolean outboundThread) {
        for (Rule r : outboundThread ? outSource : inSource) {
            if (r.flows != null) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------
    // One packet
    // ------------------------------------------------------------------------------------------

    /** @param hiding the destination side's rules by internal prefix: whose addresses no packet from this side reaches untranslated */
    private int translate(byte[] p, int ip, int len, Rule[] sources, Rule[] destinations, Rule[] hiding) {
        if (sources.length + destinations.length == 0 || len < 20 || off(p, ip, len) < 0) {
            return PASS;
        }
        int ihl = (p[ip] & 0x0F) << 2;
        int end = ip + IpPacket.totalLength(p, ip);
        int proto = p[ip + 9] & 0xFF;
        boolean first = (IpPacket.u16(p, ip + 6) & 0x1FFF) == 0;
        int src = Checksum.u32(p, ip + 12);
        int dst = Checksum.u32(p, ip + 16);
        int l4 = ip + ihl;
        if (proto == IpPacket.PROTO_ICMP && first && l4 + 8 <= end && isError(p[l4] & 0xFF)) {
            return IcmpError.translate(this, p, ip, end, l4, src, dst, sources, destinations, hiding);
        }
        // Ports, or the ICMP echo identifier as both; -1 when the packet has none.
        int sport = -1;
        int dport = -1;
        if (first) {
            if ((proto == IpPacket.PROTO_TCP && l4 + 20 <= end) || (proto == IpPacket.PROTO_UDP && l4 + 8 <= end)) {
                sport = IpPacket.u16(p, l4);
                dport = IpPacket.u16(p, l4 + 2);
            } else if (proto == IpPacket.PROTO_ICMP && l4 + 8 <= end && isQuery(p[l4] & 0xFF)) {
                sport = IpPacket.u16(p, l4 + 4);
                dport = sport;
            }
        }
        int si = matchInternal(sources, src, proto, sport, first);
        if (si < NO_RULE) {
            return si;
        }
        int di = matchExternal(destinations, dst, proto, dport, first);
        if (di < NO_RULE) {
            return di;
        }
        if (di == NO_RULE && hidden(hiding, dst, proto, dport, first)) {
            return NatDrop.UNTRANSLATED.code();
        }
        if (si == NO_RULE && di == NO_RULE) {
            return PASS;
        }
        if (first && !transportComplete(proto, l4, end)) {
            return NatDrop.MALFORMED.code();
        }
        int tcpFlags = proto == IpPacket.PROTO_TCP && first ? p[l4 + 13] & 0xFF : 0;
        boolean icmp = proto == IpPacket.PROTO_ICMP;
        long now = 0;
        int nsrc = src;
        int nsport = sport;
        // A flow the source's dynamic rule made for this packet: freed again if the destination's finds none.
        int made = -1;
        if (si >= 0) {
            Rule r = sources[si];
            if (r.dynamic) {
                now = clock.getAsLong();
                int slot = r.flows.forward(src, sport, proto, dst, icmp ? 0 : dport, tcpFlags, now);
                if (slot < 0) {
                    return NatDrop.FLOW_TABLE_FULL.code();
                }
                made = r.flows.made() ? slot : -1;
                nsrc = r.flows.externalAddress(slot);
                nsport = r.flows.externalPort(slot);
            } else {
                nsrc = r.toExternal(src);
                nsport = sport < 0 ? sport : r.portToExternal(sport);
            }
        }
        int ndst = dst;
        int ndport = dport;
        if (di >= 0) {
            Rule r = destinations[di];
            if (r.dynamic) {
                if (now == 0) {
                    now = clock.getAsLong();
                }
                int slot = r.flows.reverse(dst, dport, proto, nsrc, icmp ? 0 : nsport, tcpFlags, now, true);
                if (slot < 0) {
                    // Both sides dynamic: the reverse lookup needs the source's translation, so it
                    // comes second; an unsolicited packet must not leave a flow behind (a flood
                    // of them would fill the table).
                    if (made >= 0) {
                        sources[si].flows.release(made);
                    }
                    return NatDrop.NO_FLOW.code();
                }
                ndst = r.flows.foundAddress();
                ndport = r.flows.foundPort();
            } else {
                ndst = r.toInternal(dst);
                ndport = dport < 0 ? dport : r.portToInternal(dport);
            }
        }
        // An echo has one identifier for both ends: a dynamic rule's mapping is the one that must
        // hold (its flow is keyed by it), a static rule leaves it as it is.
        int nid = si >= 0 && sources[si].dynamic ? nsport : di >= 0 && destinations[di].dynamic ? ndport : nsport;
        rewrite(p, ip, l4, proto, first, src, nsrc, dst, ndst, sport, icmp ? nid : nsport, dport, ndport);
        return PASS;
    }

    /** -1 if the bytes are not a whole IPv4 header (such a packet is not for NAT: IPv6, or caught before). */
    private static int off(byte[] p, int ip, int len) {
        if (IpPacket.version(p, ip) != 4) {
            return -1;
        }
        int ihl = (p[ip] & 0x0F) << 2;
        int total = IpPacket.u16(p, ip + 2);
        return ihl >= 20 && total >= ihl && total <= len && ip + total <= p.length ? ihl : -1;
    }

    /** Whether a first fragment holds the transport header whose checksum translation changes. */
    static boolean transportComplete(int proto, int l4, int end) {
        return switch (proto) {
            case IpPacket.PROTO_TCP -> l4 + 20 <= end;
            case IpPacket.PROTO_UDP, IpPacket.PROTO_ICMP -> l4 + 8 <= end;
            default -> true;
        };
    }

    /**
     * Rewrites addresses and ports of a packet (ICMP: {@code sport} is the identifier, new value
     * {@code nsport}), the IPv4 header checksum and, in a first fragment, the transport checksum.
     */
    private static void rewrite(byte[] p, int ip, int l4, int proto, boolean first, int src, int nsrc, int dst, int ndst, int sport,
                                int nsport, int dport, int ndport) {
        int ipc = IpPacket.u16(p, ip + 10);
        ipc = Checksum.address(Checksum.address(ipc, src, nsrc), dst, ndst);
        IpPacket.put16(p, ip + 10, ipc);
        Checksum.put32(p, ip + 12, nsrc);
        Checksum.put32(p, ip + 16, ndst);
        if (!first) {
            return;
        }
        if (proto == IpPacket.PROTO_TCP) {
            int c = IpPacket.u16(p, l4 + 16);
            c = Checksum.address(Checksum.address(c, src, nsrc), dst, ndst);
            c = Checksum.word(Checksum.word(c, sport, nsport), dport, ndport);
            IpPacket.put16(p, l4, nsport);
            IpPacket.put16(p, l4 + 2, ndport);
            IpPacket.put16(p, l4 + 16, c);
        } else if (proto == IpPacket.PROTO_UDP) {
            int c = IpPacket.u16(p, l4 + 6);
            c = Checksum.udpAddress(Checksum.udpAddress(c, src, nsrc), dst, ndst);
            c = Checksum.udpWord(Checksum.udpWord(c, sport, nsport), dport, ndport);
            IpPacket.put16(p, l4, nsport);
            IpPacket.put16(p, l4 + 2, ndport);
            IpPacket.put16(p, l4 + 6, c);
        } else if (proto == IpPacket.PROTO_ICMP && sport >= 0 && nsport != sport) {
            IpPacket.put16(p, l4 + 2, Checksum.word(IpPacket.u16(p, l4 + 2), sport, nsport));
            IpPacket.put16(p, l4 + 4, nsport);
        }
    }

    static boolean isError(int type) {
        return type == 3 || type == 4 || type == 11 || type == 12;
    }

    static boolean isQuery(int type) {
        return type == 0 || type == 8;
    }

    /**
     * The first rule (longest internal prefix first) that translates a source {@code address}
     * with this protocol and port (-1: none known), {@link #NO_RULE}, or a drop code when a rule
     * holds the address but cannot translate the packet.
     */
    static int matchInternal(Rule[] rules, int address, int proto, int port, boolean first) {
        for (int i = 0; i < rules.length; i++) {
            Rule r = rules[i];
            if (!r.internalHas(address)) {
                continue;
            }
            int verdict = applies(r, r.internalFirst, r.internalLast, proto, port, first);
            if (verdict != NO_RULE) {
                return verdict == PASS ? i : verdict;
            }
        }
        return NO_RULE;
    }

    /**
     * Whether {@code address}, a destination no rule translates, is hidden by a dynamic rule: the
     * rule with the longest internal prefix that would translate a packet from it (with this
     * protocol and port) is dynamic. Such an address is reached through its rule's flows only;
     * route-based child SAs take any address, so without this a peer could reach it directly.
     * Traffic a dynamic rule leaves untranslated (outside its internal port range) is not hidden.
     */
    static boolean hidden(Rule[] byInternal, int address, int proto, int port, boolean first) {
        for (Rule r : byInternal) {
            if (r.internalHas(address) && applies(r, r.internalFirst, r.internalLast, proto, port, first) != NO_RULE) {
                return r.dynamic;
            }
        }
        return false;
    }

    /** As {@link #matchInternal}, for a destination on the rules' external side. */
    static int matchExternal(Rule[] rules, int address, int proto, int port, boolean first) {
        for (int i = 0; i < rules.length; i++) {
            Rule r = rules[i];
            if (!r.externalHas(address)) {
                continue;
            }
            // A dynamic rule's external port range is where it allocates: any port to its addresses is its own.
            int verdict = applies(r, r.dynamic ? -1 : r.externalFirst, r.externalLast, proto, port, first);
            if (verdict != NO_RULE) {
                return verdict == PASS ? i : verdict;
            }
        }
        return NO_RULE;
    }

    /** For a rule that holds the address: PASS (it applies), NO_RULE (not to this port or protocol), or a drop code. */
    private static int applies(Rule r, int portFirst, int portLast, int proto, int port, boolean first) {
        boolean tcpOrUdp = proto == IpPacket.PROTO_TCP || proto == IpPacket.PROTO_UDP;
        if (!r.dynamic && portFirst < 0) {
            return PASS;
        }
        if (!first && (tcpOrUdp || r.dynamic)) {
            return NatDrop.FRAGMENT.code();
        }
        if (portFirst >= 0) {
            if (!tcpOrUdp) {
                return NO_RULE;
            }
            if (port < 0) {
                return NatDrop.MALFORMED.code();
            }
            return port >= portFirst && port <= portLast ? PASS : NO_RULE;
        }
        if (tcpOrUdp) {
            return port < 0 ? NatDrop.MALFORMED.code() : PASS;
        }
        return proto == IpPacket.PROTO_ICMP && port >= 0 ? PASS : NatDrop.UNSUPPORTED_PROTOCOL.code();
    }

    long now() {
        return clock.getAsLong();
    }

    // ------------------------------------------------------------------------------------------
    // Status
    // ------------------------------------------------------------------------------------------

    /** One rule for status: for a dynamic rule, the flows it holds and the most it may. */
    public record RuleStatus(String name, NatRule.Mode mode, NatRule.Type type, String internal, String external, int flowsInUse,
                             int flowCapacity) {
    }

    public List<RuleStatus> status() {
        List<RuleStatus> out = new ArrayList<>();
        for (Rule r : rules) {
            out.add(new RuleStatus(r.rule.name(), r.rule.mode(), r.rule.type(), r.rule.internal().toString(), r.rule.external().toString(),
                    r.flows == null ? 0 : r.flows.inUse(), r.flows == null ? 0 : r.flows.capacity()));
        }
        return out;
    }
}
