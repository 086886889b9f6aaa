package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.Dataplane;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The sequence-number leases against a data plane that seals only inside its lease, as the real
 * one does: a block at a time, each only once the partner acknowledged it; alone, no further
 * than the solo range; nothing after a pause until confirmed; exact numbers at a handover; and,
 * over many random interleavings of traffic, acknowledgements, link failures and a takeover, no
 * sequence number the owner uses is one the survivor would use: no nonce twice under one key.
 */
class SequenceLeasesTest {
    static final long BLOCK = 4096;
    static final int SPI = 0x1234;
    static final long START = 1_000_000_000L;

    /** One outbound SA as the data plane seals: never past its lease's end, never after its deadline. */
    static final class FakeSas implements SequenceLeases.LeasedSas {
        long sequence;
        long leaseEnd;
        long deadline;
        long inboundHighest;
        long inBytes;
        long[] clock;

        FakeSas(long[] clock) {
            this.clock = clock;
        }

        /** Seals up to {@code n} packets; how many it could. */
        long use(long n) {
            if (clock[0] >= deadline) {
                return 0;
            }
            long before = sequence;
            sequence = Math.min(sequence + n, leaseEnd);
            return sequence - before;
        }

        @Override
        public List<Dataplane.SaCounters> sequenceState() {
            return List.of(new Dataplane.SaCounters(SPI, 0x4321, sequence, leaseEnd, true, inboundHighest, inBytes / 100, inBytes, sequence,
                    sequence * 100));
        }

        @Override
        public boolean lease(int inboundSpi, long lastSequence, long deadlineNanos) {
            leaseEnd = Math.max(leaseEnd, lastSequence);
            deadline = deadlineNanos;
            return true;
        }
    }

    /** A link that records what it carried and acknowledges when told. */
    static final class Link extends HeldTransportTest.ManualLink {
        final TreeMap<Long, long[]> leases = new TreeMap<>();
        final List<String> published = new ArrayList<>();

        @Override
        public long put(String group, byte kind, byte[] key, byte[] value) {
            long s = super.put(group, kind, key, value);
            ByteBuffer v = ByteBuffer.wrap(value);
            published.add(kind + ":" + v.getLong() + (value.length >= 16 ? "/" + v.getLong() : ""));
            if (kind == SyncKinds.LEASE) {
                leases.put(s, new long[] {ByteBuffer.wrap(value).getLong()});
            }
            return s;
        }

        /** The largest lease end the partner has received (acknowledged: what a survivor knows at least). */
        long partnerKnows() {
            return leases.headMap(acked, true).values().stream().mapToLong(v -> v[0]).max().orElse(0);
        }
    }

    final long[] clock = {START};
    final FakeSas sas = new FakeSas(clock);
    final Link link = new Link();
    boolean owned = true;
    final SequenceLeases leases = new SequenceLeases(sas, link, g -> owned, BLOCK, 1024, Duration.ofMillis(50), () -> clock[0]);

    void tick() {
        clock[0] += SequenceLeases.TICK.toNanos();
        leases.tick();
    }

    @Test
    void aNewSaHasItsFirstBlockAndTheNextOnlyOnceThePartnerAcknowledgedIt() {
        leases.started("gw1", SPI);
        assertEquals(BLOCK, sas.leaseEnd, "the first block comes with the keys' entry");
        sas.use(BLOCK / 2 + 1);
        tick();
        assertEquals(List.of("3:" + 2 * BLOCK), link.published, "the next lease is asked for at half the block");
        assertEquals(BLOCK, sas.leaseEnd, "and not used before the partner has it");
        assertEquals(BLOCK / 2 - 1, sas.use(BLOCK));
        link.ack(link.lastPublished());
        assertEquals(2 * BLOCK, sas.leaseEnd);
        assertEquals(BLOCK, sas.use(BLOCK * 3));
    }

    @Test
    void aloneItGoesNoFurtherThanTheSoloRangePastWhatThePartnerAcknowledged() {
        link.down();
        leases.started("gw1", SPI);
        for (int i = 0; i < 10_000 && leases.counts().soloLimitReached() == 0; i++) {
            sas.use(BLOCK);
            tick();
        }
        sas.use(BLOCK);
        assertEquals(BLOCK + SequenceLeases.SOLO_RANGE, sas.sequence, "alone up to the first block plus the solo range, not one more");
        assertTrue(leases.counts().soloLimitReached() > 0);
    }

    @Test
    void aPauseLongerThanALeaseStopsSealingUntilThePairConfirmsAgain() {
        leases.started("gw1", SPI);
        tick();
        assertTrue(leases.confident());
        clock[0] += Duration.ofSeconds(2).toNanos(); // SIGSTOP: nothing of this process ran
        assertFalse(leases.confident(), "a timer firing first after the pause must not send");
        assertEquals(0, sas.use(10), "the lease ran out during the pause");
        leases.tick();
        assertEquals(0, sas.use(10), "the first tick after the pause renews nothing");
        assertEquals(1, leases.counts().pauses());
        for (long waited = 0; waited <= SequenceLeases.LEASE_TIME.toNanos(); waited += SequenceLeases.TICK.toNanos()) {
            tick();
        }
        assertEquals(10, sas.use(10), "once the fences had time to arrive, and none did");
        owned = false; // ... had one arrived (the partner took the group), nothing would have been renewed
        for (int i = 0; i < 10; i++) {
            tick();
        }
        assertEquals(0, sas.use(10));
    }

    @Test
    void aTickLateBecauseTheIkeThreadWasBusyRenewsAtOnceAndAPauseOfTheProcessDoesNot() {
        boolean[] stoodStill = {false};
        SequenceLeases late = new SequenceLeases(sas, link, g -> owned, BLOCK, 1024, Duration.ofMillis(50), () -> clock[0],
                (since, now) -> stoodStill[0]);
        late.started("gw1", SPI);
        clock[0] += SequenceLeases.TICK.toNanos();
        late.tick();
        clock[0] += Duration.ofMillis(191).toNanos(); // a takeover on the IKE thread; the rest of the process ran
        assertEquals(0, sas.use(10), "the lease ran out while the IKE thread was busy");
        assertTrue(late.confident(), "nothing stood still: an IKE timer may send");
        late.tick();
        assertEquals(10, sas.use(10), "renewed by the late tick itself, not a lease's time later");
        assertEquals(0, late.counts().pauses());
        assertEquals(1, late.counts().lateTicks());

        stoodStill[0] = true; // now the whole process stops
        clock[0] += Duration.ofMillis(191).toNanos();
        assertFalse(late.confident());
        late.tick();
        assertEquals(0, sas.use(10), "a pause of the process: nothing renewed until the fences had time to arrive");
        assertEquals(1, late.counts().pauses());
        stoodStill[0] = false;
        for (long waited = 0; waited <= SequenceLeases.LEASE_TIME.toNanos(); waited += SequenceLeases.TICK.toNanos()) {
            clock[0] += SequenceLeases.TICK.toNanos();
            late.tick();
        }
        assertEquals(10, sas.use(10));

        owned = false; // a late tick after the group moved (the event handled ahead of it) renews nothing
        clock[0] += Duration.ofMillis(300).toNanos();
        late.tick();
        assertEquals(0, sas.use(10));
    }

    @Test
    void aHandoverPublishesTheLeaseEndAndSealsNoFurtherThanItUntilTheDrainEnds() {
        leases.started("gw1", SPI);
        sas.use(BLOCK / 2 + 1);
        tick(); // asks for the next block: never acknowledged before the handover
        link.published.clear();
        sas.inboundHighest = 77;
        long drainEnd = clock[0] + Duration.ofSeconds(2).toNanos();
        assertEquals(List.of(SPI), leases.handOver("gw1", drainEnd));
        assertEquals(List.of("3:" + BLOCK, "4:77/0", "6:0/0"), link.published,
                "the lease end the partner acknowledged (it resumes after it), the last accepted, the traffic");
        link.ack(link.lastPublished());
        assertEquals(BLOCK, sas.leaseEnd, "the block asked for before the handover is not taken: the partner's from now on");
        assertEquals(BLOCK / 2 - 1, sas.use(BLOCK), "the drain seals up to the end handed over");
        clock[0] = drainEnd;
        assertEquals(0, leases.counts().tracked());
        for (int i = 0; i < 5; i++) {
            tick();
        }
        assertEquals(BLOCK, sas.leaseEnd, "nothing renewed or extended after the handover");
    }

    @Test
    void trafficTotalsGoToThePartnerOnceASecondWhileTheyChange() {
        leases.started("gw1", SPI);
        sas.inBytes = 5000;
        tick();
        assertEquals(List.of(), link.published, "not before a second since the SA began");
        long ticksPerInterval = SequenceLeases.TRAFFIC_INTERVAL.toNanos() / SequenceLeases.TICK.toNanos();
        for (long i = 0; i < ticksPerInterval; i++) {
            tick();
        }
        assertEquals(List.of("6:50/5000"), link.published, "packets and bytes in (then out, also carried)");
        for (long i = 0; i < 3 * ticksPerInterval; i++) {
            tick();
        }
        assertEquals(1, link.published.size(), "unchanged: not sent again");
        sas.inBytes = 9000;
        for (long i = 0; i < ticksPerInterval; i++) {
            tick();
        }
        assertEquals(List.of("6:50/5000", "6:90/9000"), link.published);
    }

    /**
     * Random traffic, acknowledgements, link failures and repairs; then the owner is cut off for
     * good (a split: it believes the partner dead and goes on alone) while the partner takes
     * over from what it received. Whatever the order, the owner never reaches the survivor's
     * first number.
     */
    @Test
    void noSequenceNumberIsUsedByBothAfterASplitWhateverTheOrder() {
        Random random = new Random(12);
        for (int round = 0; round < 300; round++) {
            long[] c = {START};
            FakeSas s = new FakeSas(c);
            Link l = new Link();
            SequenceLeases owner = new SequenceLeases(s, l, g -> true, BLOCK, 1024, Duration.ofMillis(50), () -> c[0]);
            owner.started("gw1", SPI);
            int steps = random.nextInt(400);
            for (int i = 0; i < steps; i++) {
                switch (random.nextInt(5)) {
                    case 0, 1 -> s.use(random.nextInt((int) BLOCK));
                    case 2 -> {
                        c[0] += SequenceLeases.TICK.toNanos();
                        owner.tick();
                    }
                    case 3 -> {
                        if (l.up) {
                            l.ack(Math.min(l.lastPublished(), l.acked + 1 + random.nextInt(3)));
                        }
                    }
                    default -> {
                        if (random.nextInt(4) == 0) {
                            l.down();
                        } else {
                            l.up = true;
                        }
                    }
                }
            }
            // The split: what the survivor received is all it will ever know; the owner goes on alone.
            long survivorFirst = Takeover.resumeAfter(BLOCK, l.partnerKnows(), false) + 1;
            l.down();
            for (int i = 0; i < 5000; i++) {
                s.use(BLOCK);
                c[0] += SequenceLeases.TICK.toNanos();
                owner.tick();
            }
            assertTrue(s.sequence < survivorFirst, "round " + round + ": the owner used " + s.sequence + ", the survivor starts at " + survivorFirst);
        }
    }
}
