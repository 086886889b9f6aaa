package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.linux.PacketBuffer;
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
    static final class Wire implements Emitter {
        final ForwardingTest t;
        final PacketBuffer toB = new PacketBuffer(64 * 1024);
        int delivered;
        final Emitter tunB = new Emitter() {
            @Override
            public int sendEsp(InstalledSa.Outbound route, PacketBuffer b, int offset, int length, int segmentSize) {
                return -1;
            }

            @Override
            public int toTun(PacketBuffer b, int offset, int length) {
                delivered++;
                return length;
            }

            @Override
            public void toIke(byte[] message, int offset, int length) {
            }
        };

        final InboundPath pathB;

        Wire(ForwardingTest t) {
            this.t = t;
            this.pathB = new InboundPath(t.b, tunB, true, true);
        }

        @Override
        public int sendEsp(InstalledSa.Outbound route, PacketBuffer b, int offset, int length, int segmentSize) {
            System.arraycopy(b.bytes(), offset, toB.bytes(), 0, length);
            pathB.datagrams(toB, 0, length, segmentSize, true);
            pathB.flush();
            return (length + segmentSize - 1) / segmentSize;
        }

        @Override
        public int toTun(PacketBuffer b, int offset, int length) {
            return length;
        }

        @Override
        public void toIke(byte[] message, int offset, int length) {
        }
    }

    @Test
    void outboundAndInboundAllocateNothingPerPacket() {
        ForwardingTest t = new ForwardingTest();
        t.tunnels(true); // policy-based: selectors are checked on both sides
        t.childSa(0x1001, 0x2002, List.of(ForwardingTest.prefix("192.168.10.0/24")), List.of(ForwardingTest.prefix("192.168.20.0/24")),
                Lifetime.UNLIMITED);
        Wire wire = new Wire(t);
        OutboundPath pathA = new OutboundPath(t.a, wire);
        PacketBuffer buffer = new PacketBuffer(VirtioHeader.LENGTH + 64 * 1024);
        byte[] udp = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1372);
        byte[] syn = Packets.syn4("192.168.10.5", "192.168.20.7", 1460);
        // A TCP super-packet as the kernel hands it over with TSO: cut into 44 segments, merged again.
        byte[] tso = Packets.tcp4("192.168.10.5", "192.168.20.7", 1000, 1350 * 44);
        byte[] tsoHeader = Packets.tsoHeader(tso, 1350);
        run(pathA, buffer, udp, syn, tso, tsoHeader, 20_000);
        int rounds = 50_000;
        int delivered = wire.delivered;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        run(pathA, buffer, udp, syn, tso, tsoHeader, rounds);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // Each round of 16: 14 UDP, 1 SYN, 1 super-packet that arrives merged as one write.
        assertEquals(rounds, wire.delivered - delivered);
        int packets = rounds / 16 * (15 + 44);
        assertTrue(allocated < packets / 10, allocated + " bytes allocated for " + packets + " packets");
    }

    private static void run(OutboundPath path, PacketBuffer buffer, byte[] udp, byte[] syn, byte[] tso, byte[] tsoHeader, int count) {
        for (int i = 0; i < count; i++) {
            byte[] p = i % 16 == 0 ? syn : i % 16 == 1 ? tso : udp;
            java.util.Arrays.fill(buffer.bytes(), 0, VirtioHeader.LENGTH, (byte) 0);
            if (p == tso) {
                System.arraycopy(tsoHeader, 0, buffer.bytes(), 0, VirtioHeader.LENGTH);
            }
            System.arraycopy(p, 0, buffer.bytes(), VirtioHeader.LENGTH, p.length);
            path.packet(buffer, 0, VirtioHeader.LENGTH + p.length);
            path.flush();
        }
    }
}
