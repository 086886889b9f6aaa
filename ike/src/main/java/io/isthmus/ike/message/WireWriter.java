package io.isthmus.ike.message;

import java.util.Arrays;

/** A growable big-endian byte buffer for building messages (control plane: allocation is fine). */
final class WireWriter {
    private byte[] buf = new byte[256];
    private int length;

    int length() {
        return length;
    }

    private void ensure(int n) {
        if (length + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, length + n));
        }
    }

    WireWriter u8(int v) {
        ensure(1);
        buf[length++] = (byte) v;
        return this;
    }

    WireWriter u16(int v) {
        if (v < 0 || v > 0xFFFF) {
            throw new IllegalArgumentException("does not fit 16 bits: " + v);
        }
        ensure(2);
        buf[length++] = (byte) (v >>> 8);
        buf[length++] = (byte) v;
        return this;
    }

    WireWriter u32(int v) {
        ensure(4);
        buf[length++] = (byte) (v >>> 24);
        buf[length++] = (byte) (v >>> 16);
        buf[length++] = (byte) (v >>> 8);
        buf[length++] = (byte) v;
        return this;
    }

    WireWriter u64(long v) {
        u32((int) (v >>> 32));
        return u32((int) v);
    }

    WireWriter bytes(byte[] b) {
        return bytes(b, 0, b.length);
    }

    WireWriter bytes(byte[] b, int offset, int n) {
        ensure(n);
        System.arraycopy(b, offset, buf, length, n);
        length += n;
        return this;
    }

    /** Overwrites two bytes already written, e.g. a length known only at the end. */
    void patchU16(int at, int v) {
        if (v < 0 || v > 0xFFFF) {
            throw new IllegalArgumentException("does not fit 16 bits: " + v);
        }
        buf[at] = (byte) (v >>> 8);
        buf[at + 1] = (byte) v;
    }

    void patchU32(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, length);
    }
}
