package io.isthmus.control.config;

import java.util.AbstractList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.function.Function;

/**
 * An immutable list of named things (sites, connections) in the file's order that also finds
 * one by its name in constant time: a gateway with 10,000 connections looks each one's site up
 * several times at start and at each reload, and a scan of the list per lookup made that
 * 10^8 string comparisons. Of two with the same name (which the reader refuses), the first.
 */
final class NamedList<T> extends AbstractList<T> implements RandomAccess {
    private final List<T> items;
    private final Map<String, Integer> positions;

    private NamedList(List<T> items, Function<T, String> name) {
        this.items = List.copyOf(items);
        this.positions = new HashMap<>(this.items.size() * 2);
        for (int i = 0; i < this.items.size(); i++) {
            this.positions.putIfAbsent(name.apply(this.items.get(i)), i);
        }
    }

    /** {@code items} indexed by {@code name}; one that is a NamedList already is returned as it is. */
    static <T> List<T> of(List<T> items, Function<T, String> name) {
        return items instanceof NamedList<T> n ? n : new NamedList<>(items, name);
    }

    /**
     * Where the one named {@code name} is in {@code list}, or -1: at once in a NamedList, by a scan
     * in any other list (as tests build them).
     */
    static <T> int indexOf(List<T> list, String name, Function<T, String> nameOf) {
        if (list instanceof NamedList<T> n) {
            Integer i = n.positions.get(name);
            return i == null ? -1 : i;
        }
        for (int i = 0; i < list.size(); i++) {
            if (nameOf.apply(list.get(i)).equals(name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public T get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
    }
}
