package io.isthmus.control.ha;

import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.PairInstance;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaObserver;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.engine.IkeEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * This instance's half of an active-active pair with floating addresses: the sync link to the
 * partner, the partner's state kept hot, keepalived's view of who holds which floating address,
 * and the takeovers that follow it. Made before the IKE engine (whose transport it wraps),
 * attached once the engine and the data plane exist. Everything but construction and close runs
 * on the IKE thread.
 *
 * <p>Ownership of a group (a floating address and the SAs on it) follows keepalived: MASTER for
 * the group's VRRP instance and this instance carries its SAs; any other state, or a fence by the
 * partner (it took the group at a higher epoch), and it lets them go, sending nothing.
 */
public final class GatewayPair implements SyncListener, KeepalivedEvents.Listener, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** How often the file keepalived's check looks at is touched, from the IKE thread: a paused or stuck thread stops touching it. */
    static final Duration ALIVE_PERIOD = Duration.ofMillis(50);
    /**
     * How long the partner must have kept a group with the sync link down before a takeover of
     * it treats the synced state as possibly behind: longer than keepalived takes to move the group
     * of a dead or paused partner (the package's alive check: 1 s stale, two failures a second apart).
     */
    static final Duration SOLO_EVIDENCE = Duration.ofSeconds(5);

    private final GatewayConfig config;
    private final Instance self;
    private final PairGroups groups;
    private final Executor ikeThread;
    private final Scheduler scheduler;
    private final Path aliveFile;
    private final Path fifo;
    private final Replica state = new Replica();
    private final Map<String, GroupOwnership> ownership = new LinkedHashMap<>();
    private final LinkAdapter link = new LinkAdapter();
    private SyncLink sync;
    private KeepalivedEvents keepalived;
    private IkeEngine engine;
    private SequenceLeases leases;
    private ProcessPauses pauses;
    private PairReplication replication;
    private Takeover takeover;
    private HeldTransport held;
    private HandoverDrain drain;
    /** When the sync link went down ({@link System#nanoTime()}), 0 while it is up or before it ever was. */
    private long linkDownSince;
    private Standing standing;
    private LastTakeover last;
    /** Groups taken over since start, and of them those handed over with their exact numbers. */
    private long takeovers;
    private long handoversTaken;
    private volatile boolean closed;

    /** Who carries a group now, as this instance sees it. */
    private static final class GroupOwnership {
        volatile boolean owned;
        long epoch;
        Instant since = Instant.now();
        KeepalivedEvents.State vrrp;
    }

    /** The last takeover: which group, when, how long it took, what it carried on, how many IKE SAs it resynchronised (RFC 6311). */
    public record LastTakeover(String group, String at, long tookMillis, int ikeSas, int childSas, int refused, boolean handedOver,
            int messageIdSyncs) {
    }

    private GatewayPair(GatewayConfig config, Instance self, Executor ikeThread, Scheduler scheduler) {
        this.config = config;
        this.self = self;
        this.groups = PairGroups.of(config);
        this.ikeThread = ikeThread;
        this.scheduler = scheduler;
        // All the pair's files in its state directory, which keepalived's configuration names too.
        this.aliveFile = aliveFile(config, self);
        this.fifo = keepalivedFifo(config, self);
        groups.floating().keySet().forEach(g -> ownership.put(g, new GroupOwnership()));
    }

    /** The pair of {@code config} (which has one) for instance {@code self}: nothing runs yet. */
    public static GatewayPair prepare(GatewayConfig config, Instance self, Executor ikeThread, Scheduler scheduler) {
        return new GatewayPair(config, self, ikeThread, scheduler);
    }

    /** The floating addresses, bound from the start (IP_FREEBIND) so a takeover binds nothing. */
    public List<InetAddress> floatingAddresses() {
        return List.copyOf(groups.floating().values());
    }

    /** The engine's transport: IKE datagrams wait for the partner's acknowledgement of the state before them. */
    public Transport transport(Transport wire) {
        held = new HeldTransport(wire, link, this::maySendFrom);
        return held;
    }

    /** Made before the data plane exists; real once {@link #attach} ran. */
    public ChildSaReplication children() {
        return new ChildSaReplication() {
            @Override
            public void installing(io.isthmus.ike.ChildSaDescription sa, io.isthmus.ike.ChildSaKeys keys) {
                if (replication != null) {
                    replication.installing(sa, keys);
                }
            }

            @Override
            public void installed(io.isthmus.ike.ChildSaDescription sa) {
                if (replication != null) {
                    replication.installed(sa);
                }
            }

            @Override
            public void deleted(io.isthmus.ike.ChildSaDescription sa) {
                if (replication != null) {
                    replication.deleted(sa);
                }
            }
        };
    }

    /**
     * Starts the pair once the engine and data plane exist: SAs made on floating addresses are
     * leased sequence numbers from now on, the sync link dials or listens, keepalived's events
     * are read, and the alive file is touched. Call on any thread; the work is the IKE thread's.
     */
    public void attach(IkeEngine engine, Dataplane dataplane) throws IOException, InterruptedException {
        GatewayConfig.Pair p = config.pair();
        this.engine = engine;
        dataplane.requireLeases(true);
        pauses = ProcessPauses.start();
        leases = new SequenceLeases(dataplane, link, this::owns, p.leaseBlock(), p.replaySyncPackets(), p.replaySyncInterval(), pauses);
        replication = new PairReplication(groups, this::owns, link, leases);
        takeover = new Takeover(engine, dataplane, groups, leases);
        drain = new HandoverDrain(scheduler, takeover::removeChildren);
        PairInstance me = p.instance(self.name());
        PairInstance partner = p.partnerOf(self.name());
        Path epochs = epochFile(config, self);
        Files.createDirectories(p.stateDirectory());
        // One a run before left fresh (a restart within a second) must not pass keepalived's check before this run is whole.
        Files.deleteIfExists(aliveFile);
        standing = new Standing(handoverFile(config, self), p.stateSync(), () -> ownership.values().stream().noneMatch(o -> o.owned));
        sync = !p.stateSync() ? null : SyncLink.start(new SyncSettings(self.name(), new InetSocketAddress(me.syncAddress(), p.syncPort()), partner.name(),
                new InetSocketAddress(partner.syncAddress(), p.syncPort()), me.certificate(), me.privateKey(), partner.certificate(),
                p.heartbeat(), p.missedHeartbeats(), SyncSettings.MAX_FRAME_BYTES, epochs), this, ikeThread);
        ikeThread.execute(() -> engine.observer(replication));
        // Running: keepalived may give this instance its groups once the partner's state is here (a stop before wrote 1).
        standing.update();
        keepalived = KeepalivedEvents.open(fifo, this, ikeThread);
        scheduler.schedule(SequenceLeases.TICK, this::tick);
        LOG.log(System.Logger.Level.INFO, "pair: instance {0} with {1}; groups {2}; keepalived''s events from {3}; alive file {4}{5}",
                self.name(), partner.name(), groups.floating(), fifo, aliveFile,
                p.stateSync() ? "" : "; state sync OFF: a takeover moves the addresses only, the peers renegotiate");
    }

    /**
     * The gateway is whole (its connections in the engine, its tunnels in the data plane, BIRD
     * started): from now on the alive file is touched, so keepalived's check passes and it may
     * give this instance its groups. Not before: a group taken while the engine had no connections
     * yet could not carry its IKE SAs on (seen: a failback that came while BIRD was starting lost
     * the tunnel's IKE SA).
     */
    public void started() {
        ikeThread.execute(this::touchAlive);
    }

    /** Where the epochs of this instance's groups are kept across restarts. */
    public static Path epochFile(GatewayConfig config, Instance self) {
        return config.pair().stateDirectory().resolve(config.gateway().name() + "-" + self.name() + ".epochs");
    }

    /** The file keepalived's track_file watches: 1 once this instance handed its SAs over (FAULT at once), else 0. */
    public static Path handoverFile(GatewayConfig config, Instance self) {
        return config.pair().stateDirectory().resolve(config.gateway().name() + "-" + self.name() + ".handover");
    }

    /** Where keepalived's notify_fifo must point, for instance {@code self}. */
    public static Path keepalivedFifo(GatewayConfig config, Instance self) {
        return config.pair().stateDirectory().resolve(config.gateway().name() + "-" + self.name() + ".keepalived");
    }

    /**
     * The first words of the packaged gateway's command line (/usr/bin/isthmus execs the bundled
     * java with them, then {@code --config} and the rest), by which keepalived tracks the process:
     * as far as "gateway run", so another isthmus command left running (a monitor) does not pass
     * for the gateway. PackagedGatewayIT holds the launcher to them.
     */
    public static final List<String> PACKAGED_GATEWAY_COMMAND_LINE = List.of("/usr/lib/isthmus/runtime/bin/java",
            "@/usr/lib/isthmus/jvm.options", "-cp", "/usr/lib/isthmus/lib/*", "io.isthmus.control.Isthmus", "gateway", "run");

    /** The file keepalived's check (alive-check) looks at, for instance {@code self}. */
    public static Path aliveFile(GatewayConfig config, Instance self) {
        return config.pair().stateDirectory().resolve(config.gateway().name() + "-" + self.name() + ".alive");
    }

    /** Where keepalived's notify_fifo must point. */
    public Path keepalivedFifo() {
        return fifo;
    }

    /** What keepalived's check looks at: touched every {@link #ALIVE_PERIOD} by the IKE thread. */
    public Path aliveFile() {
        return aliveFile;
    }

    /** Whether this instance may initiate connection {@code c} now: it owns the group whose floating address the tunnel uses. */
    public boolean mayInitiate(GatewayConfig.Connection c) {
        Instance carrier = config.carrier(c);
        return carrier == null || owns(carrier.name());
    }

    boolean owns(String group) {
        GroupOwnership o = ownership.get(group);
        return o != null && o.owned;
    }

    private boolean maySendFrom(InetAddress local) {
        String g = groups.of(local);
        return g == null || (owns(g) && (leases == null || leases.confident()));
    }

    private void tick() {
        if (closed) {
            return;
        }
        leases.tick();
        scheduler.schedule(SequenceLeases.TICK, this::tick);
    }

    private void touchAlive() {
        if (closed) {
            return;
        }
        try {
            if (!Files.exists(aliveFile)) {
                Files.createFile(aliveFile);
            }
            Files.setLastModifiedTime(aliveFile, FileTime.from(Instant.now()));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "pair: cannot touch {0}: {1}", aliveFile, e.getMessage());
        }
        scheduler.schedule(ALIVE_PERIOD, this::touchAlive);
    }

    /**
     * The service stops (SIGTERM) or {@code isthmus ha handover}: each group this instance carries
     * goes to the partner with its exact numbers, so the partner resumes without skipping any (a
     * planned handover). Its IKE SAs stop here at once; its child SAs go on carrying what still
     * arrives here, within the lease end handed over, until keepalived has moved the addresses
     * ({@link HandoverDrain}). Returns once the partner acknowledged (or after {@code limit}), and
     * then tells keepalived to move the addresses (the track file). Alone, there is nobody to hand
     * over to. Not on the IKE thread.
     *
     * @return the groups handed over
     */
    public List<String> handOver(Duration limit) throws Exception {
        java.util.concurrent.CompletableFuture<List<String>> done = new java.util.concurrent.CompletableFuture<>();
        ikeThread.execute(() -> {
            List<String> handed = new ArrayList<>();
            if (sync == null || !sync.connected()) {
                done.complete(handed);
                return;
            }
            ownership.forEach((group, o) -> {
                if (o.owned) {
                    List<Integer> spis = leases.handOver(group, System.nanoTime() + HandoverDrain.LIMIT.toNanos());
                    for (IkeSa sa : List.copyOf(engine.ikeSas())) {
                        if (group.equals(groups.of(sa.localAddress().getAddress()))) {
                            replication.changed(sa);
                        }
                    }
                    link.put(group, SyncKinds.HANDOVER, SyncKinds.HANDOVER_KEY, new byte[0]);
                    List<Integer> children = new ArrayList<>();
                    takeover.releaseIke(group, children);
                    drain.start(group, children);
                    o.owned = false;
                    handed.add(group);
                    LOG.log(System.Logger.Level.INFO, "pair: handing group {0} over to the partner: {1} child SA(s) with exact numbers; "
                            + "they carry what still arrives here until keepalived has moved the address", group, spis.size());
                }
            });
            long sequence = link.lastPublished();
            if (sequence == 0 || handed.isEmpty()) {
                done.complete(handed);
            } else {
                link.whenAcked(sequence, () -> done.complete(handed));
            }
        });
        List<String> handed = done.get(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        if (!handed.isEmpty()) {
            // keepalived moves the floating addresses now (this side's priority drops to 1), not when the process is gone.
            standing.handedOver(true);
        }
        return handed;
    }

    /** Waits for the drains of the groups handed over to end, at most their limit: a stop keeps the data plane until then. Not on the IKE thread. */
    public void awaitDrained() throws InterruptedException {
        java.util.concurrent.CompletableFuture<java.util.concurrent.CompletableFuture<Void>> idle = new java.util.concurrent.CompletableFuture<>();
        ikeThread.execute(() -> idle.complete(drain == null ? java.util.concurrent.CompletableFuture.completedFuture(null) : drain.whenIdle()));
        try {
            idle.thenCompose(f -> f).get(HandoverDrain.LIMIT.toMillis() + 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "pair: the handover''s drain did not end in {0} ms; stopping all the same", HandoverDrain.LIMIT.toMillis());
        }
    }

    /** After a handover: keepalived may give this instance its groups again (its track file back to 0). */
    public void resume() throws IOException {
        standing.handedOver(false);
    }

    /** What keepalived is told, where an IOException can only be logged: the IKE thread's callbacks. */
    private interface StandingChange {
        void apply(Standing s) throws IOException;
    }

    private void updateStanding() {
        updateStanding(Standing::update);
    }

    private void updateStanding(StandingChange change) {
        try {
            change.apply(standing);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "pair: cannot write {0}: {1}", handoverFile(config, self), e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------
    // keepalived

    @Override
    public void state(String vrrpInstance, KeepalivedEvents.State s) {
        GroupOwnership o = ownership.get(vrrpInstance);
        if (o == null) {
            LOG.log(System.Logger.Level.WARNING, "keepalived: VRRP instance {0} is {1}, but it names no group of this pair {2}",
                    vrrpInstance, s, ownership.keySet());
            return;
        }
        o.vrrp = s;
        LOG.log(System.Logger.Level.INFO, "keepalived: group {0} is {1} here", vrrpInstance, s);
        if (s == KeepalivedEvents.State.MASTER && !o.owned) {
            takeOver(vrrpInstance, o);
        } else if (s != KeepalivedEvents.State.MASTER && o.owned) {
            letGo(vrrpInstance, o, "keepalived made this instance " + s);
        }
        if (s != KeepalivedEvents.State.MASTER) {
            drain.letGo(vrrpInstance);
        }
    }

    private void takeOver(String group, GroupOwnership o) {
        long began = System.nanoTime();
        // Handed over and back before the drain ended: the SAs coming back are the ones still draining.
        drain.finish(group);
        try {
            o.epoch = sync == null ? 0 : sync.takeOver(group);
        } catch (IOException e) {
            // Without the epoch on disk a restart could reuse it: not safe to carry the SAs.
            LOG.log(System.Logger.Level.ERROR, "pair: cannot take group {0}: the epoch cannot be kept: {1}", group, e.getMessage());
            return;
        }
        o.owned = true;
        o.since = Instant.now();
        Map<Replica.Key, byte[]> entries = state.entries(group);
        boolean exact = entries.containsKey(new Replica.Key(SyncKinds.HANDOVER, SyncKinds.HANDOVER_KEY));
        boolean recordsMayLag = !exact && partnerWentOnAlone();
        Takeover.Outcome out = takeover.adopt(group, entries, exact, recordsMayLag);
        if (exact) {
            // Ours from now on: a later takeover back is not a handover unless announced again.
            link.remove(group, SyncKinds.HANDOVER, SyncKinds.HANDOVER_KEY);
        }
        // Published as ours now, for a partner that comes back.
        for (IkeSa sa : List.copyOf(engine.ikeSas())) {
            if (group.equals(groups.of(sa.localAddress().getAddress()))) {
                replication.changed(sa);
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - began);
        last = new LastTakeover(group, o.since.toString(), took.toMillis(), out.ikeSas(), out.childSas(), out.refused(), exact,
                out.messageIdSyncs());
        takeovers++;
        handoversTaken += exact ? 1 : 0;
        updateStanding();
        LOG.log(System.Logger.Level.WARNING, "pair: took group {0} at epoch {1} in {2} ms ({6}): {3} IKE SA(s), {4} child SA(s) carried on"
                + (out.refused() > 0 ? ", {5} could not be" : ""), group, o.epoch, took.toMillis(), out.ikeSas(), out.childSas(), out.refused(),
                exact ? "handed over, exact numbers" : "numbers jumped past the last lease and replay top");
    }

    /**
     * Whether the partner may have answered peers after its last update reached us. While the link
     * is up it sends no IKE message before we acknowledged its state (HeldTransport), so what we
     * hold is what the peers saw. Once the link is down it goes on alone; but a partner that died
     * or froze sends nothing more, and keepalived moves its group within its alive check. Only a
     * partner that kept its group for {@link #SOLO_EVIDENCE} with the link down was running
     * (the sync stream cut, VRRP still passing) and may have moved its SAs' message IDs on.
     */
    private boolean partnerWentOnAlone() {
        return linkDownSince != 0 && System.nanoTime() - linkDownSince >= SOLO_EVIDENCE.toNanos();
    }

    private void letGo(String group, GroupOwnership o, String why) {
        o.owned = false;
        o.since = Instant.now();
        int n = takeover.release(group);
        LOG.log(System.Logger.Level.WARNING, "pair: let go of group {0} ({1}): {2} IKE SA(s) are the partner''s now", group, why, n);
        updateStanding();
    }

    // ------------------------------------------------------------------------------------------
    // the sync link

    @Override
    public void put(String group, byte kind, byte[] key, byte[] value) {
        state.put(group, kind, key, value);
        GroupOwnership o = ownership.get(group);
        if (kind == SyncKinds.HANDOVER && o != null && !o.owned && o.vrrp == KeepalivedEvents.State.BACKUP) {
            // The partner hands the group over: ready before keepalived moves the address, so the
            // first packet that arrives here finds its SAs (the partner drains what still goes there).
            LOG.log(System.Logger.Level.INFO, "pair: the partner hands group {0} over; taking it before keepalived moves the address", group);
            takeOver(group, o);
        }
    }

    @Override
    public void remove(String group, byte kind, byte[] key) {
        state.remove(group, kind, key);
    }

    @Override
    public void fullSyncBegin(Set<String> names) {
        state.fullSyncBegin(names);
    }

    @Override
    public void fullSyncEnd(Set<String> names) {
        state.fullSyncEnd(names);
        LOG.log(System.Logger.Level.INFO, "pair: the partner''s state of {0} is here ({1} entries)", names,
                names.stream().mapToInt(g -> state.entries(g).size()).sum());
        updateStanding(st -> st.synced(true));
    }

    @Override
    public void connected() {
        linkDownSince = 0;
        LOG.log(System.Logger.Level.INFO, "pair: the sync link to {0} is up", config.pair().partnerOf(self.name()).name());
    }

    @Override
    public void disconnected() {
        linkDownSince = System.nanoTime();
        updateStanding(st -> st.synced(false));
        LOG.log(System.Logger.Level.WARNING, "pair: the sync link to {0} is down; this instance goes on alone with what it owns",
                config.pair().partnerOf(self.name()).name());
    }

    @Override
    public void ownership(String group, long epoch, String owner) {
        GroupOwnership o = ownership.get(group);
        if (o != null && o.owned && !owner.equals(self.name()) && epoch > o.epoch) {
            letGo(group, o, owner + " took it at epoch " + epoch);
        }
    }

    @Override
    public void fenced(String group, long epoch) {
        GroupOwnership o = ownership.get(group);
        if (o != null && o.owned) {
            letGo(group, o, "fenced: the partner holds it at epoch " + epoch);
        }
    }

    @Override
    public void ownState(String group, Entries out) {
        state.entries(group).forEach((k, v) -> out.put(k.kind(), k.key(), v));
    }

    // ------------------------------------------------------------------------------------------

    /** The pair in {@code isthmus status}. */
    public record Status(String instance, String partner, Link link, List<GroupStatus> groups, LastTakeover lastTakeover,
                         long takeovers, long handoversTaken, SequenceLeases.Counts leases, long ikeDatagramsHeld, long ikeDatagramsDropped) {
    }

    /** The sync link in status: connected, since when, how long since the partner was heard, how many updates wait for its acknowledgement. */
    public record Link(boolean connected, String connectedSince, Long lastHeardMillis, long lagUpdates, long updatesSent, long updatesApplied,
                       long fullSyncsReceived, long reconnects, long refusedHandshakes, long updatesFenced, long slowPartnerCloses,
                       long unacknowledgedCloses, long readPauses, long unappliedBytes) {
        static Link of(SyncStatus s) {
            return new Link(s.connected(), s.connectedSince() == null ? null : s.connectedSince().toString(),
                    s.lastHeard() == null ? null : s.lastHeard().toMillis(), s.lagUpdates(), s.updatesSent(), s.updatesApplied(),
                    s.fullSyncsReceived(), s.reconnects(), s.refusedHandshakes(), s.updatesFenced(), s.slowPartnerCloses(),
                    s.unacknowledgedCloses(), s.readPauses(), s.unappliedBytes());
        }
    }

    public record GroupStatus(String name, String floatingAddress, String carriedBy, long epoch, String keepalived, String since) {
    }

    /** On the IKE thread. */
    public Status status() {
        List<GroupStatus> gs = new ArrayList<>();
        String partner = config.pair().partnerOf(self.name()).name();
        ownership.forEach((g, o) -> gs.add(new GroupStatus(g, groups.address(g).getHostAddress(), o.owned ? self.name() : partner, o.epoch,
                o.vrrp == null ? "unknown" : o.vrrp.name(), o.since.toString())));
        return new Status(self.name(), partner, sync == null ? null : Link.of(sync.status()), gs, last, takeovers, handoversTaken,
                leases == null ? null : leases.counts(),
                held == null ? 0 : held.held(), held == null ? 0 : held.dropped());
    }

    @Override
    public void close() {
        closed = true;
        if (pauses != null) {
            pauses.close();
        }
        if (keepalived != null) {
            keepalived.close();
        }
        if (sync != null) {
            sync.close();
        }
    }

    /** The sync link as the pair's logic uses it: each update is also kept in {@link #state}, which a rejoining partner's full sync is made from. */
    private final class LinkAdapter implements PairLink {
        private long lastPublished;

        @Override
        public long put(String group, byte kind, byte[] key, byte[] value) {
            state.put(group, kind, key, value);
            if (sync != null) {
                lastPublished = sync.put(group, kind, key, value);
            }
            return lastPublished;
        }

        @Override
        public long remove(String group, byte kind, byte[] key) {
            state.remove(group, kind, key);
            if (sync != null) {
                lastPublished = sync.remove(group, kind, key);
            }
            return lastPublished;
        }

        @Override
        public long lastPublished() {
            return lastPublished;
        }

        @Override
        public void whenAcked(long sequence, Runnable then) {
            if (sequence <= 0 || sync == null) {
                then.run();
            } else {
                sync.whenAcked(sequence, then);
            }
        }

        @Override
        public boolean acknowledged(long sequence) {
            return sync != null && sync.acknowledged(sequence);
        }

        @Override
        public boolean connected() {
            return sync != null && sync.connected();
        }
    }
}
