package io.isthmus.dataplane.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The flow table alone: ports, expiry, and the two threads it is shared by. */
class FlowTableTest {
    static final int POOL = NatPackets.address("203.0.113.8");

    @Test
    void everyLiveFlowHasAnExternalPortOfItsOwnAcrossThePool() {
        FlowTable t = new FlowTable(3000, POOL, 2, 60000, 2000);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 3000; i++) {
            int slot = t.forward(NatPackets.address("10.0.0.1") + i % 13, 1000 + i, IpPacket.PROTO_UDP, NatPackets.address("8.8.8.8"), 53, 0, 0);
            assertTrue(slot >= 0);
            int port = t.externalPort(slot);
            assertTrue(port >= 60000 && port < 62000, "within the configured range: " + port);
            assertTrue(t.inPool(t.externalAddress(slot)));
            assertTrue(seen.add((long) t.externalAddress(slot) << 16 | port));
        }
        assertEquals(3000, t.inUse());
        assertEquals(FlowTable.FULL, t.forward(NatPackets.address("10.0.0.99"), 1, IpPacket.PROTO_UDP, 1, 1, 0, 0));
        assertEquals(FlowTable.NONE, t.reverse(POOL + 5, 60000, IpPacket.PROTO_UDP, NatPackets.address("8.8.8.8"), 53, 0, 0, true),
                "an address outside the pool");
        assertEquals(FlowTable.NONE, t.reverse(POOL, 59999, IpPacket.PROTO_UDP, NatPackets.address("8.8.8.8"), 53, 0, 0, true),
                "a port outside the range");
    }

    @Test
    void aSweepFreesOnlyExpiredFlows() {
        FlowTable t = new FlowTable(10, POOL, 1, 1024, 64512);
        for (int i = 0; i < 10; i++) {
            t.forward(1, i, i < 5 ? IpPacket.PROTO_UDP : IpPacket.PROTO_ICMP, 2, i < 5 ? 3 : 0, 0, 0);
        }
        long later = FlowTable.ICMP_NANOS + 1;
        t.sweep(later, 10);
        assertEquals(5, t.inUse(), "the ICMP flows idled out, the UDP ones not yet");
        t.sweep(FlowTable.UDP_NANOS + 1, 10);
        assertEquals(0, t.inUse());
    }

    @Test
    void aFlowJustMadeCanBeReleasedButOneFoundCannot() {
        FlowTable t = new FlowTable(4, POOL, 1, 1024, 64512);
        int remote = NatPackets.address("10.0.0.5");
        int slot = t.forward(1, 4000, IpPacket.PROTO_UDP, remote, 53, 0, 0);
        assertTrue(t.made());
        t.release(slot);
        assertEquals(0, t.inUse(), "released: its slot is free");
        assertEquals(FlowTable.NONE, t.reverse(t.externalAddress(slot), t.externalPort(slot), IpPacket.PROTO_UDP, remote, 53, 0, 1, true));
        int kept = t.forward(1, 4000, IpPacket.PROTO_UDP, remote, 53, 0, 0);
        assertTrue(t.made());
        assertEquals(kept, t.forward(1, 4000, IpPacket.PROTO_UDP, remote, 53, 0, 1));
        assertTrue(!t.made(), "found, not made");
        t.release(kept);
        assertEquals(1, t.inUse(), "a flow that was there before the packet stays");
        assertTrue(t.reverse(t.externalAddress(kept), t.externalPort(kept), IpPacket.PROTO_UDP, remote, 53, 0, 2, true) >= 0);
        // Once made and released, a second release of the same slot frees nothing else.
        int other = t.forward(2, 4001, IpPacket.PROTO_UDP, remote, 53, 0, 3);
        t.release(other);
        t.release(other);
        assertEquals(1, t.inUse());
    }

    /** A reload: a renamed rule keeps its flows, but two copies of one rule never share a table. */
    @Test
    void aReloadHandsEachFlowTableToOneRuleAtMost() {
        NatRule a = new NatRule("a", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("192.168.20.0/24"),
                new NatRule.Mapping("203.0.113.9/32"), 0);
        NatRule renamed = new NatRule("b", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping(" 192.168.20.0/24"),
                new NatRule.Mapping("203.0.113.9"), NatRule.DEFAULT_FLOW_CAPACITY);
        NatRule other = new NatRule("a", NatRule.Mode.INGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("192.168.20.0/24"),
                new NatRule.Mapping("203.0.113.9/32"), 0);
        assertTrue(a.translatesAs(renamed) && !a.equals(renamed));
        assertTrue(!a.translatesAs(other), "another mode");
        TunnelNat before = TunnelNat.of(java.util.List.of(a), null, () -> 0);
        FlowTable table = before.flowTables().get(a);
        TunnelNat after = TunnelNat.of(java.util.List.of(renamed, a), before, () -> 0);
        assertTrue(after.flowTables().get(a) == table, "the same rule by name first");
        assertTrue(after.flowTables().get(renamed) != table, "the copy gets a table of its own");
        TunnelNat onlyRenamed = TunnelNat.of(java.util.List.of(renamed), after, () -> 0);
        assertTrue(onlyRenamed.flowTables().get(renamed) == after.flowTables().get(renamed), "its own by name, not the renamed one's");
        TunnelNat renamedOnly = TunnelNat.of(java.util.List.of(renamed), before, () -> 0);
        assertTrue(renamedOnly.flowTables().get(renamed) == table, "only renamed: the flows stay");
        TunnelNat changed = TunnelNat.of(java.util.List.of(other), before, () -> 0);
        assertTrue(changed.flowTables().get(other) != table);
    }

    /**
     * One thread makes, refreshes and lets expire flows as fast as it can; the other looks them up
     * by external port. Every flow's internal port is a function of its remote port, so a lookup
     * that ever returned a half-written or reused flow's fields would be caught.
     */
    @Test
    void theReverseThreadNeverSeesAFlowHalfWritten() throws Exception {
        FlowTable t = new FlowTable(256, POOL, 1, 1024, 64512);
        AtomicLong clock = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> wrong = new AtomicReference<>();
        long[] hits = new long[1];
        Thread reverse = new Thread(() -> {
            while (!stop.get()) {
                for (int port = 1024; port < 1024 + 256; port++) {
                    for (int rport = 0; rport < 64; rport++) {
                        int slot = t.reverse(POOL, port, IpPacket.PROTO_UDP, 77, rport * 1000, 0, clock.get(), true);
                        if (slot >= 0) {
                            hits[0]++;
                            if (t.foundPort() != rport * 1000 + 7 || t.foundAddress() != 10 + rport) {
                                wrong.set("port " + port + ": " + t.foundAddress() + ":" + t.foundPort() + " for remote port " + rport * 1000);
                            }
                        }
                    }
                }
            }
        });
        reverse.start();
        long end = System.nanoTime() + 1_000_000_000L;
        int i = 0;
        while (System.nanoTime() < end) {
            int rport = i++ & 63;
            clock.addAndGet(FlowTable.UDP_NANOS / 50);
            int slot = t.forward(10 + rport, rport * 1000 + 7, IpPacket.PROTO_UDP, 77, rport * 1000, 0, clock.get());
            if (slot < 0 && slot != FlowTable.FULL) {
                wrong.set("forward " + slot);
            }
            // New flows for the same internal key as old ones expire: keys cycle through the table.
            if ((i & 63) == 0) {
                clock.addAndGet(FlowTable.UDP_NANOS + 1);
            }
            t.sweep(clock.get(), 4);
        }
        stop.set(true);
        reverse.join();
        assertEquals(null, wrong.get());
        assertTrue(hits[0] > 0, "the reverse thread found flows");
        assertTrue(i > 100_000, "flows made and expired: " + i);
    }
}
