package io.isthmus.esp;

import static io.isthmus.esp.ReplayWindow.ACCEPT;
import static io.isthmus.esp.ReplayWindow.REPLAY;
import static io.isthmus.esp.ReplayWindow.TOO_OLD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReplayWindowTest {

    @Test
    void sequenceZeroIsNeverAccepted() {
        ReplayWindow w = new ReplayWindow(1024);
        assertEquals(REPLAY, w.check(0));
        assertEquals(REPLAY, w.commit(0));
    }

    @Test
    void duplicateIsAReplay() {
        ReplayWindow w = new ReplayWindow(1024);
        assertEquals(ACCEPT, w.commit(7));
        assertEquals(REPLAY, w.check(7));
        assertEquals(REPLAY, w.commit(7));
        assertEquals(ACCEPT, w.commit(6), "an earlier number not yet seen");
        assertEquals(7, w.highest());
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 1000, 1024, 4096, 65536})
    void theWindowIsExactlyItsSize(int size) {
        ReplayWindow w = new ReplayWindow(size);
        long top = 3L * size + 17;
        assertEquals(ACCEPT, w.commit(top));
        assertEquals(ACCEPT, w.check(top - size + 1), "the oldest number inside the window");
        assertEquals(TOO_OLD, w.check(top - size), "one below the window");
        assertEquals(TOO_OLD, w.commit(top - size));
        assertEquals(ACCEPT, w.commit(top - size + 1));
        assertEquals(REPLAY, w.commit(top - size + 1));
    }

    @Test
    void farAheadMovesTheWindowAndForgetsNothingInside() {
        ReplayWindow w = new ReplayWindow(1024);
        for (long s = 1; s <= 2000; s += 3) {
            assertEquals(ACCEPT, w.commit(s));
        }
        assertEquals(ACCEPT, w.commit(1_000_000));
        assertEquals(TOO_OLD, w.check(1999));
        assertEquals(ACCEPT, w.commit(1_000_000 - 1023));
        assertEquals(ACCEPT, w.commit(1_000_000 + 5000), "a jump of several windows");
        assertEquals(TOO_OLD, w.check(1_000_000));
    }

    /**
     * Against the definition (a set of every number accepted, and RFC 4303's rule), on random
     * traffic that reorders, duplicates and jumps ahead by up to several windows, so every ring
     * slot is recycled thousands of times.
     */
    @ParameterizedTest
    @ValueSource(ints = {32, 256, 1024, 4096})
    void agreesWithTheDefinitionOnRandomTraffic(int size) {
        ReplayWindow w = new ReplayWindow(size);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        Random random = new Random(size);
        long top = 0;
        for (int i = 0; i < 300_000; i++) {
            long s = switch (random.nextInt(10)) {
                case 0 -> top + 1 + random.nextInt(3 * size);          // jump ahead
                case 1 -> top - size - random.nextInt(100);            // just too old
                default -> top + random.nextInt(2 * size) - (long) (1.5 * size); // around the window's bottom
            };
            s = Math.max(1, s);
            int expected = s > top ? ACCEPT : top - s >= size ? TOO_OLD : seen.contains(s) ? REPLAY : ACCEPT;
            assertEquals(expected, w.check(s), "check " + s + " with top " + top);
            assertEquals(expected, w.commit(s), "commit " + s + " with top " + top);
            if (expected == ACCEPT) {
                seen.add(s);
                top = Math.max(top, s);
            }
        }
    }

    /** ESN (RFC 4303 A2.2): the high half is the one that puts the number nearest the window. */
    @Test
    void infersTheHighHalfOfExtendedSequenceNumbers() {
        ReplayWindow w = new ReplayWindow(64);
        assertEquals(1, w.inferSequence(1), "fresh SA: subspace 0");
        assertEquals(0xFFFF_FFF0L, w.inferSequence(0xFFFF_FFF0), "fresh SA: no subspace before the first");

        w.commit(0x1_0000_0005L);                                  // Case B: the window straddles 2^32
        assertEquals(0x0_FFFF_FFF0L, w.inferSequence(0xFFFF_FFF0), "just below the boundary: previous subspace");
        assertEquals(0x1_0000_0003L, w.inferSequence(3));
        assertEquals(0x1_0000_0900L, w.inferSequence(0x900));

        w.commit(0x1_8000_0000L);                                  // Case A: inside one subspace
        assertEquals(0x1_7FFF_FFD0L, w.inferSequence(0x7FFF_FFD0));
        assertEquals(0x1_9000_0000L, w.inferSequence(0x9000_0000));
        assertEquals(0x2_0000_0010L, w.inferSequence(0x10), "below the window bottom: the next subspace");
    }

    @Test
    void rejectsSizesOutsideTheSupportedRange() {
        assertThrows(IllegalArgumentException.class, () -> new ReplayWindow(16));
        assertThrows(IllegalArgumentException.class, () -> new ReplayWindow(65537));
    }

    /**
     * Several threads commit interleaved and duplicated numbers at once: each number is accepted
     * exactly once, and never one that was already below the window when it arrived.
     */
    @Test
    void concurrentCommitsAcceptEachNumberExactlyOnce() throws Exception {
        int threads = 4;
        int numbers = 200_000;
        ReplayWindow w = new ReplayWindow(4096);
        AtomicIntegerArray accepted = new AtomicIntegerArray(numbers + 1);
        List<Long> work = new ArrayList<>();
        for (long s = 1; s <= numbers; s++) {
            work.add(s);
        }
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            // Each thread walks the same numbers, locally shuffled, so duplicates race for real.
            List<Long> mine = new ArrayList<>(work);
            Random random = new Random(t);
            for (int i = 0; i + 64 <= mine.size(); i += 64) {
                Collections.shuffle(mine.subList(i, i + 64), random);
            }
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
                for (long s : mine) {
                    if (w.commit(s) == ACCEPT) {
                        accepted.incrementAndGet((int) s);
                    }
                }
            });
            workers.add(thread);
            thread.start();
        }
        for (Thread thread : workers) {
            thread.join();
        }
        int total = 0;
        for (int s = 1; s <= numbers; s++) {
            assertEquals(true, accepted.get(s) <= 1, "sequence " + s + " accepted " + accepted.get(s) + " times");
            total += accepted.get(s);
        }
        // Whichever thread is ahead meets each number while it is inside the window.
        assertEquals(numbers, total);
        assertEquals(numbers, w.highest());
    }

    // ------------------------------------------------------------------------------------------
    // advanceTo: the survivor of a gateway pair jumps over what the other node may have delivered
    // ------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(longs = {1, 5, 31, 32, 1023, 1024, 1025, 3 * 1024 + 17, 0xFFFF_FFFFL, 0x1_0000_0007L})
    void afterAJumpEverythingAtOrBelowTheTopIsRefusedAndTheNextAccepted(long top) {
        for (int size : new int[] {32, 1024, 4096}) {
            ReplayWindow w = new ReplayWindow(size);
            w.advanceTo(top);
            assertEquals(top, w.highest());
            assertEquals(ACCEPT, w.check(top + 1));
            for (long s = Math.max(0, top - 2L * size); s <= top; s++) {
                int expected = top - s >= size ? TOO_OLD : REPLAY;
                assertEquals(expected, w.check(s), "check " + s + " after a jump to " + top + ", window " + size);
                assertEquals(expected, w.commit(s), "commit " + s);
            }
            assertEquals(ACCEPT, w.commit(top + 1));
            assertEquals(REPLAY, w.commit(top + 1));
        }
    }

    /**
     * A window that jumped behaves, from then on, exactly as one that saw every packet up to the
     * top: both get the same random traffic (reordered, duplicated, jumping ahead) and must agree
     * on every verdict, so the jump left no slot of the ring in a state the other does not have.
     */
    @ParameterizedTest
    @ValueSource(ints = {32, 256, 1024, 4096})
    void aJumpedWindowBehavesAsOneThatSawEveryPacket(int size) {
        Random random = new Random(size * 31L);
        for (int round = 0; round < 20; round++) {
            ReplayWindow jumped = new ReplayWindow(size);
            ReplayWindow saw = new ReplayWindow(size);
            // Both saw some traffic first; then the jump, and the other sees every number up to the top.
            for (int i = 0; i < 200; i++) {
                long s = 1 + random.nextInt(4 * size);
                assertEquals(saw.commit(s), jumped.commit(s));
            }
            long top = Math.max(1, saw.highest() + random.nextInt(5 * size) - size); // sometimes below the top already
            jumped.advanceTo(top);
            for (long s = Math.max(1, top - size - 40); s <= top; s++) {
                saw.commit(s);
            }
            assertEquals(saw.highest(), jumped.highest());
            long high = saw.highest();
            for (int i = 0; i < 20_000; i++) {
                long s = Math.max(1, switch (random.nextInt(8)) {
                    case 0 -> high + 1 + random.nextInt(3 * size);
                    case 1 -> high - size - random.nextInt(64);
                    default -> high + random.nextInt(2 * size) - (long) (1.5 * size);
                });
                assertEquals(saw.check(s), jumped.check(s), "check " + s + ", top " + high + ", jumped to " + top);
                int verdict = saw.commit(s);
                assertEquals(verdict, jumped.commit(s), "commit " + s);
                high = saw.highest();
            }
        }
    }

    @Test
    void aJumpNeverMovesTheWindowBack() {
        ReplayWindow w = new ReplayWindow(1024);
        assertEquals(ACCEPT, w.commit(5000));
        w.advanceTo(100);
        assertEquals(5000, w.highest(), "far below the window: nothing changes");
        assertEquals(ACCEPT, w.check(4990));
        w.advanceTo(4990);
        assertEquals(5000, w.highest());
        assertEquals(REPLAY, w.check(4990), "inside the window: marked as received");
        assertEquals(REPLAY, w.check(4000));
        assertEquals(ACCEPT, w.check(4995), "above the jump and not received");
        assertEquals(REPLAY, w.check(5000));
        assertEquals(ACCEPT, w.commit(5001));
    }

    @Test
    void aJumpWithExtendedSequenceNumbersInfersTheHighHalfFromTheNewTop() {
        ReplayWindow w = new ReplayWindow(64);
        w.advanceTo(0x2_0000_0010L);
        assertEquals(0x2_0000_0011L, w.inferSequence(0x11));
        assertEquals(0x1_FFFF_FFF0L, w.inferSequence(0xFFFF_FFF0), "just below: the previous subspace");
        assertEquals(REPLAY, w.commit(w.inferSequence(0xFFFF_FFF0)));
        assertEquals(ACCEPT, w.commit(w.inferSequence(0x11)));
    }

    /**
     * Threads commit the same numbers, locally shuffled, while another jumps the window to the
     * middle of them: no number is accepted twice, none at or below the jump once it returned,
     * and every number above the jump exactly once.
     */
    @Test
    void aJumpWhileOtherThreadsCommitIsSafe() throws Exception {
        for (int round = 0; round < 20; round++) {
            int threads = 3;
            int numbers = 30_000;
            long jump = 15_000 + round * 7;
            ReplayWindow w = new ReplayWindow(1024);
            AtomicIntegerArray accepted = new AtomicIntegerArray(numbers + 1);
            java.util.concurrent.atomic.AtomicBoolean jumped = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Long> mine = new ArrayList<>();
                for (long s = 1; s <= numbers; s++) {
                    mine.add(s);
                }
                Random random = new Random(round * 10L + t);
                for (int i = 0; i + 64 <= mine.size(); i += 64) {
                    Collections.shuffle(mine.subList(i, i + 64), random);
                }
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                    for (long s : mine) {
                        boolean after = jumped.get();
                        if (w.commit(s) == ACCEPT) {
                            accepted.incrementAndGet((int) s);
                            if (after && s <= jump) {
                                failure.compareAndSet(null, s + " accepted after the jump to " + jump + " returned");
                            }
                        }
                    }
                });
                workers.add(thread);
                thread.start();
            }
            start.await();
            while (w.highest() < jump / 2) {
                Thread.onSpinWait();
            }
            w.advanceTo(jump);
            jumped.set(true);
            for (Thread thread : workers) {
                thread.join();
            }
            assertEquals(null, failure.get());
            for (int s = 1; s <= numbers; s++) {
                assertTrue(accepted.get(s) <= 1, "sequence " + s + " accepted " + accepted.get(s) + " times");
                if (s > jump) {
                    assertEquals(1, accepted.get(s), "sequence " + s + " above the jump");
                }
            }
            assertEquals(numbers, w.highest());
        }
    }
}
