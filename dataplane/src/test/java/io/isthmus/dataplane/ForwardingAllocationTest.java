package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.Lifetime;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Both packet paths allocate nothing per packet: table lookups, selector checks, MSS clamping,
 * seal and open, counters. A's outbound hands each ESP packet straight into B's inbound buffer.
 * (Speed is issue 5's benchmark; this only guards the count.)
 */
class ForwardingAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Copies A's ESP into B's buffer and runs B's inbound path; counts what reaches B's TUN. */
    static final class Wire implements EspPort.Sender {
        final PacketBuffer toB = new PacketBuffer(64 * 1024);
        int delivered;
        final InMemoryTun tunB = new InMemoryTun(true, true, (bytes, offset, length) -> delivered++);
        /** A UDP socket as B's inbound path sees it (not read: the wire hands the datagrams over). */
        final EspPort.Receiver fromA = new InMemoryEspPort().receivers().getFirst();
        final InboundPath pathB;

        Wire(ForwardingTest t) {
            this.pathB = ForwardingTest.inboundPath(t.b, tunB, t.events);
        }

        @Override
        public int send(EspPort.Endpoint to, PacketBuffer b, int offset, int length, int segmentSize) {
            System.arraycopy(b.bytes(), offset, toB.bytes(), 0, length);
            pathB.datagrams(toB, 0, length, segmentSize, fromA);
            tunB.flush();
            return (length + segmentSize - 1) / segmentSize;
        }
    }

    @Test
    void outboundAndInboundAllocateNothingPerPacket() {
        ForwardingTest t = new ForwardingTest();
        t.tunnels(true); // policy-based: selectors are checked on both sides
        t.childSa(0x1001, 0x2002, List.of(ForwardingTest.prefix("192.168.10.0/24")), List.of(ForwardingTest.prefix("192.168.20.0/24")),
                Lifetime.UNLIMITED);
        Wire wire = new Wire(t);
        InMemoryTun tunA = new InMemoryTun(true, true, (bytes, offset, length) -> { });
        OutboundPath pathA = ForwardingTest.outboundPath(t.a, tunA, wire);
        TunBatch batch = new TunBatch();
        byte[] udp = ForwardingTest.frame(new byte[VirtioHeader.LENGTH], Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1372));
        byte[] syn = ForwardingTest.frame(new byte[VirtioHeader.LENGTH], Packets.syn4("192.168.10.5", "192.168.20.7", 1460));
        // A TCP super-packet as the kernel hands it over with TSO: cut into 44 segments, merged again.
        byte[] tsoPacket = Packets.tcp4("192.168.10.5", "192.168.20.7", 1000, 1350 * 44);
        byte[] tso = ForwardingTest.frame(Packets.tsoHeader(tsoPacket, 1350), tsoPacket);
        run(pathA, tunA, batch, udp, syn, tso, 20_000);
        int rounds = 50_000;
        int delivered = wire.delivered;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        run(pathA, tunA, batch, udp, syn, tso, rounds);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // Each round of 16: 14 UDP, 1 SYN, 1 super-packet that arrives merged as one write.
        assertEquals(rounds, wire.delivered - delivered);
        int packets = rounds / 16 * (15 + 44);
        assertTrue(allocated < packets / 10, allocated + " bytes allocated for " + packets + " packets");
    }

    private static void run(OutboundPath path, InMemoryTun tun, TunBatch batch, byte[] udp, byte[] syn, byte[] tso, int count) {
        for (int i = 0; i < count; i++) {
            tun.offer(i % 16 == 0 ? syn : i % 16 == 1 ? tso : udp);
            tun.read(batch);
            path.packets(batch);
            path.flush();
        }
    }
}
