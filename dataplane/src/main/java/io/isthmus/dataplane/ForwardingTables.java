package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.nat.TunnelNat;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import io.isthmus.esp.SaListener;
import io.isthmus.esp.SecurityAssociation;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The tunnels and installed SAs as the control plane changes them: every change builds the next
 * {@link ForwardingSnapshot} from the current one and publishes it with one volatile write
 * ({@link Forwarding#publish}); SAs taken out wait in the {@link Graveyard} until no packet
 * thread can hold them, then their keys are wiped. Also what status reports of them. Called
 * under the data plane's lock only, from any control thread.
 */
final class ForwardingTables {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");

    private final Dataplane.Settings settings;
    private final Dataplane.Events events;
    private final EspPort esp;
    private final Forwarding forwarding = new Forwarding();
    private final Map<String, Tunnel> tunnels = new LinkedHashMap<>();
    /** Outbound halves taken out of the tunnels but still alive, by inbound SPI, until {@link #remove}. */
    private final Map<Integer, InstalledSa.Outbound> retired = new HashMap<>();
    /** Removed SAs waiting for the packet threads to let go before their keys are wiped. */
    private final Graveyard graveyard;
    /** The configured tunnels and prefixes as last set. */
    private List<Dataplane.TunnelSpec> specs = List.of();
    /**
     * Remote-access clients' tunnels, by name: each a host route (the client's virtual
     * addresses) to the tunnel its child SAs are installed in; kept across {@link #tunnels}.
     */
    private final Map<String, List<String>> clients = new LinkedHashMap<>();
    /** Prefixes learned over BGP, by tunnel name, as last set. */
    private Map<String, List<String>> learned = Map.of();
    private long rebuilds;
    /** Whether SAs installed from now on start with an empty sequence lease (a gateway pair's). */
    private boolean requireLeases;
    /** The test hook's start of ESN SAs' outbound counters (0: none); see {@link Dataplane#startEsnSequencesAfter}. */
    private long esnFirstAfter;
    /** What dynamic NAT flows are timed by. */
    private LongSupplier natClock = System::nanoTime;

    /** {@code dutyCycles}: one counter per packet thread, for the {@link Graveyard}. */
    ForwardingTables(Dataplane.Settings settings, Dataplane.Events events, EspPort esp, List<AtomicLong> dutyCycles) {
        this.settings = settings;
        this.events = events;
        this.esp = esp;
        this.graveyard = new Graveyard(dutyCycles);
    }

    /** What the packet threads read. */
    Forwarding forwarding() {
        return forwarding;
    }

    Map<String, Tunnel> tunnels() {
        return tunnels;
    }

    /** Sets the tunnels and their prefixes; tunnels that stay keep their SAs and counters. */
    void tunnels(List<Dataplane.TunnelSpec> specs) {
        Map<String, Tunnel> next = new LinkedHashMap<>();
        Map<String, TunnelNat> nat = new HashMap<>();
        Set<Tunnel> kept = new HashSet<>();
        BitSet slots = new BitSet();
        List<Dataplane.TunnelSpec> configured = specs;
        specs = withClients(specs);
        for (Dataplane.TunnelSpec s : specs) {
            Tunnel existing = tunnels.get(s.name());
            if (existing != null && existing.policyBased() == s.policyBased()) {
                kept.add(existing);
                slots.set(existing.slot());
            }
        }
        for (Dataplane.TunnelSpec s : specs) {
            Tunnel existing = tunnels.get(s.name());
            Tunnel t;
            if (kept.contains(existing)) {
                t = existing;
            } else {
                int slot = slots.nextClearBit(0);
                slots.set(slot);
                t = new Tunnel(s.name(), s.policyBased(), existing != null ? existing.counters() : new Counters(), slot);
            }
            next.put(s.name(), t);
            // An unchanged dynamic rule keeps its flow table, so a reload does not cut its flows.
            TunnelNat before = existing == null ? null : forwarding.current().nat(existing);
            nat.put(s.name(), TunnelNat.of(s.natRules(), before, natClock));
        }
        // Parsed before anything changes: a bad prefix leaves the table as it was.
        TunnelTable table = table(next, specs, learned);
        for (Tunnel gone : tunnels.values()) {
            if (next.get(gone.name()) != gone) {
                for (InstalledSa.Outbound o : forwarding.current().outbound(gone)) {
                    remove(o.pair.inbound().spi());
                }
            }
        }
        tunnels.clear();
        tunnels.putAll(next);
        this.specs = List.copyOf(configured);
        forwarding.publish(forwarding.current().withTable(table, next.values(), kept, nat));
        rebuilds++;
        LOG.log(System.Logger.Level.INFO, "tunnel table: {0}", describe(table));
        nat.forEach((name, n) -> {
            if (!n.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "{0}: NAT rules {1}", name, n.rules());
            }
        });
    }

    void natClock(LongSupplier clock) {
        natClock = clock;
    }

    /**
     * Sets the prefixes learned over BGP, by tunnel name; every tunnel keeps its SAs. Learned
     * prefixes of a tunnel not configured (any more), or of a policy-based one (Azure has no BGP
     * on those), are left out of the table, and kept here in case it comes back.
     */
    void learned(Map<String, List<String>> byTunnel) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        byTunnel.forEach((name, prefixes) -> copy.put(name, List.copyOf(prefixes)));
        TunnelTable table = table(tunnels, withClients(specs), copy);
        learned = copy;
        // Only the routes change: every tunnel keeps its SAs and its NAT rules (and their flows).
        forwarding.publish(forwarding.current().withRoutes(table));
        rebuilds++;
        LOG.log(System.Logger.Level.DEBUG, "tunnel table: {0}", describe(table));
    }

    /** The configured tunnels and the clients' (a configured name wins: a client never takes a site's tunnel). */
    private List<Dataplane.TunnelSpec> withClients(List<Dataplane.TunnelSpec> configured) {
        if (clients.isEmpty()) {
            return configured;
        }
        List<Dataplane.TunnelSpec> all = new ArrayList<>(configured);
        Set<String> names = new HashSet<>();
        configured.forEach(c -> names.add(c.name()));
        clients.forEach((name, prefixes) -> {
            if (!names.contains(name)) {
                all.add(new Dataplane.TunnelSpec(name, false, prefixes));
            }
        });
        return all;
    }

    /** See {@link Dataplane#clientTunnel}. */
    void clientTunnel(String name, List<String> hostPrefixes) {
        if (specs.stream().anyMatch(s -> s.name().equals(name))) {
            throw new IllegalArgumentException("a configured tunnel is named " + name + ": not a client's");
        }
        List<String> copy = List.copyOf(hostPrefixes);
        if (copy.equals(clients.get(name))) {
            return;
        }
        List<String> before = clients.put(name, copy);
        try {
            tunnels(specs);
        } catch (RuntimeException e) {
            // A prefix that is none: the table stays as it was, and so does this.
            if (before == null) {
                clients.remove(name);
            } else {
                clients.put(name, before);
            }
            throw e;
        }
    }

    /** See {@link Dataplane#clientTunnelIdle}. */
    boolean clientTunnelIdle(String name) {
        Tunnel t = tunnels.get(name);
        if (t == null || !clients.containsKey(name)) {
            return false;
        }
        ForwardingSnapshot now = forwarding.current();
        boolean busy = now.outbound(t).length > 0 || retired.values().stream().anyMatch(o -> o.tunnel == t);
        for (InstalledSa.Inbound r : now.inboundList()) {
            busy |= r.tunnel == t;
        }
        if (busy) {
            return false;
        }
        clients.remove(name);
        tunnels(specs);
        return true;
    }

    /** How many times a new tunnel table was published. */
    long rebuilds() {
        return rebuilds;
    }

    /**
     * The configured prefixes and the learned ones; longest prefix wins, and of two routes for
     * the same prefix and length the configured one (Azure lists a local network gateway's
     * prefixes as routes of origin Network, which BGP's best-path choice prefers to one learned
     * from a peer at the same weight). The same prefix learned for two tunnels goes to the first
     * in {@code learned}'s order.
     */
    private static TunnelTable table(Map<String, Tunnel> tunnels, List<Dataplane.TunnelSpec> specs, Map<String, List<String>> learned) {
        List<TunnelTable.Route> configured = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        for (Dataplane.TunnelSpec s : specs) {
            for (String prefix : s.prefixes()) {
                TunnelTable.Route r = TunnelTable.route(prefix, tunnels.get(s.name()));
                configured.add(r);
                taken.add(r.prefixText());
            }
        }
        List<TunnelTable.Route> routes = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : learned.entrySet()) {
            Tunnel t = tunnels.get(e.getKey());
            if (t == null || t.policyBased()) {
                continue;
            }
            for (String prefix : e.getValue()) {
                TunnelTable.Route r = TunnelTable.route(prefix, t);
                if (taken.add(r.prefixText())) {
                    routes.add(new TunnelTable.Route(r.prefix(), r.length(), t, true));
                }
            }
        }
        routes.addAll(configured);
        return new TunnelTable(routes);
    }

    /** The routes in full while few; past that only how many (a BGP table of thousands would fill the log line). */
    private static Object describe(TunnelTable table) {
        int learnedCount = table.learnedCount();
        if (table.routes().size() <= 64) {
            return table.routes();
        }
        return table.routes().size() + " routes, " + learnedCount + " of them learned";
    }

    /** See {@link Dataplane#requireLeases}. */
    void requireLeases(boolean required) {
        requireLeases = required;
    }

    /** See {@link Dataplane#startEsnSequencesAfter}. */
    void startEsnSequencesAfter(long lastSent) {
        esnFirstAfter = lastSent;
    }

    /**
     * Installs a child SA; with {@code outboundNow} its outbound half becomes the tunnel's newest,
     * otherwise it queues behind the SAs there (see {@link Dataplane#install(SaPair, boolean)});
     * with {@code resume}, where a taken-over SA goes on from (see {@link ResumePoint}).
     */
    void install(SaPair pair, boolean outboundNow, ResumePoint resume) {
        Tunnel t = tunnels.get(pair.tunnel());
        if (t == null) {
            throw new IllegalArgumentException("no tunnel " + pair.tunnel() + " for SA " + Dataplane.spiText(pair.inbound().spi()));
        }
        int inSpi = pair.inbound().spi();
        SaListener lifetimes = (sa, event) -> events.lifetime(inSpi, event.isHard());
        InboundSa in = new InboundSa(pair.inbound(), lifetimes);
        OutboundSa out;
        try {
            out = new OutboundSa(pair.outbound(), lifetimes);
        } catch (RuntimeException e) {
            in.destroy();
            throw e;
        }
        // Before the SA is published: no packet thread may see it without its lease or resume point.
        if (resume != null) {
            out.resumeAfter(resume.outboundAfter());
            in.replayWindow().advanceTo(resume.inboundTop());
            out.lease(resume.leaseEnd(), resume.leaseDeadlineNanos());
            in.carryOver(resume.carried().inPackets(), resume.carried().inBytes());
            out.carryOver(resume.carried().outPackets(), resume.carried().outBytes());
        } else {
            if (esnFirstAfter != 0 && out.esn()) {
                out.resumeAfter(esnFirstAfter);
            }
            if (requireLeases) {
                out.lease(0, System.nanoTime()); // nothing until the pair grants numbers
            }
        }
        EspPort.Endpoint to = esp.endpoint(pair.local(), pair.remote(), pair.udpEncapsulation());
        if (to == null) {
            in.destroy();
            out.destroy();
            throw new IllegalStateException("no " + (pair.udpEncapsulation() ? "UDP" : "raw ESP") + " socket on " + pair.local().getAddress()
                    + " for SA " + Dataplane.spiText(inSpi) + (pair.udpEncapsulation() || settings.rawEsp() ? "" : " (raw ESP is off)"));
        }
        ForwardingSnapshot now = forwarding.current();
        // One copy of the tunnel's SAs, not four: a tunnel whose peers come from a range holds one per peer, thousands (IKE load bench).
        InstalledSa.Outbound[] before = now.outbound(t);
        InstalledSa.Outbound[] sas = new InstalledSa.Outbound[before.length + 1];
        System.arraycopy(before, 0, sas, outboundNow ? 1 : 0, before.length);
        sas[outboundNow ? 0 : before.length] = new InstalledSa.Outbound(out, pair, t, to, settings.pathMtu());
        forwarding.publish(now.withOutbound(t, sas).withInbound(inSpi, new InstalledSa.Inbound(inSpi, in, out, pair, t)));
        LOG.log(System.Logger.Level.INFO, "{0}: SA installed, in {1} out {2} {3} {4} -> {5}{6}{7}", t.name(), Dataplane.spiText(inSpi),
                Dataplane.spiText(pair.outbound().spi()), pair.inbound().suite(), pair.local(), pair.remote(),
                pair.udpEncapsulation() ? " in UDP" : " as raw ESP",
                resume != null ? ", resumed: out after " + Long.toUnsignedString(resume.outboundAfter()) + ", in above "
                        + Long.toUnsignedString(resume.inboundTop()) + ", lease to " + Long.toUnsignedString(out.leaseEnd())
                        : requireLeases ? ", sending once leased" : "");
    }

    /** Takes the outbound half of the SA with this inbound SPI out of its tunnel; nothing is destroyed. */
    void retire(int inboundSpi) {
        ForwardingSnapshot now = forwarding.current();
        InstalledSa.Inbound r = now.inbound(inboundSpi);
        if (r == null) {
            return;
        }
        List<InstalledSa.Outbound> keep = new ArrayList<>();
        for (InstalledSa.Outbound o : now.outbound(r.tunnel)) {
            if (o.pair != r.pair) {
                keep.add(o);
            } else {
                retired.put(inboundSpi, o);
            }
        }
        forwarding.publish(now.withOutbound(r.tunnel, keep));
    }

    /** Takes both halves out of the snapshot, publishes it, then buries them (in that order: see {@link Graveyard}). */
    void remove(int inboundSpi) {
        ForwardingSnapshot now = forwarding.current();
        InstalledSa.Inbound r = now.inbound(inboundSpi);
        if (r == null) {
            return;
        }
        List<InstalledSa.Outbound> keep = new ArrayList<>();
        List<InstalledSa.Outbound> gone = new ArrayList<>();
        InstalledSa.Outbound wasRetired = retired.remove(inboundSpi);
        if (wasRetired != null) {
            gone.add(wasRetired);
        }
        for (InstalledSa.Outbound o : now.outbound(r.tunnel)) {
            (o.pair != r.pair ? keep : gone).add(o);
        }
        forwarding.publish(now.withOutbound(r.tunnel, keep).withInbound(inboundSpi, null));
        long sent = gone.stream().mapToLong(o -> o.sa.bytes()).sum();
        List<SecurityAssociation> sas = new ArrayList<>(gone.stream().map(o -> o.sa).toList());
        sas.add(r.sa);
        graveyard.bury(sas);
        LOG.log(System.Logger.Level.INFO, "{0}: SA removed, in {1} out {2}, {3} bytes in, {4} bytes out", r.tunnel.name(),
                Dataplane.spiText(inboundSpi), Dataplane.spiText(r.pair.outbound().spi()), r.sa.bytes(), sent);
    }

    /** Wipes the keys of removed SAs that no packet thread can hold any more. */
    void reclaim() {
        graveyard.reclaim();
    }

    List<Dataplane.TunnelStatus> status() {
        ForwardingSnapshot now = forwarding.current();
        List<Dataplane.TunnelStatus> out = new ArrayList<>();
        for (Tunnel t : tunnels.values()) {
            List<Dataplane.SaStatus> sas = new ArrayList<>();
            InstalledSa.Outbound[] outbound = now.outbound(t);
            for (int i = 0; i < outbound.length; i++) {
                sas.add(saStatus(outbound[i], now.inbound(outbound[i].pair.inbound().spi()), t.policyBased() || i == 0));
            }
            // Retired ones last: they send nothing any more, but still take what was on its way.
            for (InstalledSa.Outbound o : retired.values()) {
                if (o.tunnel == t) {
                    sas.add(saStatus(o, now.inbound(o.pair.inbound().spi()), false));
                }
            }
            Map<Drop, Long> drops = new EnumMap<>(Drop.class);
            for (Drop d : Drop.values()) {
                if (t.counters().drops(d) > 0) {
                    drops.put(d, t.counters().drops(d));
                }
            }
            out.add(new Dataplane.TunnelStatus(t.name(), t.policyBased(), t.counters().ingressPackets(), t.counters().ingressBytes(),
                    t.counters().egressPackets(), t.counters().egressBytes(), drops, sas, now.nat(t).status()));
        }
        return out;
    }

    /** Every installed SA direction of {@code tunnel} (null: all) with copies of its keys, for a capture's key export. */
    List<Dataplane.ExportedKeys> keysForExport(String tunnel) {
        ForwardingSnapshot now = forwarding.current();
        List<Dataplane.ExportedKeys> out = new ArrayList<>();
        for (Tunnel t : tunnels.values()) {
            if (tunnel != null && !tunnel.equals(t.name())) {
                continue;
            }
            List<InstalledSa.Outbound> all = new ArrayList<>(List.of(now.outbound(t)));
            retired.values().stream().filter(o -> o.tunnel == t).forEach(all::add);
            for (InstalledSa.Outbound o : all) {
                out.add(exported(t, o.sa, o.pair.local(), o.pair.remote(), o.pair.udpEncapsulation()));
                InstalledSa.Inbound in = now.inbound(o.pair.inbound().spi());
                if (in != null) {
                    out.add(exported(t, in.sa, o.pair.remote(), o.pair.local(), o.pair.udpEncapsulation()));
                }
            }
        }
        return out;
    }

    private static Dataplane.ExportedKeys exported(Tunnel t, io.isthmus.esp.SecurityAssociation sa, java.net.InetSocketAddress from,
                                                   java.net.InetSocketAddress to, boolean udp) {
        byte[][] keys = sa.keysForExport();
        return new Dataplane.ExportedKeys(t.name(), sa.spi(), from, to, sa.suite(), sa.esn(), keys[0], keys[1], udp);
    }

    private static Dataplane.SaStatus saStatus(InstalledSa.Outbound o, InstalledSa.Inbound in, boolean carriesOutbound) {
        Map<DropReason, Long> drops = new EnumMap<>(DropReason.class);
        if (in != null) {
            for (DropReason d : DropReason.values()) {
                if (in.sa.drops(d) > 0) {
                    drops.put(d, in.sa.drops(d));
                }
            }
        }
        return new Dataplane.SaStatus(o.pair.inbound().spi(), o.pair.outbound().spi(), o.sa.suite().toString(), o.sa.esn(),
                o.pair.udpEncapsulation(), o.pair.local(), o.pair.remote(), o.pair.localSelectors(), o.pair.remoteSelectors(),
                in == null ? 0 : in.sa.bytes(), in == null ? 0 : in.sa.packets(), o.sa.bytes(), o.sa.packets(), drops, carriesOutbound);
    }

    /** Once the packet threads have stopped: every SA's keys. */
    void destroyAll() {
        ForwardingSnapshot now = forwarding.current();
        for (InstalledSa.Inbound r : now.inboundList()) {
            r.sa.destroy();
        }
        for (Tunnel t : tunnels.values()) {
            for (InstalledSa.Outbound o : now.outbound(t)) {
                o.sa.destroy();
            }
        }
        retired.values().forEach(o -> o.sa.destroy());
        retired.clear();
        graveyard.destroyAll();
    }
}
