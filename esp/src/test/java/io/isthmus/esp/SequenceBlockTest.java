package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Blocks of sequence numbers ({@link OutboundSa#reserve}) as several packet threads take them
 * for one SA, the send order they are released in, and the replay window's guarantee under
 * concurrent opens checked against its definition.
 */
class SequenceBlockTest {
    private static final long NOW = 1_000_000;

    private static OutboundSa outbound(Lifetime lifetime, List<SaEvent> events) {
        return new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 11).lifetime(lifetime).build(), (sa, e) -> events.add(e));
    }

    @Test
    void threadsReservingAtOnceGetDisjointBlocksThatCoverEveryNumber() throws Exception {
        OutboundSa sa = outbound(Lifetime.UNLIMITED, new ArrayList<>());
        int threads = 4;
        int perThread = 20_000;
        AtomicIntegerArray owner = new AtomicIntegerArray(threads * perThread * 64 + 2);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        long[] reserved = new long[threads];
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread w = new Thread(() -> {
                OutboundSa.SequenceBlock b = new OutboundSa.SequenceBlock();
                Random random = new Random(me);
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        int n = sa.reserve(b, 1 + random.nextInt(64), NOW);
                        assertEquals(b.count(), n);
                        for (long s = b.first(); s <= b.last(); s++) {
                            assertTrue(owner.compareAndSet((int) s, 0, me + 1), "number " + s + " reserved twice");
                        }
                        reserved[me] += n;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(List.of(), failures);
        long total = 0;
        for (long r : reserved) {
            total += r;
        }
        assertEquals(total, sa.sequence());
        assertEquals(total, sa.packets());
        for (int s = 1; s <= total; s++) {
            assertTrue(owner.get(s) != 0, "number " + s + " never reserved");
        }
    }

    @Test
    void aBlockStopsAtTheLeaseEndAndTheShortfallSaysWhy() {
        OutboundSa sa = outbound(Lifetime.UNLIMITED, new ArrayList<>());
        sa.lease(10, NOW + TimeUnit.SECONDS.toNanos(1));
        OutboundSa.SequenceBlock b = new OutboundSa.SequenceBlock();
        assertEquals(8, sa.reserve(b, 8, NOW));
        assertEquals(1, b.first());
        assertEquals(2, sa.reserve(b, 8, NOW), "only 9 and 10 are granted");
        assertEquals(9, b.first());
        assertEquals(SealFailure.SEQUENCE_LEASE.code(), sa.shortfall());
        assertEquals(SealFailure.SEQUENCE_LEASE.code(), sa.reserve(b, 1, NOW), "nothing past the lease's end");
        sa.lease(20, NOW + TimeUnit.SECONDS.toNanos(1));
        assertEquals(SealFailure.SEQUENCE_LEASE.code(), sa.reserve(b, 1, NOW + TimeUnit.SECONDS.toNanos(2)), "nothing after its deadline");
        assertEquals(10, sa.sequence(), "a refusal takes no number");
        assertEquals(3, sa.reserve(b, 3, NOW));
        assertEquals(11, b.first());
    }

    @Test
    void packetLifetimesAreMetByBlocksThatCrossThem() {
        List<SaEvent> events = new ArrayList<>();
        OutboundSa sa = outbound(Lifetime.ofPackets(100, 150), events);
        OutboundSa.SequenceBlock b = new OutboundSa.SequenceBlock();
        assertEquals(64, sa.reserve(b, 64, NOW));
        assertEquals(List.of(), events);
        assertEquals(64, sa.reserve(b, 64, NOW), "65 to 128 cross the soft limit");
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_PACKETS), events);
        assertEquals(22, sa.reserve(b, 64, NOW), "up to the hard limit, 150, and no further");
        assertEquals(150, b.last());
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), sa.shortfall());
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), sa.reserve(b, 1, NOW));
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_PACKETS, SaEvent.HARD_LIFETIME_PACKETS), events);
        byte[] packet = new byte[sa.headerLength() + 40 + sa.suite().maxTrailerLength()];
        packet[sa.headerLength()] = 0x45;
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), sa.sealReserved(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4, 150),
                "once expired, nothing more is sealed");
    }

    @Test
    void aReservedNumberSealsAPacketThePeerOpensWithIt() {
        Sas.Pair sas = Sas.pair(CipherSuite.AES256_GCM16, false);
        OutboundSa.SequenceBlock b = new OutboundSa.SequenceBlock();
        assertEquals(3, sas.out().reserve(b, 3, NOW));
        byte[] inner = Sas.ipv4(100, 3);
        for (long s = b.last(); s >= b.first(); s--) {
            byte[] packet = new byte[sas.out().headerLength() + inner.length + sas.out().suite().maxTrailerLength()];
            System.arraycopy(inner, 0, packet, sas.out().headerLength(), inner.length);
            int n = sas.out().sealReserved(packet, 0, inner.length, EspPacket.NEXT_HEADER_IPV4, s);
            assertEquals(s, EspPacket.sequence(packet, 0) & 0xFFFFFFFFL);
            assertEquals(inner.length, sas.in().open(packet, 0, n), "opened, in reverse order, within the window");
        }
    }

    @Test
    void theSendOrderOnlyMovesForwardAndFollowsAResume() {
        OutboundSa sa = outbound(Lifetime.UNLIMITED, new ArrayList<>());
        assertEquals(0, sa.released());
        sa.release(5);
        sa.release(3);
        assertEquals(5, sa.released());
        sa.resumeAfter(1000);
        assertEquals(1000, sa.released(), "a takeover's first block is its turn at once");
        OutboundSa.SequenceBlock b = new OutboundSa.SequenceBlock();
        sa.reserve(b, 4, NOW);
        assertEquals(1001, b.first());
    }

    /**
     * The replay window's promise, checked against its definition with threads committing at
     * once: of numbers offered in any order by several threads (each several times), none is
     * accepted twice, and every one above the final window's bottom is accepted once: it was
     * inside the window whenever it was offered (the top only grows), so no thread could have
     * turned it away as too old.
     */
    @Property(tries = 30)
    void concurrentCommitsKeepTheWindowsDefinition(@ForAll @IntRange(min = 32, max = 2048) int size,
                                                   @ForAll @IntRange(min = 1, max = 256) int shuffleSpan,
                                                   @ForAll @IntRange(min = 2, max = 4) int threads,
                                                   @ForAll long seed) throws Exception {
        int numbers = 20_000;
        ReplayWindow w = new ReplayWindow(size);
        AtomicIntegerArray accepted = new AtomicIntegerArray(numbers + 1);
        List<Thread> workers = new ArrayList<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        Random random = new Random(seed);
        BitSet offered = new BitSet();
        for (int t = 0; t < threads; t++) {
            List<Integer> mine = new ArrayList<>(numbers);
            for (int s = 1; s <= numbers; s++) {
                if (random.nextInt(4) != 0) {
                    mine.add(s); // each thread offers three quarters of the numbers, so most arrive several times
                    offered.set(s);
                }
            }
            for (int i = 0; i < mine.size(); i += shuffleSpan) {
                Collections.shuffle(mine.subList(i, Math.min(mine.size(), i + shuffleSpan)), new Random(random.nextLong()));
            }
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int s : mine) {
                    if (w.commit(s) == ReplayWindow.ACCEPT) {
                        accepted.incrementAndGet(s);
                    }
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long top = w.highest();
        assertEquals(offered.length() - 1, top, "the top is the highest number offered");
        for (int s = 1; s <= numbers; s++) {
            assertTrue(accepted.get(s) <= 1, "sequence " + s + " accepted " + accepted.get(s) + " times");
            assertTrue(accepted.get(s) == 0 || offered.get(s), "sequence " + s + " accepted but never offered");
        }
        for (long s = Math.max(1, top - size + 1); s <= top; s++) {
            if (offered.get((int) s)) {
                assertEquals(1, accepted.get((int) s), "sequence " + s + " offered, within the final window [" + (top - size + 1) + ", "
                        + top + "], not accepted");
            }
        }
    }
}
