package io.isthmus.control;

import io.isthmus.dataplane.Dataplane;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * When each child SA last carried a packet in and out, as swanctl's "in ... (5s ago)" shows: told
 * by its counters moving between two looks, not stamped by the packet threads, so the packet path
 * pays nothing. The gateway looks at every keep-up round (5 s) and at every status, so a time is
 * right to within {@link KeepUp#PERIOD}.
 */
final class PacketTimes {
    private record Seen(long inPackets, Instant inAt, long outPackets, Instant outAt) {
    }

    private final Map<Integer, Seen> byInboundSpi = new HashMap<>();

    /** The counters now: an SA whose count moved carried a packet since the last look. SAs gone are forgotten. */
    synchronized void observe(List<Dataplane.TunnelStatus> tunnels, Instant now) {
        Set<Integer> present = new HashSet<>();
        for (Dataplane.TunnelStatus t : tunnels) {
            for (Dataplane.SaStatus sa : t.sas()) {
                present.add(sa.inboundSpi());
                Seen before = byInboundSpi.get(sa.inboundSpi());
                long inBefore = before == null ? 0 : before.inPackets();
                long outBefore = before == null ? 0 : before.outPackets();
                // Looks are taken on several threads and may arrive out of order: only a count higher than any seen moved.
                Instant inAt = sa.inPackets() > inBefore ? now : before == null ? null : before.inAt();
                Instant outAt = sa.outPackets() > outBefore ? now : before == null ? null : before.outAt();
                byInboundSpi.put(sa.inboundSpi(), new Seen(Math.max(sa.inPackets(), inBefore), inAt, Math.max(sa.outPackets(), outBefore), outAt));
            }
        }
        byInboundSpi.keySet().retainAll(present);
    }

    /** When the SA of this inbound SPI last received a packet, or null if it never has. */
    synchronized Instant lastIn(int inboundSpi) {
        Seen s = byInboundSpi.get(inboundSpi);
        return s == null ? null : s.inAt();
    }

    /** When it last sent one, or null. */
    synchronized Instant lastOut(int inboundSpi) {
        Seen s = byInboundSpi.get(inboundSpi);
        return s == null ? null : s.outAt();
    }
}
