package io.isthmus.ike.engine;

import io.isthmus.ike.Connection;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine's connections in the order they were added, found by name and by the peer's
 * address: an IKE_SA_INIT request picks its candidates among the connections to the address it
 * came from (and those to any address), not by a pass over all of them; with 10,000 connections
 * that pass was 10^4 tests per request, 10^8 to bring them all up. A replaced connection keeps
 * its place. Engine thread only.
 */
final class ConfiguredConnections {
    /** A connection and when it was added: candidates are offered in that order, as they were configured. */
    private record Entry(long order, Connection connection) {
    }

    private final Map<String, List<Entry>> byName = new HashMap<>();
    private final Map<InetAddress, List<Entry>> byPeer = new HashMap<>();
    /** Connections without a peer address: any peer may be theirs. */
    private final List<Entry> anyPeer = new ArrayList<>();
    private long added;

    void add(Connection c) {
        index(new Entry(added++, c));
    }

    /** The first connection of this name, or null. */
    Connection get(String name) {
        List<Entry> named = byName.get(name);
        return named == null ? null : named.getFirst().connection();
    }

    /** Puts {@code next} in place of the first connection of its name; returns the one replaced, or null if there is none. */
    Connection replace(Connection next) {
        List<Entry> named = byName.get(next.name());
        if (named == null) {
            return null;
        }
        Entry old = named.getFirst();
        unindex(old);
        index(new Entry(old.order(), next));
        return old.connection();
    }

    /** Takes out the first connection of this name; returns it, or null. */
    Connection remove(String name) {
        List<Entry> named = byName.get(name);
        if (named == null) {
            return null;
        }
        Entry e = named.getFirst();
        unindex(e);
        return e.connection();
    }

    /**
     * The connections a peer at {@code remote} may mean with an IKE_SA_INIT request to {@code local},
     * as configured: not initiator-only, bound to {@code local} (or to any address), to
     * {@code remote} (or to any peer); in the order they were added.
     */
    List<Connection> candidates(InetAddress local, InetAddress remote) {
        List<Entry> out = new ArrayList<>();
        for (List<Entry> from : List.of(byPeer.getOrDefault(remote, List.of()), anyPeer)) {
            for (Entry e : from) {
                Connection c = e.connection();
                if (c.mode() != Connection.Mode.INITIATOR_ONLY && (c.localAddress().equals(local) || c.localAddress().isAnyLocalAddress())) {
                    out.add(e);
                }
            }
        }
        out.sort(Comparator.comparingLong(Entry::order));
        return out.stream().map(Entry::connection).toList();
    }

    private void index(Entry e) {
        insert(byName.computeIfAbsent(e.connection().name(), k -> new ArrayList<>(1)), e);
        InetAddress peer = e.connection().remoteAddress();
        insert(peer == null ? anyPeer : byPeer.computeIfAbsent(peer, k -> new ArrayList<>(1)), e);
    }

    private void unindex(Entry e) {
        byName.computeIfPresent(e.connection().name(), (k, list) -> {
            list.remove(e);
            return list.isEmpty() ? null : list;
        });
        InetAddress peer = e.connection().remoteAddress();
        if (peer == null) {
            anyPeer.remove(e);
        } else {
            byPeer.computeIfPresent(peer, (k, list) -> {
                list.remove(e);
                return list.isEmpty() ? null : list;
            });
        }
    }

    /** Into {@code list}, kept in the order connections were added (a replacement goes back to its place). */
    private static void insert(List<Entry> list, Entry e) {
        int at = list.size();
        while (at > 0 && list.get(at - 1).order() > e.order()) {
            at--;
        }
        list.add(at, e);
    }
}
