package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The prefix index answers what comparing every pair answered, in the same order the checks
 * report: random prefixes of both families (many nested, many equal, a default route), each
 * query against a scan of all of them.
 */
class PrefixIndexTest {
    private static AddressPrefix random(SplittableRandom r) {
        boolean v6 = r.nextInt(4) == 0;
        byte[] a = new byte[v6 ? 16 : 4];
        // Few distinct leading bytes, so that prefixes nest and repeat.
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) (i < 2 ? r.nextInt(3) : r.nextInt(256));
        }
        int length = r.nextInt(8) == 0 ? 0 : r.nextInt(a.length * 8 + 1);
        return AddressPrefix.of(a, length);
    }

    @Test
    void overlapsAndContainmentAreWhatAScanOfEveryPrefixFinds() throws Exception {
        SplittableRandom r = new SplittableRandom(7);
        List<AddressPrefix> all = new ArrayList<>();
        PrefixIndex<Integer> index = new PrefixIndex<>();
        for (int i = 0; i < 2000; i++) {
            AddressPrefix p = random(r);
            all.add(p);
            index.add(p, i);
        }
        for (int q = 0; q < 500; q++) {
            AddressPrefix p = random(r);
            List<Integer> overlapping = new ArrayList<>();
            List<Integer> within = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).overlaps(p)) {
                    overlapping.add(i);
                }
                if (p.covers(all.get(i))) {
                    within.add(i);
                }
            }
            List<Integer> found = index.overlapping(p);
            found.sort(null);
            assertEquals(overlapping, found, "overlapping " + p);
            List<Integer> inside = index.within(p);
            inside.sort(null);
            assertEquals(within, inside, "within " + p);
            byte[] host = p.network().clone();
            host[host.length - 1] ^= (byte) r.nextInt(256);
            InetAddress a = InetAddress.getByAddress(host);
            List<Integer> holding = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).contains(a)) {
                    holding.add(i);
                }
            }
            List<Integer> got = index.containing(a);
            got.sort(null);
            assertEquals(holding, got, "containing " + a);
        }
    }
}
