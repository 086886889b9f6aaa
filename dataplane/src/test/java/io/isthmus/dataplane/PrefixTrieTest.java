package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The trie finds what comparing the address with every prefix finds: the longest that holds it,
 * of two alike the later; over random tables of both families with nested, equal, default and
 * host prefixes, at addresses inside, beside and outside them. The IPv4 table (16-8-8) finds what
 * the trie finds.
 */
class PrefixTrieTest {
    private record Entry(byte[] prefix, int length, Integer value) {
    }

    private static boolean holds(Entry e, byte[] address) {
        for (int bit = 0; bit < e.length(); bit++) {
            int m = 0x80 >>> (bit & 7);
            if ((address[bit >>> 3] & m) != (e.prefix()[bit >>> 3] & m)) {
                return false;
            }
        }
        return true;
    }

    private static byte[] random(SplittableRandom r, int bytes) {
        byte[] a = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            // Few distinct leading bytes, so that prefixes nest, repeat and branch late.
            a[i] = (byte) (i < bytes / 2 ? r.nextInt(3) : r.nextInt(256));
        }
        return a;
    }

    private static byte[] masked(byte[] a, int length) {
        byte[] m = a.clone();
        for (int bit = length; bit < m.length * 8; bit++) {
            m[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        return m;
    }

    @Test
    void findsTheLongestPrefixAsAScanDoesInBothFamilies() {
        SplittableRandom r = new SplittableRandom(11);
        for (int bytes : new int[] {4, 16}) {
            for (int table = 0; table < 30; table++) {
                PrefixTrie<Integer> trie = new PrefixTrie<>(bytes);
                List<Entry> entries = new ArrayList<>();
                int n = table == 0 ? 1 : r.nextInt(1, 400);
                for (int i = 0; i < n; i++) {
                    int length = r.nextInt(10) == 0 ? 0 : r.nextInt(10) == 0 ? bytes * 8 : r.nextInt(bytes * 8 + 1);
                    // Some again, with another value: the later wins.
                    Entry e = !entries.isEmpty() && r.nextInt(10) == 0 ? new Entry(entries.get(r.nextInt(entries.size())).prefix(),
                            entries.get(r.nextInt(entries.size())).length(), i) : new Entry(masked(random(r, bytes), length), length, i);
                    e = new Entry(masked(e.prefix(), e.length()), e.length(), i);
                    entries.add(e);
                    trie.put(e.prefix(), e.length(), e.value());
                }
                trie.seal();
                assertTrue(trie.nodes() <= 2 * n + 1, trie.nodes() + " nodes for " + n + " prefixes");
                for (int q = 0; q < 300; q++) {
                    byte[] address = q % 2 == 0 && !entries.isEmpty() ? entries.get(r.nextInt(entries.size())).prefix().clone() : random(r, bytes);
                    if (q % 4 == 0) {
                        address[bytes - 1] ^= (byte) r.nextInt(256);
                    }
                    Entry best = null;
                    for (Entry e : entries) {
                        if (holds(e, address) && (best == null || e.length() >= best.length())) {
                            best = e;
                        }
                    }
                    // Read from inside a packet, as the data plane reads it.
                    byte[] packet = new byte[40 + bytes];
                    System.arraycopy(address, 0, packet, 24, bytes);
                    assertEquals(best == null ? null : best.value(), trie.lookup(packet, 24), PrefixTrie.text(address) + " in a table of " + n);
                }
            }
        }
    }

    @Test
    void theIpv4TableFindsWhatTheTrieFinds() {
        SplittableRandom r = new SplittableRandom(13);
        for (int table = 0; table < 40; table++) {
            PrefixTrie<Integer> trie = new PrefixTrie<>(4);
            Ipv4PrefixTable<Integer> dir = new Ipv4PrefixTable<>();
            List<byte[]> added = new ArrayList<>();
            int n = table == 0 ? 1 : r.nextInt(1, 3000);
            for (int i = 0; i < n; i++) {
                int length = r.nextInt(12) == 0 ? 0 : r.nextInt(12) == 0 ? 32 : r.nextInt(33);
                byte[] p = masked(!added.isEmpty() && r.nextInt(8) == 0 ? added.get(r.nextInt(added.size())) : random(r, 4), length);
                added.add(p);
                trie.put(p, length, i);
                dir.put(p, length, i);
            }
            trie.seal();
            dir.seal();
            assertTrue(dir.blocks() <= 2 * n, dir.blocks() + " blocks for " + n + " prefixes");
            for (int q = 0; q < 2000; q++) {
                byte[] address = q % 2 == 0 ? added.get(r.nextInt(added.size())).clone() : random(r, 4);
                if (q % 3 == 0) {
                    address[3] ^= (byte) r.nextInt(256);
                }
                if (q % 5 == 0) {
                    address[2] ^= (byte) r.nextInt(256);
                }
                assertEquals(trie.lookup(address, 0), dir.lookup(address, 0), PrefixTrie.text(address) + " in a table of " + n);
            }
        }
    }

    @Test
    void aDefaultRouteAndAHostRouteAreFoundAndNothingElseIs() {
        PrefixTrie<String> trie = new PrefixTrie<>(4);
        trie.put(new byte[] {10, 1, 2, 3}, 32, "host");
        trie.put(new byte[] {10, 1, 0, 0}, 16, "net");
        trie.seal();
        assertSame("host", trie.lookup(new byte[] {10, 1, 2, 3}, 0));
        assertSame("net", trie.lookup(new byte[] {10, 1, 2, 4}, 0));
        assertNull(trie.lookup(new byte[] {10, 2, 2, 3}, 0));
        PrefixTrie<String> all = new PrefixTrie<>(16);
        all.put(new byte[16], 0, "default");
        all.seal();
        assertSame("default", all.lookup(new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0));
    }
}
