package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The duplicate rule, round by round, as both ends of a connection run it: a check first, then,
 * once every duplicate has answered, all but the lowest SPIs go. Table-driven over who answered.
 */
class DuplicateIkeSasTest {
    static final Duration PATIENCE = Duration.ofSeconds(45);
    static final Instant T0 = Instant.parse("2026-12-02T01:00:00Z");

    static final class Sa implements DuplicateIkeSas.Candidate {
        final long spiI;
        Instant lastHeard = T0.minusSeconds(60);
        int probes;
        String deleted;

        Sa(long spiI) {
            this.spiI = spiI;
        }

        @Override
        public long initiatorSpi() {
            return spiI;
        }

        @Override
        public long responderSpi() {
            return 1;
        }

        @Override
        public Instant lastHeard() {
            return lastHeard;
        }

        @Override
        public void probe() {
            probes++;
        }

        @Override
        public void delete(String why) {
            deleted = why;
        }

        @Override
        public String toString() {
            return Long.toHexString(spiI);
        }
    }

    @Test
    void whenAllAnswerTheLowestSpisStay() {
        DuplicateIkeSas rule = new DuplicateIkeSas();
        Sa low = new Sa(0x10);
        Sa high = new Sa(0xF000_0000_0000_0000L); // unsigned: the highest
        assertEquals(List.of(), rule.settle("c", List.of(high, low), T0, PATIENCE), "first round: checks only");
        assertEquals(1, low.probes);
        assertEquals(1, high.probes);
        low.lastHeard = T0.plusSeconds(1);
        high.lastHeard = T0.plusSeconds(1);
        assertEquals(List.of(high), rule.settle("c", List.of(high, low), T0.plusSeconds(5), PATIENCE));
        assertTrue(low.deleted == null && high.deleted != null);
    }

    /* The SA of a peer that crashed and came back never answers: nothing is deleted for it, above all not the live one. */
    @Test
    void aSilentSaHoldsTheDecisionAndIsNeverChosen() {
        DuplicateIkeSas rule = new DuplicateIkeSas();
        Sa dead = new Sa(0x1); // lowest SPIs, but its peer forgot it
        Sa live = new Sa(0x2);
        rule.settle("c", List.of(dead, live), T0, PATIENCE);
        live.lastHeard = T0.plusSeconds(1);
        for (int round = 1; round <= 8; round++) {
            assertEquals(List.of(), rule.settle("c", List.of(dead, live), T0.plusSeconds(5L * round), PATIENCE), "round " + round);
        }
        assertTrue(dead.deleted == null && live.deleted == null);
        assertEquals(1, dead.probes, "checked once; its retransmissions take it from there");
        // Its check failed after the dead peer timeout and it is gone: one SA, nothing to settle.
        assertEquals(List.of(), rule.settle("c", List.of(live), T0.plusSeconds(50), PATIENCE));
        assertTrue(live.deleted == null);
    }

    @Test
    void aCheckThatNeverGotAnAnswerIsSentAgainAfterThePatience() {
        DuplicateIkeSas rule = new DuplicateIkeSas();
        Sa a = new Sa(1);
        Sa b = new Sa(2);
        rule.settle("c", List.of(a, b), T0, PATIENCE);
        rule.settle("c", List.of(a, b), T0.plusSeconds(46), PATIENCE);
        assertEquals(2, a.probes);
        assertEquals(2, b.probes);
    }

    /* Both ends run the rule on their own; with the same answers seen, they delete the same SAs. */
    @Test
    void bothEndsChooseAlike() {
        DuplicateIkeSas atA = new DuplicateIkeSas();
        DuplicateIkeSas atB = new DuplicateIkeSas();
        Sa[] a = {new Sa(7), new Sa(3), new Sa(5)};
        Sa[] b = {new Sa(5), new Sa(7), new Sa(3)};
        atA.settle("c", List.of(a), T0, PATIENCE);
        atB.settle("c", List.of(b), T0.plusSeconds(2), PATIENCE);
        for (Sa s : a) {
            s.lastHeard = T0.plusSeconds(3);
        }
        for (Sa s : b) {
            s.lastHeard = T0.plusSeconds(3);
        }
        List<Long> deletedAtA = atA.settle("c", List.of(a), T0.plusSeconds(5), PATIENCE).stream().map(DuplicateIkeSas.Candidate::initiatorSpi)
                .sorted().toList();
        List<Long> deletedAtB = atB.settle("c", List.of(b), T0.plusSeconds(7), PATIENCE).stream().map(DuplicateIkeSas.Candidate::initiatorSpi)
                .sorted().toList();
        assertEquals(List.of(5L, 7L), deletedAtA);
        assertEquals(deletedAtA, deletedAtB);
    }
}
