package io.isthmus.esp;

/**
 * Per-thread working memory for the transforms: one thread seals or opens one packet at a time,
 * so all its SAs can share it, and its size does not grow with the number of tunnels. It holds
 * keystream and copies of packets, never keys, and is not wiped when an SA dies (another SA of
 * the same thread may be using it at that moment).
 */
final class Scratch {
    /** Bytes a transform processes per pass over its cipher; bounds every scratch region. */
    static final int CHUNK = 4096;

    private static final ThreadLocal<byte[]> BYTES = ThreadLocal.withInitial(() -> new byte[3 * CHUNK]);

    /** This thread's {@code 3 * CHUNK} bytes. */
    static byte[] bytes() {
        return BYTES.get();
    }

    private Scratch() {
    }
}
