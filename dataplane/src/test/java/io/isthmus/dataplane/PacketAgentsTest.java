package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.Lifetime;
import io.isthmus.esp.UdpEncapsulation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two packet agents, one duty cycle at a time, over in-memory TUN devices and sockets: A's
 * outbound agent reads A's TUN and sends through A's sockets, B's inbound agent reads what
 * arrived on B's sockets and writes B's TUN, as two gateways' threads would.
 */
class PacketAgentsTest {
    final ForwardingTest t = new ForwardingTest();
    final ForwardingTest.Capture tunOfB = new ForwardingTest.Capture();
    final InMemoryTun tunA = new InMemoryTun(true, true, (bytes, offset, length) -> { });
    final InMemoryTun tunB = new InMemoryTun(true, true, tunOfB.tunFrames(true));
    final InMemoryEspPort espA = new InMemoryEspPort();
    final InMemoryEspPort espB = new InMemoryEspPort();
    final OutboundAgent outboundA = new OutboundAgent(t.a.forwarding(), tunA, espA.sender(), t.a.globalCounters(), 1350, t.a.captureSwitch());
    final InboundAgent inboundB = new InboundAgent(t.b.forwarding(), espB.receivers(), tunB, tunOfB, t.b.globalCounters(), 1350, t.b.captureSwitch());

    /** What A sent, handed to B's sockets, then B's inbound duty cycles until B has read it all. */
    void wire() {
        for (InMemoryEspPort.Datagram d; (d = espA.sent().poll()) != null; ) {
            espB.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), d.udp(), d.bytes()));
        }
        while (inboundB.doWork() > 0) {
            // one duty cycle reads at most PacketThreadIdle.BURST datagrams per socket
        }
    }

    @Test
    void aSuperPacketReadFromOneTunLeavesTheOtherMergedAgain() {
        t.tunnels(false);
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        byte[] sp = Packets.tcp("192.168.10.5", "192.168.20.7", 7000, 1350 * 100 / 3, Packets.TCP_ACK);
        byte[] original = sp.clone();
        tunA.offer(ForwardingTest.frame(Packets.tsoHeader(sp, 1350), sp));
        tunA.offer(ForwardingTest.frame(new byte[VirtioHeader.LENGTH], Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10)));
        assertEquals(2, outboundA.doWork(), "two TUN reads");
        assertEquals(0, outboundA.doWork());
        List<InMemoryEspPort.Datagram> sent = new ArrayList<>(espA.sent());
        assertEquals(34 + 1, sent.size());
        assertTrue(sent.stream().allMatch(d -> d.udp() && d.remote().getPort() == 4500));
        wire();
        assertEquals(2, tunOfB.tun.size(), "the segments merged into one write, then the datagram");
        byte[] merged = tunOfB.tun.getFirst();
        assertEquals(original.length, merged.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(original, 52, original.length), java.util.Arrays.copyOfRange(merged, 52, merged.length));
        assertEquals(35, ForwardingTest.tunnelCounters(t.b, "to-a").ingressPackets());
    }

    @Test
    void ikeMessagesOnPort4500GoToTheControlPlaneWithTheirAddresses() {
        t.tunnels(false);
        espB.deliver(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("198.51.100.7", 61000), true,
                UdpEncapsulation.ikeDatagram(new byte[] {9, 8, 7})));
        espB.deliver(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("198.51.100.7", 61000), true,
                UdpEncapsulation.keepalive()));
        assertEquals(2, inboundB.doWork());
        assertEquals(1, tunOfB.ike.size());
        assertArrayEquals(new byte[] {9, 8, 7}, tunOfB.ike.getFirst());
        assertEquals(ForwardingTest.at("198.51.100.7", 61000), tunOfB.ikeFrom.getFirst());
        assertEquals(0, t.b.globalCounters().drops());
    }
}
