package io.isthmus.dataplane.tun;

import io.isthmus.dataplane.linux.PacketBuffer;
import java.util.ArrayDeque;

/**
 * A {@link TunPort} over memory, for tests and for a data plane without devices: frames offered
 * here are what its reads hand over, and what it writes goes to a {@link Frames} the test
 * supplies, byte for byte what the kernel's device would get. The offloads are the real ones
 * ({@link TunBatch}, {@link GroMerger}), so a test over this port checks the cutting and merging
 * the gateway does. Frames may be offered from any thread; one thread at a time reads and writes.
 */
public final class InMemoryTun implements TunPort {
    /** What the device got from one write. */
    @FunctionalInterface
    public interface Frames {
        /**
         * One frame, {@code length} bytes at {@code bytes[offset]}: a virtio header then the
         * packet if the device takes virtio headers, else the packet alone. Copy what you keep.
         */
        void written(byte[] bytes, int offset, int length);
    }

    private final boolean vnetHeader;
    private final Frames frames;
    private final GroMerger merger;
    /** Guarded by itself: a test's thread offers while a lane reads (an ArrayDeque, not a linked queue: nothing allocated per frame). */
    private final ArrayDeque<byte[]> toRead = new ArrayDeque<>();

    /**
     * @param vnetHeader whether the device takes and gives virtio headers (TSO both ways, merged writes)
     * @param uso whether UDP super-packets go both ways too (with {@code vnetHeader} only)
     */
    public InMemoryTun(boolean vnetHeader, boolean uso, Frames frames) {
        this.vnetHeader = vnetHeader;
        this.frames = frames;
        this.merger = new GroMerger(vnetHeader, uso, this::writeFrame);
    }

    /** A frame for a later read to hand over, as the kernel would: after a virtio header if the device takes one. */
    public void offer(byte[] frame) {
        synchronized (toRead) {
            toRead.add(frame);
        }
    }

    @Override
    public boolean read(TunBatch batch) {
        byte[] f;
        synchronized (toRead) {
            f = toRead.poll();
        }
        if (f == null) {
            return false;
        }
        int at = vnetHeader ? 0 : VirtioHeader.LENGTH;
        int n = Math.min(f.length, TunBatch.CAPACITY - at);
        System.arraycopy(f, 0, batch.frame.bytes(), at, n);
        batch.parse(at + n, vnetHeader);
        return true;
    }

    @Override
    public void write(PacketBuffer buffer, int offset, int length, Loss loss) {
        merger.write(buffer, offset, length, loss);
    }

    @Override
    public void flush() {
        merger.flush();
    }

    private int writeFrame(PacketBuffer b, int offset, int length) {
        if (vnetHeader) {
            frames.written(b.bytes(), offset, length);
        } else {
            frames.written(b.bytes(), offset + VirtioHeader.LENGTH, length - VirtioHeader.LENGTH);
        }
        return length;
    }
}
