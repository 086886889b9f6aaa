package io.isthmus.dataplane;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.isthmus.dataplane.nat.TunnelNat;

/**
 * What the packet threads forward by, immutable: the tunnel table (longest-prefix match over the
 * tunnels' prefixes), each tunnel's outbound SAs newest first, and the installed SAs by inbound
 * SPI. The control plane never changes one: every change builds the next snapshot and publishes
 * it with one volatile write ({@link Forwarding}), so a packet thread sees the tunnel table, the
 * tunnels' SAs and the SA table of one and the same change, never a mix.
 *
 * <p>The outbound SAs are indexed by {@link Tunnel#slot()}, which the tunnels of one table never
 * share; the table and the array come from the same snapshot, so a slot reused by a later tunnel
 * cannot mislead a thread still holding this one. A route-based tunnel sends everything through
 * its newest SA (after a rekey, the replacement: make-before-break); a policy-based one through
 * the newest whose selectors hold the packet.
 */
final class ForwardingSnapshot {
    private static final InstalledSa.Outbound[] NONE = new InstalledSa.Outbound[0];
    static final ForwardingSnapshot EMPTY = new ForwardingSnapshot(TunnelTable.EMPTY, new InstalledSa.Outbound[0][], SaTable.EMPTY,
            new TunnelNat[0]);

    private final TunnelTable table;
    private final InstalledSa.Outbound[][] outbound;
    /**
     * Each tunnel's newest outbound SA by slot (null: none), what a route-based tunnel sends
     * through: read from here, a packet to one of 1,000 tunnels fetches one array slot less from
     * memory than through the tunnel's own array of SAs.
     */
    private final InstalledSa.Outbound[] newest;
    private final SaTable inbound;
    /** Each tunnel's NAT rules, by {@link Tunnel#slot()} as the outbound SAs (null: none). */
    private final TunnelNat[] nat;
    /** Those of {@link #nat} with dynamic rules, for the packet threads' sweeps. */
    private final TunnelNat[] natWithFlows;

    private ForwardingSnapshot(TunnelTable table, InstalledSa.Outbound[][] outbound, SaTable inbound, TunnelNat[] nat) {
        this(table, outbound, newest(outbound), inbound, nat, java.util.Arrays.stream(nat).filter(n -> n != null && !n.flowTables().isEmpty())
                .toArray(TunnelNat[]::new));
    }

    private static InstalledSa.Outbound[] newest(InstalledSa.Outbound[][] outbound) {
        InstalledSa.Outbound[] n = new InstalledSa.Outbound[outbound.length];
        for (int i = 0; i < outbound.length; i++) {
            n[i] = outbound[i] == null || outbound[i].length == 0 ? null : outbound[i][0];
        }
        return n;
    }

    /** With the NAT rules of a snapshot before: a change of SAs does not look through 10,000 tunnels' rules again. */
    private ForwardingSnapshot(TunnelTable table, InstalledSa.Outbound[][] outbound, InstalledSa.Outbound[] newest, SaTable inbound,
                               TunnelNat[] nat, TunnelNat[] natWithFlows) {
        this.table = table;
        this.outbound = outbound;
        this.newest = newest;
        this.inbound = inbound;
        this.nat = nat;
        this.natWithFlows = natWithFlows;
    }

    /** The tunnel's NAT rules ({@link TunnelNat#NONE} for none). */
    TunnelNat nat(Tunnel tunnel) {
        int slot = tunnel.slot();
        TunnelNat n = slot < nat.length ? nat[slot] : null;
        return n == null ? TunnelNat.NONE : n;
    }

    /** The tunnels' NAT rules that keep flows. */
    TunnelNat[] natWithFlows() {
        return natWithFlows;
    }

    TunnelTable table() {
        return table;
    }

    /** The tunnel for the packet at {@code p[ip]}, by its destination, or null. */
    Tunnel tunnel(byte[] p, int ip) {
        return table.lookup(p, ip);
    }

    /** The SA that carries the packet at {@code p[ip]} through {@code tunnel}, or null if none may. */
    InstalledSa.Outbound outbound(Tunnel tunnel, byte[] p, int ip, int len) {
        if (!tunnel.policyBased()) {
            int slot = tunnel.slot();
            return slot < newest.length ? newest[slot] : null;
        }
        InstalledSa.Outbound[] sas = outbound(tunnel);
        for (InstalledSa.Outbound sa : sas) {
            if (sa.fits(p, ip, len)) {
                return sa;
            }
        }
        return null;
    }

    /** The tunnel's outbound SAs, newest first. */
    InstalledSa.Outbound[] outbound(Tunnel tunnel) {
        int slot = tunnel.slot();
        InstalledSa.Outbound[] sas = slot < outbound.length ? outbound[slot] : null;
        return sas == null ? NONE : sas;
    }

    /** The SA with this inbound SPI, or null. */
    InstalledSa.Inbound inbound(int spi) {
        return inbound.get(spi);
    }

    /** The installed SAs, copied out: any thread may call this, several at once. */
    List<InstalledSa.Inbound> inboundList() {
        return inbound.list();
    }

    // ------------------------------------------------------------------------------------------
    // The next snapshot (control thread only)
    // ------------------------------------------------------------------------------------------

    /**
     * With a new tunnel table over {@code tunnels}: those {@code kept} keep their SAs, the others
     * start without; each tunnel with the NAT rules of {@code nat} (by name; none if absent).
     */
    ForwardingSnapshot withTable(TunnelTable next, Collection<Tunnel> tunnels, Set<Tunnel> kept, Map<String, TunnelNat> nat) {
        int slots = tunnels.stream().mapToInt(Tunnel::slot).max().orElse(-1) + 1;
        InstalledSa.Outbound[][] sas = new InstalledSa.Outbound[slots][];
        TunnelNat[] rules = new TunnelNat[slots];
        for (Tunnel t : tunnels) {
            sas[t.slot()] = kept.contains(t) ? outbound(t) : NONE;
            rules[t.slot()] = nat.get(t.name());
        }
        return new ForwardingSnapshot(next, sas, inbound, rules);
    }

    /** With another tunnel table over the same tunnels: their SAs and NAT rules stay as they are. */
    ForwardingSnapshot withRoutes(TunnelTable next) {
        return new ForwardingSnapshot(next, outbound, newest, inbound, nat, natWithFlows);
    }

    /** With {@code tunnel}'s outbound SAs replaced by these, newest first. */
    ForwardingSnapshot withOutbound(Tunnel tunnel, List<InstalledSa.Outbound> newestFirst) {
        return withOutbound(tunnel, newestFirst.toArray(InstalledSa.Outbound[]::new));
    }

    /** As {@link #withOutbound(Tunnel, List)}, the array taken over (the caller made it for this). */
    ForwardingSnapshot withOutbound(Tunnel tunnel, InstalledSa.Outbound[] newestFirst) {
        InstalledSa.Outbound[][] sas = java.util.Arrays.copyOf(outbound, Math.max(outbound.length, tunnel.slot() + 1));
        sas[tunnel.slot()] = newestFirst;
        InstalledSa.Outbound[] first = java.util.Arrays.copyOf(newest, sas.length);
        first[tunnel.slot()] = newestFirst.length == 0 ? null : newestFirst[0];
        return new ForwardingSnapshot(table, sas, first, inbound, nat, natWithFlows);
    }

    /** With the SA of this inbound SPI added, or removed if {@code sa} is null. */
    ForwardingSnapshot withInbound(int spi, InstalledSa.Inbound sa) {
        return new ForwardingSnapshot(table, outbound, newest, inbound.with(spi, sa), nat, natWithFlows);
    }
}
