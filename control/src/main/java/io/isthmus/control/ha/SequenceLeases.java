package io.isthmus.control.ha;

import io.isthmus.dataplane.Dataplane;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Keeps the outbound SAs of the groups this instance owns supplied with sequence numbers, and
 * the partner told how far each may go and how far each inbound SA has received. IKE thread.
 *
 * <p>Why no (key, sequence number) pair is ever used twice across the pair, so no AES-GCM or
 * ChaCha20-Poly1305 nonce repeats under one key, even when both instances think the other dead:
 * <ul>
 * <li>An SA's first {@link #block} numbers are implied by its keys' entry: the partner can only
 *     take over an SA whose keys it holds, and it counts those numbers as used.</li>
 * <li>Every further block is sealed with only once the partner acknowledged the lease's new end
 *     ({@link SyncKinds#LEASE}); a survivor starts past the last end it acknowledged plus
 *     {@link #SOLO_RANGE} ({@link Takeover}).</li>
 * <li>While the link is down the owner goes on alone, but never past the last end the partner
 *     acknowledged plus {@code SOLO_RANGE}: the numbers a survivor skips. Past that the SA must be
 *     rekeyed (new keys), which IKE does well before, at its soft lifetime.</li>
 * </ul>
 * So the owner's numbers stay at or below {@code acked + SOLO_RANGE} and the survivor's start
 * above it, whatever either believes about the other.
 *
 * <p>Leases also end in time ({@link #LEASE_TIME}): renewed at every tick while this instance
 * owns the group, so after a pause longer than that (SIGSTOP, a long GC pause, a frozen VM) the
 * packet threads find the lease run out and send nothing until ownership is confirmed again;
 * the partner may have taken the group over meanwhile, and then fences this instance.
 */
final class SequenceLeases {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final RateLimitedLog LATE = new RateLimitedLog(LOG, Duration.ofSeconds(10).toNanos());
    /**
     * Numbers a survivor skips past the last acknowledged lease end: what an owner cut off from
     * its partner may use alone. 2^24 is 17 s at a million packets a second, and 256 takeovers of
     * one SA in a 32-bit space; a rekey comes far sooner.
     */
    static final long SOLO_RANGE = 1L << 24;
    /**
     * How long a lease holds without renewal: shorter than keepalived's master-down interval in the
     * lab (3 adverts of 50 ms and the skew), so a paused instance's lease has run out by the time
     * its partner can have taken over.
     */
    static final Duration LEASE_TIME = Duration.ofMillis(150);
    static final Duration TICK = Duration.ofMillis(20);
    /**
     * How often each SA's traffic totals go to the partner: what a survivor's byte lifetime may
     * fall short by is a second's traffic, a sliver of any lifetime worth setting.
     */
    static final Duration TRAFFIC_INTERVAL = Duration.ofSeconds(1);

    private final LeasedSas dataplane;
    private final PairLink link;
    private final java.util.function.LongSupplier clock;
    private final Standstills standstills;
    private final Predicate<String> owns;
    private final long block;
    private final int replayPackets;
    private final long replayIntervalNanos;
    private final Map<Integer, Tracked> tracked = new HashMap<>();
    /** When the last tick ran; 0 before the first (no pause to see yet). */
    private long lastTick;
    private long pausedUntil;
    private long pauses;
    private long lateTicks;
    private long leasesGranted;
    private long soloLimitReached;

    private static final class Tracked {
        final String group;
        final int inboundSpi;
        /** The end granted to the data plane. */
        long granted;
        /** The end the partner acknowledged (or implied by the keys' entry). */
        long acknowledged;
        boolean requesting;
        long syncedTop;
        long syncedAt;
        /** When the traffic totals were last sent (or the SA began here), and their bytes then. */
        long trafficAt;
        long trafficBytes;

        Tracked(String group, int inboundSpi, long granted, long acknowledged) {
            this.group = group;
            this.inboundSpi = inboundSpi;
            this.granted = granted;
            this.acknowledged = acknowledged;
        }
    }

    /** Whether the whole process stood still between two instants ({@link ProcessPauses}), rather than the IKE thread running late. */
    interface Standstills {
        boolean since(long sinceNanos, long nowNanos);

        /** Every late tick taken for a pause of the process: the safe side, for tests that do not tell the two apart. */
        Standstills ALWAYS = (since, now) -> true;
    }

    /** The data plane as the leases see it: each SA's numbers, and the lease of each. */
    interface LeasedSas {
        List<Dataplane.SaCounters> sequenceState();

        boolean lease(int inboundSpi, long lastSequence, long deadlineNanos);

        static LeasedSas of(Dataplane d) {
            return new LeasedSas() {
                @Override
                public List<Dataplane.SaCounters> sequenceState() {
                    return d.sequenceState();
                }

                @Override
                public boolean lease(int inboundSpi, long lastSequence, long deadlineNanos) {
                    return d.lease(inboundSpi, lastSequence, deadlineNanos);
                }
            };
        }
    }

    /** {@code owns}: whether this instance owns a group now (keepalived says so and the partner did not fence it). */
    SequenceLeases(Dataplane dataplane, PairLink link, Predicate<String> owns, long block, int replayPackets, Duration replayInterval,
                   Standstills standstills) {
        this(LeasedSas.of(dataplane), link, owns, block, replayPackets, replayInterval, System::nanoTime, standstills);
    }

    /** With the data plane and the monotonic clock given, every late tick a pause of the process: for tests. */
    SequenceLeases(LeasedSas dataplane, PairLink link, Predicate<String> owns, long block, int replayPackets, Duration replayInterval,
                   java.util.function.LongSupplier clock) {
        this(dataplane, link, owns, block, replayPackets, replayInterval, clock, Standstills.ALWAYS);
    }

    /** With the data plane, the monotonic clock and the process's standstills given: for tests. */
    SequenceLeases(LeasedSas dataplane, PairLink link, Predicate<String> owns, long block, int replayPackets, Duration replayInterval,
                   java.util.function.LongSupplier clock, Standstills standstills) {
        this.clock = clock;
        this.standstills = standstills;
        this.dataplane = dataplane;
        this.link = link;
        this.owns = owns;
        this.block = block;
        this.replayPackets = replayPackets;
        this.replayIntervalNanos = replayInterval.toNanos();
    }

    long block() {
        return block;
    }

    /** A child SA this instance made: its first block is granted at once (the keys' entry implies it). */
    void started(String group, int inboundSpi) {
        Tracked t = new Tracked(group, inboundSpi, block, block);
        t.trafficAt = clock.getAsLong();
        tracked.put(inboundSpi, t);
        dataplane.lease(inboundSpi, block, clock.getAsLong() + LEASE_TIME.toNanos());
        leasesGranted++;
    }

    /** A child SA taken over, already installed to go on after {@code outboundAfter}; its next lease is asked for at once. */
    void resumed(String group, int inboundSpi, long outboundAfter, long inboundTop) {
        Tracked t = new Tracked(group, inboundSpi, outboundAfter, outboundAfter);
        t.syncedTop = inboundTop;
        t.syncedAt = clock.getAsLong();
        t.trafficAt = t.syncedAt;
        tracked.put(inboundSpi, t);
        request(t, outboundAfter);
    }

    void stopped(int inboundSpi) {
        tracked.remove(inboundSpi);
    }

    /** Every {@link #TICK}: leases extended and renewed, replay tops synced. */
    void tick() {
        long now = clock.getAsLong();
        if (lastTick != 0 && now - lastTick > LEASE_TIME.toNanos()) {
            if (standstills.since(lastTick, now)) {
                // The process did not run for longer than a lease lasts: paused. Until the link and
                // keepalived's events have caught up (a fence, a BACKUP), renew nothing.
                pausedUntil = now + LEASE_TIME.toNanos();
                pauses++;
                LOG.log(System.Logger.Level.WARNING, "the gateway did not run for {0} ms; its leases ran out and are renewed only once the"
                        + " pair confirms it still owns its groups", (now - lastTick) / 1_000_000);
            } else {
                // Only this thread was late (its own work, a takeover): the events that would say the group moved were queued
                // ahead of this tick and have been handled, so the leases are renewed now (ProcessPauses says why).
                lateTicks++;
                LATE.log(System.Logger.Level.INFO, "late tick", "the IKE thread was " + (now - lastTick) / 1_000_000
                        + " ms late to renew the sequence leases (the process ran meanwhile); renewed now");
            }
        }
        lastTick = now;
        boolean renew = now >= pausedUntil;
        List<Dataplane.SaCounters> state = dataplane.sequenceState();
        for (Dataplane.SaCounters c : state) {
            Tracked t = tracked.get(c.inboundSpi());
            if (t == null || !owns.test(t.group)) {
                continue;
            }
            if (!t.requesting && Long.compareUnsigned(t.granted - c.outboundSequence(), block / 2) < 0) {
                request(t, c.outboundSequence());
            }
            if (renew) {
                dataplane.lease(t.inboundSpi, t.granted, now + LEASE_TIME.toNanos());
            }
            long top = c.inboundHighest();
            if (top != t.syncedTop && (top - t.syncedTop >= replayPackets || now - t.syncedAt >= replayIntervalNanos)) {
                long rate = (top - t.syncedTop) * 1_000_000_000L / Math.max(1, now - t.syncedAt);
                link.put(t.group, SyncKinds.REPLAY_TOP, SyncKinds.spiKey(t.inboundSpi), SyncKinds.replayTop(top, rate));
                t.syncedTop = top;
                t.syncedAt = now;
            }
            long bytes = c.inBytes() + c.outBytes();
            if (bytes != t.trafficBytes && now - t.trafficAt >= TRAFFIC_INTERVAL.toNanos()) {
                link.put(t.group, SyncKinds.TRAFFIC, SyncKinds.spiKey(t.inboundSpi), SyncKinds.traffic(c));
                t.trafficBytes = bytes;
                t.trafficAt = now;
            }
        }
    }

    private void request(Tracked t, long used) {
        long end = Math.max(t.granted, used) + block;
        boolean alone = !link.connected();
        if (alone) {
            end = Math.min(end, t.acknowledged + SOLO_RANGE);
            if (end <= t.granted) {
                soloLimitReached++;
                LOG.log(System.Logger.Level.WARNING, "SA {0}: alone, its sequence numbers reached the partner''s last lease plus {1};"
                        + " it sends again after a rekey or once the partner is back", Integer.toHexString(t.inboundSpi), SOLO_RANGE);
                return;
            }
        }
        long sequence = link.put(t.group, SyncKinds.LEASE, SyncKinds.spiKey(t.inboundSpi), SyncKinds.number(end));
        t.requesting = true;
        long asked = end;
        link.whenAcked(sequence, () -> granted(t, sequence, asked));
    }

    private void granted(Tracked t, long sequence, long asked) {
        t.requesting = false;
        long end = asked;
        if (link.acknowledged(sequence)) {
            t.acknowledged = Math.max(t.acknowledged, asked);
        } else {
            // Given up on (the link went down): only what being alone allows.
            end = Math.min(asked, t.acknowledged + SOLO_RANGE);
        }
        if (end <= t.granted || tracked.get(t.inboundSpi) != t) {
            return;
        }
        t.granted = end;
        leasesGranted++;
        if (owns.test(t.group) && clock.getAsLong() >= pausedUntil) {
            dataplane.lease(t.inboundSpi, end, clock.getAsLong() + LEASE_TIME.toNanos());
        }
    }

    /**
     * A planned handover of {@code group}: each SA's lease end, which the partner acknowledged, is
     * published as the last number this instance may use, with the last inbound number accepted
     * and the traffic totals; the partner resumes right after them. The SAs stop being tracked
     * (no renewal, no extension, even one asked for before) but keep sealing up to that end until
     * {@code drainDeadlineNanos}, for the handover's drain ({@link HandoverDrain}). Returns the
     * inbound SPIs.
     */
    List<Integer> handOver(String group, long drainDeadlineNanos) {
        List<Integer> spis = new java.util.ArrayList<>();
        for (Dataplane.SaCounters c : dataplane.sequenceState()) {
            Tracked t = tracked.get(c.inboundSpi());
            if (t == null || !t.group.equals(group)) {
                continue;
            }
            dataplane.lease(t.inboundSpi, t.granted, drainDeadlineNanos);
            byte[] key = SyncKinds.spiKey(t.inboundSpi);
            link.put(group, SyncKinds.LEASE, key, SyncKinds.number(t.granted));
            link.put(group, SyncKinds.REPLAY_TOP, key, SyncKinds.replayTop(c.inboundHighest(), 0));
            link.put(group, SyncKinds.TRAFFIC, key, SyncKinds.traffic(c));
            spis.add(t.inboundSpi);
        }
        spis.forEach(tracked::remove);
        return spis;
    }

    /**
     * Whether this instance can trust that it still owns what it owned: this thread ran within a
     * lease's time and is not settling after a pause. A timer that fires right after a pause
     * (a DPD, a retransmission) must not send before the pause is noticed and its fences arrive.
     */
    boolean confident() {
        long now = clock.getAsLong();
        return lastTick != 0 && (now - lastTick <= LEASE_TIME.toNanos() || !standstills.since(lastTick, now)) && now >= pausedUntil;
    }

    /** For status: pauses of the process seen, ticks merely late, leases granted, and times an SA reached its solo limit. */
    public record Counts(long pauses, long lateTicks, long leasesGranted, long soloLimitReached, int tracked) {
    }

    Counts counts() {
        return new Counts(pauses, lateTicks, leasesGranted, soloLimitReached, tracked.size());
    }
}
