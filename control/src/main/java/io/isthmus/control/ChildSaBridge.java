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
    private volatile java.util.Set<String> remoteAccess = java.util.Set.of();

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
        String client = clientTunnel(sa);
        if (client != null) {
            // Its host route first: the SA's tunnel must exist when it is installed. The same client's next SA finds it there.
            dataplane.clientTunnel(client, sa.remoteSelectors().stream().map(ChildSaBridge::prefix).toList());
            dataplane.install(SaPairs.of(sa, keys, client), outboundNow);
            return;
        }
        replication.installing(sa, keys);
        dataplane.install(SaPairs.of(sa, keys), outboundNow);
        replication.installed(sa);
    }

    @Override
    public void deleted(ChildSaDescription sa) {
        String client = clientTunnel(sa);
        if (client == null) {
            replication.deleted(sa);
        }
        int spi = sa.inbound().spi();
        dataplane.retire(spi);
        scheduler.schedule(INBOUND_GRACE, () -> {
            dataplane.remove(spi);
            if (client != null) {
                // Unless the client's next SA (a rekey, a reconnect) is in it by now.
                dataplane.clientTunnelIdle(client);
            }
        });
    }

    /**
     * A remote-access client's child SA goes into a tunnel of its own, named for its connection
     * and address, whose host route (the client's virtual address, the SA's remote selector) the
     * tunnel table sends its traffic by; null for a site's.
     */
    private String clientTunnel(ChildSaDescription sa) {
        if (!remoteAccess.contains(sa.connection()) || sa.remoteSelectors().isEmpty()) {
            return null;
        }
        return sa.connection() + "/" + address(sa.remoteSelectors().getFirst()).getHostAddress();
    }

    /** A client's selectors are its addresses, one host each (IKE narrowed them so). */
    private static String prefix(io.isthmus.ike.message.TrafficSelector ts) {
        return address(ts).getHostAddress() + (ts.startAddress().length == 4 ? "/32" : "/128");
    }

    private static java.net.InetAddress address(io.isthmus.ike.message.TrafficSelector ts) {
        try {
            return java.net.InetAddress.getByAddress(ts.startAddress());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("a selector's address has 4 or 16 bytes", e);
        }
    }

    /** The connections whose child SAs are remote-access clients' (each with a host route). */
    void remoteAccess(java.util.Set<String> connections) {
        this.remoteAccess = java.util.Set.copyOf(connections);
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
