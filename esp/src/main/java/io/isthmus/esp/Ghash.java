package io.isthmus.esp;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * GHASH (NIST SP 800-38D §6.4) under one hash subkey H, for one thread.
 *
 * <p>Why not javax.crypto's AES/GCM: it builds a new GCM engine, GHASH and counter objects on
 * every {@code Cipher.init}, about a kilobyte per packet, and a packet needs an init because its
 * nonce changes. The data plane allocates nothing per packet, so GCM is assembled here from
 * allocation-free parts: AES-ECB from javax.crypto for the counter-mode keystream, and GHASH from
 * the JDK's own {@code com.sun.crypto.provider.GHASH.processBlocks}, the method HotSpot replaces
 * with its carry-less-multiply (PCLMULQDQ/VPCLMULQDQ) stub. That method is not exported, so the
 * JVM must run with {@code --add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED}; without it,
 * or if a future JDK changes the method, a portable table-driven GHASH takes over (correct, several
 * times slower) and {@link #implementation()} says so for the startup log.
 *
 * <p>Elements are two longs, big-endian halves of the 16-byte block, exactly the layout the JDK's
 * state and subkey arrays use.
 */
final class Ghash {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final long R = 0xE100000000000000L;

    /** x^4 times each 4-bit tail: what shifting an element right by a nibble folds back in. Before the probe below, which uses it. */
    private static final long[] REDUCE_4 = new long[16];

    static {
        for (int r = 0; r < 16; r++) {
            long hi = 0;
            long lo = r;
            for (int i = 0; i < 4; i++) {
                long carry = lo & 1;
                lo = (lo >>> 1) | (hi << 63);
                hi = (hi >>> 1) ^ (R & -carry);
            }
            REDUCE_4[r] = hi;
        }
    }

    private static final MethodHandle PROCESS_BLOCKS;
    private static final int SUBKEY_TABLE_LENGTH;
    private static final String UNAVAILABLE_REASON;

    static {
        MethodHandle handle = null;
        int tableLength = 0;
        String reason = null;
        try {
            Class<?> jdkGhash = Class.forName("com.sun.crypto.provider.GHASH");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(jdkGhash, MethodHandles.lookup());
            handle = lookup.findStatic(jdkGhash, "processBlocks",
                    MethodType.methodType(void.class, byte[].class, int.class, int.class, long[].class, long[].class));
            // The intrinsic reads a table of powers of H whose length is the JDK's business: ask the
            // JDK's own constructor rather than hard-coding today's size.
            Constructor<?> constructor = jdkGhash.getDeclaredConstructor(byte[].class);
            constructor.setAccessible(true);
            Field table = jdkGhash.getDeclaredField("subkeyHtbl");
            table.setAccessible(true);
            tableLength = ((long[]) table.get(constructor.newInstance((Object) new byte[16]))).length;
            if (tableLength < 2) {
                throw new IllegalStateException("unexpected GHASH table length " + tableLength);
            }
            if (!agreesWithPortable(handle, tableLength)) {
                throw new IllegalStateException("the JDK's GHASH disagrees with the portable one");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            handle = null;
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        PROCESS_BLOCKS = handle;
        SUBKEY_TABLE_LENGTH = tableLength;
        UNAVAILABLE_REASON = reason;
    }

    private final long[] state = new long[2];
    private final long[] subkeyTable;
    private final long[] portableTable;

    /**
     * @param h the hash subkey E(K, 0^128)
     * @param intrinsic use the JDK's intrinsic when it is available
     */
    Ghash(byte[] h, boolean intrinsic) {
        long h0 = (long) LONG_BE.get(h, 0);
        long h1 = (long) LONG_BE.get(h, 8);
        if (intrinsic && PROCESS_BLOCKS != null) {
            subkeyTable = new long[SUBKEY_TABLE_LENGTH];
            subkeyTable[0] = h0;
            subkeyTable[1] = h1;
            portableTable = null;
        } else {
            subkeyTable = null;
            portableTable = shoupTable(h0, h1);
        }
    }

    /** Whether new instances use the intrinsic. */
    static boolean preferred() {
        return PROCESS_BLOCKS != null;
    }

    /** One line for the startup log. */
    static String implementation() {
        return PROCESS_BLOCKS != null
                ? "JDK GHASH intrinsic (carry-less multiply)"
                : "portable GHASH, several times slower; start the JVM with "
                + "--add-opens java.base/com.sun.crypto.provider=ALL-UNNAMED (" + UNAVAILABLE_REASON + ")";
    }

    boolean usesIntrinsic() {
        return subkeyTable != null;
    }

    void reset() {
        state[0] = 0;
        state[1] = 0;
    }

    /** Absorbs {@code blocks} whole 16-byte blocks. */
    void update(byte[] data, int offset, int blocks) {
        if (blocks <= 0) {
            return;
        }
        if (subkeyTable != null) {
            try {
                PROCESS_BLOCKS.invokeExact(data, offset, blocks, state, subkeyTable);
            } catch (Throwable t) {
                throw new IllegalStateException("JDK GHASH failed", t);
            }
        } else {
            portableBlocks(data, offset, blocks, state, portableTable);
        }
    }

    /** Writes the 16-byte hash to {@code out} and resets the state. */
    void digest(byte[] out, int offset) {
        LONG_BE.set(out, offset, state[0]);
        LONG_BE.set(out, offset + 8, state[1]);
        reset();
    }

    void destroy() {
        reset();
        if (subkeyTable != null) {
            Arrays.fill(subkeyTable, 0);
        }
        if (portableTable != null) {
            Arrays.fill(portableTable, 0);
        }
    }

    private static long[] shoupTable(long h0, long h1) {
        // table[2v], table[2v+1] = P_v * H, where the 4-bit value v = b3 b2 b1 b0 stands for the
        // polynomial b3 + b2 x + b1 x^2 + b0 x^3 (GCM numbers bits from the most significant end).
        long[] table = new long[32];
        long vHi = h0;
        long vLo = h1;
        for (int bit = 8; bit > 0; bit >>= 1) {
            table[2 * bit] = vHi;
            table[2 * bit + 1] = vLo;
            long carry = vLo & 1;
            vLo = (vLo >>> 1) | (vHi << 63);
            vHi = (vHi >>> 1) ^ (R & -carry);
        }
        for (int v = 1; v < 16; v++) {
            int low = Integer.lowestOneBit(v);
            if (low != v) {
                table[2 * v] = table[2 * low] ^ table[2 * (v ^ low)];
                table[2 * v + 1] = table[2 * low + 1] ^ table[2 * (v ^ low) + 1];
            }
        }
        return table;
    }

    private static void portableBlocks(byte[] data, int offset, int blocks, long[] state, long[] table) {
        long y0 = state[0];
        long y1 = state[1];
        for (int b = 0; b < blocks; b++, offset += 16) {
            long x0 = y0 ^ (long) LONG_BE.get(data, offset);
            long x1 = y1 ^ (long) LONG_BE.get(data, offset + 8);
            long z0 = 0;
            long z1 = 0;
            // Horner from the highest-degree nibble (low nibble of byte 15) down to the first.
            for (int i = 0; i < 32; i++) {
                int shift = 4 * i;
                int nibble = (int) ((i < 16 ? x1 >>> shift : x0 >>> (shift - 64)) & 0xF);
                int rem = (int) z1 & 0xF;
                z1 = (z1 >>> 4) | (z0 << 60);
                z0 = (z0 >>> 4) ^ REDUCE_4[rem];
                z0 ^= table[2 * nibble];
                z1 ^= table[2 * nibble + 1];
            }
            y0 = z0;
            y1 = z1;
        }
        state[0] = y0;
        state[1] = y1;
    }

    private static boolean agreesWithPortable(MethodHandle jdk, int tableLength) throws ReflectiveOperationException {
        byte[] data = new byte[64];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 37 + 11);
        }
        long h0 = 0x66e94bd4ef8a2c3bL;
        long h1 = 0x884cfa59ca342b2eL;
        long[] jdkState = new long[2];
        long[] subkeys = new long[tableLength];
        subkeys[0] = h0;
        subkeys[1] = h1;
        long[] portableState = new long[2];
        try {
            jdk.invokeExact(data, 0, 4, jdkState, subkeys);
        } catch (Throwable t) {
            throw new ReflectiveOperationException(t);
        }
        portableBlocks(data, 0, 4, portableState, shoupTable(h0, h1));
        return Arrays.equals(jdkState, portableState);
    }
}
