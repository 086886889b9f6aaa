package io.isthmus.control.ha;

import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaObserver;
import io.isthmus.ike.IkeSaRecord;
import java.util.function.Predicate;

/**
 * The owner's side of the sync: every change to an IKE SA or child SA that lands on a floating
 * address this instance owns goes to the partner, in order, before the IKE message that shows
 * the change to the peer (the engine calls {@link #changed} before it sends, and
 * {@link HeldTransport} holds the datagram until the partner acknowledged). IKE thread only.
 */
final class PairReplication implements IkeSaObserver, ChildSaReplication {
    private final PairGroups groups;
    private final Predicate<String> owns;
    private final PairLink link;
    private final SequenceLeases leases;
    private long published;

    PairReplication(PairGroups groups, Predicate<String> owns, PairLink link, SequenceLeases leases) {
        this.groups = groups;
        this.owns = owns;
        this.link = link;
        this.leases = leases;
    }

    private String ownedGroup(java.net.InetSocketAddress local) {
        String g = groups.of(local.getAddress());
        return g != null && owns.test(g) ? g : null;
    }

    @Override
    public void changed(IkeSa sa) {
        String g = ownedGroup(sa.localAddress());
        if (g == null) {
            return;
        }
        IkeSaRecord r = sa.record();
        try {
            put(g, SyncKinds.IKE_SA, SyncKinds.ikeKey(sa.initiatorSpi(), sa.responderSpi()), r.encode());
        } finally {
            r.destroy();
        }
    }

    @Override
    public void removed(IkeSa sa) {
        String g = ownedGroup(sa.localAddress());
        if (g != null) {
            remove(g, SyncKinds.IKE_SA, SyncKinds.ikeKey(sa.initiatorSpi(), sa.responderSpi()));
        }
    }

    @Override
    public void installing(ChildSaDescription sa, ChildSaKeys keys) {
        String g = ownedGroup(sa.localAddress());
        if (g != null) {
            put(g, SyncKinds.CHILD_KEYS, SyncKinds.spiKey(sa.inbound().spi()), keys.encode());
        }
    }

    @Override
    public void installed(ChildSaDescription sa) {
        String g = ownedGroup(sa.localAddress());
        if (g != null) {
            leases.started(g, sa.inbound().spi());
        }
    }

    @Override
    public void deleted(ChildSaDescription sa) {
        String g = groups.of(sa.localAddress().getAddress());
        if (g == null) {
            return;
        }
        int spi = sa.inbound().spi();
        leases.stopped(spi);
        if (owns.test(g)) {
            byte[] key = SyncKinds.spiKey(spi);
            remove(g, SyncKinds.CHILD_KEYS, key);
            remove(g, SyncKinds.LEASE, key);
            remove(g, SyncKinds.REPLAY_TOP, key);
            remove(g, SyncKinds.TRAFFIC, key);
        }
    }

    private void put(String group, byte kind, byte[] key, byte[] value) {
        link.put(group, kind, key, value);
        published++;
    }

    private void remove(String group, byte kind, byte[] key) {
        link.remove(group, kind, key);
        published++;
    }

    /** Updates published since the start. */
    long published() {
        return published;
    }
}
