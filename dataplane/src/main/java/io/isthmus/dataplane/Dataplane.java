package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.conn.LinuxEspPort;
import io.isthmus.dataplane.linux.Poller;
import io.isthmus.dataplane.nat.NatRule;
import io.isthmus.dataplane.nat.TunnelNat;
import io.isthmus.dataplane.linux.TunDevice;
import io.isthmus.dataplane.tun.LinuxTun;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.UdpEncapsulation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;

/**
 * The data plane of one gateway: a TUN device towards the local network ({@code tun/}), UDP 4500
 * and raw ESP sockets towards the peers ({@code conn/}), the tunnels and SAs
 * ({@link ForwardingTables}, published to the packet threads as one immutable
 * {@link ForwardingSnapshot}), and the packet threads, Agrona agents. Each packet thread is a
 * {@link PacketLane}: outbound (its TUN queue to ESP, {@link OutboundAgent}) and inbound (its
 * sockets to its TUN queue, {@link InboundAgent}) run to completion on one thread, as many lanes
 * as {@link Settings#packetThreads}. The control plane changes the tables from its own threads,
 * one change at a time under this object's lock; the packet threads read them without locks and
 * allocate nothing per packet.
 *
 * <p>How the lanes share the work and where that keeps order: {@link PacketLane}.
 *
 * <p>Lanes are for cores the gateway has to itself: on the machines this is measured on, two
 * gateways, iperf3 and the kernel share two cores, and what costs is system calls and the
 * kernel's per-packet work, then crypto (a JFR profile puts it at a quarter to a third of a
 * packet thread). So the offloads come first (TUN TSO/USO, UDP GSO and GRO: one system call per
 * 64 KB), and the lab's gateways run one lane each.
 */
public final class Dataplane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");

    /**
     * @param pathMtu the outer MTU towards the peers: inner packets that would not fit once
     *                encapsulated get an ICMP error (if they may not be fragmented)
     * @param mss TCP MSS that SYNs through the tunnel are clamped to (Azure recommends 1350)
     * @param offloads whether to use the kernel's offloads where it has them (TUN TSO, UDP GSO
     *                 and GRO); off, every packet takes its own system call, as before them
     * @param packetThreads how many lanes ({@link PacketLane}), each a thread with a TUN queue
     *                      and a UDP socket per address of its own, both directions: 1 for a
     *                      gateway that shares its cores, up to the cores it may use otherwise
     *                      ({@link #MAX_PACKET_THREADS} at most)
     * @param floatingAddresses addresses this host may not have yet (a pair's, which keepalived
     *                          moves here when the other instance fails), bound from the start
     *                          with IP_FREEBIND, so ESP to them is received the moment they arrive
     * @param busyPollMicros how long a packet thread keeps polling without sleeping after a duty
     *                       cycle that did work (0: it sleeps at once), see {@link PacketThreadIdle.BusyPoll}
     */
    public record Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu,
                           int mss, int socketBufferBytes, boolean offloads, int packetThreads, List<InetAddress> floatingAddresses,
                           int busyPollMicros) {
        /** The most lanes: a TUN device has at most 256 queues (MAX_TAP_QUEUES). */
        public static final int MAX_PACKET_THREADS = 256;
        /** The longest busy poll: a tenth of a second, past which spinning buys nothing a wake-up costs. */
        public static final int MAX_BUSY_POLL_MICROS = 100_000;

        public Settings {
            localAddresses = List.copyOf(localAddresses);
            floatingAddresses = List.copyOf(floatingAddresses);
            if (packetThreads < 1 || packetThreads > MAX_PACKET_THREADS) {
                throw new IllegalArgumentException("packet threads: 1 to " + MAX_PACKET_THREADS + ", not " + packetThreads);
            }
            if (busyPollMicros < 0 || busyPollMicros > MAX_BUSY_POLL_MICROS) {
                throw new IllegalArgumentException("busy poll: 0 to " + MAX_BUSY_POLL_MICROS + " µs, not " + busyPollMicros);
            }
        }

        public Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu, int mss,
                        int socketBufferBytes, boolean offloads, int packetThreads, List<InetAddress> floatingAddresses) {
            this(tunDevice, localAddresses, natTraversalPort, rawEsp, pathMtu, mss, socketBufferBytes, offloads, packetThreads,
                    floatingAddresses, 0);
        }

        public Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu, int mss,
                        int socketBufferBytes) {
            this(tunDevice, localAddresses, natTraversalPort, rawEsp, pathMtu, mss, socketBufferBytes, true, 2);
        }

        public Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu, int mss,
                        int socketBufferBytes, boolean offloads, int packetThreads) {
            this(tunDevice, localAddresses, natTraversalPort, rawEsp, pathMtu, mss, socketBufferBytes, offloads, packetThreads, List.of());
        }
    }

    /** What the data plane tells the control plane, from the packet threads: return at once. */
    public interface Events {
        /**
         * An IKE message that arrived on port 4500 (the non-ESP marker removed), {@code length}
         * bytes at {@code offset} of a buffer the packet thread reuses: copy what you keep, and
         * drop rather than wait when you cannot keep up (anyone can send these).
         */
        void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote);

        /** A soft (rekey now) or hard (gone) lifetime of the child SA with this inbound SPI. */
        void lifetime(int inboundSpi, boolean hard);
    }

    /**
     * A tunnel as configured: route-based or policy-based, the prefixes that lead into it (with
     * IngressSnat rules, the external ones: the table is looked up before translation), and its
     * NAT rules ({@link io.isthmus.dataplane.nat.TunnelNat} says how they apply). NAT needs a
     * route-based tunnel, as in Azure (not with policy-based traffic selectors): a policy-based
     * tunnel picks the SA by the packet's addresses before NAT would change them.
     */
    public record TunnelSpec(String name, boolean policyBased, List<String> prefixes, List<NatRule> natRules) {
        public TunnelSpec {
            prefixes = List.copyOf(prefixes);
            natRules = List.copyOf(natRules);
            if (policyBased && !natRules.isEmpty()) {
                throw new IllegalArgumentException("tunnel " + name + ": NAT rules need a route-based connection, not one with policy-based "
                        + "traffic selectors");
            }
        }

        public TunnelSpec(String name, boolean policyBased, List<String> prefixes) {
            this(name, policyBased, prefixes, List.of());
        }
    }

    private final Settings settings;
    private final Counters counters = new Counters();
    private final CaptureSwitch capture = new CaptureSwitch();
    private final EspPort esp;
    /** Duty cycles each packet thread has completed: how the control plane knows they let go of what it unpublished. */
    private final List<AtomicLong> dutyCycles = new ArrayList<>();
    /** The packet threads' names, in the order of {@link #dutyCycles}. */
    private final List<String> packetThreads = new ArrayList<>();
    private final ForwardingTables tables;
    private final List<AgentRunner> runners = new ArrayList<>();
    /** The lanes of a data plane over memory, run by {@link #runDutyCycle} rather than by threads of their own. */
    private final List<Agent> stepped = new ArrayList<>();
    /** Their duty cycles, lane by lane. */
    private final List<AtomicLong> steppedCycles = new ArrayList<>();
    private final List<TunDevice> tunQueues = new ArrayList<>();
    /** How many lanes run the packet paths. */
    private int lanes = 1;

    private Dataplane(Settings settings, Events events, EspPort esp) {
        this.settings = settings;
        this.esp = esp;
        this.tables = new ForwardingTables(settings, events, esp, dutyCycles);
    }

    /** Opens the TUN device (a queue per lane) and the sockets and starts the packet threads, one per lane. */
    public static Dataplane start(Settings settings, Events events) throws IOException {
        int lanes = settings.packetThreads();
        List<TunDevice> queues = TunDevice.openQueues(settings.tunDevice(), settings.offloads(), lanes);
        LinuxEspPort esp;
        try {
            esp = LinuxEspPort.open(settings.localAddresses(), settings.floatingAddresses(), settings.natTraversalPort(), settings.rawEsp(),
                    settings.socketBufferBytes(), settings.offloads(), lanes);
        } catch (IOException | RuntimeException e) {
            queues.forEach(TunDevice::close);
            throw e;
        }
        Dataplane d = new Dataplane(settings, events, esp);
        d.tunQueues.addAll(queues);
        d.lanes = lanes;
        Forwarding forwarding = d.tables.forwarding();
        for (int i = 0; i < lanes; i++) {
            TunDevice queue = queues.get(i);
            Agent out = new OutboundAgent(forwarding, new LinuxTun(queue), esp.sender(i), d.counters, settings.mss(), d.capture);
            Agent in = new InboundAgent(forwarding, esp.receivers(i), new LinuxTun(queue), events, d.counters, settings.mss(), d.capture);
            int[] fds = IntStream.concat(IntStream.of(queue.fd()), Arrays.stream(esp.fds(i))).toArray();
            d.run(new PacketLane(i, out, in), new Poller(fds));
        }
        TunDevice tun = queues.getFirst();
        LOG.log(System.Logger.Level.INFO, "data plane up: {0}, {1}, path MTU {2}, MSS clamp {3}", tun, esp, settings.pathMtu(), settings.mss());
        LOG.log(System.Logger.Level.INFO, "{0} packet thread(s) ({1} TUN queue(s)), busy poll {2}; offloads: {3}: {4}; {5}", lanes,
                queues.size(), settings.busyPollMicros() == 0 ? "off" : settings.busyPollMicros() + " µs", tun, tun.offloads(),
                esp.offloads());
        return d;
    }

    /** Tables and forwarding only, no devices or threads: for driving the packet paths by hand, and for wiring tests without root. */
    public static Dataplane withoutIo(Settings settings, Events events) {
        return new Dataplane(settings, events, new InMemoryEspPort());
    }

    /**
     * The whole data plane over memory, without root: the same agents, paths and tables as
     * {@link #start}, reading and writing {@code tun} and {@code esp} instead of a device and
     * sockets. No thread runs them: each {@link #runDutyCycle} is one duty cycle of both packet
     * threads on the caller's, which is how tests on a manual clock stay deterministic (and the
     * {@link Graveyard} counts those cycles as it counts real ones).
     */
    public static Dataplane overMemory(Settings settings, Events events, TunPort tun, InMemoryEspPort esp) {
        return overMemory(settings, events, List.of(tun), esp);
    }

    /**
     * As {@link #overMemory(Settings, Events, TunPort, InMemoryEspPort)} with a lane per TUN
     * queue in {@code queues} (whatever {@link Settings#packetThreads} says): lane {@code i}
     * reads and writes {@code queues.get(i)} and {@code esp}'s lane {@code i}. Each lane is
     * stepped by {@link #runDutyCycle(int)}, from any thread, one thread per lane at a time: so
     * tests and benchmarks run the lanes on threads of their own.
     */
    public static Dataplane overMemory(Settings settings, Events events, List<? extends TunPort> queues, EspPort esp) {
        Dataplane d = new Dataplane(settings, events, esp);
        d.lanes = queues.size();
        Forwarding forwarding = d.tables.forwarding();
        for (int i = 0; i < queues.size(); i++) {
            TunPort tun = queues.get(i);
            d.stepped.add(new PacketLane(i, new OutboundAgent(forwarding, tun, esp.sender(i), d.counters, settings.mss(), d.capture),
                    new InboundAgent(forwarding, esp.receivers(i), tun, events, d.counters, settings.mss(), d.capture)));
            AtomicLong cycles = new AtomicLong();
            d.steppedCycles.add(cycles);
            d.dutyCycles.add(cycles);
            d.packetThreads.add(queues.size() == 1 ? "stepped by hand" : "lane " + i + " stepped by hand");
        }
        return d;
    }

    /**
     * One duty cycle of each lane of a data plane made {@link #overMemory}, on this thread: the
     * packets and datagrams handled (0 once every port is drained).
     */
    public int runDutyCycle() {
        if (stepped.isEmpty()) {
            throw new IllegalStateException("only a data plane over memory is stepped by hand");
        }
        int work = 0;
        for (int i = 0; i < stepped.size(); i++) {
            work += runDutyCycle(i);
        }
        return work;
    }

    /** One duty cycle of lane {@code lane} of a data plane made {@link #overMemory}, on this thread: the packets and datagrams handled. */
    public int runDutyCycle(int lane) {
        if (stepped.isEmpty()) {
            throw new IllegalStateException("only a data plane over memory is stepped by hand");
        }
        Agent a = stepped.get(lane);
        int work;
        try {
            work = a.doWork();
        } catch (Exception e) {
            throw new IllegalStateException(a.roleName() + " failed", e);
        }
        AtomicLong cycles = steppedCycles.get(lane);
        cycles.set(cycles.get() + 1); // volatile: ordered after the cycle's reads of the tables (one thread per lane)
        return work;
    }

    /** How many lanes (packet threads) run the packet paths. */
    public int lanes() {
        return lanes;
    }

    /** Runs {@code agent} on a thread of its own, sleeping in poll(2) when idle, its duty cycles counted for the {@link Graveyard}. */
    private void run(Agent agent, Poller poller) {
        AtomicLong cycles = new AtomicLong();
        dutyCycles.add(cycles);
        packetThreads.add(agent.roleName());
        IdleStrategy idle = new PacketThreadIdle.Counting(new PacketThreadIdle.Poll(poller), cycles);
        if (settings.busyPollMicros() > 0) {
            idle = new PacketThreadIdle.Counting(new PacketThreadIdle.BusyPoll(new PacketThreadIdle.Poll(poller),
                    settings.busyPollMicros() * 1000L), cycles);
        }
        AgentRunner r = new AgentRunner(idle, t -> LOG.log(System.Logger.Level.ERROR, agent.roleName() + ": " + t, t), null, agent);
        AgentRunner.startOnThread(r, runnable -> {
            Thread t = new Thread(runnable, agent.roleName());
            t.setDaemon(true);
            return t;
        });
        runners.add(r);
    }

    /** How many duty cycles one packet thread has completed so far. */
    public record PacketThreadProgress(String thread, long dutyCycles) {
    }

    /**
     * Each packet thread's duty cycles so far: for a liveness check (systemd's watchdog). An idle
     * thread still completes one every {@link PacketThreadIdle#WAKE_MILLIS} ms, so a count that
     * stands still for a second means a thread that is stuck (or caught in a loop of failures:
     * the cycle is counted only when its work returned). Lock-free: the counters are fixed once
     * the data plane has started, and a stuck control thread holding this object's lock must not
     * hide the packet threads' health.
     */
    public List<PacketThreadProgress> progress() {
        List<PacketThreadProgress> out = new ArrayList<>(dutyCycles.size());
        for (int i = 0; i < dutyCycles.size(); i++) {
            out.add(new PacketThreadProgress(packetThreads.get(i), dutyCycles.get(i).get()));
        }
        return out;
    }

    /** What the packet threads forward by now. */
    ForwardingSnapshot snapshot() {
        return tables.forwarding().current();
    }

    /** What the packet threads read the snapshot from: for paths driven by hand in tests. */
    Forwarding forwarding() {
        return tables.forwarding();
    }

    /** What dynamic NAT flows are timed by, for tunnels declared from now on (tests: a clock of their own). */
    synchronized void natClock(java.util.function.LongSupplier clock) {
        tables.natClock(clock);
    }

    synchronized Map<String, Tunnel> tunnelsForTests() {
        return Map.copyOf(tables.tunnels());
    }

    public Settings settings() {
        return settings;
    }

    public String tunDevice() {
        return settings.tunDevice();
    }

    /**
     * From now on the packet threads feed {@code c} (null: no capture). A batch under way when it
     * is switched off may still add a few packets: the capture's writer drains its ring after this.
     */
    public void capture(io.isthmus.dataplane.capture.PacketCapture c) {
        capture.current = c;
    }

    /** What the packet paths read the capture from: for paths driven by hand in tests. */
    CaptureSwitch captureSwitch() {
        return capture;
    }

    /** Drops not attributable to a tunnel (no route, unknown SPI, malformed). */
    public Counters globalCounters() {
        return counters;
    }

    // ------------------------------------------------------------------------------------------
    // Changes from the control plane (any thread; serialised here, published to the packet threads)
    // ------------------------------------------------------------------------------------------

    /** Sets the tunnels and their prefixes; tunnels that stay keep their SAs and counters. */
    public synchronized void tunnels(List<TunnelSpec> specs) {
        if (lanes > 1) {
            for (TunnelSpec t : specs) {
                for (NatRule r : t.natRules()) {
                    if (r.type() == NatRule.Type.DYNAMIC) {
                        // Its flow table has one writer, the lane that would translate: with several, two would write it.
                        throw new IllegalArgumentException("tunnel " + t.name() + ": the Dynamic NAT rule " + r.name() + " needs one packet "
                                + "thread, not " + lanes);
                    }
                }
            }
        }
        tables.tunnels(specs);
    }

    /**
     * Sets the prefixes learned over BGP, by tunnel (connection) name, replacing those set
     * before; the tunnels keep their SAs. Longest prefix wins across configured and learned
     * prefixes; of the same prefix and length, the configured one. A learned prefix of a tunnel
     * not configured is held until it is. One new table is published for the whole change.
     *
     * @throws IllegalArgumentException for a prefix that is not one (nothing is changed)
     */
    public synchronized void learnedRoutes(Map<String, List<String>> byTunnel) {
        tables.learned(byTunnel);
    }

    /**
     * A remote-access client's tunnel: {@code hostPrefixes} (its virtual addresses, /32 or /128)
     * routed to it, where its child SAs are then installed ({@link SaPair#tunnel()} = {@code name}).
     * Kept across {@link #tunnels} (reloads); the same prefixes again change nothing. The selectors
     * of its SAs, the client's address, are what inbound packets must come from ({@link Drop#TS_MISMATCH}).
     *
     * @throws IllegalArgumentException for a name a configured tunnel has, or a prefix that is not one (nothing is changed)
     */
    public synchronized void clientTunnel(String name, List<String> hostPrefixes) {
        tables.clientTunnel(name, hostPrefixes);
    }

    /**
     * Removes the client tunnel {@code name} and its routes if no SA is left in it (its last
     * child SA removed, none installed meanwhile by a reconnect); true when it went.
     */
    public synchronized boolean clientTunnelIdle(String name) {
        return tables.clientTunnelIdle(name);
    }

    /** How many tunnel tables have been published so far (configuration and learned routes). */
    public synchronized long tunnelTableRebuilds() {
        return tables.rebuilds();
    }

    /** The tunnel table the packet threads route by now. */
    public List<TunnelTable.Route> tunnelRoutes() {
        return tables.forwarding().current().table().routes();
    }

    /** Installs a child SA whose outbound half carries traffic at once. */
    public synchronized void install(SaPair pair) {
        install(pair, true, null);
    }

    /**
     * Installs a child SA. With {@code outboundNow} its outbound half becomes the tunnel's
     * newest, so a rekey's replacement takes over outbound traffic at once; otherwise it queues
     * behind the SAs there and carries traffic once they are retired (the peer initiated the
     * rekey and may not have the new SA yet). The old SA keeps receiving until removed.
     *
     * <p>Keys travel once: the pair's {@link io.isthmus.esp.SaParameters} are wiped here, whether
     * the SA is installed or refused. The installed SAs keep copies of their own, which
     * {@link #remove} wipes.
     */
    public synchronized void install(SaPair pair, boolean outboundNow) {
        install(pair, outboundNow, null);
    }

    /**
     * As {@link #install(SaPair, boolean)}; with a {@code resume} point the SA is one taken over
     * from the other node of a gateway pair: its outbound half continues after
     * {@link ResumePoint#outboundAfter}, its replay window starts at {@link ResumePoint#inboundTop}, and it
     * is under a sequence lease from the start, whether or not {@link #requireLeases} is on.
     * All of it is set before the packet threads can see the SA. Without one (null), the SA
     * starts at the beginning, with an empty lease if leases are required, unlimited if not
     * (which is the behaviour without a pair).
     */
    public synchronized void install(SaPair pair, boolean outboundNow, ResumePoint resume) {
        try {
            tables.install(pair, outboundNow, resume);
        } finally {
            pair.inbound().destroy();
            pair.outbound().destroy();
        }
    }

    /**
     * A test hook: every ESN SA installed from now on without a {@link ResumePoint} sends its first
     * packet with sequence number {@code lastSent + 1} instead of 1 (0: from the start, the
     * default). Nothing else brings a running SA near 2^32 in a test's time: 4 billion packets
     * take hours at the fastest rates, and the boundary is where ESN's inferred high half, the
     * replay window's subspaces and the ICV over the high half (RFC 4303 §2.2.1, RFC 4106 §5)
     * meet. Not for a pair's nodes, whose numbers come from their leases. SAs without ESN are left
     * alone: near 2^32 their sequence space is all but spent.
     */
    public synchronized void startEsnSequencesAfter(long lastSent) {
        tables.startEsnSequencesAfter(lastSent);
    }

    /**
     * Whether every SA installed from now on (without a {@link ResumePoint}) starts with an empty
     * sequence lease: on, for a node of a gateway pair, nothing is sealed on a new SA until the
     * pair has granted it numbers with {@link #lease}; off (the default), SAs are limited by
     * their sequence space only. SAs already installed keep what they have.
     */
    public synchronized void requireLeases(boolean required) {
        tables.requireLeases(required);
    }

    /**
     * Grants the outbound half of the child SA with this inbound SPI every sequence number up to
     * {@code lastSequence} (unsigned) until {@code deadlineNanos} ({@link System#nanoTime()}
     * here). The end never shrinks (a smaller one only moves the deadline); a deadline of now or
     * earlier revokes the lease. Keyed by the inbound SPI as {@link #retire} and {@link #remove}
     * are: it is the one this gateway chose, so unique here, where outbound SPIs are chosen by
     * the peers and two peers may choose the same. Lock-free, so the pair's lease keeping is
     * never held up behind a change to the tables; the packet threads see the lease at their
     * next packet.
     *
     * @return false if no SA with this inbound SPI is installed (removed, or not yet)
     */
    public boolean lease(int inboundSpi, long lastSequence, long deadlineNanos) {
        InstalledSa.Inbound sa = tables.forwarding().current().inbound(inboundSpi);
        if (sa == null) {
            return false;
        }
        sa.outbound.lease(lastSequence, deadlineNanos);
        return true;
    }

    /**
     * One installed child SA's sequence numbers and traffic, what a gateway pair keeps in step
     * (all sequence numbers unsigned).
     *
     * @param outboundSequence the last outbound sequence number handed out (or resumed after)
     * @param outboundLeaseEnd the highest one it may use now: the lease's end, or the end of the
     *                         sequence space (2^32 - 1, 2^64 - 1 with ESN) when not leased
     * @param leased           whether a lease limits it
     * @param inboundHighest   the highest inbound sequence number accepted (or jumped to)
     * @param inPackets        inner packets delivered; with {@code inBytes}, {@code outPackets} and
     *                         {@code outBytes} counted on this node only
     */
    public record SaCounters(int inboundSpi, int outboundSpi, long outboundSequence, long outboundLeaseEnd, boolean leased,
                             long inboundHighest, long inPackets, long inBytes, long outPackets, long outBytes) {
    }

    /**
     * Every installed child SA's sequence state, by inbound SPI (retired ones too, until
     * removed): for a gateway pair's sync. Read from the counters the packet threads keep
     * anyway, nothing added per packet, and lock-free like {@link #progress}; each SA's numbers
     * are read one after the other while traffic flows, so they are a moment apart, never ahead
     * of what the SA did.
     */
    public List<SaCounters> sequenceState() {
        List<InstalledSa.Inbound> installed = tables.forwarding().current().inboundList();
        List<SaCounters> out = new ArrayList<>(installed.size());
        for (InstalledSa.Inbound i : installed) {
            out.add(new SaCounters(i.pair.inbound().spi(), i.pair.outbound().spi(), i.outbound.sequence(), i.outbound.leaseEnd(),
                    i.outbound.isLeased(), i.sa.replayWindow().highest(), i.sa.packets(), i.sa.bytes(), i.outbound.packets(),
                    i.outbound.bytes()));
        }
        out.sort((x, y) -> Integer.compareUnsigned(x.inboundSpi(), y.inboundSpi()));
        return out;
    }

    /**
     * Stops sending through the child SA with this inbound SPI; it still receives until
     * {@link #remove}d, so packets the peer sent before it switched are not lost. Nothing is
     * destroyed here: a packet thread may be sealing with this SA right now, from the snapshot it
     * read before this change (measured before: 1 to 4 packets lost per three minutes of 15 s
     * child lifetimes, counted as seal failures, when retire destroyed it at once).
     */
    public synchronized void retire(int inboundSpi) {
        tables.retire(inboundSpi);
    }

    /**
     * Removes the child SA with this inbound SPI, both halves: out of the snapshot first; its keys
     * are wiped once no packet thread can hold it any more ({@link Graveyard}).
     */
    public synchronized void remove(int inboundSpi) {
        tables.remove(inboundSpi);
    }

    /** Wipes the keys of removed SAs that no packet thread can hold any more (those {@link #remove} could not wait for). */
    public synchronized void reclaim() {
        tables.reclaim();
    }

    // ------------------------------------------------------------------------------------------
    // IKE's messages on port 4500 go out through the same socket as ESP in UDP
    // ------------------------------------------------------------------------------------------

    /** Sends an IKE message from {@code local} (port 4500) with the non-ESP marker. */
    public synchronized void sendIke(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        esp.sendControl(UdpEncapsulation.ikeDatagram(datagram), local, remote);
    }

    /** One 0xFF byte, without marker, to keep a NAT mapping open (RFC 3948 §2.3). */
    public synchronized void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
        esp.sendControl(UdpEncapsulation.keepalive(), local, remote);
    }

    // ------------------------------------------------------------------------------------------
    // Status
    // ------------------------------------------------------------------------------------------

    /** One SA's state and traffic, for status. */
    public record SaStatus(int inboundSpi, int outboundSpi, String suite, boolean esn, boolean udpEncapsulation,
                           InetSocketAddress local, InetSocketAddress remote, List<Selector> localSelectors, List<Selector> remoteSelectors,
                           long inBytes, long inPackets, long outBytes, long outPackets, Map<DropReason, Long> drops, boolean carriesOutbound) {
    }

    /** One tunnel's counters, SAs and NAT rules (with each dynamic rule's flows in use), for status. */
    public record TunnelStatus(String name, boolean policyBased, long ingressPackets, long ingressBytes, long egressPackets,
                               long egressBytes, Map<Drop, Long> drops, List<SaStatus> sas, List<TunnelNat.RuleStatus> nat) {
        public TunnelStatus {
            nat = List.copyOf(nat);
        }

        public TunnelStatus(String name, boolean policyBased, long ingressPackets, long ingressBytes, long egressPackets, long egressBytes,
                            Map<Drop, Long> drops, List<SaStatus> sas) {
            this(name, policyBased, ingressPackets, ingressBytes, egressPackets, egressBytes, drops, sas, List.of());
        }
    }

    public synchronized List<TunnelStatus> status() {
        return tables.status();
    }

    /** One SA direction's keys, copied for a capture's key export: from {@code source} to {@code destination}, as the packets go. */
    public record ExportedKeys(String tunnel, int spi, InetSocketAddress source, InetSocketAddress destination, io.isthmus.esp.CipherSuite suite,
                               boolean esn, byte[] encryptionKey, byte[] integrityKey, boolean udp) {
    }

    /**
     * Copies of the keys of every SA of {@code tunnel} (null: of all), for an operator's capture
     * that Wireshark is to decrypt: the caller writes them where only root reads and logs it.
     */
    public synchronized List<ExportedKeys> keysForExport(String tunnel) {
        return tables.keysForExport(tunnel);
    }

    static String spiText(int spi) {
        return String.format("%08x", spi);
    }

    @Override
    public synchronized void close() {
        for (AgentRunner r : runners) {
            r.close();
        }
        runners.clear();
        tables.destroyAll();
        esp.close();
        tunQueues.forEach(TunDevice::close);
    }
}
