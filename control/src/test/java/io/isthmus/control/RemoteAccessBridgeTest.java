package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.Drop;
import io.isthmus.dataplane.TunnelTable;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A remote-access client's child SA as the daemon wires it (gateway B, pool 172.16.201.0/24,
 * reaching 10.1.0.0/16; client A asks for an address): installed in a tunnel of its own behind the
 * host route of its address, carrying the client's packets from that address and the gateway's
 * replies to it, dropping (and counting) what the client sends from another address, and gone with
 * its route once the client's IKE SA is.
 */
class RemoteAccessBridgeTest {
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");
    static final String IKE = "aes128gcm16-prfsha256-ecp256";
    static final byte[] PSK = "a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII);

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final InMemoryEspPort espA = new InMemoryEspPort();
    final InMemoryEspPort espB = new InMemoryEspPort();
    final List<byte[]> deliveredA = new ArrayList<>();
    final List<byte[]> deliveredB = new ArrayList<>();
    final InMemoryTun tunA = new InMemoryTun(false, false, (b, o, l) -> deliveredA.add(Arrays.copyOfRange(b, o, o + l)));
    final InMemoryTun tunB = new InMemoryTun(false, false, (b, o, l) -> deliveredB.add(Arrays.copyOfRange(b, o, o + l)));
    final IkeEngine client;
    final IkeEngine gateway;
    final Dataplane clientPlane;
    final Dataplane gatewayPlane;

    RemoteAccessBridgeTest() {
        InboundDatagrams none = new InboundDatagrams(16, Runnable::run, (d, l, r) -> { });
        ChildSaBridge bridgeA = new ChildSaBridge(Runnable::run, clock, none);
        ChildSaBridge bridgeB = new ChildSaBridge(Runnable::run, clock, none);
        bridgeB.remoteAccess(Set.of("p2s"));
        client = new IkeEngine(network.transport(), clock, bridgeA);
        gateway = new IkeEngine(network.transport(), clock, bridgeB);
        clientPlane = Dataplane.overMemory(new Dataplane.Settings("test0", List.of(A), 4500, true, 1500, 1350, 1 << 20), bridgeA, tunA, espA);
        gatewayPlane = Dataplane.overMemory(new Dataplane.Settings("test1", List.of(B), 4500, true, 1500, 1350, 1 << 20), bridgeB, tunB, espB);
        bridgeA.connect(client, clientPlane);
        bridgeB.connect(gateway, gatewayPlane);
        clientPlane.tunnels(List.of(new Dataplane.TunnelSpec("rw", false, List.of("10.1.0.0/16"))));
        gatewayPlane.tunnels(List.of(new Dataplane.TunnelSpec("site", false, List.of("192.168.99.0/24"))));
        VirtualAddressPool pool = new VirtualAddressPool(List.of(InetAddress.ofLiteral("172.16.201.0")), List.of(24), 10, Duration.ofMinutes(10),
                System::nanoTime);
        gateway.addConnection(Connection.builder("p2s").local(B, null).remote(null, null).preSharedKey(PSK.clone()).ike(IKE).esp("aes128gcm16")
                .localTs("10.1.0.0/16").remoteTs("172.16.201.0/24")
                .remoteAccess(new RemoteAccess(pool, null, List.of(), List.of(new ConfigurationReply.Subnet(InetAddress.ofLiteral("10.1.0.0"), 16)),
                        new RevokedCertificates(List.of())))
                .build());
        client.addConnection(Connection.builder("rw").local(A, Identity.parse("alice@example.net")).remote(B, Identity.of(B))
                .preSharedKey(PSK.clone()).ike(IKE).esp("aes128gcm16").localTs("0.0.0.0/0").remoteTs("10.1.0.0/16")
                .virtualIp(InetAddress.ofLiteral("0.0.0.0")).build());
        network.attach(A, client);
        network.attach(B, gateway);
    }

    static void drain(Dataplane d) {
        while (d.runDutyCycle() > 0) {
            // a burst per port each cycle
        }
    }

    /** A packet into {@code tun}, carried across to the other side's data plane. */
    void cross(InMemoryTun tun, Dataplane from, InMemoryEspPort fromEsp, Dataplane to, InMemoryEspPort toEsp, byte[] packet) {
        tun.offer(packet);
        drain(from);
        for (InMemoryEspPort.Datagram d; (d = fromEsp.sent().poll()) != null; ) {
            toEsp.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), d.udp(), d.bytes()));
        }
        drain(to);
    }

    boolean hostRoute(String prefix, String tunnel) {
        return gatewayPlane.tunnelRoutes().stream().anyMatch(r -> r.prefixText().equals(prefix) && r.tunnel().name().equals(tunnel));
    }

    @Test
    void aClientsChildSaHasItsOwnTunnelBehindItsHostRouteAndGoesWithIt() {
        IkeSa sa = client.initiate("rw", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        assertEquals(List.of(InetAddress.ofLiteral("172.16.201.1")), sa.virtualAddresses().addresses());
        assertTrue(hostRoute("172.16.201.1/32", "p2s/172.16.201.1"), gatewayPlane.tunnelRoutes().toString());

        byte[] out = ChildSaBridgeTest.udp("172.16.201.1", "10.1.0.5", 1);
        cross(tunA, clientPlane, espA, gatewayPlane, espB, out.clone());
        assertEquals(1, deliveredB.size());
        assertArrayEquals(out, deliveredB.getFirst());
        byte[] back = ChildSaBridgeTest.udp("10.1.0.5", "172.16.201.1", 2);
        cross(tunB, gatewayPlane, espB, clientPlane, espA, back.clone());
        assertArrayEquals(back, deliveredA.getFirst(), "the reply found the client by its host route");

        cross(tunA, clientPlane, espA, gatewayPlane, espB, ChildSaBridgeTest.udp("172.16.201.9", "10.1.0.5", 3));
        assertEquals(1, deliveredB.size(), "from another client's address");
        Dataplane.TunnelStatus t = gatewayPlane.status().stream().filter(s -> s.name().equals("p2s/172.16.201.1")).findFirst().orElseThrow();
        assertEquals(1L, t.drops().get(Drop.TS_MISMATCH));

        sa.delete();
        network.deliverAll(clock);
        assertTrue(hostRoute("172.16.201.1/32", "p2s/172.16.201.1"), "inbound still open within the grace");
        clock.advance(ChildSaBridge.INBOUND_GRACE.plusMillis(1));
        assertTrue(gatewayPlane.tunnelRoutes().stream().noneMatch(r -> r.prefixText().equals("172.16.201.1/32")), gatewayPlane.tunnelRoutes().toString());
        assertTrue(gatewayPlane.tunnelRoutes().stream().map(TunnelTable.Route::prefixText).anyMatch("192.168.99.0/24"::equals), "the site's stays");
    }
}
