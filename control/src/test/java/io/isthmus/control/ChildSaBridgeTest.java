package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.Drop;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IKE and the data plane wired as the daemon wires them, without root: two IKE engines over an
 * in-memory network on a manual clock, each with its whole data plane (the packet agents, paths
 * and tables, over an in-memory TUN device and ESP sockets, stepped on the test thread) behind a
 * {@link ChildSaBridge}. A child SA IKE announces is installed in the data plane and carries
 * packets; a rekey puts the replacement in front and retires the old SA, which still opens what
 * was on its way until its grace has passed; a soft lifetime the data plane counts comes back to
 * IKE as a rekey.
 */
class ChildSaBridgeTest {
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");
    static final String IKE = "aes128gcm16-prfsha256-ecp256";

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    final Side a = new Side(A, B, "192.168.10.0/24", "192.168.20.0/24");
    final Side b = new Side(B, A, "192.168.20.0/24", "192.168.10.0/24");

    /** One gateway: its engine, its bridge, its data plane, and what the data plane wrote to its TUN device. */
    final class Side {
        final IkeEngine engine;
        final ChildSaBridge bridge;
        final Dataplane dataplane;
        final InMemoryEspPort esp = new InMemoryEspPort();
        final List<byte[]> delivered = new ArrayList<>();
        final InMemoryTun tun = new InMemoryTun(false, false, (bytes, offset, length) -> delivered.add(Arrays.copyOfRange(bytes, offset, offset + length)));

        Side(InetAddress me, InetAddress peer, String mine, String theirs) {
            // The test thread is the IKE thread: what the bridge hands to it runs at once.
            InboundDatagrams port4500 = new InboundDatagrams(16, Runnable::run, (d, l, r) -> { });
            bridge = new ChildSaBridge(Runnable::run, clock, port4500);
            engine = new IkeEngine(network.transport(), clock, bridge);
            dataplane = Dataplane.overMemory(new Dataplane.Settings("test0", List.of(me), 4500, true, 1500, 1350, 1 << 20), bridge, tun, esp);
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

        /** Duty cycles of this side's packet agents until they have nothing left to do. */
        void drain() {
            while (dataplane.runDutyCycle() > 0) {
                // each cycle reads a burst per port
            }
        }

        /** A packet from this side's network into its TUN device, and the ESP datagrams it became. */
        List<InMemoryEspPort.Datagram> send(byte[] packet) {
            tun.offer(packet);
            drain();
            List<InMemoryEspPort.Datagram> out = new ArrayList<>();
            for (InMemoryEspPort.Datagram d; (d = esp.sent().poll()) != null; ) {
                out.add(d);
            }
            return out;
        }

        /** Datagrams that crossed the wire to this side, read by its inbound agent. */
        void receive(List<InMemoryEspPort.Datagram> datagrams) {
            for (InMemoryEspPort.Datagram d : datagrams) {
                esp.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), d.udp(), d.bytes()));
            }
            drain();
        }
    }

    /** An IPv4 UDP packet between the two sites, its payload {@code tag} repeated. */
    static byte[] udp(String from, String to, int tag) {
        byte[] p = new byte[20 + 8 + 32];
        p[0] = 0x45;
        p[2] = (byte) (p.length >> 8);
        p[3] = (byte) p.length;
        p[8] = 64;
        p[9] = 17;
        System.arraycopy(InetAddress.ofLiteral(from).getAddress(), 0, p, 12, 4);
        System.arraycopy(InetAddress.ofLiteral(to).getAddress(), 0, p, 16, 4);
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = ~((sum & 0xFFFF) + (sum >>> 16)) & 0xFFFF;
        p[10] = (byte) (sum >> 8);
        p[11] = (byte) sum;
        p[21] = 53;
        p[23] = 53;
        p[25] = (byte) (8 + 32);
        Arrays.fill(p, 28, p.length, (byte) tag);
        return p;
    }

    /** The SPI an ESP datagram names (raw ESP here: no NAT between the two sides). */
    static int spi(InMemoryEspPort.Datagram d) {
        return ByteBuffer.wrap(d.bytes()).getInt(0);
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

    @Test
    void packetsCrossOnTheSaIkeAnnouncedAndOnBothSidesOfARekey() {
        a.engine.initiate("site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        network.deliverAll(clock);
        int first = a.ikeSa().childSas().getFirst().inbound().spi();
        int firstOut = a.ikeSa().childSas().getFirst().outbound().spi();

        byte[] there = udp("192.168.10.5", "192.168.20.7", 1);
        List<InMemoryEspPort.Datagram> esp = a.send(there.clone());
        assertEquals(1, esp.size());
        assertEquals(firstOut, spi(esp.getFirst()), "sealed with the SA IKE negotiated");
        assertEquals(new InetSocketAddress(B, 0).getAddress(), esp.getFirst().remote().getAddress());
        b.receive(esp);
        assertEquals(1, b.delivered.size());
        assertArrayEquals(there, b.delivered.getFirst(), "opened by the other end's data plane");
        byte[] back = udp("192.168.20.7", "192.168.10.5", 2);
        a.receive(b.send(back.clone()));
        assertArrayEquals(back, a.delivered.getFirst(), "and the way back");

        // Sealed before the rekey, still on the wire when the replacement takes over.
        List<InMemoryEspPort.Datagram> late = b.send(udp("192.168.20.7", "192.168.10.5", 3));
        List<InMemoryEspPort.Datagram> tooLate = b.send(udp("192.168.20.7", "192.168.10.5", 4));
        assertEquals(first, spi(late.getFirst()));
        a.ikeSa().rekeyChild(first);
        network.deliverAll(clock);
        int secondOut = a.ikeSa().childSas().getFirst().outbound().spi();
        assertNotEquals(firstOut, secondOut);
        List<InMemoryEspPort.Datagram> after = a.send(udp("192.168.10.5", "192.168.20.7", 5));
        assertEquals(secondOut, spi(after.getFirst()), "the replacement carries A's traffic at once");
        b.receive(after);
        assertEquals(2, b.delivered.size());
        assertEquals(5, b.delivered.getLast()[28]);

        a.receive(late);
        assertEquals(2, a.delivered.size(), "the retired SA still opens what was on its way");
        assertEquals(3, a.delivered.getLast()[28]);

        clock.advance(ChildSaBridge.INBOUND_GRACE.plusMillis(1));
        a.dataplane.reclaim();
        long unknownBefore = a.dataplane.globalCounters().drops(Drop.UNKNOWN_SPI);
        a.receive(tooLate);
        assertEquals(2, a.delivered.size(), "after its grace the old SA is gone");
        assertEquals(unknownBefore + 1, a.dataplane.globalCounters().drops(Drop.UNKNOWN_SPI));
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
