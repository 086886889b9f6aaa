package io.isthmus.dataplane.linux;

import java.lang.foreign.MemorySegment;

/**
 * One packet's worth of Java heap, which the kernel reads into and writes from directly (see
 * {@link Libc}). The segments starting at each offset are made once and kept, so the packet
 * path allocates nothing.
 */
public final class PacketBuffer {
    private final byte[] bytes;
    private final MemorySegment whole;
    private final MemorySegment[] fromOffset;

    public PacketBuffer(int size) {
        bytes = new byte[size];
        whole = MemorySegment.ofArray(bytes);
        fromOffset = new MemorySegment[size];
    }

    public byte[] bytes() {
        return bytes;
    }

    public int capacity() {
        return bytes.length;
    }

    /** The buffer from {@code offset} to its end. */
    public MemorySegment at(int offset) {
        MemorySegment s = fromOffset[offset];
        if (s == null) {
            s = whole.asSlice(offset);
            fromOffset[offset] = s;
        }
        return s;
    }
}
