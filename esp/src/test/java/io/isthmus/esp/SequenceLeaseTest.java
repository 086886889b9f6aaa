package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Sequence leases ({@link OutboundSa#lease}) and the takeover's jumps ({@link OutboundSa#resumeAfter},
 * {@link ReplayWindow#advanceTo}): what keeps the two nodes of a gateway pair from ever sealing
 * under the same nonce.
 */
class SequenceLeaseTest {
    /** An arbitrary clock, handed to seal as the data plane hands it the time of its batch. */
    private static final long NOW = 1_000_000;
    private static final long LATER = NOW + TimeUnit.MINUTES.toNanos(1);

    private static OutboundSa outbound(boolean esn, SaListener listener) {
        return new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 7).esn(esn).build(), listener);
    }

    private static OutboundSa outbound() {
        return outbound(false, SaListener.NONE);
    }

    private static byte[] buffer(OutboundSa sa) {
        return new byte[sa.headerLength() + 40 + sa.suite().maxTrailerLength()];
    }

    /** Seals one 40-byte packet at {@code now}: its sequence number, or the failure. */
    private static long seal(OutboundSa sa, long now) {
        byte[] packet = buffer(sa);
        int n = sa.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4, now);
        return n < 0 ? n : EspPacket.sequence(packet, 0) & 0xFFFF_FFFFL;
    }

    private static final long REFUSED = SealFailure.SEQUENCE_LEASE.code();

    @Test
    void withoutALeaseOnlyTheSequenceSpaceLimits() {
        OutboundSa out = outbound();
        assertFalse(out.isLeased());
        assertEquals(0xFFFF_FFFFL, out.leaseEnd());
        assertEquals(1, seal(out, NOW));
        assertEquals(2, seal(out, Long.MIN_VALUE), "no deadline: the clock is not looked at");
        assertEquals(-1L, outbound(true, SaListener.NONE).leaseEnd(), "2^64 - 1 with ESN");
    }

    @Test
    void sealStopsExactlyAtTheLeaseEndAndGoesOnAfterAnExtension() {
        OutboundSa out = outbound();
        out.lease(5, LATER);
        assertTrue(out.isLeased());
        for (long s = 1; s <= 5; s++) {
            assertEquals(s, seal(out, NOW));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(REFUSED, seal(out, NOW), "past the lease's end");
        }
        assertEquals(5, out.sequence(), "a refusal takes no number");
        assertEquals(5, out.packets());

        out.lease(8, LATER);
        assertEquals(6, seal(out, NOW), "the extension goes on with the next number: none was skipped");
        assertEquals(7, seal(out, NOW));
        assertEquals(8, seal(out, NOW));
        assertEquals(REFUSED, seal(out, NOW));
        assertEquals(8, out.leaseEnd());
    }

    @Test
    void sealStopsAtTheDeadlineAndGoesOnWhenItMoves() {
        OutboundSa out = outbound();
        long deadline = NOW + 1_000;
        out.lease(100, deadline);
        assertEquals(1, seal(out, deadline - 1), "valid until just before its deadline");
        assertEquals(REFUSED, seal(out, deadline), "not at it");
        assertEquals(REFUSED, seal(out, deadline + 1));
        assertEquals(1, out.sequence(), "refusals take no number");
        out.lease(100, deadline + 1_000);
        assertEquals(2, seal(out, deadline));
    }

    @Test
    void theDeadlineSurvivesTheClockWrapping() {
        // System.nanoTime() may be anywhere, negative or about to wrap: compared as now - deadline.
        OutboundSa out = outbound();
        out.lease(10, Long.MIN_VALUE + 5);
        assertEquals(1, seal(out, Long.MAX_VALUE - 5), "10 ns before a deadline across the wrap");
        assertEquals(REFUSED, seal(out, Long.MIN_VALUE + 5));
    }

    @Test
    void aLeaseWithASmallerNumberDoesNotShrinkButMovesTheDeadline() {
        OutboundSa out = outbound();
        out.lease(10, LATER);
        out.lease(3, LATER);
        assertEquals(10, out.leaseEnd(), "the end never shrinks");
        for (long s = 1; s <= 4; s++) {
            assertEquals(s, seal(out, NOW));
        }
        out.lease(0, NOW); // revoked: the deadline moved to now
        assertEquals(REFUSED, seal(out, NOW));
        assertEquals(10, out.leaseEnd(), "revoking keeps the numbers granted");
        assertEquals(NOW, out.leaseDeadline());
        out.lease(0, LATER);
        assertEquals(5, seal(out, NOW), "a later deadline brings them back");
    }

    @Test
    void sealWithoutAClockReadsItsOwnWhenLeased() {
        OutboundSa out = outbound();
        out.lease(10, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        byte[] packet = buffer(out);
        assertTrue(out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4) > 0);
        out.lease(10, System.nanoTime());
        assertEquals(SealFailure.SEQUENCE_LEASE.code(), out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4));
    }

    @Test
    void anEmptyLeaseSealsNothing() {
        OutboundSa out = outbound();
        out.lease(0, LATER);
        assertEquals(REFUSED, seal(out, NOW));
        assertEquals(0, out.sequence());
    }

    @Test
    void resumeAfterOnlyMovesForward() {
        OutboundSa out = outbound();
        out.resumeAfter(1000);
        assertEquals(1000, out.sequence());
        assertEquals(1001, seal(out, NOW));
        out.resumeAfter(500);
        out.resumeAfter(1001);
        assertEquals(1002, seal(out, NOW), "a jump backwards or to where it is changes nothing");
        assertEquals(2, out.packets(), "numbers jumped over are not packets sealed here");

        OutboundSa esn = outbound(true, SaListener.NONE);
        esn.resumeAfter(0x1_0000_0005L);
        esn.resumeAfter(0xFFFF_FFFFL);
        assertEquals(0x1_0000_0005L, esn.sequence(), "compared as 64-bit numbers");
        esn.resumeAfter(-3L);
        esn.resumeAfter(5);
        assertEquals(-3L, esn.sequence(), "and unsigned: 2^64 - 3 is ahead of 5");
    }

    @Test
    void trafficCarriedElsewhereCountsTowardsTotalsAndLifetimes() {
        List<SaEvent> events = new ArrayList<>();
        // Soft at 10,000 bytes, hard at 20,000: a 40-byte packet is 40 bytes of volume.
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 7).lifetime(new Lifetime(10_000, 20_000,
                Long.MAX_VALUE, Long.MAX_VALUE)).build(), (sa, e) -> events.add(e));
        out.resumeAfter(1000);
        out.carryOver(600, 9_990);
        assertEquals(600, out.packets(), "the carried packets count as sealed, the rest of the jump does not");
        assertEquals(9_990, out.bytes());
        // Volume is counted per thread in quanta of a sixty-fourth of the soft limit (156 bytes): four packets fill one.
        for (long s = 1001; s <= 1004; s++) {
            assertEquals(s, seal(out, NOW));
        }
        assertEquals(604, out.packets());
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_BYTES), events, "the carried bytes and these packets' cross the soft limit");
        out.carryOver(5_000, 0);
        assertEquals(1004, out.packets(), "never more carried than jumped: the numbers are what was used");
        assertThrows(IllegalArgumentException.class, () -> out.carryOver(-1, 0));

        InboundSa in = new InboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 7).build(), SaListener.NONE);
        in.carryOver(7, 300);
        assertEquals(7, in.packets());
        assertEquals(300, in.bytes());
        assertThrows(IllegalArgumentException.class, () -> in.carryOver(0, -1));
    }

    @Test
    void aResumedLeasedSaGoesOnAfterThePointAndWithinItsLease() {
        OutboundSa out = outbound();
        out.resumeAfter(1000);
        out.lease(1000, LATER);
        assertEquals(REFUSED, seal(out, NOW), "a lease up to the resume point grants nothing yet");
        out.lease(1002, LATER);
        assertEquals(1001, seal(out, NOW));
        assertEquals(1002, seal(out, NOW));
        assertEquals(REFUSED, seal(out, NOW));
    }

    @Test
    void theSequenceSpaceStillEndsUnderALease() {
        SecurityAssociationTest.Events events = new SecurityAssociationTest.Events();
        OutboundSa out = outbound(false, events);
        out.skipTo(0xFFFF_FFFEL);
        out.lease(-1L, LATER);
        assertEquals(0xFFFF_FFFFL, out.leaseEnd(), "a lease past the sequence space ends with it");
        assertEquals(0xFFFF_FFFFL, seal(out, NOW));
        assertEquals(SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code(), seal(out, NOW), "exhausted, not out of lease");
        assertEquals(List.of(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED), events.events);

        OutboundSa esn = outbound(true, SaListener.NONE);
        esn.skipTo(-2L);
        esn.lease(-1L, LATER);
        assertEquals(0xFFFF_FFFFL, seal(esn, NOW), "2^64 - 1, its low half on the wire");
        assertEquals(SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code(), seal(esn, NOW));
    }

    @Test
    void aJumpPastTheSoftPacketLifetimeReportsItAtOnce() {
        SecurityAssociationTest.Events events = new SecurityAssociationTest.Events();
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 7).lifetime(Lifetime.ofPackets(100, 200)).build(), events);
        out.resumeAfter(150);
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_PACKETS), events.events, "the numbers count as used: rekey");
        out.resumeAfter(200);
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), seal(out, NOW), "201 is past the hard packet lifetime");
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_PACKETS, SaEvent.HARD_LIFETIME_PACKETS), events.events);
    }

    @Test
    void aResumedSaIsOpenedByAReceiverThatJumpedToo() {
        Sas.Pair sas = Sas.pair(CipherSuite.AES128_GCM16, false);
        sas.out().resumeAfter(5000);
        sas.in().replayWindow().advanceTo(5000);
        byte[] inner = Sas.ipv4(100, 1);
        byte[] esp = sas.seal(inner, EspPacket.NEXT_HEADER_IPV4);
        assertEquals(5001, EspPacket.sequence(esp, 0));
        assertEquals(100, sas.in().open(esp.clone(), 0, esp.length));
        assertEquals(DropReason.REPLAY.code(), sas.in().open(esp.clone(), 0, esp.length));
    }

    /**
     * Hostile: four threads seal as fast as they can while a control thread extends the lease
     * in small steps, so that they run into its end thousands of times. No number is used twice, none beyond the lease granted at the moment the
     * seal returned, and refusals burn none: exactly the numbers granted are used, all of them.
     */
    @Test
    void concurrentSealersNeverGoPastTheLeaseNorUseANumberTwice() throws Exception {
        int threads = 4;
        long finalEnd = 30_000;
        OutboundSa out = outbound();
        AtomicLong granted = new AtomicLong(100);
        out.lease(granted.get(), System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        Set<Long> used = ConcurrentHashMap.newKeySet();
        AtomicLong refusals = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> sealers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                byte[] packet = buffer(out);
                await(start);
                while (!done.get()) {
                    int n = out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4);
                    long grantedNow = granted.get(); // read after: the lease the seal saw was at most this
                    if (n == SealFailure.SEQUENCE_LEASE.code()) {
                        refusals.incrementAndGet();
                        continue;
                    }
                    if (n < 0) {
                        failure.compareAndSet(null, "seal failed: " + SealFailure.fromCode(n));
                        return;
                    }
                    long seq = EspPacket.sequence(packet, 0) & 0xFFFF_FFFFL;
                    if (seq > grantedNow) {
                        failure.compareAndSet(null, "sealed " + seq + " with only " + grantedNow + " granted");
                    }
                    if (!used.add(seq)) {
                        failure.compareAndSet(null, "sequence number " + seq + " used twice");
                    }
                }
            });
            sealers.add(thread);
            thread.start();
        }
        await(start);
        while (granted.get() < finalEnd) {
            long next = granted.get() + 1 + (granted.get() % 7);
            granted.set(next); // first what the test allows, then what the SA may use
            out.lease(next, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
            out.lease(next / 2, System.nanoTime() + TimeUnit.HOURS.toNanos(1)); // hostile: a smaller one changes nothing
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (out.sequence() < next && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
        long end = granted.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (out.sequence() < end && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        Thread.sleep(20); // the sealers keep hitting the end for a moment
        done.set(true);
        for (Thread t : sealers) {
            t.join();
        }
        assertEquals(null, failure.get());
        assertEquals(end, out.sequence(), "the counter stops at the lease's end");
        assertEquals(end, used.size(), "every number granted was used, none burnt by a refusal");
        assertEquals(end, used.stream().mapToLong(Long::longValue).max().orElse(0));
        assertTrue(refusals.get() > 0, "the sealers did run into the lease's end");
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
