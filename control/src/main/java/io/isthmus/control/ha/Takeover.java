package io.isthmus.control.ha;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaRecord;
import io.isthmus.ike.MalformedRecordException;
import io.isthmus.ike.engine.IkeEngine;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Moving a group's SAs into this instance (the partner died, or handed them over) and out of it
 * (the partner took them, or fenced us): no IKE exchange either way, so the peer notices
 * nothing. IKE thread only.
 */
final class Takeover {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private final IkeEngine engine;
    private final Dataplane dataplane;
    private final PairGroups groups;
    private final SequenceLeases leases;
    private final int replayPackets;
    private final java.time.Duration replayInterval;

    Takeover(IkeEngine engine, Dataplane dataplane, PairGroups groups, SequenceLeases leases, int replayPackets, java.time.Duration replayInterval) {
        this.engine = engine;
        this.dataplane = dataplane;
        this.groups = groups;
        this.leases = leases;
        this.replayPackets = replayPackets;
        this.replayInterval = replayInterval;
    }

    /** What a takeover did: SAs carried on, and those that could not be (each logged with why). */
    record Outcome(int ikeSas, int childSas, int refused) {
    }

    /**
     * Carries on every IKE SA and child SA of {@code group} from {@code entries} (the partner's,
     * as last synced). {@code exact}: the partner handed them over with its final numbers, so
     * nothing is skipped; otherwise outbound SAs jump {@link SequenceLeases#SOLO_RANGE} past
     * the last lease and inbound windows {@code replayPackets} past the last synced top.
     */
    Outcome adopt(String group, Map<Replica.Key, byte[]> entries, boolean exact) {
        int ike = 0;
        int children = 0;
        int refused = 0;
        for (Map.Entry<Replica.Key, byte[]> e : entries.entrySet()) {
            if (e.getKey().kind() != SyncKinds.IKE_SA) {
                continue;
            }
            IkeSaRecord record;
            try {
                record = IkeSaRecord.decode(e.getValue());
            } catch (MalformedRecordException ex) {
                LOG.log(System.Logger.Level.ERROR, "group {0}: an IKE SA record from the partner does not decode ({1}); its peer will renegotiate",
                        group, ex.getMessage());
                refused++;
                continue;
            }
            IkeSa sa;
            try {
                sa = engine.adopt(record);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.ERROR, "group {0}: cannot carry on IKE SA {1}: {2}", group, record, ex.getMessage());
                record.destroy();
                refused++;
                continue;
            }
            ike++;
            List<IkeSaRecord.Child> kids = new ArrayList<>(record.children());
            // Oldest first: the newest installed carries outbound traffic, as after a rekey.
            kids.sort(Comparator.comparing(IkeSaRecord.Child::establishedAt));
            for (IkeSaRecord.Child c : kids) {
                if (install(group, c.description(), entries, exact)) {
                    children++;
                } else {
                    refused++;
                }
            }
            record.destroy();
            LOG.log(System.Logger.Level.INFO, "group {0}: carrying on {1} with {2} child SA(s), no exchange", group, sa, kids.size());
        }
        return new Outcome(ike, children, refused);
    }

    private boolean install(String group, ChildSaDescription d, Map<Replica.Key, byte[]> entries, boolean exact) {
        int spi = d.inbound().spi();
        byte[] key = SyncKinds.spiKey(spi);
        byte[] encodedKeys = entries.get(new Replica.Key(SyncKinds.CHILD_KEYS, key));
        if (encodedKeys == null) {
            LOG.log(System.Logger.Level.WARNING, "group {0}: no keys for child SA {1}; it stays with IKE, which rekeys or deletes it", group, d);
            return false;
        }
        ChildSaKeys keys;
        try {
            keys = ChildSaKeys.decode(encodedKeys);
        } catch (MalformedRecordException ex) {
            LOG.log(System.Logger.Level.ERROR, "group {0}: the keys of child SA {1} do not decode: {2}", group, d, ex.getMessage());
            return false;
        }
        byte[] lease = entries.get(new Replica.Key(SyncKinds.LEASE, key));
        byte[] top = entries.get(new Replica.Key(SyncKinds.REPLAY_TOP, key));
        // Every SA's first block is implied by its keys' entry (SequenceLeases says why).
        long leased = Math.max(leases.block(), lease == null ? 0 : SyncKinds.number(lease));
        long after = exact ? leased : leased + SequenceLeases.SOLO_RANGE;
        long received = top == null ? 0 : SyncKinds.top(top);
        long inboundTop = exact ? received : received + replayJump(top == null ? 0 : SyncKinds.rate(top));
        dataplane.install(SaPairs.of(d, keys), true, new Dataplane.Resume(after, inboundTop, after, 0));
        leases.resumed(group, spi, after, inboundTop);
        return true;
    }

    /**
     * How far past the last synced top the survivor's replay window starts: what the owner may
     * have accepted since that sync. Syncs come every {@code replayPackets} packets or
     * {@code replayInterval}, whichever first, so at most that many; at the rate the last sync
     * showed, about two intervals' worth (one since the sync, one for a sync still on its way).
     * Numbers at or below the jump are refused as replays: of the peer's packets that were in
     * flight at the takeover, at most this many are lost; an attacker can replay only packets
     * the owner accepted past the jump (none, if the rate held), each once, into the window.
     */
    long replayJump(long packetsPerSecond) {
        long twoIntervals = packetsPerSecond * 2 * replayInterval.toNanos() / 1_000_000_000L;
        return Math.min(replayPackets, twoIntervals);
    }

    /** Lets go of every SA of {@code group} here, telling nobody: the partner carries them now (or will). */
    int release(String group) {
        int n = 0;
        for (IkeSa sa : List.copyOf(engine.ikeSas())) {
            if (!group.equals(groups.of(sa.localAddress().getAddress()))) {
                continue;
            }
            for (ChildSaDescription c : sa.childSas()) {
                leases.stopped(c.inbound().spi());
                dataplane.retire(c.inbound().spi());
                dataplane.remove(c.inbound().spi());
            }
            engine.release(sa);
            n++;
        }
        return n;
    }
}
