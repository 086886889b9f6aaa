package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SA table in chunks holds what one map would, and a change leaves the table it was made from
 * as it was (a packet thread may still be reading that one).
 */
class SaTableTest {
    private static InstalledSa.Inbound sa(int spi) {
        return new InstalledSa.Inbound(spi, null, null, new SaPair("t", null, null, java.util.List.of(), java.util.List.of(), null, null, false),
                null);
    }

    @Test
    void addsReplacesAndRemovesAsAMapAndNeverChangesAPublishedTable() {
        SplittableRandom r = new SplittableRandom(3);
        Map<Integer, InstalledSa.Inbound> model = new HashMap<>();
        SaTable table = SaTable.EMPTY;
        int[] spis = new int[3000];
        for (int i = 0; i < spis.length; i++) {
            // Sequential ones too, as an allocator that counts up would choose them.
            spis[i] = i < 1000 ? 0x1000 + i : r.nextInt();
        }
        for (int step = 0; step < 20_000; step++) {
            int spi = spis[r.nextInt(spis.length)];
            InstalledSa.Inbound sa = r.nextInt(3) == 0 ? null : sa(spi);
            SaTable before = table;
            Map<Integer, InstalledSa.Inbound> beforeModel = new HashMap<>(model);
            table = table.with(spi, sa);
            if (sa == null) {
                model.remove(spi);
            } else {
                model.put(spi, sa);
            }
            assertEquals(model.size(), table.size());
            assertSame(model.get(spi), table.get(spi));
            assertSame(beforeModel.get(spi), before.get(spi), "the table before the change is as it was");
            assertEquals(beforeModel.size(), before.size());
        }
        for (int spi : spis) {
            assertSame(model.get(spi), table.get(spi));
        }
        assertEquals(new HashSet<>(model.values()), new HashSet<>(table.list()));
        assertNull(SaTable.EMPTY.get(spis[0]));
    }
}
