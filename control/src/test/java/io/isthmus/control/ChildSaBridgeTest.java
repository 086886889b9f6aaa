package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IKE and the data plane wired as the daemon wires them, without root: two IKE engines over an
 * in-memory network on a manual clock, each with its data plane (tables only, no devices) behind
 * a {@link ChildSaBridge}. A child SA IKE announces is installed in the data plane, a rekey puts
 * the replacement in front and retires the old SA, which goes once its grace has passed; a soft
 * lifetime the data plane counts comes back to IKE as a rekey.
 */
class ChildSaBridgeTest {
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");
    static final String IKE = "aes128gcm16-prfsha256-ecp256";

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final Side a = new Side(A, B, "192.168.10.0/24", "192.168.20.0/24");
    final Side b = new Side(B, A, "192.168.20.0/24", "192.168.10.0/24");

    /** One gateway: its engine, its bridge, its data plane. */
    final class Side {
        final IkeEngine engine;
        final ChildSaBridge bridge;
        final Dataplane dataplane;

        Side(InetAddress me, InetAddress peer, String mine, String theirs) {
            // The test thread is the IKE thread: what the bridge hands to it runs at once.
            InboundDatagrams port4500 = new InboundDatagrams(16, Runnable::run, (d, l, r) -> { });
            bridge = new ChildSaBridge(Runnable::run, clock, port4500);
            engine = new IkeEngine(network.transport(), clock, bridge);
            dataplane = Dataplane.withoutIo(new Dataplane.Settings("test0", List.of(me), 4500, true, 1500, 1350, 1 << 20), bridge);
            bridge.connect(engine, dataplane);
            dataplane.tunnels(List.of(new Dataplane.TunnelSpec("site", false, List.of(theirs))));
            engine.addConnection(Connection.builder("site").local(me, null).remote(peer, Identity.of(peer))
                    .preSharedKey("a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII)).ike(IKE).esp("aes128gcm16")
                    .localTs(mine).remoteTs(theirs).build());
            network.attach(me, engine);
        }

        /** The inbound SPI of the SA that carries this side's outbound traffic, as a list (empty: none). */
        List<Integer> outbound() {
            return dataplane.status().getFirst().sas().stream().filter(Dataplane.SaStatus::carriesOutbound).map(Dataplane.SaStatus::inboundSpi)
                    .toList();
        }

        /** The inbound SPIs of every SA the data plane still receives on. */
        List<Integer> receiving() {
            return dataplane.status().getFirst().sas().stream().map(Dataplane.SaStatus::inboundSpi).toList();
        }

        IkeSa ikeSa() {
            return engine.ikeSas().iterator().next();
        }
    }

    @Test
    void aChildSaIsInstalledRekeyedAndRetiredInTheDataPlane() {
        a.engine.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        int first = a.ikeSa().childSas().getFirst().inbound().spi();
        assertEquals(List.of(first), a.outbound(), "installed at A");
        assertEquals(1, b.outbound().size(), "installed at B");
        assertEquals(a.ikeSa().childSas().getFirst().outbound().spi(), b.outbound().getFirst(), "the same SA seen from both ends");

        a.ikeSa().rekeyChild(first);
        network.deliverAll(clock);
        List<Integer> afterRekey = a.outbound();
        assertEquals(1, afterRekey.size(), "the replacement carries A's traffic: " + afterRekey);
        int second = afterRekey.getFirst();
        assertNotEquals(first, second);
        assertEquals(List.of(second, first), a.receiving(), "the old SA is retired: it still receives what was on its way");
        assertEquals(1, b.outbound().size());

        clock.advance(ChildSaBridge.INBOUND_GRACE.minusMillis(1));
        assertEquals(List.of(second, first), a.receiving(), "still within its grace");
        clock.advance(Duration.ofMillis(2));
        assertEquals(List.of(second), a.receiving(), "gone after " + ChildSaBridge.INBOUND_GRACE);
        assertEquals(List.of(second), a.outbound());
    }

    /* The data plane counted the soft lifetime of an SA: the bridge makes IKE rekey it. */
    @Test
    void aSoftLifetimeFromTheDataPlaneBecomesARekey() {
        a.engine.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        int first = a.ikeSa().childSas().getFirst().inbound().spi();
        a.bridge.lifetime(first, false);
        network.deliverAll(clock);
        assertNotEquals(List.of(first), a.outbound());
        assertEquals(1, a.ikeSa().childSas().size());
    }
}
