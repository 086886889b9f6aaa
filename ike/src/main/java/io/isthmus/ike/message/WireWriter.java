package io.isthmus.ike.message;

import java.util.Arrays;

/**
 * A growable big-endian byte buffer for building messages (control plane: allocation is fine).
 * Also what SA records are written with: those hold keys, so a buffer outgrown is wiped before
 * it is dropped, and {@link #wipe()} zeroes the last one.
 */
public final class WireWriter {
    private byte[] buf;
    private int length;

    public WireWriter() {
        this(256);
    }

    public WireWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    public int length() {
        return length;
    }

    private void ensure(int n) {
        if (length + n > buf.length) {
            byte[] old = buf;
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, length + n));
            Arrays.fill(old, (byte) 0);
        }
    }

    public WireWriter u8(int v) {
        ensure(1);
        buf[length++] = (byte) v;
        return this;
    }

    public WireWriter u16(int v) {
        if (v < 0 || v > 0xFFFF) {
            throw new IllegalArgumentException("does not fit 16 bits: " + v);
        }
        ensure(2);
        buf[length++] = (byte) (v >>> 8);
        buf[length++] = (byte) v;
        return this;
    }

    public WireWriter u32(int v) {
        ensure(4);
        buf[length++] = (byte) (v >>> 24);
        buf[length++] = (byte) (v >>> 16);
        buf[length++] = (byte) (v >>> 8);
        buf[length++] = (byte) v;
        return this;
    }

    public WireWriter u64(long v) {
        u32((int) (v >>> 32));
        return u32((int) v);
    }

    public WireWriter bytes(byte[] b) {
        return bytes(b, 0, b.length);
    }

    public WireWriter bytes(byte[] b, int offset, int n) {
        ensure(n);
        System.arraycopy(b, offset, buf, length, n);
        length += n;
        return this;
    }

    /** Overwrites two bytes already written, e.g. a length known only at the end. */
    public void patchU16(int at, int v) {
        if (v < 0 || v > 0xFFFF) {
            throw new IllegalArgumentException("does not fit 16 bits: " + v);
        }
        buf[at] = (byte) (v >>> 8);
        buf[at + 1] = (byte) v;
    }

    public void patchU32(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, length);
    }

    /** Zeroes what was written (keys, for records): the copies {@link #toByteArray()} made are the caller's. */
    public void wipe() {
        Arrays.fill(buf, (byte) 0);
        length = 0;
    }
}
