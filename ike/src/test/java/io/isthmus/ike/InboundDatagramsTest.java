package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hand-off of port 4500's IKE datagrams from the packet thread to the engine's thread: a
 * flood fills the queue and the rest is dropped and counted, never queued without bound; the
 * engine's thread takes them in batches so its other tasks keep their turn.
 */
class InboundDatagramsTest {
    final ArrayDeque<Runnable> loop = new ArrayDeque<>();
    final List<byte[]> received = new ArrayList<>();
    final InetSocketAddress here = new InetSocketAddress("10.0.0.1", 4500);
    final InetSocketAddress there = new InetSocketAddress("10.0.0.2", 4500);

    @Test
    void aFloodIsBoundedAndCounted() {
        InboundDatagrams q = new InboundDatagrams(256, loop::add, (d, l, r) -> received.add(d));
        byte[] buffer = new byte[2000];
        for (int i = 0; i < 10_000; i++) {
            buffer[100] = (byte) i;
            q.offer(buffer, 100, 300, here, there);
        }
        assertEquals(256, q.accepted());
        assertEquals(10_000 - 256, q.dropped());
        assertEquals(1, loop.size(), "one drain task, however many datagrams");
        // Each turn takes a batch, then lets the loop's other tasks run.
        loop.add(() -> received.add(null));
        int turns = 0;
        while (!loop.isEmpty()) {
            loop.poll().run();
            turns++;
        }
        assertEquals(256, received.stream().filter(d -> d != null).count());
        assertTrue(received.indexOf(null) <= InboundDatagrams.BATCH, "the other task ran after the first batch: " + received.indexOf(null));
        assertEquals(256 / InboundDatagrams.BATCH + 2, turns, "8 full batches, one that finds the queue empty, the other task");
        assertEquals(300, received.getFirst().length, "a copy of the datagram, not the reused buffer");
        // Drained: there is room again.
        assertTrue(q.offer(buffer, 0, 10, here, there));
    }

    /* A flood of IKE_SA_INIT fills its own queue; messages for SAs that exist still get in, and go first. */
    @Test
    void messagesForExistingSasAreNotCrowdedOut() {
        InboundDatagrams q = new InboundDatagrams(256, loop::add, (d, l, r) -> received.add(d));
        byte[] init = new byte[300];
        for (int i = 0; i < 1000; i++) {
            q.offer(init, 0, init.length, here, there);
        }
        byte[] forAnSa = new byte[300];
        forAnSa[15] = 1; // responder SPI set
        for (int i = 0; i < 10; i++) {
            assertTrue(q.offer(forAnSa, 0, forAnSa.length, here, there), "not dropped behind the flood");
        }
        loop.poll().run();
        for (int i = 0; i < 10; i++) {
            assertEquals(1, received.get(i)[15], "served first: datagram " + i);
        }
        assertEquals(0, received.get(10)[15]);
    }

    /* Should the engine ever throw, the queue must keep going: otherwise IKE on 4500 stops for good. */
    @Test
    void aReceiverThatThrowsDoesNotStopTheQueue() {
        boolean[] thrown = {false};
        InboundDatagrams q = new InboundDatagrams(256, loop::add, (d, l, r) -> {
            if (!thrown[0]) {
                thrown[0] = true;
                throw new IllegalStateException("a bug");
            }
            received.add(d);
        });
        q.offer(new byte[40], 0, 40, here, there);
        while (!loop.isEmpty()) {
            loop.poll().run();
        }
        q.offer(new byte[40], 0, 40, here, there);
        while (!loop.isEmpty()) {
            loop.poll().run();
        }
        assertEquals(1, received.size(), "the datagram after the failure is delivered");
    }
}
