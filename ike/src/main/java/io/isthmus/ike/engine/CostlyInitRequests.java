package io.isthmus.ike.engine;

import java.time.Instant;

/**
 * The times of the last {@code limit} IKE_SA_INIT requests that cost work, in a ring: the
 * rate is over the limit when the oldest of them is less than a second old. Constant memory
 * and time, whatever the flood.
 */
final class CostlyInitRequests {
    private final long[] nanos;
    private int next;
    private int count;

    CostlyInitRequests(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("cookie rate must be at least 1 per second, not " + limit);
        }
        nanos = new long[limit];
    }

    /** Records the request if it is within the limit; otherwise leaves it out and says no. */
    boolean allow(Instant now) {
        if (overLimit(now)) {
            return false;
        }
        record(now);
        return true;
    }

    void record(Instant now) {
        nanos[next] = toNanos(now);
        next = (next + 1) % nanos.length;
        count = Math.min(count + 1, nanos.length);
    }

    boolean overLimit(Instant now) {
        return count == nanos.length && toNanos(now) - nanos[next] < 1_000_000_000L;
    }

    int lastSecond(Instant now) {
        long since = toNanos(now) - 1_000_000_000L;
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (nanos[i] > since) {
                n++;
            }
        }
        return n;
    }

    private static long toNanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}
