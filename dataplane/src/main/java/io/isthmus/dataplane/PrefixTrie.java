package io.isthmus.dataplane;

import java.util.Arrays;

/**
 * Longest-prefix match over IPv4 or IPv6 addresses: a binary trie in flat arrays, built once
 * and then only read, so lookups need no lock and allocate nothing; a change builds a new trie.
 * A lookup walks at most 32 (or 128) bits of the address, read straight from the packet.
 */
final class PrefixTrie<V> {
    private final int addressBytes;
    private int[] zero = new int[16];
    private int[] one = new int[16];
    private Object[] values = new Object[16];
    private int nodes = 1;

    PrefixTrie(int addressBytes) {
        this.addressBytes = addressBytes;
    }

    void put(byte[] prefix, int length, V value) {
        if (prefix.length != addressBytes || length < 0 || length > 8 * addressBytes) {
            throw new IllegalArgumentException("prefix " + text(prefix) + "/" + length);
        }
        int node = 0;
        for (int bit = 0; bit < length; bit++) {
            boolean set = (prefix[bit >>> 3] & (0x80 >>> (bit & 7))) != 0;
            int[] next = set ? one : zero;
            if (next[node] == 0) {
                if (nodes == zero.length) {
                    zero = Arrays.copyOf(zero, nodes * 2);
                    one = Arrays.copyOf(one, nodes * 2);
                    values = Arrays.copyOf(values, nodes * 2);
                }
                (set ? one : zero)[node] = nodes++;
            }
            node = (set ? one : zero)[node];
        }
        values[node] = value;
    }

    /** The value of the longest prefix holding the address at {@code p[offset]}, or null. */
    @SuppressWarnings("unchecked")
    V lookup(byte[] p, int offset) {
        Object best = values[0];
        int node = 0;
        for (int bit = 0; bit < 8 * addressBytes; bit++) {
            node = (p[offset + (bit >>> 3)] & (0x80 >>> (bit & 7))) != 0 ? one[node] : zero[node];
            if (node == 0) {
                break;
            }
            if (values[node] != null) {
                best = values[node];
            }
        }
        return (V) best;
    }

    static String text(byte[] address) {
        if (address.length == 4) {
            return (address[0] & 0xFF) + "." + (address[1] & 0xFF) + "." + (address[2] & 0xFF) + "." + (address[3] & 0xFF);
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            s.append(i == 0 ? "" : ":").append(Integer.toHexString(((address[i] & 0xFF) << 8) | (address[i + 1] & 0xFF)));
        }
        return s.toString();
    }
}
