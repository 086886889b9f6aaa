package io.isthmus.dataplane;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * The installed SAs by inbound SPI, immutable like the rest of a {@link ForwardingSnapshot}, in
 * {@link #CHUNKS} maps by a hash of the SPI, so that a change copies one small map and the array
 * of chunks, not the whole table: with one map, installing 10,000 SAs copied it 10,000 times
 * (80 µs an install at 10,000, quadratic overall). A lookup costs one array read more than one
 * map would. The maps are never changed once published, so any thread may read them.
 */
final class SaTable {
    /** Enough that a chunk holds a few dozen SAs at 10,000. */
    static final int CHUNKS = 256;
    static final SaTable EMPTY = new SaTable(new Int2ObjectHashMap[CHUNKS], 0);

    private final Int2ObjectHashMap<InstalledSa.Inbound>[] chunks;
    private final int size;

    private SaTable(Int2ObjectHashMap<InstalledSa.Inbound>[] chunks, int size) {
        this.chunks = chunks;
        this.size = size;
    }

    /** SPIs are ours to choose and may follow a pattern: the chunk is picked by a multiplicative hash's top 8 bits. */
    private static int chunk(int spi) {
        return (spi * 0x9E3779B9) >>> 24;
    }

    /** The SA with this inbound SPI, or null. */
    InstalledSa.Inbound get(int spi) {
        Int2ObjectHashMap<InstalledSa.Inbound> c = chunks[chunk(spi)];
        return c == null ? null : c.get(spi);
    }

    /** With the SA of this inbound SPI added (or replaced), or removed if {@code sa} is null. */
    @SuppressWarnings("unchecked")
    SaTable with(int spi, InstalledSa.Inbound sa) {
        int i = chunk(spi);
        Int2ObjectHashMap<InstalledSa.Inbound> before = chunks[i];
        Int2ObjectHashMap<InstalledSa.Inbound> after = before == null ? new Int2ObjectHashMap<>() : new Int2ObjectHashMap<>(before);
        boolean had = after.containsKey(spi);
        if (sa == null) {
            after.remove(spi);
        } else {
            after.put(spi, sa);
        }
        Int2ObjectHashMap<InstalledSa.Inbound>[] next = Arrays.copyOf(chunks, CHUNKS);
        next[i] = after.isEmpty() ? null : after;
        return new SaTable(next, size + (sa == null ? (had ? -1 : 0) : (had ? 0 : 1)));
    }

    int size() {
        return size;
    }

    /**
     * Each SA, without the maps' iterators (which they reuse): so any thread may call this,
     * several at once.
     */
    void forEach(Consumer<InstalledSa.Inbound> action) {
        for (Int2ObjectHashMap<InstalledSa.Inbound> c : chunks) {
            if (c != null) {
                c.forEachInt((spi, sa) -> action.accept(sa));
            }
        }
    }

    List<InstalledSa.Inbound> list() {
        List<InstalledSa.Inbound> out = new ArrayList<>(size);
        forEach(out::add);
        return out;
    }
}
