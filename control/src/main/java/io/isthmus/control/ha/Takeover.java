package io.isthmus.control.ha;

import io.isthmus.dataplane.ResumePoint;
import io.isthmus.dataplane.SaTraffic;
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
    Takeover(IkeEngine engine, Dataplane dataplane, PairGroups groups, SequenceLeases leases) {
        this.engine = engine;
        this.dataplane = dataplane;
        this.groups = groups;
        this.leases = leases;
    }

    /**
     * What a takeover did: SAs carried on, those that could not be (each logged with why), and the
     * IKE SAs whose message IDs it set out to agree with their peers (RFC 6311).
     */
    record Outcome(int ikeSas, int childSas, int refused, int messageIdSyncs) {
    }

    /**
     * Carries on every IKE SA and child SA of {@code group} from {@code entries} (the partner's,
     * as last synced). {@code exact}: the partner handed them over with its final numbers, so
     * nothing is skipped; otherwise outbound SAs jump {@link SequenceLeases#SOLO_RANGE} past
     * the last lease. Inbound windows start at the last synced top (why: in {@code install}).
     * {@code recordsMayLag}: the partner may have gone on alone after its last update reached us
     * (the link was down when it died), so its IKE SAs' message IDs may be behind what their peers
     * saw; each is then agreed with its peer by RFC 6311's message ID sync, where the peer said
     * in IKE_AUTH that it can.
     */
    Outcome adopt(String group, Map<Replica.Key, byte[]> entries, boolean exact, boolean recordsMayLag) {
        int ike = 0;
        int children = 0;
        int refused = 0;
        int syncs = 0;
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
            if (recordsMayLag && sa.proposal().cipher().encryption().isAead()) {
                // strongSwan (5.9 at least) derives an AEAD message's IV from its message ID and refuses to
                // use one again in either of its two IV ranges: its answer under message ID 0 fails to
                // encrypt once it has both sent and answered requests, and it drops the whole IKE SA. Measured
                // in the lab; a peer that does not answer would do less harm than one that tears down.
                LOG.log(System.Logger.Level.WARNING, "group {0}: {1}: the partner may have gone on without us, but the IKE SA uses an AEAD "
                        + "cipher, under which strongSwan cannot answer a message ID sync (RFC 6311) and drops the SA: not asked; if the "
                        + "partner answered a request since, the peer renegotiates when its next one goes unanswered", group, sa);
            } else if (recordsMayLag) {
                if (sa.syncMessageIds()) {
                    syncs++;
                    LOG.log(System.Logger.Level.INFO, "group {0}: {1}: the partner may have gone on without us; agreeing message IDs with the peer "
                            + "(RFC 6311)", group, sa);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "group {0}: {1}: the partner may have gone on without us, and the peer did not announce "
                            + "RFC 6311 message ID sync: if the partner answered a request since, the peer renegotiates when its next one "
                            + "goes unanswered", group, sa);
                }
            }
        }
        return new Outcome(ike, children, refused, syncs);
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
        long after = resumeAfter(leases.block(), lease == null ? 0 : SyncKinds.number(lease), exact && lease != null);
        long received = top == null ? 0 : SyncKinds.top(top);
        // The replay window starts at the top the owner last synced, everything at or below it counted
        // as received. The owner syncs every replayPackets packets or replayInterval, whichever comes
        // first, so it may have accepted up to one interval's packets above that top before it died
        // (the rate the sync carried times the interval, at most replayPackets): an attacker who
        // recorded them can have each accepted once more here. That bound is accepted: the packets are
        // the peer's own, authentic and recent, and whatever runs inside already sees such duplicates
        // from the network (TCP drops them, QUIC and DTLS have their own windows); what replay
        // protection must stop, old traffic played back at will, stays refused. Jumping further
        // instead would drop the peer's next packets as replays: measured in the lab, a TCP stream's
        // retransmissions then climb through the skipped numbers one timeout at a time, and the
        // connection dies.
        long inboundTop = received;
        LOG.log(System.Logger.Level.INFO, "group {0}: child SA {1}: outbound resumes after {2}, inbound accepts above {3} (synced top {4}, {5}/s)",
                group, d, Long.toUnsignedString(after), Long.toUnsignedString(inboundTop), Long.toUnsignedString(received),
                top == null ? 0 : SyncKinds.rate(top));
        SaTraffic carried = SyncKinds.traffic(entries.get(new Replica.Key(SyncKinds.TRAFFIC, key)));
        dataplane.install(SaPairs.of(d, keys), true, new ResumePoint(after, inboundTop, after, 0, carried));
        leases.resumed(group, spi, after, inboundTop);
        return true;
    }

    /**
     * The last outbound sequence number the owner may have used, which the survivor continues
     * after. Handed over, the lease entry is that number exactly. Otherwise it is the last lease
     * end the survivor received; every SA's first {@code block} is implied by its keys' entry; and
     * an owner cut off from its partner may have gone on alone for {@link SequenceLeases#SOLO_RANGE}
     * more (SequenceLeases says why no more).
     */
    static long resumeAfter(long block, long lease, boolean exact) {
        return exact ? lease : Math.max(block, lease) + SequenceLeases.SOLO_RANGE;
    }

    /** Lets go of every SA of {@code group} here, telling nobody: the partner carries them now (or will). */
    int release(String group) {
        List<Integer> spis = new ArrayList<>();
        int n = releaseIke(group, spis);
        removeChildren(spis);
        return n;
    }

    /**
     * Lets go of the IKE SAs of {@code group} here, telling nobody, and adds their child SAs'
     * inbound SPIs to {@code children}, which stay in the data plane (a handover's drain) until
     * {@link #removeChildren}. Their leases are no longer kept. Returns how many IKE SAs.
     */
    int releaseIke(String group, List<Integer> children) {
        int n = 0;
        for (IkeSa sa : List.copyOf(engine.ikeSas())) {
            if (!group.equals(groups.of(sa.localAddress().getAddress()))) {
                continue;
            }
            for (ChildSaDescription c : sa.childSas()) {
                leases.stopped(c.inbound().spi());
                children.add(c.inbound().spi());
            }
            engine.release(sa);
            n++;
        }
        return n;
    }

    /** Takes these child SAs (by inbound SPI) out of the data plane, keys wiped. */
    void removeChildren(List<Integer> inboundSpis) {
        for (int spi : inboundSpis) {
            dataplane.retire(spi);
            dataplane.remove(spi);
        }
    }
}
