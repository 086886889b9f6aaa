package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The anti-replay window of an inbound SA (RFC 4303 §3.4.3), as a ring of bitmap words that is
 * never shifted (RFC 6479), made safe for several threads opening packets of one SA at once.
 *
 * <p>A packet is accepted when its sequence number is above {@code highest - size} and has not
 * been accepted before. Each ring slot covers 32 consecutive sequence numbers (a "block") and is
 * one long: the low 32 bits of the block number in its upper half, the block's bitmap in its
 * lower half. Concurrency argument:
 * <ul>
 * <li>{@link #commit} marks a number with a compare-and-set on its slot, so of two threads
 *     committing the same number exactly one wins; the other sees the bit and reports a replay.</li>
 * <li>Advancing the window does not clear words ahead of time as RFC 6479 does, which would race
 *     with threads setting bits in them. A slot whose tag names an older block simply counts as
 *     empty, and the first commit into the new block replaces it with one CAS. A slot whose tag
 *     names a newer block means the number is too old.</li>
 * <li>The ring holds at least {@code size + 32} numbers, so a block is only ever replaced by one
 *     at least {@code size} numbers ahead of every number it held: a number whose bit was lost
 *     with its slot is outside the window, and the slot's tag says so even before
 *     {@link #highest} catches up.</li>
 * <li>{@link #highest} only grows (a CAS maximum). Readers may see a slightly stale value; that
 *     only makes the too-old test more lenient for a moment, never lets a number in twice.</li>
 * </ul>
 * So {@link #check} before decryption is an optimistic filter (no writes), and {@link #commit}
 * after the ICV verified is the decision; the data plane needs no per-SA ordering for
 * correctness. Sequence number 0 is never sent (RFC 4303 §3.3.3), so it starts out as seen.
 */
public final class ReplayWindow {
    public static final int DEFAULT_SIZE = 1024;
    public static final int MIN_SIZE = 32;
    public static final int MAX_SIZE = 65536;

    /** Results of {@link #check} and {@link #commit}. */
    public static final int ACCEPT = 0;
    public static final int REPLAY = 1;
    public static final int TOO_OLD = 2;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Where in {@link #top} the highest number lives: a cache line away from anything else. */
    private static final int HIGHEST = 16;

    private final int size;
    private final long[] slots;
    private final int mask;
    /** The highest sequence number committed, written by every packet that advances the window. */
    private final long[] top = new long[2 * HIGHEST];

    public ReplayWindow(int size) {
        if (size < MIN_SIZE || size > MAX_SIZE) {
            throw new IllegalArgumentException("replay window must be " + MIN_SIZE + " to " + MAX_SIZE + " packets, not " + size);
        }
        this.size = size;
        int ring = Integer.highestOneBit((size + 31) / 32 + 1) << 1;
        slots = new long[ring];
        mask = ring - 1;
        slots[0] = 1;
    }

    public int size() {
        return size;
    }

    /** The highest sequence number committed so far (0 before the first packet). */
    public long highest() {
        return (long) LONGS.getVolatile(top, HIGHEST);
    }

    /** Whether {@code sequence} would be accepted now. Changes nothing. */
    public int check(long sequence) {
        long current = highest();
        if (Long.compareUnsigned(sequence, current) > 0) {
            return ACCEPT;
        }
        if (Long.compareUnsigned(current - sequence, size) >= 0) {
            return TOO_OLD;
        }
        long slot = (long) LONGS.getVolatile(slots, slotIndex(sequence));
        return classify(slot, sequence);
    }

    /** Marks {@code sequence} as received; call only once its ICV has verified. */
    public int commit(long sequence) {
        long current = highest();
        if (Long.compareUnsigned(sequence, current) <= 0 && Long.compareUnsigned(current - sequence, size) >= 0) {
            return TOO_OLD;
        }
        int index = slotIndex(sequence);
        int tag = (int) (sequence >>> 5);
        long bit = 1L << (sequence & 31);
        while (true) {
            long slot = (long) LONGS.getVolatile(slots, index);
            int verdict = classify(slot, sequence);
            if (verdict != ACCEPT) {
                return verdict;
            }
            long updated = (int) (slot >>> 32) == tag ? slot | bit : ((long) tag << 32) | bit;
            if (LONGS.compareAndSet(slots, index, slot, updated)) {
                break;
            }
        }
        while (Long.compareUnsigned(sequence, current) > 0 && !LONGS.compareAndSet(top, HIGHEST, current, sequence)) {
            current = highest();
        }
        return ACCEPT;
    }

    /**
     * Counts every sequence number at or below {@code newTop} (unsigned) as received, as if each
     * had been committed: afterwards the window is the one that saw every packet up to
     * {@code newTop} (the numbers within it replays, those below it too old) and accepts
     * {@code newTop + 1} on. For the survivor of a gateway pair, which takes over an inbound SA
     * whose last packets it never saw: the other node may have delivered any number up to the
     * highest it reported, and none of them may be delivered again. Never moves backwards: with
     * {@code newTop} at or below {@link #highest()} the window keeps its top, and the numbers up
     * to {@code newTop} still in it are marked as received too.
     *
     * <p>Safe while other threads commit: each ring slot in the window below {@code newTop} is
     * filled with one compare-and-set (a slot already holding a newer block is left alone: its
     * numbers are newer, and those of the block it replaced too old), then {@link #highest}
     * moves with the same CAS maximum as a commit. Slots only gain bits and newer tags, so a
     * number marked here stays refused; a commit racing with this call may still accept a
     * number at or below {@code newTop} it gets to first, but only once, as it would have before
     * the call. Once this returns, every number at or below {@code newTop} is refused.
     */
    public void advanceTo(long newTop) {
        long current = highest();
        if (Long.compareUnsigned(newTop, current) <= 0 && Long.compareUnsigned(current - newTop, size) >= 0) {
            return; // every number up to newTop is below the window already
        }
        long lowest = Long.compareUnsigned(newTop, size) < 0 ? 0 : newTop - size + 1;
        long lastBlock = newTop >>> 5;
        for (long block = lowest >>> 5; Long.compareUnsigned(block, lastBlock) <= 0; block++) {
            int tag = (int) block;
            long bits = block == lastBlock ? (-1L >>> (63 - (newTop & 31))) : 0xFFFF_FFFFL; // up to newTop in its block
            int index = (int) block & mask;
            while (true) {
                long slot = (long) LONGS.getVolatile(slots, index);
                int slotTag = (int) (slot >>> 32);
                long updated;
                if (slotTag == tag) {
                    updated = slot | bits;
                } else if (slotTag - tag > 0) {
                    break; // a newer block: this one's numbers are too old already
                } else {
                    updated = ((long) tag << 32) | bits;
                }
                if (updated == slot || LONGS.compareAndSet(slots, index, slot, updated)) {
                    break;
                }
            }
        }
        while (Long.compareUnsigned(newTop, current) > 0 && !LONGS.compareAndSet(top, HIGHEST, current, newTop)) {
            current = highest();
        }
    }

    /**
     * The full 64-bit sequence number of a packet carrying {@code low} when ESN is in use
     * (RFC 4303 Appendix A2.2): the value nearest to the window, so a number just below the
     * window's bottom is taken as having wrapped into the next 2^32 subspace.
     */
    public long inferSequence(int low) {
        long current = highest();
        int topHigh = (int) (current >>> 32);
        int topLow = (int) current;
        int bottomLow = topLow - size + 1;
        int high;
        if (Integer.compareUnsigned(topLow, size - 1) >= 0) {
            // Case A: the window lies within one subspace.
            high = Integer.compareUnsigned(low, bottomLow) >= 0 ? topHigh : topHigh + 1;
        } else {
            // Case B: the window straddles the start of the subspace.
            high = Integer.compareUnsigned(low, bottomLow) >= 0 ? topHigh - 1 : topHigh;
        }
        if (topHigh == 0 && high == -1) {
            high = 0; // there is no subspace before the first
        }
        return ((long) high << 32) | (low & 0xFFFFFFFFL);
    }

    /** Forgets every packet received and moves the top to {@code newHighest}; for tests and benchmarks. */
    void reset(long newHighest) {
        java.util.Arrays.fill(slots, 0L);
        slots[0] = 1;
        LONGS.setVolatile(top, HIGHEST, newHighest); // publishes the cleared slots too
    }

    private int slotIndex(long sequence) {
        return (int) (sequence >>> 5) & mask;
    }

    private static int classify(long slot, long sequence) {
        int slotTag = (int) (slot >>> 32);
        int tag = (int) (sequence >>> 5);
        if (slotTag == tag) {
            return (slot & (1L << (sequence & 31))) != 0 ? REPLAY : ACCEPT;
        }
        // The slot holds an older block (free for this one) or a newer one (this number is too old).
        return slotTag - tag > 0 ? TOO_OLD : ACCEPT;
    }
}
