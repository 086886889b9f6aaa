package io.isthmus.ike.engine;

import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeSa;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The engine's IKE SAs by the SPI we chose, and by the name of their connection (a responder's
 * first candidate until IKE_AUTH settles which it is, {@link #refile}), and once authenticated by
 * connection and peer identity: what is asked per connection or per new IKE SA (another SA of
 * its connection? older ones of the same peer to drop after INITIAL_CONTACT? those a reload
 * changes? keep-up's round) is answered from here, not by a pass over every IKE SA, which made
 * bringing up or reloading 10,000 connections quadratic. A connection whose peers come from a
 * range holds one IKE SA per device, thousands: INITIAL_CONTACT from one device looks among that
 * device's identity's, not the connection's. Engine thread only.
 */
final class IkeSaIndex {
    /** Where an SA is filed: its SPI, the connection name, the identity (null before IKE_AUTH), the other candidates it is weighing. */
    private record Filing(long spi, String name, PeerKey peer, List<String> weighing) {
    }

    private record PeerKey(String connection, Identity identity) {
    }

    private final Map<Long, IkeSa> byOurSpi = new HashMap<>();
    private final Map<String, Set<IkeSa>> byConnection = new HashMap<>();
    /**
     * Responders before IKE_AUTH by each of their candidates but the first (filed under that one):
     * a reload that changes a connection finds the SAs that may still become its without a pass
     * over the half-open table (10,000 by default).
     */
    private final Map<String, Set<IkeSa>> weighing = new HashMap<>();
    private final Map<PeerKey, Set<IkeSa>> byPeer = new HashMap<>();
    private final Map<IkeSa, Filing> filings = new IdentityHashMap<>();

    /** {@code sa} is found by {@code ourSpi} from now on, and among its connection's. */
    void file(long ourSpi, IkeSa sa) {
        IkeSa replaced = byOurSpi.put(ourSpi, sa);
        if (replaced != null && replaced != sa) {
            // An SA is filed under one SPI, its own: the one replaced is found nowhere else now.
            Filing f = filings.get(replaced);
            if (f != null && f.spi() == ourSpi) {
                unfile(replaced);
            }
        }
        Filing f = filings.get(sa);
        if (f == null) {
            fileByConnection(ourSpi, sa);
        } else if (f.spi() != ourSpi) {
            byOurSpi.remove(f.spi(), sa);
            filings.put(sa, new Filing(ourSpi, f.name(), f.peer(), f.weighing()));
        }
    }

    /** {@code sa} is gone (if it is still filed under its SPI). */
    void remove(IkeSa sa) {
        if (byOurSpi.remove(sa.ourSpi(), sa)) {
            unfile(sa);
        }
    }

    /** IKE_AUTH chose among a responder's candidates and proved the peer's identity: filed anew under both. */
    void refile(IkeSa sa) {
        Filing f = filings.get(sa);
        if (f != null) {
            unfile(sa);
            fileByConnection(f.spi(), sa);
        }
    }

    IkeSa get(long ourSpi) {
        return byOurSpi.get(ourSpi);
    }

    boolean contains(long ourSpi) {
        return byOurSpi.containsKey(ourSpi);
    }

    /** Every IKE SA, each once (one SPI each). */
    List<IkeSa> all() {
        return List.copyOf(byOurSpi.values());
    }

    /** Every IKE SA, live, for a pass that reads only. */
    Collection<IkeSa> values() {
        return byOurSpi.values();
    }

    /** The IKE SAs filed under connection {@code name}, live (changed as SAs come and go). */
    Set<IkeSa> of(String name) {
        return byConnection.getOrDefault(name, Set.of());
    }

    /** Those of {@link #of} and responders before IKE_AUTH that still weigh {@code name} among their candidates. */
    Set<IkeSa> mayBeOf(String name) {
        Set<IkeSa> out = new LinkedHashSet<>(of(name));
        out.addAll(weighing.getOrDefault(name, Set.of()));
        return out;
    }

    /** The authenticated IKE SAs of connection {@code name} whose peer proved {@code identity}, live. */
    Set<IkeSa> of(String name, Identity identity) {
        return byPeer.getOrDefault(new PeerKey(name, identity), Set.of());
    }

    private void fileByConnection(long spi, IkeSa sa) {
        Connection c = sa.connection();
        String name = c.name();
        PeerKey peer = sa.peerIdentity() == null ? null : new PeerKey(name, sa.peerIdentity());
        List<String> others = List.of();
        if (peer == null && sa.candidates().size() > 1) {
            others = sa.candidates().stream().map(Connection::name).filter(n -> !n.equals(name)).distinct().toList();
        }
        filings.put(sa, new Filing(spi, name, peer, others));
        add(byConnection, name, sa);
        if (peer != null) {
            add(byPeer, peer, sa);
        }
        for (String other : others) {
            add(weighing, other, sa);
        }
    }

    private void unfile(IkeSa sa) {
        Filing f = filings.remove(sa);
        if (f == null) {
            return;
        }
        take(byConnection, f.name(), sa);
        if (f.peer() != null) {
            take(byPeer, f.peer(), sa);
        }
        for (String other : f.weighing()) {
            take(weighing, other, sa);
        }
    }

    private static <K> void add(Map<K, Set<IkeSa>> map, K key, IkeSa sa) {
        map.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(sa);
    }

    private static <K> void take(Map<K, Set<IkeSa>> map, K key, IkeSa sa) {
        map.computeIfPresent(key, (k, set) -> {
            set.remove(sa);
            return set.isEmpty() ? null : set;
        });
    }
}
