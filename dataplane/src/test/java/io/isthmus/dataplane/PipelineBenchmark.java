package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.ReplayWindow;
import io.isthmus.esp.SaParameters;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The packet paths of two gateways on as many lanes as JMH has threads ({@code -t 1, 2, 4}),
 * in memory: JMH thread {@code i} is lane {@code i} of both. Each operation offers 64 UDP packets
 * of {@link #size} bytes (64 flows) to gateway A's TUN queue {@code i}, as the kernel's flow hash
 * would queue them, runs one duty cycle of A's lane {@code i} (TUN read, tunnel lookup, sequence
 * numbers, seal, a GSO batch "sent") and one of B's lane {@code i} (the batch received as one UDP
 * GRO run, SA by SPI, replay check, open, selectors, TUN write), and counts what reached B's TUN
 * queue: {@code packets}, per second, is the figure. Nothing but memory copies stands for the
 * kernel, so this measures what the lanes themselves scale to: the per-SA shared state (the
 * sequence counter, the send order, the replay window, the tunnel's counters) and the caches.
 *
 * <p>{@link #sharing}: {@code one-sa}, every lane's flows through one tunnel and one SA (one
 * site-to-site tunnel carrying everything); {@code sa-per-lane}, lane {@code i}'s flows through
 * tunnel {@code i} with its own SA (many tunnels, or RFC 9611's per-CPU SAs): the ceiling. With
 * one SA, B's lanes open its packets at once (each lane reads its own ring), which one real peer
 * would not give them (its packets reach one lane): the figure is the outbound side's, and the
 * replay window's cost under concurrent opens.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PipelineBenchmark {
    /** Packets offered per operation: one duty cycle's burst of TUN reads. */
    static final int OFFERED = PacketThreadIdle.BURST;
    /** Longs between two lanes' counters: a cache line and its neighbour apart. */
    private static final int PAD = 16;

    @Param({"1400"})
    public int size;

    @Param({"one-sa", "sa-per-lane"})
    public String sharing;

    Dataplane a;
    Dataplane b;
    /** Per lane, the packets B wrote into its TUN queue (lane i at i * PAD). */
    long[] delivered;
    final List<InMemoryTun> sources = new ArrayList<>();
    /** Per lane, the frames its flows' packets are read as. */
    byte[][][] frames;

    @Setup(Level.Trial)
    public void gateways(BenchmarkParams params) {
        int lanes = params.getThreads();
        delivered = new long[(lanes + 1) * PAD];
        Loopback wire = new Loopback(lanes);
        List<TunPort> sinks = new ArrayList<>();
        frames = new byte[lanes][OFFERED][];
        for (int i = 0; i < lanes; i++) {
            sources.add(new InMemoryTun(false, false, (bytes, offset, length) -> { }));
            int lane = i;
            sinks.add(new InMemoryTun(false, false, (bytes, offset, length) -> delivered[lane * PAD]++));
            for (int f = 0; f < OFFERED; f++) {
                frames[i][f] = Packets.udp4("192.168.10." + (1 + f), "10." + i + ".0.1", 20_000 + f, 5001, size - 28);
            }
        }
        Dataplane.Settings settings = ForwardingTest.settings(1500);
        a = Dataplane.overMemory(settings, new ForwardingTest.Capture(), sources, wire.sending());
        b = Dataplane.overMemory(settings, new ForwardingTest.Capture(), sinks, wire.receiving());
        boolean one = sharing.equals("one-sa");
        List<Dataplane.TunnelSpec> tunnelsA = new ArrayList<>();
        List<Dataplane.TunnelSpec> tunnelsB = new ArrayList<>();
        for (int i = 0; i < (one ? 1 : lanes); i++) {
            tunnelsA.add(new Dataplane.TunnelSpec("t" + i, false, List.of(one ? "10.0.0.0/8" : "10." + i + ".0.0/16")));
            tunnelsB.add(new Dataplane.TunnelSpec("t" + i, false, List.of("192.168." + (100 + i) + ".0/24")));
        }
        a.tunnels(tunnelsA);
        b.tunnels(tunnelsB);
        for (int i = 0; i < tunnelsA.size(); i++) {
            byte[] k1 = new byte[20];
            byte[] k2 = new byte[20];
            ForwardingTest.RANDOM.nextBytes(k1);
            ForwardingTest.RANDOM.nextBytes(k2);
            int ab = 0x100 + i;
            int ba = 0x200 + i;
            a.install(new SaPair("t" + i, sa(ba, k2), sa(ab, k1), ForwardingTest.ANY, ForwardingTest.ANY, Loopback.A, Loopback.B, true));
            b.install(new SaPair("t" + i, sa(ab, k1), sa(ba, k2), ForwardingTest.ANY, ForwardingTest.ANY, Loopback.B, Loopback.A, true));
        }
    }

    /**
     * The largest replay window: B's lanes open one SA's batches in whatever order the threads
     * run, so a lane descheduled behind the others must not find its packets too old (a real
     * peer's packets all reach one lane, in order).
     */
    private static SaParameters sa(int spi, byte[] key) {
        return SaParameters.builder(spi, CipherSuite.AES128_GCM16).encryptionKey(key).replayWindow(ReplayWindow.MAX_SIZE).build();
    }

    @TearDown(Level.Trial)
    public void report() {
        long drops = b.status().stream().mapToLong(t -> t.drops().values().stream().mapToLong(Long::longValue).sum()).sum()
                + a.status().stream().mapToLong(t -> t.drops().values().stream().mapToLong(Long::longValue).sum()).sum();
        long outOfTurn = a.tunnelsForTests().values().stream().mapToLong(t -> t.counters().outOfTurnSends()).sum();
        long sent = a.status().stream().mapToLong(Dataplane.TunnelStatus::egressPackets).sum();
        System.out.printf("%n  [%s, %d lanes: %d packets sealed, %d dropped (%s), %d batches sent out of turn]%n", sharing,
                sources.size(), sent, drops, b.status().stream().map(t -> t.drops().toString()).toList(), outOfTurn);
    }

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    /** One lane: JMH's thread {@code i} runs lane {@code i} of both gateways. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Lane {
        int index;
        long counted;
        /** Packets that reached B's TUN queue: per second, the pipeline's rate. */
        public long packets;

        @Setup(Level.Trial)
        public void lane(ThreadParams thread) {
            index = thread.getThreadIndex();
        }

        @Setup(Level.Iteration)
        public void clear() {
            packets = 0;
        }
    }

    /**
     * The packets and this thread's CPU time of one iteration (JMH sums them over threads):
     * packets per CPU-second is what a lane costs whatever else the machine runs, so it shows
     * the lanes' contention (shared counters, cache lines moving, waiting for the send order)
     * even where other processes take the cores the packets-per-second figure would need.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuCost {
        long cpuAtStart;
        long counted;
        public long packetCount;
        public long cpuMicros;

        @Setup(Level.Iteration)
        public void start() {
            packetCount = 0;
            cpuMicros = 0;
            cpuAtStart = CPU.getCurrentThreadCpuTime();
        }

        @TearDown(Level.Iteration)
        public void stop() {
            cpuMicros = (CPU.getCurrentThreadCpuTime() - cpuAtStart) / 1000;
        }
    }

    @Benchmark
    public int dutyCycle(Lane lane, CpuCost cost) {
        int i = lane.index;
        InMemoryTun source = sources.get(i);
        byte[][] mine = frames[i];
        for (byte[] f : mine) {
            source.offer(f);
        }
        int work = a.runDutyCycle(i) + b.runDutyCycle(i);
        long now = delivered[i * PAD];
        lane.packets += now - lane.counted;
        cost.packetCount += now - lane.counted;
        lane.counted = now;
        return work;
    }

    /**
     * The wire between A and B, a ring of datagram runs per lane: what A's lane {@code i} sends
     * (a GSO batch), B's lane {@code i} receives as one GRO run, on the same thread. Nothing
     * allocated: slots are made once and reused.
     */
    static final class Loopback {
        static final InetSocketAddress A = ForwardingTest.at("10.255.0.1", 4500);
        static final InetSocketAddress B = ForwardingTest.at("10.255.0.2", 4500);
        private static final int SLOTS = 64;
        private static final EspPort.Endpoint TO_B = new EspPort.Endpoint() {
        };

        private final Ring[] rings;

        Loopback(int lanes) {
            rings = new Ring[lanes];
            for (int i = 0; i < lanes; i++) {
                rings[i] = new Ring();
            }
        }

        /** One lane's datagram runs, in the order sent. */
        static final class Ring implements EspPort.Receiver {
            final PacketBuffer[] runs = new PacketBuffer[SLOTS];
            final int[] lengths = new int[SLOTS];
            final int[] segments = new int[SLOTS];
            int head;
            int tail;
            int segmentSize;
            long overflow;

            Ring() {
                for (int i = 0; i < SLOTS; i++) {
                    runs[i] = new PacketBuffer(65_536);
                }
            }

            int send(PacketBuffer buffer, int offset, int length, int segmentSize) {
                if (tail - head == SLOTS) {
                    overflow++;
                    return -105; // ENOBUFS: counted as a send failure
                }
                int s = tail++ & (SLOTS - 1);
                System.arraycopy(buffer.bytes(), offset, runs[s].bytes(), 0, length);
                lengths[s] = length;
                segments[s] = segmentSize;
                return (length + segmentSize - 1) / segmentSize;
            }

            @Override
            public int receive(PacketBuffer buffer) {
                if (head == tail) {
                    return 0;
                }
                int s = head++ & (SLOTS - 1);
                System.arraycopy(runs[s].bytes(), 0, buffer.bytes(), 0, lengths[s]);
                segmentSize = segments[s];
                return lengths[s];
            }

            @Override
            public int offset() {
                return 0;
            }

            @Override
            public int segmentSize() {
                return segmentSize;
            }

            @Override
            public boolean udp() {
                return true;
            }

            @Override
            public InetSocketAddress localAddress() {
                return B;
            }

            @Override
            public InetSocketAddress lastSource() {
                return A;
            }
        }

        /** A's side: sends into the rings, receives nothing. */
        EspPort sending() {
            return new Side(true);
        }

        /** B's side: receives from the rings, sends nothing. */
        EspPort receiving() {
            return new Side(false);
        }

        private final class Side implements EspPort {
            private final boolean sends;

            Side(boolean sends) {
                this.sends = sends;
            }

            @Override
            public Endpoint endpoint(InetSocketAddress local, InetSocketAddress remote, boolean udp) {
                return TO_B;
            }

            @Override
            public Sender sender() {
                return sender(0);
            }

            @Override
            public Sender sender(int lane) {
                Ring ring = rings[lane];
                return sends ? (to, buffer, offset, length, segmentSize) -> ring.send(buffer, offset, length, segmentSize)
                        : (to, buffer, offset, length, segmentSize) -> (length + segmentSize - 1) / segmentSize;
            }

            @Override
            public List<Receiver> receivers() {
                return receivers(0);
            }

            @Override
            public List<Receiver> receivers(int lane) {
                return sends ? List.of() : List.of(rings[lane]);
            }

            @Override
            public void sendControl(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
            }

            @Override
            public void close() {
            }
        }
    }
}
