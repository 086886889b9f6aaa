package io.isthmus.control;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.control.ha.ChildSaReplication;
import io.isthmus.control.ha.SaPairs;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * The one seam between IKE and the data plane, both ways. From IKE, on its thread: a child SA
 * installed, rekeyed (its replacement carrying outbound traffic at once when we initiated, after
 * the old one is deleted when the peer did) or deleted (it stops sending at once and keeps
 * receiving for {@link #INBOUND_GRACE}, for packets already on their way). From the data plane's
 * packet threads: IKE that arrived on port 4500 (through a bounded queue) and lifetimes counted
 * in bytes or packets, which become rekeys or expiries on the IKE thread.
 */
final class ChildSaBridge implements ChildSaListener, Dataplane.Events {
    /** How long a deleted SA still accepts packets that were already on their way. */
    static final Duration INBOUND_GRACE = Duration.ofSeconds(2);

    private final Executor ikeThread;
    private final Scheduler scheduler;
    private final InboundDatagrams ikeFromPort4500;
    private volatile IkeEngine engine;
    private volatile Dataplane dataplane;
    private ChildSaReplication replication = ChildSaReplication.NONE;

    /** {@code ikeFromPort4500}: where IKE from the data plane's socket waits for the IKE thread. */
    ChildSaBridge(Executor ikeThread, Scheduler scheduler, InboundDatagrams ikeFromPort4500) {
        this.ikeThread = ikeThread;
        this.scheduler = scheduler;
        this.ikeFromPort4500 = ikeFromPort4500;
    }

    /** In a pair: the partner hears of each child SA (and gets its keys) before the data plane consumes them. */
    void replicateTo(ChildSaReplication r) {
        this.replication = r;
    }

    /** Each side exists only once the other can be told about it: the engine takes this as its listener, the data plane as its events. */
    void connect(IkeEngine engine, Dataplane dataplane) {
        this.engine = engine;
        this.dataplane = dataplane;
    }

    /** The data plane builds its ESP SAs from the keys and wipes them (it is their consumer). */
    @Override
    public void installed(ChildSaDescription sa, ChildSaKeys keys) {
        installed(sa, keys, true);
    }

    @Override
    public void installed(ChildSaDescription sa, ChildSaKeys keys, boolean outboundNow) {
        install(sa, keys, outboundNow);
    }

    @Override
    public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
        install(replacement, keys, outboundNow);
    }

    private void install(ChildSaDescription sa, ChildSaKeys keys, boolean outboundNow) {
        replication.installing(sa, keys);
        dataplane.install(SaPairs.of(sa, keys), outboundNow);
        replication.installed(sa);
    }

    @Override
    public void deleted(ChildSaDescription sa) {
        replication.deleted(sa);
        int spi = sa.inbound().spi();
        dataplane.retire(spi);
        scheduler.schedule(INBOUND_GRACE, () -> dataplane.remove(spi));
    }

    @Override
    public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        ikeFromPort4500.offer(buffer, offset, length, local, remote);
    }

    @Override
    public void lifetime(int inboundSpi, boolean hard) {
        ikeThread.execute(() -> {
            if (hard) {
                engine.expireChild(inboundSpi);
            } else {
                engine.rekeyChild(inboundSpi);
            }
        });
    }
}
