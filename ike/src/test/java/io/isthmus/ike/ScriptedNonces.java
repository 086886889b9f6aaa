package io.isthmus.ike;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * An engine's randomness for tests that must decide which of two exchanges holds the lowest
 * nonce (RFC 7296 §2.8.1, §2.8.2): seeded, so each run is the same, and the first byte of the
 * next nonces the engine makes can be set in order, as strongSwan's test_child_rekey.c sets
 * {@code nonce_first_byte}. Everything else (SPIs, jitter, the rest of each nonce) comes from the seed.
 */
final class ScriptedNonces implements RandomGenerator {
    private final SplittableRandom seeded;
    private final Deque<Integer> firstBytes = new ArrayDeque<>();

    ScriptedNonces(long seed) {
        this.seeded = new SplittableRandom(seed);
    }

    /** The next nonces this engine makes start with these bytes, in this order. */
    void nextNoncesStartWith(int... bytes) {
        for (int b : bytes) {
            firstBytes.add(b);
        }
    }

    @Override
    public long nextLong() {
        return seeded.nextLong();
    }

    @Override
    public void nextBytes(byte[] bytes) {
        seeded.nextBytes(bytes);
        if (bytes.length == IkeContext.NONCE_LENGTH && !firstBytes.isEmpty()) {
            bytes[0] = (byte) (int) firstBytes.poll();
        }
    }
}
