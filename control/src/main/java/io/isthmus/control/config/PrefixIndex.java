package io.isthmus.control.config;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * Prefixes (or addresses, as full-length prefixes) with a value each, in a binary trie by their
 * bits, so that the configuration checks ask "which of them overlap this prefix" or "which hold
 * this address" by walking at most 32 or 128 bits and the part of the trie inside the prefix,
 * not by comparing every pair: with 10,000 sites the pairwise checks took 10^8 comparisons. What
 * the walk finds beyond the bits is what the answer holds (every overlap is a problem listed), so
 * a check costs the size of the configuration plus the size of its answer.
 */
final class PrefixIndex<T> {
    private static final class Node<T> {
        @SuppressWarnings("unchecked")
        final Node<T>[] child = new Node[2];
        List<T> values;
    }

    private final Node<T> v4 = new Node<>();
    private final Node<T> v6 = new Node<>();

    void add(AddressPrefix prefix, T value) {
        add(prefix.network(), prefix.length(), value);
    }

    void add(InetAddress address, T value) {
        byte[] a = address.getAddress();
        add(a, a.length * 8, value);
    }

    private void add(byte[] network, int length, T value) {
        Node<T> n = root(network);
        for (int bit = 0; bit < length; bit++) {
            int b = bit(network, bit);
            if (n.child[b] == null) {
                n.child[b] = new Node<>();
            }
            n = n.child[b];
        }
        if (n.values == null) {
            n.values = new ArrayList<>(1);
        }
        n.values.add(value);
    }

    /** Every value whose prefix holds {@code address}, shortest prefix first. */
    List<T> containing(InetAddress address) {
        byte[] a = address.getAddress();
        List<T> out = new ArrayList<>();
        Node<T> n = root(a);
        for (int bit = 0; n != null; bit++) {
            if (n.values != null) {
                out.addAll(n.values);
            }
            n = bit < a.length * 8 ? n.child[bit(a, bit)] : null;
        }
        return out;
    }

    /** Every value whose prefix overlaps {@code prefix}: those that hold it (shortest first), then those inside it. */
    List<T> overlapping(AddressPrefix prefix) {
        List<T> out = new ArrayList<>();
        Node<T> n = walk(prefix, out::addAll);
        if (n != null) {
            below(n, out::add);
        }
        return out;
    }

    /** Every value whose prefix (or address) is inside {@code prefix}, its own included. */
    List<T> within(AddressPrefix prefix) {
        List<T> out = new ArrayList<>();
        Node<T> n = walk(prefix, v -> { });
        if (n != null) {
            below(n, out::add);
        }
        return out;
    }

    /** Down {@code prefix}'s bits, handing over the values of the shorter prefixes met; the node at its length, or null. */
    private Node<T> walk(AddressPrefix prefix, Consumer<List<T>> above) {
        byte[] p = prefix.network();
        Node<T> n = root(p);
        for (int bit = 0; bit < prefix.length() && n != null; bit++) {
            if (n.values != null) {
                above.accept(n.values);
            }
            n = n.child[bit(p, bit)];
        }
        return n;
    }

    /** The values at {@code top} and under it. */
    private static <T> void below(Node<T> top, Consumer<T> out) {
        Deque<Node<T>> todo = new ArrayDeque<>();
        todo.push(top);
        while (!todo.isEmpty()) {
            Node<T> n = todo.pop();
            if (n.values != null) {
                n.values.forEach(out);
            }
            for (int b = 1; b >= 0; b--) {
                if (n.child[b] != null) {
                    todo.push(n.child[b]);
                }
            }
        }
    }

    private Node<T> root(byte[] network) {
        return network.length == 4 ? v4 : v6;
    }

    private static int bit(byte[] a, int bit) {
        return (a[bit >>> 3] >>> (7 - (bit & 7))) & 1;
    }
}
