package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.Lifetime;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The forwarding snapshot across tunnel changes: each change publishes one consistent whole. */
class ForwardingSnapshotTest {
    final ForwardingTest t = new ForwardingTest();

    static Dataplane.TunnelSpec spec(String name, boolean policyBased, String... prefixes) {
        return new Dataplane.TunnelSpec(name, policyBased, List.of(prefixes));
    }

    @Test
    void aNewTunnelInAFreedSlotStartsWithoutTheOldTunnelsSas() {
        t.tunnels(false);
        t.a.tunnels(List.of(spec("to-b", false, "192.168.20.0/24"), spec("other", false, "10.9.0.0/16")));
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        Tunnel toB = t.a.tunnelsForTests().get("to-b");
        t.a.tunnels(List.of(spec("other", false, "10.9.0.0/16"), spec("newcomer", false, "192.168.20.0/24")));
        Tunnel newcomer = t.a.tunnelsForTests().get("newcomer");
        assertEquals(toB.slot(), newcomer.slot(), "the freed slot is taken again");
        assertEquals(0, ForwardingTest.outbound(t.a, "newcomer").length);
        assertNull(t.a.snapshot().inbound(0x2002), "the gone tunnel's SA went with it");
        assertTrue(t.sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10)).isEmpty());
        assertEquals(1, ForwardingTest.tunnelCounters(t.a, "newcomer").drops(Drop.NO_SA));
    }

    @Test
    void aTunnelThatStaysKeepsItsSasAndCountersWhileOthersComeAndGo() {
        t.tunnels(false);
        t.a.tunnels(List.of(spec("to-b", false, "192.168.20.0/24")));
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        Tunnel before = t.a.tunnelsForTests().get("to-b");
        t.a.tunnels(List.of(spec("first", true, "10.1.0.0/16"), spec("to-b", false, "192.168.20.0/24", "fd20::/64")));
        assertSame(before, t.a.tunnelsForTests().get("to-b"));
        assertEquals(1, ForwardingTest.outbound(t.a, "to-b").length);
        assertNotNull(t.a.snapshot().inbound(0x2002));
        assertEquals(List.of(0x1001), t.sendFromA(Packets.udp6("fd10::5", "fd20::7", 1, 2, 10)).stream()
                .map(e -> io.isthmus.esp.EspPacket.spi(e, 0)).toList(), "the prefix added to the tunnel routes at once");
        // Policy-based now: a different tunnel under the same name, which starts without SAs.
        t.a.tunnels(List.of(spec("to-b", true, "192.168.20.0/24")));
        assertEquals(0, ForwardingTest.outbound(t.a, "to-b").length);
        assertSame(before.counters(), t.a.tunnelsForTests().get("to-b").counters(), "its counters carry on");
    }
}
