package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The ChaCha20 stream cipher of RFC 8439 §2.3-2.4 (256-bit key, 96-bit nonce, 32-bit block
 * counter), for one thread, allocating nothing. Written here rather than taken from javax.crypto
 * because the JDK's ChaCha20 needs a new parameter object and engine per nonce.
 */
final class ChaCha20 {
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final int[] key = new int[8];
    private final int[] block = new int[16];
    private final byte[] tailBytes = new byte[64];
    private int nonce0;
    private int nonce1;
    private int nonce2;

    ChaCha20(byte[] keyBytes, int offset) {
        for (int i = 0; i < 8; i++) {
            key[i] = (int) INT_LE.get(keyBytes, offset + 4 * i);
        }
    }

    /** Sets the nonce as the three little-endian words of its 12 bytes. */
    void nonce(int n0, int n1, int n2) {
        nonce0 = n0;
        nonce1 = n1;
        nonce2 = n2;
    }

    /** The 64-byte key stream block for {@code counter}, as 16 little-endian words. */
    int[] block(int counter) {
        int x0 = 0x61707865, x1 = 0x3320646e, x2 = 0x79622d32, x3 = 0x6b206574;
        int x4 = key[0], x5 = key[1], x6 = key[2], x7 = key[3];
        int x8 = key[4], x9 = key[5], x10 = key[6], x11 = key[7];
        int x12 = counter, x13 = nonce0, x14 = nonce1, x15 = nonce2;
        for (int round = 0; round < 10; round++) {
            // column round
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);
            // diagonal round
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
        }
        int[] out = block;
        out[0] = x0 + 0x61707865; out[1] = x1 + 0x3320646e; out[2] = x2 + 0x79622d32; out[3] = x3 + 0x6b206574;
        out[4] = x4 + key[0]; out[5] = x5 + key[1]; out[6] = x6 + key[2]; out[7] = x7 + key[3];
        out[8] = x8 + key[4]; out[9] = x9 + key[5]; out[10] = x10 + key[6]; out[11] = x11 + key[7];
        out[12] = x12 + counter; out[13] = x13 + nonce0; out[14] = x14 + nonce1; out[15] = x15 + nonce2;
        return out;
    }

    /** XORs the key stream, starting at block {@code counter}, into {@code data} in place. */
    void xor(byte[] data, int offset, int length, int counter) {
        int done = 0;
        while (length - done >= 64) {
            int[] ks = block(counter++);
            int at = offset + done;
            for (int i = 0; i < 16; i++, at += 4) {
                INT_LE.set(data, at, (int) INT_LE.get(data, at) ^ ks[i]);
            }
            done += 64;
        }
        if (done < length) {
            int[] ks = block(counter);
            for (int i = 0; i < 16; i++) {
                INT_LE.set(tailBytes, 4 * i, ks[i]);
            }
            for (int i = 0; done < length; i++, done++) {
                data[offset + done] ^= tailBytes[i];
            }
        }
    }

    void destroy() {
        Arrays.fill(key, 0);
        Arrays.fill(block, 0);
        Arrays.fill(tailBytes, (byte) 0);
    }
}
