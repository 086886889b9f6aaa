package io.isthmus.esp;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The ChaCha20 stream cipher of RFC 8439 §2.3-2.4 (256-bit key, 96-bit nonce, 32-bit block
 * counter), for one thread, allocating nothing. javax.crypto's ChaCha20 needs a new parameter
 * object and engine per nonce, so the keystream comes from the JDK's block function itself,
 * {@code com.sun.crypto.provider.ChaCha20Cipher.implChaCha20Block}, which HotSpot replaces with
 * an AVX2/AVX-512 stub producing up to sixteen blocks per call. Like {@link Ghash}, it needs
 * {@code --add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED}, checks the JDK's answer
 * against its own at start, and otherwise computes blocks one at a time itself.
 */
final class ChaCha20 {
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;
    /** The JDK stub writes up to sixteen blocks. */
    static final int MAX_KEYSTREAM = 1024;
    private static final MethodHandle JDK_BLOCKS;
    private static final String UNAVAILABLE_REASON;

    static {
        MethodHandle handle = null;
        String reason = null;
        try {
            Class<?> cipher = Class.forName("com.sun.crypto.provider.ChaCha20Cipher");
            handle = MethodHandles.privateLookupIn(cipher, MethodHandles.lookup())
                    .findStatic(cipher, "implChaCha20Block", MethodType.methodType(int.class, int[].class, byte[].class));
            if (!agreesWithOwn(handle)) {
                throw new IllegalStateException("the JDK's ChaCha20 block function disagrees with RFC 8439");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            handle = null;
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        JDK_BLOCKS = handle;
        UNAVAILABLE_REASON = reason;
    }

    /** Constants, key, counter, nonce: the input block of RFC 8439 §2.3. */
    private final int[] state = new int[16];
    /** Output of the block function when computed here. */
    private final int[] block = new int[16];
    private final boolean useJdk;

    ChaCha20(byte[] keyBytes, int offset, boolean jdkBlocks) {
        state[0] = C0;
        state[1] = C1;
        state[2] = C2;
        state[3] = C3;
        for (int i = 0; i < 8; i++) {
            state[4 + i] = (int) INT_LE.get(keyBytes, offset + 4 * i);
        }
        useJdk = jdkBlocks && JDK_BLOCKS != null;
    }

    static boolean jdkAvailable() {
        return JDK_BLOCKS != null;
    }

    /** One line for the startup log. */
    static String implementation() {
        return JDK_BLOCKS != null
                ? "JDK ChaCha20 block intrinsic (AVX2/AVX-512)"
                : "ChaCha20 block function in Java, one block at a time; start the JVM with "
                + "--add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED (" + UNAVAILABLE_REASON + ")";
    }

    boolean usesJdk() {
        return useJdk;
    }

    /** Sets the nonce as the three little-endian words of its 12 bytes. */
    void nonce(int n0, int n1, int n2) {
        state[13] = n0;
        state[14] = n1;
        state[15] = n2;
    }

    /**
     * Writes keystream starting with block {@code counter} to {@code out[0 ..]} ({@code out} must
     * hold {@value #MAX_KEYSTREAM} bytes) and returns how many bytes: a multiple of 64, at least 64.
     */
    int keystream(int counter, byte[] out) {
        state[12] = counter;
        if (useJdk) {
            try {
                return (int) JDK_BLOCKS.invokeExact(state, out);
            } catch (Throwable t) {
                throw new IllegalStateException("JDK ChaCha20 failed", t);
            }
        }
        int[] words = block(counter);
        for (int i = 0; i < 16; i++) {
            INT_LE.set(out, 4 * i, words[i]);
        }
        return 64;
    }

    /** The 64-byte key stream block for {@code counter}, as 16 little-endian words. */
    int[] block(int counter) {
        int[] in = state;
        int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
        int x4 = in[4], x5 = in[5], x6 = in[6], x7 = in[7];
        int x8 = in[8], x9 = in[9], x10 = in[10], x11 = in[11];
        int x12 = counter, x13 = in[13], x14 = in[14], x15 = in[15];
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
        out[0] = x0 + C0; out[1] = x1 + C1; out[2] = x2 + C2; out[3] = x3 + C3;
        out[4] = x4 + in[4]; out[5] = x5 + in[5]; out[6] = x6 + in[6]; out[7] = x7 + in[7];
        out[8] = x8 + in[8]; out[9] = x9 + in[9]; out[10] = x10 + in[10]; out[11] = x11 + in[11];
        out[12] = x12 + counter; out[13] = x13 + in[13]; out[14] = x14 + in[14]; out[15] = x15 + in[15];
        return out;
    }

    void destroy() {
        Arrays.fill(state, 0);
        Arrays.fill(block, 0);
    }

    private static boolean agreesWithOwn(MethodHandle jdk) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 29 + 3);
        }
        ChaCha20 own = new ChaCha20(key, 0, false);
        own.nonce(0x01020304, 0x05060708, 0x090a0b0c);
        byte[] expected = new byte[MAX_KEYSTREAM];
        own.keystream(7, expected);
        byte[] actual = new byte[MAX_KEYSTREAM];
        int[] state = own.state.clone();
        state[12] = 7;
        int n;
        try {
            n = (int) jdk.invokeExact(state, actual);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return n >= 64 && n % 64 == 0 && n <= MAX_KEYSTREAM && Arrays.equals(expected, 0, 64, actual, 0, 64);
    }
}
