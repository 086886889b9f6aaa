package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InMemoryChildSaListener;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The keep-up policy on a manual clock, without root: two gateways in Default mode (Azure's) that
 * start at the same instant both initiate, and settle on one IKE SA with one child; when one
 * restarts, the connection comes back and the survivor drops what the restarted one forgot.
 */
class KeepUpTest {
    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();

    static GatewayConfig config(String me, String peer, String mine, String theirs) {
        return ConfigReader.parse(Path.of("gw.yaml"), """
                virtualNetworkGateway:
                  name: gw-%1$s
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [%3$s]
                  instances:
                    - name: gw-%1$s-0
                      publicIpAddress: %1$s
                localNetworkGateways:
                  - name: site
                    gatewayIpAddress: %2$s
                    addressPrefixes: [%4$s]
                connections:
                  - name: to-site
                    localNetworkGateway: site
                    sharedKey: "a key for the keep-up test"
                    connectionMode: Default
                """.formatted(me, peer, mine, theirs), k -> null);
    }

    /** One gateway's IKE side: its engine, kept up. */
    final class Gateway {
        final IkeEngine engine;
        final InMemoryChildSaListener children = new InMemoryChildSaListener();
        final KeepUp keepUp;

        Gateway(String me, String peer, String mine, String theirs) throws Exception {
            GatewayConfig c = config(me, peer, mine, theirs);
            engine = new IkeEngine(network.transport(), clock, children);
            engine.addConnection(IkeConnections.of(c, c.instance(null), c.connections().getFirst()));
            network.attach(InetAddress.ofLiteral(me), engine);
            keepUp = new KeepUp(c, c.instance(null), engine, clock, () -> { });
        }

        List<IkeSa> established() {
            return engine.ikeSas().stream().filter(s -> s.state() == IkeSaState.ESTABLISHED).toList();
        }
    }

    void run(Duration d) {
        network.run(clock, d, Duration.ofMillis(500));
    }

    @Test
    void twoGatewaysStartingTogetherSettleOnOneIkeSa() throws Exception {
        Gateway a = new Gateway("10.0.0.1", "10.0.0.2", "192.168.10.0/24", "192.168.20.0/24");
        Gateway b = new Gateway("10.0.0.2", "10.0.0.1", "192.168.20.0/24", "192.168.10.0/24");
        a.keepUp.start(Duration.ZERO);
        b.keepUp.start(Duration.ZERO);
        run(Duration.ofSeconds(2));
        assertEquals(2, a.established().size(), "both initiated");
        run(Duration.ofSeconds(30));
        assertEquals(1, a.established().size(), "settled: " + a.engine.ikeSas());
        assertEquals(1, b.established().size(), "settled: " + b.engine.ikeSas());
        assertEquals(a.established().getFirst().initiatorSpi(), b.established().getFirst().initiatorSpi(), "on the same one");
        assertEquals(1, a.children.current().size());
        assertEquals(1, b.children.current().size());
    }

    @Test
    void aRestartedGatewayComesBackAndTheSurvivorForgetsTheOldSa() throws Exception {
        Gateway a = new Gateway("10.0.0.1", "10.0.0.2", "192.168.10.0/24", "192.168.20.0/24");
        Gateway b = new Gateway("10.0.0.2", "10.0.0.1", "192.168.20.0/24", "192.168.10.0/24");
        a.keepUp.start(Duration.ZERO);
        b.keepUp.start(Duration.ofSeconds(1));
        run(Duration.ofSeconds(40));
        assertEquals(1, a.established().size());
        long before = a.established().getFirst().initiatorSpi();
        // b dies (kill -9: nothing said) and comes back with nothing.
        b.keepUp.stop();
        Gateway b2 = new Gateway("10.0.0.2", "10.0.0.1", "192.168.20.0/24", "192.168.10.0/24");
        b2.keepUp.start(Duration.ofSeconds(1));
        run(Duration.ofSeconds(5));
        assertEquals(1, a.established().size(), "INITIAL_CONTACT: the old one went at once");
        assertTrue(a.established().getFirst().initiatorSpi() != before);
        assertEquals(a.established().getFirst().initiatorSpi(), b2.established().getFirst().initiatorSpi());
        run(Duration.ofSeconds(60));
        assertEquals(1, a.established().size(), "and stays so");
        assertEquals(1, a.children.current().size());
    }
}
