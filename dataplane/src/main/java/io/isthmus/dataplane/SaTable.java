package io.isthmus.dataplane;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The installed SAs by inbound SPI, immutable like the rest of a {@link ForwardingSnapshot}: in
 * {@link #CHUNKS} open-addressed arrays of the SAs themselves, picked by a hash of the SPI, so
 * that a change copies one small array and the array of chunks, not the whole table (with one
 * map, installing 10,000 SAs copied it 10,000 times: 80 µs an install at 10,000, quadratic
 * overall), and a lookup reads one slot and the SA it holds, whose SPI it compares (a map of keys
 * and values read a key array, a value array and the map besides: three cache misses, not one,
 * when packets come for 1,000 SAs in turn). Never changed once published, so any thread may read
 * it.
 */
final class SaTable {
    /** Enough that a chunk holds a few dozen SAs at 10,000. */
    static final int CHUNKS = 256;
    static final SaTable EMPTY = new SaTable(new InstalledSa.Inbound[CHUNKS][], 0);

    /** Per chunk, the SAs at their hash's slot or the next free one after it (null: none); at most half full. */
    private final InstalledSa.Inbound[][] chunks;
    private final int size;

    private SaTable(InstalledSa.Inbound[][] chunks, int size) {
        this.chunks = chunks;
        this.size = size;
    }

    /** SPIs are ours to choose and may follow a pattern: a multiplicative hash, its top 8 bits the chunk, the next ones the slot. */
    private static int hash(int spi) {
        return spi * 0x9E3779B9;
    }

    /** The SA with this inbound SPI, or null. */
    InstalledSa.Inbound get(int spi) {
        int h = hash(spi);
        InstalledSa.Inbound[] c = chunks[h >>> 24];
        if (c == null) {
            return null;
        }
        int mask = c.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            InstalledSa.Inbound e = c[i];
            if (e == null || e.spi == spi) {
                return e;
            }
        }
    }

    /** With the SA of this inbound SPI added (or replaced), or removed if {@code sa} is null. */
    SaTable with(int spi, InstalledSa.Inbound sa) {
        if (sa != null && sa.spi != spi) {
            throw new IllegalArgumentException("SA " + Integer.toHexString(sa.spi) + " filed as " + Integer.toHexString(spi));
        }
        int h = hash(spi);
        int at = h >>> 24;
        InstalledSa.Inbound[] before = chunks[at];
        List<InstalledSa.Inbound> entries = new ArrayList<>();
        boolean had = false;
        if (before != null) {
            for (InstalledSa.Inbound e : before) {
                if (e != null && e.spi != spi) {
                    entries.add(e);
                } else if (e != null) {
                    had = true;
                }
            }
        }
        if (sa != null) {
            entries.add(sa);
        }
        InstalledSa.Inbound[][] next = Arrays.copyOf(chunks, CHUNKS);
        next[at] = entries.isEmpty() ? null : chunk(entries);
        return new SaTable(next, size + (sa == null ? (had ? -1 : 0) : (had ? 0 : 1)));
    }

    /** The entries open-addressed in an array at most half full (a power of two, at least 8). */
    private static InstalledSa.Inbound[] chunk(List<InstalledSa.Inbound> entries) {
        int capacity = Math.max(8, Integer.highestOneBit(entries.size() * 2 - 1) << 1);
        InstalledSa.Inbound[] c = new InstalledSa.Inbound[capacity];
        int mask = capacity - 1;
        for (InstalledSa.Inbound e : entries) {
            int i = hash(e.spi) & mask;
            while (c[i] != null) {
                i = (i + 1) & mask;
            }
            c[i] = e;
        }
        return c;
    }

    int size() {
        return size;
    }

    /** Each SA: any thread may call this, several at once. */
    void forEach(Consumer<InstalledSa.Inbound> action) {
        for (InstalledSa.Inbound[] c : chunks) {
            if (c != null) {
                for (InstalledSa.Inbound e : c) {
                    if (e != null) {
                        action.accept(e);
                    }
                }
            }
        }
    }

    List<InstalledSa.Inbound> list() {
        List<InstalledSa.Inbound> out = new ArrayList<>(size);
        forEach(out::add);
        return out;
    }
}
