package io.isthmus.ike.remoteaccess;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The remote-access clients' address pool (Azure's {@code vpnClientAddressPool}), one per address
 * family: each address is held by one client identity at a time; the IKE SAs that use it are its
 * owners. When its last owner dies the lease is kept for the identity for a grace time, so a
 * laptop that roams and reconnects (Isthmus has no MOBIKE: roaming is re-establishment) gets the
 * address its open connections still use. Past the grace time, or when the pool has nothing else
 * to give, the oldest kept lease is let go.
 *
 * <p>Bounded: at most {@code maxClients} identities hold a live lease, and at most
 * {@code capacity} addresses are held in all (live and kept); memory follows what is held, not
 * the prefix (an IPv6 /64 is never enumerated). Addresses are handed out from the start of the
 * prefixes in order, freed ones first, so a small pool fills densely.
 *
 * <p>Called from the IKE event loop and from management; not the packet path, so one monitor.
 */
public final class VirtualAddressPool {
    /** Why no address was given. */
    public enum Refusal { EXHAUSTED, MAX_CLIENTS, OUTSIDE, TAKEN }

    /** An address, or why there is none; {@code kept} when the identity had it already. */
    public record Assignment(InetAddress address, boolean kept, Refusal refusal) {
        public boolean granted() {
            return address != null;
        }
    }

    private static final class Lease {
        final String identity;
        final long offset;
        final Set<Long> owners = new HashSet<>();
        long releasedAt;

        Lease(String identity, long offset) {
            this.identity = identity;
            this.offset = offset;
        }
    }

    private record Range(BigInteger first, long size) {
    }

    private final List<Range> ranges = new ArrayList<>();
    private final int addressLength;
    private final long capacity;
    private final int maxClients;
    private final long graceNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Lease> byIdentity = new HashMap<>();
    private final Map<Long, Lease> byOffset = new HashMap<>();
    private final Map<Long, List<Lease>> bySa = new HashMap<>();
    /** Leases without owners, oldest release first: the order they are let go in. */
    private final LinkedHashMap<String, Lease> kept = new LinkedHashMap<>();
    private final ArrayDeque<Long> freed = new ArrayDeque<>();
    /** Offsets below this have been handed out at least once (and are held or in {@link #freed}). */
    private long next;
    private int live;

    /**
     * @param prefixes   the pool's prefixes of one family, as network address and length
     * @param lengths    their prefix lengths
     * @param maxClients identities with a live lease, at most
     * @param grace      how long an identity's address is kept after its last IKE SA died
     * @param nanoTime   the clock (System::nanoTime; a manual one in tests)
     */
    public VirtualAddressPool(List<InetAddress> prefixes, List<Integer> lengths, int maxClients, Duration grace, LongSupplier nanoTime) {
        if (prefixes.isEmpty() || prefixes.size() != lengths.size()) {
            throw new IllegalArgumentException("a pool needs one length per prefix, and at least one prefix");
        }
        if (maxClients < 1) {
            throw new IllegalArgumentException("maxClients must be at least 1, not " + maxClients);
        }
        this.addressLength = prefixes.getFirst().getAddress().length;
        long total = 0;
        for (int i = 0; i < prefixes.size(); i++) {
            byte[] a = prefixes.get(i).getAddress();
            int length = lengths.get(i);
            if (a.length != addressLength) {
                throw new IllegalArgumentException("one pool per address family: " + prefixes.get(i).getHostAddress() + " is not like the first");
            }
            int hostBits = a.length * 8 - length;
            if (length < 0 || hostBits < 2) {
                throw new IllegalArgumentException("/" + length + " leaves no room for clients");
            }
            BigInteger network = new BigInteger(1, a).shiftRight(hostBits).shiftLeft(hostBits);
            // The network's own address (IPv4's network, IPv6's subnet-router anycast) and IPv4's broadcast are nobody's.
            long size = hostBits >= 62 ? 1L << 62 : (1L << hostBits) - (addressLength == 4 ? 2 : 1);
            ranges.add(new Range(network.add(BigInteger.ONE), size));
            total = Math.min(Long.MAX_VALUE / 2, total + size);
        }
        this.maxClients = maxClients;
        // Kept leases hold addresses too: room for as many as live ones, then the oldest kept go.
        this.capacity = Math.min(total, 2L * maxClients);
        this.graceNanos = grace.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * An address for {@code identity}'s IKE SA {@code sa}: the one the identity holds (live or
     * kept) if any, else a free one. The SA becomes an owner until {@link #release}.
     */
    public synchronized Assignment acquire(String identity, long sa) {
        expire();
        return acquire(identity, sa, null);
    }

    /** As {@link #acquire(String, long)}, a new lease at {@code offset} when given (free by now), else at a free one. */
    private Assignment acquire(String identity, long sa, Long offset) {
        Lease lease = byIdentity.get(identity);
        boolean had = lease != null;
        if (lease == null || lease.owners.isEmpty()) {
            if (live >= maxClients) {
                return new Assignment(null, false, Refusal.MAX_CLIENTS);
            }
        }
        if (lease == null) {
            if (offset == null) {
                offset = freeOffset();
            }
            if (offset == null) {
                return new Assignment(null, false, Refusal.EXHAUSTED);
            }
            lease = new Lease(identity, offset);
            byIdentity.put(identity, lease);
            byOffset.put(offset, lease);
        }
        if (lease.owners.isEmpty()) {
            kept.remove(identity);
            live++;
        }
        if (lease.owners.add(sa)) {
            bySa.computeIfAbsent(sa, k -> new ArrayList<>(1)).add(lease);
        }
        return new Assignment(address(lease.offset), had, null);
    }

    /**
     * The address a RADIUS server chose for {@code identity} (Framed-IP-Address) for its IKE SA
     * {@code sa}, held in this pool as any lease is, so the pool never hands it to another client:
     * refused when it is outside the pool's prefixes (nothing would route its traffic back) or when
     * another identity's IKE SA uses it; a lease another identity only kept gives way, as does the
     * identity's own kept lease of another address.
     */
    public synchronized Assignment acquireFixed(String identity, long sa, InetAddress wanted) {
        expire();
        Long offset = offsetOf(wanted);
        if (offset == null) {
            return new Assignment(null, false, Refusal.OUTSIDE);
        }
        Lease holder = byOffset.get(offset);
        if (holder != null && !holder.identity.equals(identity)) {
            if (!holder.owners.isEmpty()) {
                return new Assignment(null, false, Refusal.TAKEN);
            }
            kept.remove(holder.identity);
            forget(holder);
        }
        Lease own = byIdentity.get(identity);
        if (own != null && own.offset != offset) {
            if (!own.owners.isEmpty()) {
                return new Assignment(null, false, Refusal.TAKEN);
            }
            kept.remove(identity);
            forget(own);
        }
        freed.remove(offset);
        return acquire(identity, sa, offset);
    }

    /** IKE SA {@code sa} is gone: its leases lose an owner, and those left without one are kept for the grace time. */
    public synchronized void release(long sa) {
        List<Lease> leases = bySa.remove(sa);
        if (leases == null) {
            return;
        }
        long now = nanoTime.getAsLong();
        for (Lease lease : leases) {
            if (lease.owners.remove(sa) && lease.owners.isEmpty()) {
                live--;
                lease.releasedAt = now;
                kept.put(lease.identity, lease);
            }
        }
        expire();
    }

    /** Lets go of the kept leases whose grace time has passed. */
    public synchronized void expire() {
        long now = nanoTime.getAsLong();
        for (Iterator<Lease> it = kept.values().iterator(); it.hasNext(); ) {
            Lease lease = it.next();
            if (now - lease.releasedAt < graceNanos) {
                break;
            }
            it.remove();
            forget(lease);
        }
    }

    /** The address {@code identity} holds, live or kept, or null. */
    public synchronized InetAddress addressOf(String identity) {
        Lease lease = byIdentity.get(identity);
        return lease == null ? null : address(lease.offset);
    }

    /** Identities with a live lease (an IKE SA uses it). */
    public synchronized int liveClients() {
        return live;
    }

    /** Addresses held, live and kept. */
    public synchronized int held() {
        return byOffset.size();
    }

    /** How many addresses may be held at once. */
    public long capacity() {
        return capacity;
    }

    private Long freeOffset() {
        if (!freed.isEmpty()) {
            return freed.poll();
        }
        // Offsets a RADIUS server's address took ahead of the order are passed over.
        while (next < capacity && byOffset.containsKey(next)) {
            next++;
        }
        if (next < capacity) {
            return next++;
        }
        // Full: the identity kept longest gives its address up to one that is here now (one a RADIUS
        // server gave past the order's end frees nothing the order can hand out: the next kept then).
        for (Iterator<Lease> it = kept.values().iterator(); it.hasNext() && freed.isEmpty(); ) {
            Lease oldest = it.next();
            it.remove();
            forget(oldest);
        }
        return freed.poll();
    }

    private void forget(Lease lease) {
        byIdentity.remove(lease.identity);
        byOffset.remove(lease.offset);
        // One not yet reached in order (a RADIUS server's) is handed out when the order gets there.
        if (lease.offset < next) {
            freed.add(lease.offset);
        }
    }

    /** Where {@code a} is in the pool's order of addresses, or null when it is not one of them. */
    private Long offsetOf(InetAddress a) {
        byte[] raw = a.getAddress();
        if (raw.length != addressLength) {
            return null;
        }
        BigInteger value = new BigInteger(1, raw);
        long before = 0;
        for (Range r : ranges) {
            BigInteger d = value.subtract(r.first);
            if (d.signum() >= 0 && d.compareTo(BigInteger.valueOf(r.size)) < 0) {
                return before + d.longValueExact();
            }
            before += r.size;
        }
        return null;
    }

    private InetAddress address(long offset) {
        long left = offset;
        for (Range r : ranges) {
            if (left < r.size) {
                return toAddress(r.first.add(BigInteger.valueOf(left)));
            }
            left -= r.size;
        }
        throw new IllegalStateException("offset " + offset + " is past the pool");
    }

    private InetAddress toAddress(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[addressLength];
        int n = Math.min(raw.length, addressLength);
        System.arraycopy(raw, raw.length - n, out, addressLength - n, n);
        try {
            return InetAddress.getByAddress(out);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether this pool hands out IPv4 addresses. */
    public boolean isIpv4() {
        return addressLength == 4;
    }

    @Override
    public synchronized String toString() {
        return "VirtualAddressPool[" + (isIpv4() ? "IPv4" : "IPv6") + ", " + live + " live, " + kept.size() + " kept, capacity " + capacity + "]";
    }
}
