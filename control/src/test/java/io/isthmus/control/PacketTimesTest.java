package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.isthmus.dataplane.Dataplane;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Last packet times from counters that move between looks: nothing before the first packet, the look's time when a count moved. */
class PacketTimesTest {
    static List<Dataplane.TunnelStatus> tunnel(long inPackets, long outPackets) {
        var sa = new Dataplane.SaStatus(0x1000, 0x2000, "AES_GCM_16_256", false, false, null, null, List.of(), List.of(), inPackets * 100, inPackets,
                outPackets * 100, outPackets, Map.of(), true);
        return List.of(new Dataplane.TunnelStatus("to-b", false, inPackets, inPackets * 100, outPackets, outPackets * 100, Map.of(), List.of(sa)));
    }

    @Test
    void aTimeOnlyForADirectionThatMoved() {
        PacketTimes times = new PacketTimes();
        Instant t0 = Instant.parse("2026-12-02T10:00:00Z");
        times.observe(tunnel(0, 0), t0);
        assertNull(times.lastIn(0x1000), "no packet yet: no time, not 'now'");
        assertNull(times.lastOut(0x1000));
        times.observe(tunnel(5, 0), t0.plusSeconds(5));
        assertEquals(t0.plusSeconds(5), times.lastIn(0x1000));
        assertNull(times.lastOut(0x1000));
        times.observe(tunnel(5, 3), t0.plusSeconds(10));
        assertEquals(t0.plusSeconds(5), times.lastIn(0x1000), "in has not moved since");
        assertEquals(t0.plusSeconds(10), times.lastOut(0x1000));
        times.observe(tunnel(4, 2), t0.plusSeconds(12)); // an older look, arriving late
        assertEquals(t0.plusSeconds(5), times.lastIn(0x1000), "a lower count is no packet");
        assertEquals(t0.plusSeconds(10), times.lastOut(0x1000));
        times.observe(List.of(), t0.plusSeconds(15));
        assertNull(times.lastIn(0x1000), "an SA gone is forgotten");
    }
}
