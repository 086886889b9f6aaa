package io.isthmus.dataplane;

import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.VirtioHeader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a packet costs with many tunnels against one: packets to {@code used} tunnels, spread
 * over a data plane of {@code of} ({@link ManyTunnels}: each its own /24 and child SA), one
 * packet per operation, each to the next of the used tunnels in turn, so that every one of them
 * has its table entries and SA state fetched as often as the others.
 *
 * <ul>
 *   <li>{@code tunnelTable}: the tunnel by the packet's destination (longest-prefix match) alone;
 *   <li>{@code saTable}: an SA by inbound SPI (the inbound path's lookup) alone;
 *   <li>{@code lookup}: the tables as the packet threads read them: the tunnel, its outbound SA
 *       (from the tunnel's slot), and the SA by inbound SPI: with 1,000 tunnels in turn, each
 *       tunnel's and SA's objects are fetched from memory, which the tables alone do not show;
 *   <li>{@code forward}: the whole outbound path for a 64-byte UDP packet: TUN read from memory,
 *       lookups, MSS check, AES-GCM-128 seal, the batch handed to a socket that discards it.
 * </ul>
 *
 * Each invocation handles {@link #BATCH} packets, and JMH samples invocations: the report takes
 * the median, which the moments another process had the core (this project's machines are shared
 * and busy) do not move, where a mean would carry them. Run through
 * {@link ForwardingBenchmarkReport}, which gives each as ns per packet and the ratio of 1,000 of
 * 10,000 tunnels to 1 of 1.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForwardingBenchmark {
    /** Packets per invocation: enough that the clock's cost is nothing beside them, few enough that most samples go uninterrupted. */
    static final int BATCH = 200;

    /** Tunnels used / tunnels in the data plane. */
    @Param({"1/1", "1000/10000"})
    public String tunnels;

    private ManyTunnels plane;
    private Forwarding forwarding;
    private OutboundPath path;
    private InMemoryTun tun;
    private final TunBatch batch = new TunBatch();
    private final ManyTunnels.Discard esp = new ManyTunnels.Discard();
    /** Each used tunnel's packet: as the TUN device hands it over, and its IP packet alone. */
    private byte[][] frames;
    private byte[][] packets;
    private int[] spis;
    private int next;

    @Setup
    public void build() {
        String[] parts = tunnels.split("/");
        int used = Integer.parseInt(parts[0]);
        int of = Integer.parseInt(parts[1]);
        plane = new ManyTunnels(of, 42);
        forwarding = plane.dataplane.forwarding();
        tun = new InMemoryTun(true, true, (bytes, offset, length) -> { });
        path = new OutboundPath(forwarding, plane.dataplane.globalCounters(), 1350, tun, esp, plane.dataplane.captureSwitch());
        frames = new byte[used][];
        packets = new byte[used][];
        spis = new int[used];
        for (int j = 0; j < used; j++) {
            int i = (int) ((long) j * of / used);
            packets[j] = Packets.udp4("192.168.0.5", ManyTunnels.host(i), 5000, 53, 64 - 28);
            frames[j] = ForwardingTest.frame(new byte[VirtioHeader.LENGTH], packets[j]);
            spis[j] = plane.inboundSpis[i];
        }
    }

    @TearDown
    public void checkEveryPacketLeft() {
        if (plane.dataplane.globalCounters().drops() != 0) {
            throw new IllegalStateException(tunnels + ": " + plane.dataplane.globalCounters().drops() + " packets dropped");
        }
    }

    private int nextPacket() {
        int k = next;
        next = k + 1 == packets.length ? 0 : k + 1;
        return k;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void tunnelTable(Blackhole bh) {
        ForwardingSnapshot s = forwarding.current();
        for (int i = 0; i < BATCH; i++) {
            bh.consume(s.tunnel(packets[nextPacket()], 0));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void saTable(Blackhole bh) {
        ForwardingSnapshot s = forwarding.current();
        for (int i = 0; i < BATCH; i++) {
            bh.consume(s.inbound(spis[nextPacket()]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void lookup(Blackhole bh) {
        for (int i = 0; i < BATCH; i++) {
            int k = nextPacket();
            byte[] p = packets[k];
            ForwardingSnapshot s = forwarding.current();
            Tunnel t = s.tunnel(p, 0);
            bh.consume(s.outbound(t, p, 0, p.length));
            bh.consume(s.inbound(spis[k]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long forward() {
        for (int i = 0; i < BATCH; i++) {
            tun.offer(frames[nextPacket()]);
            tun.read(batch);
            path.packets(batch);
            path.flush();
        }
        return esp.datagrams;
    }
}
