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
 * that pass was 10^4 tests per request, 10^8 to bring them all up. A connection whose peers come
 * from a range ({@link Connection#hasOnePeer()} false) is found by the range's network: the
 * request's address cut to each range length in use (a handful) and looked up, so a range is
 * found in the same few steps as one peer. A replaced connection keeps its place. Engine thread only.
 */
final class ConfiguredConnections {
    /** A connection and when it was added: candidates are offered in that order, as they were configured. */
    private record Entry(long order, Connection connection) {
    }

    private final Map<String, List<Entry>> byName = new HashMap<>();
    private final Map<InetAddress, List<Entry>> byPeer = new HashMap<>();
    /** Connections whose peers come from a range, by the range's length and then its network. */
    private final java.util.TreeMap<Integer, Map<InetAddress, List<Entry>>> byRange = new java.util.TreeMap<>();
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
        List<List<Entry>> lists = new ArrayList<>(3);
        lists.add(byPeer.getOrDefault(remote, List.of()));
        for (var ranges : byRange.entrySet()) {
            lists.add(ranges.getValue().getOrDefault(network(remote, ranges.getKey()), List.of()));
        }
        lists.add(anyPeer);
        for (List<Entry> from : lists) {
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
        insert(peerList(e.connection(), true), e);
    }

    /** Where {@code c} is found by its peers' address: null when {@code create} is false and there is no such list. */
    private List<Entry> peerList(Connection c, boolean create) {
        InetAddress peer = c.remoteAddress();
        if (peer == null) {
            return anyPeer;
        }
        if (c.hasOnePeer()) {
            return create ? byPeer.computeIfAbsent(peer, k -> new ArrayList<>(1)) : byPeer.get(peer);
        }
        int length = c.remotePrefixLength();
        InetAddress network = network(peer, length);
        if (!create) {
            Map<InetAddress, List<Entry>> ranges = byRange.get(length);
            return ranges == null ? null : ranges.get(network);
        }
        return byRange.computeIfAbsent(length, k -> new HashMap<>()).computeIfAbsent(network, k -> new ArrayList<>(1));
    }

    /** {@code address} with all but its first {@code length} bits cleared (an IPv4 address cut to an IPv6 length is itself). */
    private static InetAddress network(InetAddress address, int length) {
        byte[] a = address.getAddress();
        if (length >= a.length * 8) {
            return address;
        }
        for (int bit = length; bit < a.length * 8; bit++) {
            a[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e); // four or sixteen bytes
        }
    }

    private void unindex(Entry e) {
        byName.computeIfPresent(e.connection().name(), (k, list) -> {
            list.remove(e);
            return list.isEmpty() ? null : list;
        });
        List<Entry> peers = peerList(e.connection(), false);
        if (peers != null) {
            peers.remove(e);
            if (peers.isEmpty() && peers != anyPeer) {
                Connection c = e.connection();
                if (c.hasOnePeer()) {
                    byPeer.remove(c.remoteAddress());
                } else {
                    Map<InetAddress, List<Entry>> ranges = byRange.get(c.remotePrefixLength());
                    ranges.remove(network(c.remoteAddress(), c.remotePrefixLength()));
                    if (ranges.isEmpty()) {
                        byRange.remove(c.remotePrefixLength());
                    }
                }
            }
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
