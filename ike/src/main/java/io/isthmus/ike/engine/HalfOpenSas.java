package io.isthmus.ike.engine;

import io.isthmus.ike.IkeSa;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A responder's IKE SAs between IKE_SA_INIT and IKE_AUTH: by the initiator's SPI and address
 * (to spot a retransmitted IKE_SA_INIT), oldest first (the first to give way), and by address
 * (each address's share). Every operation takes constant time, whatever the number: the table
 * is what a flood fills, and a scan per request made each request cost as much as the table
 * was long. Engine thread only.
 */
final class HalfOpenSas {
    /**
     * Half-open IKE SAs in all, whoever they come from: the memory a flood can take (some 5 KB
     * each). Ten thousand: a gateway makes only one to two thousand a second (each costs a key
     * pair), so with {@link #MIN_AGE} the oldest are old enough to give way before the
     * table is full; a thousand was filled by a burst of peers reconnecting at once (IKE load bench).
     */
    static final int LIMIT = 10_000;
    /**
     * How old the oldest half-open SA must be to give way to a new one when the table is full; a
     * younger one is still waiting for an IKE_AUTH that is on its way, and the new request is
     * dropped instead (its initiator sends it again). Evicting the youngest-but-oldest instead
     * made a burst of 3,000 peers against a table of 1,000 evict each SA before its IKE_AUTH
     * was read: 10 of 3,000 got through (IKE load bench).
     */
    static final java.time.Duration MIN_AGE = java.time.Duration.ofSeconds(5);

    private final LinkedHashMap<String, IkeSa> byKey = new LinkedHashMap<>(); // oldest first
    /** The keys of those that are not a configured site's (see {@link #toGiveWay}), oldest first. */
    private final java.util.LinkedHashSet<String> clients = new java.util.LinkedHashSet<>();
    /**
     * Those that went on to IKE_AUTH, by the same key, for as long as they exist: a copy of their
     * IKE_SA_INIT still on its way (sent again before our answer arrived, and read after the
     * IKE_AUTH, which goes first) is not a new IKE SA. Taken for one, it cost a key pair and left
     * a half-open SA for 30 s (IKE load bench: 2,674 of them after a burst of 3,000).
     */
    private final Map<String, IkeSa> answered = new HashMap<>();
    private final Map<IkeSa, String> answeredKeyOf = new IdentityHashMap<>();
    /** Each SA's key and the address it was counted under (an SA's remote address may move later). */
    private record Place(String key, InetAddress address) {
    }

    private final Map<IkeSa, Place> placeOf = new IdentityHashMap<>();
    private final Map<InetAddress, ArrayDeque<String>> byAddress = new HashMap<>();

    /** The key of an IKE_SA_INIT: the initiator's SPI and where it came from. */
    static String key(long initiatorSpi, java.net.InetSocketAddress remote) {
        return Long.toHexString(initiatorSpi) + "@" + remote;
    }

    IkeSa get(String key) {
        return byKey.get(key);
    }

    int size() {
        return byKey.size();
    }

    /** Every half-open SA, oldest first (live: the engine thread's only, not to be changed while passed over). */
    java.util.Collection<IkeSa> all() {
        return java.util.Collections.unmodifiableCollection(byKey.values());
    }

    /** How many {@code address} holds. */
    int from(InetAddress address) {
        ArrayDeque<String> keys = byAddress.get(address);
        return keys == null ? 0 : keys.size();
    }

    /** The oldest of {@code address}'s, or null. */
    String oldestFrom(InetAddress address) {
        ArrayDeque<String> keys = byAddress.get(address);
        return keys == null ? null : keys.peekFirst();
    }

    String oldestKey() {
        Iterator<String> i = byKey.keySet().iterator();
        return i.hasNext() ? i.next() : null;
    }

    /**
     * The key of the half-open SA that gives way to a new IKE_SA_INIT when the table is full, or
     * null when the request is dropped instead. Clients (anyone not a configured site: any
     * address may be one) give way only to each other, and only once {@link #MIN_AGE} old. A
     * site's request takes the place of the oldest client's, whatever its age: a flood of clients
     * keeps the table full and young for as long as it lasts, and the site's tunnel would stay down
     * as long. Sites' own SAs (at most halfOpenPerPeer an address) give way only to sites, by age.
     */
    String toGiveWay(boolean site, java.time.Instant now) {
        Iterator<String> i = clients.iterator();
        String client = i.hasNext() ? i.next() : null;
        if (site && client != null) {
            return client;
        }
        String oldest = site ? oldestKey() : client;
        if (oldest == null || java.time.Duration.between(byKey.get(oldest).createdAt(), now).compareTo(MIN_AGE) < 0) {
            return null;
        }
        return oldest;
    }

    /** How many of them are clients', not a configured site's. */
    int clients() {
        return clients.size();
    }

    /** {@code site}: whether {@code sa} is a configured site's, which only sites displace ({@link #toGiveWay}). */
    void add(String key, IkeSa sa, boolean site) {
        InetAddress address = sa.remoteAddress().getAddress();
        byKey.put(key, sa);
        if (!site) {
            clients.add(key);
        }
        placeOf.put(sa, new Place(key, address));
        byAddress.computeIfAbsent(address, a -> new ArrayDeque<>()).addLast(key);
    }

    /** Takes out the SA of {@code key}, if any; returns it. */
    IkeSa remove(String key) {
        IkeSa sa = byKey.remove(key);
        if (sa != null) {
            forget(sa);
        }
        return sa;
    }

    /** Takes out {@code key} if it is still {@code sa}'s (a later SA may have the same SPI and address). */
    void remove(String key, IkeSa sa) {
        if (byKey.get(key) == sa) {
            remove(key);
        }
    }

    /** {@code sa} went on to IKE_AUTH: no longer half-open, its key still known while it exists. */
    void established(IkeSa sa) {
        Place p = placeOf.get(sa);
        if (p != null) {
            remove(p.key(), sa);
            answered.put(p.key(), sa);
            answeredKeyOf.put(sa, p.key());
        }
    }

    /** The SA, past IKE_SA_INIT, that an IKE_SA_INIT with this key made; or null. */
    IkeSa answered(String key) {
        return answered.get(key);
    }

    /** Takes out {@code sa} wherever it is (gone). */
    void remove(IkeSa sa) {
        Place p = placeOf.get(sa);
        if (p != null) {
            remove(p.key(), sa);
        }
        String key = answeredKeyOf.remove(sa);
        if (key != null) {
            answered.remove(key, sa);
        }
    }

    private void forget(IkeSa sa) {
        Place p = placeOf.remove(sa);
        if (p != null) {
            clients.remove(p.key());
        }
        ArrayDeque<String> keys = p == null ? null : byAddress.get(p.address());
        if (keys != null) {
            keys.remove(p.key()); // an address holds a handful (halfOpenPerPeer)
            if (keys.isEmpty()) {
                byAddress.remove(p.address());
            }
        }
    }
}
