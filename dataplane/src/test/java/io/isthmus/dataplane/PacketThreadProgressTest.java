package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.Dataplane.PacketThreadProgress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a watchdog reads of the packet threads: one count per thread, growing while it runs (an
 * idle one wakes every millisecond), standing still once it has stopped. A real data plane: a
 * TUN device (root, as CI runs) and UDP on a free port of 127.0.0.1.
 */
class PacketThreadProgressTest {
    private static final Dataplane.Events NONE = new Dataplane.Events() {
        @Override
        public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
        }
    };

    @ParameterizedTest(name = "{0} packet thread(s)")
    @ValueSource(ints = {1, 2, 4})
    void eachPacketThreadsCountGrowsWhileItRunsAndStopsWithIt(int threads) throws Exception {
        int port;
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        // A name of this run's own (at most 15 characters); the device goes with the data plane.
        String device = "isthp" + ProcessHandle.current().pid() % 100_000 + "-" + threads;
        Dataplane d = Dataplane.start(new Dataplane.Settings(device, List.of(InetAddress.getLoopbackAddress()), port, false, 1500, 1350, 1 << 20,
                true, threads), NONE);
        List<PacketThreadProgress> first;
        try {
            first = d.progress();
            assertEquals(threads, first.size());
            assertEquals(java.util.stream.IntStream.range(0, threads).mapToObj(i -> "isthmus-lane-" + i).toList(),
                    first.stream().map(PacketThreadProgress::thread).toList(), "a thread per lane, each with its TUN queue and socket");
            assertEquals(threads, d.lanes());
            long end = System.nanoTime() + 30_000_000_000L;
            boolean allMoved = false;
            while (!allMoved && System.nanoTime() < end) {
                Thread.sleep(5);
                List<PacketThreadProgress> now = d.progress();
                allMoved = true;
                for (int i = 0; i < threads; i++) {
                    allMoved &= now.get(i).dutyCycles() > first.get(i).dutyCycles();
                }
            }
            assertTrue(allMoved, () -> "every idle packet thread completes duty cycles: " + first + " then " + d.progress());
        } finally {
            d.close();
        }
        List<PacketThreadProgress> closed = d.progress();
        Thread.sleep(20);
        assertEquals(closed, d.progress(), "a stopped thread's count stands still: what a watchdog reads as stuck");
    }
}
