package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The Poly1305 one-time authenticator of RFC 8439 §2.5, for one thread, allocating nothing.
 * The accumulator and r live in five 26-bit limbs so that every product and sum of products fits
 * in a long (26 + 29 bits, five terms).
 */
final class Poly1305 {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long M26 = 0x3ffffff;

    private long r0, r1, r2, r3, r4;
    private long s1, s2, s3, s4;
    private long h0, h1, h2, h3, h4;
    private long padLo, padHi;
    private final byte[] last = new byte[16];

    /** Starts a new MAC under the 32-byte one-time key r || s. */
    void init(byte[] key, int offset) {
        long lo = (long) LONG_LE.get(key, offset) & 0x0ffffffc0fffffffL;
        long hi = (long) LONG_LE.get(key, offset + 8) & 0x0ffffffc0ffffffcL;
        r0 = lo & M26;
        r1 = (lo >>> 26) & M26;
        r2 = ((lo >>> 52) | (hi << 12)) & M26;
        r3 = (hi >>> 14) & M26;
        r4 = hi >>> 40;
        s1 = r1 * 5;
        s2 = r2 * 5;
        s3 = r3 * 5;
        s4 = r4 * 5;
        h0 = h1 = h2 = h3 = h4 = 0;
        padLo = (long) LONG_LE.get(key, offset + 16);
        padHi = (long) LONG_LE.get(key, offset + 24);
    }

    /** Absorbs whole 16-byte blocks, each with the 2^128 bit set. */
    void blocks(byte[] data, int offset, int count) {
        for (int b = 0; b < count; b++, offset += 16) {
            absorb((long) LONG_LE.get(data, offset), (long) LONG_LE.get(data, offset + 8), 1L << 24);
        }
    }

    /** Absorbs {@code length} bytes zero-padded to a 16-byte boundary, as the AEAD construction does. */
    void padded(byte[] data, int offset, int length) {
        int whole = length >>> 4;
        blocks(data, offset, whole);
        int tail = length & 15;
        if (tail != 0) {
            java.util.Arrays.fill(last, (byte) 0);
            System.arraycopy(data, offset + (whole << 4), last, 0, tail);
            blocks(last, 0, 1);
        }
    }

    /** Absorbs a final partial block the way plain Poly1305 does: a 1 byte after the data, no 2^128 bit. */
    void finalPartialBlock(byte[] data, int offset, int length) {
        java.util.Arrays.fill(last, (byte) 0);
        System.arraycopy(data, offset, last, 0, length);
        last[length] = 1;
        absorb((long) LONG_LE.get(last, 0), (long) LONG_LE.get(last, 8), 0);
    }

    /** Absorbs one block given as its two little-endian halves. */
    void block(long lo, long hi) {
        absorb(lo, hi, 1L << 24);
    }

    private void absorb(long lo, long hi, long topBit) {
        long a0 = h0 + (lo & M26);
        long a1 = h1 + ((lo >>> 26) & M26);
        long a2 = h2 + (((lo >>> 52) | (hi << 12)) & M26);
        long a3 = h3 + ((hi >>> 14) & M26);
        long a4 = h4 + (hi >>> 40) + topBit;

        long d0 = a0 * r0 + a1 * s4 + a2 * s3 + a3 * s2 + a4 * s1;
        long d1 = a0 * r1 + a1 * r0 + a2 * s4 + a3 * s3 + a4 * s2;
        long d2 = a0 * r2 + a1 * r1 + a2 * r0 + a3 * s4 + a4 * s3;
        long d3 = a0 * r3 + a1 * r2 + a2 * r1 + a3 * r0 + a4 * s4;
        long d4 = a0 * r4 + a1 * r3 + a2 * r2 + a3 * r1 + a4 * r0;

        long c = d0 >>> 26;
        h0 = d0 & M26;
        d1 += c;
        c = d1 >>> 26;
        h1 = d1 & M26;
        d2 += c;
        c = d2 >>> 26;
        h2 = d2 & M26;
        d3 += c;
        c = d3 >>> 26;
        h3 = d3 & M26;
        d4 += c;
        c = d4 >>> 26;
        h4 = d4 & M26;
        h0 += c * 5;
        c = h0 >>> 26;
        h0 &= M26;
        h1 += c;
    }

    /** Writes the 16-byte tag and forgets the key. */
    void finish(byte[] out, int offset) {
        long c = h1 >>> 26;
        h1 &= M26;
        h2 += c;
        c = h2 >>> 26;
        h2 &= M26;
        h3 += c;
        c = h3 >>> 26;
        h3 &= M26;
        h4 += c;
        c = h4 >>> 26;
        h4 &= M26;
        h0 += c * 5;
        c = h0 >>> 26;
        h0 &= M26;
        h1 += c;

        // h - p = h + 5 - 2^130: use it when it is not negative, in constant time.
        long g0 = h0 + 5;
        c = g0 >>> 26;
        g0 &= M26;
        long g1 = h1 + c;
        c = g1 >>> 26;
        g1 &= M26;
        long g2 = h2 + c;
        c = g2 >>> 26;
        g2 &= M26;
        long g3 = h3 + c;
        c = g3 >>> 26;
        g3 &= M26;
        long g4 = h4 + c - (1L << 26);
        long keepH = g4 >> 63;
        long f0 = (h0 & keepH) | (g0 & ~keepH);
        long f1 = (h1 & keepH) | (g1 & ~keepH);
        long f2 = (h2 & keepH) | (g2 & ~keepH);
        long f3 = (h3 & keepH) | (g3 & ~keepH);
        long f4 = (h4 & keepH) | (g4 & ~keepH);

        long lo = f0 | (f1 << 26) | (f2 << 52);
        long hi = (f2 >>> 12) | (f3 << 14) | (f4 << 40);
        long sumLo = lo + padLo;
        long carry = Long.compareUnsigned(sumLo, lo) < 0 ? 1 : 0;
        long sumHi = hi + padHi + carry;
        LONG_LE.set(out, offset, sumLo);
        LONG_LE.set(out, offset + 8, sumHi);
        destroy();
    }

    void destroy() {
        r0 = r1 = r2 = r3 = r4 = 0;
        s1 = s2 = s3 = s4 = 0;
        h0 = h1 = h2 = h3 = h4 = 0;
        padLo = padHi = 0;
        java.util.Arrays.fill(last, (byte) 0);
    }
}
