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
    static final class Wire implements Forwarding.Emitter {
        final ForwardingTest t;
        final PacketBuffer toB = new PacketBuffer(64 * 1024);
        int delivered;
        final Forwarding.Emitter tunB = new Forwarding.Emitter() {
            @Override
            public int sendEsp(Routes.Outbound route, PacketBuffer b, int offset, int length) {
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

        Wire(ForwardingTest t) {
            this.t = t;
        }

        @Override
        public int sendEsp(Routes.Outbound route, PacketBuffer b, int offset, int length) {
            System.arraycopy(b.bytes(), offset, toB.bytes(), 0, length);
            t.b.forwarding().inbound(toB, 0, length, true, tunB);
            return length;
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
        PacketBuffer buffer = new PacketBuffer(64 * 1024);
        PacketBuffer scratch = new PacketBuffer(2048);
        byte[] udp = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1372);
        byte[] syn = Packets.syn4("192.168.10.5", "192.168.20.7", 1460);
        run(t, wire, buffer, scratch, udp, syn, 20_000);
        int packets = 50_000;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        run(t, wire, buffer, scratch, udp, syn, packets);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertEquals(70_000, wire.delivered);
        assertTrue(allocated < packets / 10, allocated + " bytes allocated for " + packets + " packets");
    }

    private static void run(ForwardingTest t, Wire wire, PacketBuffer buffer, PacketBuffer scratch, byte[] udp, byte[] syn, int count) {
        for (int i = 0; i < count; i++) {
            byte[] p = i % 16 == 0 ? syn : udp;
            System.arraycopy(p, 0, buffer.bytes(), Forwarding.HEADROOM, p.length);
            t.a.forwarding().outbound(buffer, p.length, scratch, wire);
        }
    }
}
