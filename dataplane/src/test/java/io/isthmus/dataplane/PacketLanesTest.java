package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.nat.NatRule;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EspPacket;
import io.isthmus.esp.ReplayWindow;
import io.isthmus.esp.SaParameters;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Two data planes over memory, A and B, each with several lanes run by threads of their own at
 * once, as {@link Dataplane#start} runs them: every packet of many flows through one SA arrives
 * exactly once, the SA's sequence numbers are unique, each flow keeps its order where the design
 * says it does, and B's replay window lets no duplicate through while several lanes open the
 * same SA's packets at once. No test here asserts a duration: lanes run until the outcome is
 * there or a wide deadline passes.
 */
class PacketLanesTest {
    static final int SPI_AB = 0x1000_0001;
    static final int SPI_BA = 0x2000_0002;
    /** Bytes of payload that carry a packet's flow and its index in the flow. */
    static final int PAYLOAD = 200;

    /** One side: a data plane with {@code lanes} lanes over memory, and what its TUN queues wrote. */
    static final class Side {
        final InMemoryEspPort esp;
        final List<InMemoryTun> queues = new ArrayList<>();
        /** Every TUN write, with the lane that made it. */
        final Queue<long[]> written = new ConcurrentLinkedQueue<>();
        final Dataplane dataplane;

        Side(int lanes) {
            esp = new InMemoryEspPort(lanes);
            for (int i = 0; i < lanes; i++) {
                int lane = i;
                queues.add(new InMemoryTun(false, false, (bytes, offset, length) -> written.add(new long[] {lane, flowOf(bytes, offset),
                        indexOf(bytes, offset)})));
            }
            dataplane = Dataplane.overMemory(ForwardingTest.settings(1500), new ForwardingTest.Capture(), queues, esp);
        }
    }

    /** The flow a test packet belongs to: its UDP source port less 10000. */
    static long flowOf(byte[] p, int ip) {
        return IpPacket.u16(p, ip + 20) - 10_000;
    }

    static long indexOf(byte[] p, int ip) {
        return IpPacket.u32(p, ip + 28);
    }

    static byte[] packet(int flow, int index) {
        byte[] p = Packets.udp4("192.168.10.5", "192.168.20.7", 10_000 + flow, 53, PAYLOAD);
        IpPacket.put32(p, 28, index);
        // The UDP checksum is left 0 (none): nothing on the way checks it.
        return p;
    }

    /** A's tunnel to B and B's to A, one child SA between them with a replay window of {@code window}. */
    static void join(Side a, Side b, int window) {
        a.dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"))));
        b.dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-a", false, List.of("192.168.10.0/24"))));
        byte[] kab = new byte[20];
        byte[] kba = new byte[20];
        ForwardingTest.RANDOM.nextBytes(kab);
        ForwardingTest.RANDOM.nextBytes(kba);
        a.dataplane.install(new SaPair("to-b", sa(SPI_BA, kba, window), sa(SPI_AB, kab, window), ForwardingTest.ANY, ForwardingTest.ANY,
                ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true));
        b.dataplane.install(new SaPair("to-a", sa(SPI_AB, kab, window), sa(SPI_BA, kba, window), ForwardingTest.ANY, ForwardingTest.ANY,
                ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true));
    }

    static SaParameters sa(int spi, byte[] key, int window) {
        return SaParameters.builder(spi, CipherSuite.AES128_GCM16).encryptionKey(key).replayWindow(window).build();
    }

    /**
     * Runs every lane of every side on a thread of its own until {@code done} (or 60 s pass: the
     * test then fails on what is missing), and rethrows what a lane threw.
     */
    static void runLanes(List<Side> sides, BooleanSupplier done) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (Side s : sides) {
            for (int i = 0; i < s.queues.size(); i++) {
                int lane = i;
                Thread t = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            if (s.dataplane.runDutyCycle(lane) == 0) {
                                Thread.onSpinWait();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "lane-" + lane);
                threads.add(t);
                t.start();
            }
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!done.getAsBoolean() && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a lane failed", failure.get());
        }
    }

    /**
     * A's lanes seal flows of one SA at once (each flow on one TUN queue, as the kernel's flow
     * hash puts it); B gets the datagrams as an SO_REUSEPORT group spreads them (one peer: one
     * lane). Every packet arrives once, the sequence numbers are 1 to n without a gap or a
     * repeat, and each flow arrives in the order it was sent, with sequence numbers that grow
     * along it.
     */
    @ParameterizedTest(name = "{0} lanes")
    @ValueSource(ints = {1, 2, 4})
    void everyPacketOnceSequenceNumbersUniqueAndEachFlowInOrder(int lanes) throws Exception {
        Side a = new Side(lanes);
        Side b = new Side(lanes);
        // Larger than the packets sent: none can fall below it however long a lane is descheduled
        // between sealing and sending, so a packet missing is a packet lost.
        join(a, b, ReplayWindow.MAX_SIZE);
        int flows = 16;
        int perFlow = 2_000;
        int total = flows * perFlow;
        // What left A, in the order each lane sent it, forwarded to B while the lanes run.
        List<byte[]> sentByA = new ArrayList<>();
        Thread feeder = new Thread(() -> {
            for (int i = 0; i < perFlow; i++) {
                for (int f = 0; f < flows; f++) {
                    a.queues.get(f % lanes).offer(packet(f, i));
                }
            }
        });
        feeder.start();
        runLanes(List.of(a, b), () -> {
            for (InMemoryEspPort.Datagram d; (d = a.esp.sent().poll()) != null; ) {
                synchronized (sentByA) {
                    sentByA.add(d.bytes());
                }
                b.esp.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), true, d.bytes()));
            }
            return b.written.size() >= total;
        });
        feeder.join();

        assertEquals(total, sentByA.size(), "ESP packets A sent");
        Set<Long> sequences = new HashSet<>();
        long highest = 0;
        long skew = 0;
        for (byte[] esp : sentByA) {
            assertEquals(SPI_AB, EspPacket.spi(esp, 0));
            long seq = EspPacket.sequence(esp, 0) & 0xFFFFFFFFL;
            assertTrue(sequences.add(seq), "sequence number used twice");
            highest = Math.max(highest, seq);
            skew = Math.max(skew, highest - seq);
        }
        // How far behind the highest number sent before it a packet left: what the peer's replay window must absorb.
        long outOfTurn = a.dataplane.tunnelsForTests().get("to-b").counters().outOfTurnSends();
        System.out.printf("%d lanes: %d packets, sequence numbers at most %d behind the highest sent before them, %d batches sent out of "
                + "turn%n", lanes, total, skew, outOfTurn);
        // Lanes send an SA's batches in sequence order: only a batch whose lane gave up waiting (counted) may leave behind.
        assertTrue(skew == 0 || outOfTurn > 0, "sequence numbers " + skew + " behind with no batch sent out of turn");
        if (lanes == 1) {
            assertEquals(0, outOfTurn, "one lane never waits for another");
        }
        for (long s = 1; s <= total; s++) {
            assertTrue(sequences.contains(s), "sequence number " + s + " never used: numbers 1 to " + total + " without a gap");
        }
        // Each flow in order at B, exactly once.
        Map<Long, Long> next = new HashMap<>();
        Set<Integer> lanesAtB = new HashSet<>();
        for (long[] w : b.written) {
            lanesAtB.add((int) w[0]);
            long expected = next.getOrDefault(w[1], 0L);
            assertEquals(expected, w[2], "flow " + w[1] + " at B: index " + w[2] + " where " + expected + " was next");
            next.put(w[1], expected + 1);
        }
        assertEquals(flows, next.size());
        next.forEach((f, n) -> assertEquals(perFlow, n, "packets of flow " + f));
        assertEquals(1, lanesAtB.size(), "one peer's ESP in UDP is opened by one lane: " + lanesAtB);
        assertEquals(0, b.dataplane.status().getFirst().drops().values().stream().mapToLong(Long::longValue).sum(), "drops at B");
    }

    /**
     * B's lanes open one SA's packets at once, each datagram twice (the copy on another lane,
     * as a replaying attacker's would arrive): every packet is delivered exactly once and every
     * copy is counted as a replay. The window is large enough that no packet can fall below it
     * however the threads are scheduled, so any shortfall is a packet lost, any excess a
     * duplicate let through.
     */
    @ParameterizedTest(name = "{0} lanes")
    @ValueSource(ints = {2, 4})
    void concurrentOpensOfOneSaDeliverEachPacketOnceAndCountEachReplay(int lanes) throws Exception {
        Side a = new Side(1);
        Side b = new Side(lanes);
        int total = 20_000;
        join(a, b, ReplayWindow.MAX_SIZE);
        List<byte[]> esp = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            a.queues.getFirst().offer(packet(i % 8, i));
            if (i % 64 == 63) {
                while (a.dataplane.runDutyCycle() > 0) {
                    // sealed on this thread: the traffic to replay
                }
            }
        }
        while (a.dataplane.runDutyCycle() > 0) {
            // the rest
        }
        for (InMemoryEspPort.Datagram d; (d = a.esp.sent().poll()) != null; ) {
            esp.add(d.bytes());
        }
        assertEquals(total, esp.size());
        // Each datagram on lane i % lanes and its copy on the next lane, all queued before the lanes start.
        for (int i = 0; i < esp.size(); i++) {
            byte[] d = esp.get(i);
            b.esp.deliver(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true, d),
                    i % lanes);
            b.esp.deliver(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true,
                    d.clone()), (i + 1) % lanes);
        }
        runLanes(List.of(b), () -> {
            Map<Drop, Long> drops = b.dataplane.status().getFirst().drops();
            return b.written.size() + drops.getOrDefault(Drop.ESP_REPLAY, 0L) >= 2L * total;
        });
        int[] seen = new int[total];
        Set<Integer> lanesUsed = new HashSet<>();
        for (long[] w : b.written) {
            seen[(int) w[2]]++;
            lanesUsed.add((int) w[0]);
        }
        for (int i = 0; i < total; i++) {
            assertEquals(1, seen[i], "packet " + i + " delivered " + seen[i] + " times");
        }
        Dataplane.TunnelStatus st = b.dataplane.status().getFirst();
        assertEquals(total, st.drops().getOrDefault(Drop.ESP_REPLAY, 0L), "copies dropped as replays: " + st.drops());
        assertEquals(total, st.drops().values().stream().mapToLong(Long::longValue).sum(), "no other drop: " + st.drops());
        // Which lane delivers a packet, the original's or the copy's, is the scheduler's choice: a lane that runs ahead
        // may deliver every one (CI saw that at 2 lanes), so the lanes used are reported, not required.
        System.out.println(lanes + " lanes, packets delivered by lanes " + lanesUsed);
        assertEquals(total, b.dataplane.sequenceState().getFirst().inboundHighest());
    }

    /** A Dynamic NAT rule's flow table has one writer: a data plane of several lanes refuses it, one of one lane takes it. */
    @Test
    void aDynamicNatRuleNeedsOneLane() {
        NatRule hide = new NatRule("hide", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("192.168.10.0/24"),
                new NatRule.Mapping("100.70.0.1/32"));
        var spec = List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"), List.of(hide)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Side(2).dataplane.tunnels(spec));
        assertTrue(e.getMessage().contains("Dynamic NAT rule hide needs one packet thread, not 2"), e.getMessage());
        Side one = new Side(1);
        one.dataplane.tunnels(spec);
        assertEquals(1, one.dataplane.status().size());
        assertEquals(List.of("lane 0 stepped by hand", "lane 1 stepped by hand", "lane 2 stepped by hand"),
                new Side(3).dataplane.progress().stream().map(Dataplane.PacketThreadProgress::thread).toList());
        assertEquals(3, new Side(3).dataplane.lanes());
        assertTrue(Arrays.asList(1, 2).contains(new Side(2).esp.laneOf(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500),
                ForwardingTest.at("10.0.0.1", 4500), true, new byte[0])) + 1));
    }
}
