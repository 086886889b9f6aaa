package io.isthmus.esp;

/**
 * The sending half of an ESP SA: turns an inner IP packet into an ESP packet, in place.
 *
 * <p>Sequence numbers come from one atomic counter, so threads sealing for the same SA get
 * distinct numbers; packets may leave slightly out of order, which the peer's replay window
 * absorbs. The counter never wraps: past 2^32 - 1 (2^64 - 1 with ESN) the SA refuses to send and
 * reports {@link SaEvent#SEQUENCE_NUMBERS_EXHAUSTED}, after warning with
 * {@link SaEvent#SEQUENCE_NUMBERS_LOW} when a sixteenth of the space is left.
 *
 * <h2>Sequence leases: one key, two gateways, no nonce twice</h2>
 *
 * A gateway pair holds the same outbound SA on both nodes, so that the survivor of a failure
 * carries on with the same keys. With AES-GCM and ChaCha20-Poly1305 the nonce is salt || IV and
 * the IV is the sequence number (RFC 4106, RFC 7634): a sequence number used on both nodes would
 * be a nonce used twice under one key, which gives away the XOR of two plaintexts and, for GCM,
 * the authentication key. So in a pair a node may only use the numbers it holds a
 * <em>lease</em> for ({@link #lease}): every number up to the lease's end (unsigned), until its
 * deadline ({@link System#nanoTime()} on this node). The rule that keeps the nonces apart:
 * <ol>
 * <li>This class hands out a number only if it is at or below the lease's end as read at that
 *     moment, and takes it from the counter with a compare-and-set that refuses instead of
 *     stepping past the end: no thread, however many seal at once, goes beyond it.</li>
 * <li>A lease's end only grows ({@link #lease} keeps the larger of the old and new end), so an
 *     end read by a packet thread a moment ago is still one that was granted.</li>
 * <li>The pair grants an end only once the other node has recorded it (that is the HA layer's
 *     part, above this class). So the other node always knows an upper bound of every number
 *     this node may ever use: the largest end it recorded.</li>
 * <li>The node that takes over continues strictly after that bound ({@link #resumeAfter}), whose
 *     counter only moves forward.</li>
 * </ol>
 * The numbers the two nodes use are then disjoint whatever the timing, even after a split brain
 * in which both believe they are active: the cut-off node cannot get its lease extended (the
 * other node would have to record it) and stops at its end; the survivor starts above it. The
 * deadline is not what keeps the nonces apart: it bounds how long a cut-off node goes on sending
 * at all (a revocation moves it to now), so that two nodes do not both feed the peer for long.
 * It is read from the clock the caller passes in ({@link #seal(byte[], int, int, int, long)}),
 * which the data plane reads once per batch, so a packet sealed just after the deadline in the
 * same batch may still go; the numbers it uses are granted ones all the same.
 *
 * <p>Without a lease (the default, no pair) the SA is limited by the sequence space only, and
 * sealing is what it was before leases: one atomic add, no clock read.
 */
public final class OutboundSa extends SecurityAssociation {
    /** A grant: every number up to {@code end} (unsigned), while {@code System.nanoTime() - deadline < 0}. */
    private record Lease(long end, long deadline) {
    }

    /** The largest sequence number this SA may send, unsigned. */
    private final long lastSequence;
    private final long lowWarning;
    private final long softPackets;
    private final long hardPackets;
    /**
     * The current lease, read by every seal, written by {@link #lease} under this object's lock;
     * null: no lease applies, only the sequence space limits the SA. One reference, so a packet
     * thread reads an end and its deadline from the same grant.
     */
    private volatile Lease grant;
    /** Numbers jumped over by {@link #resumeAfter}: not packets sealed here. Written under the lock. */
    private volatile long skipped;
    /**
     * At {@link #RELEASED}, a cache line of its own: every sequence number up to this one
     * (unsigned) has been sent, or given up, by whoever {@link #reserve}d it ({@link #release}).
     */
    private final long[] order = new long[3 * 16];
    private static final int RELEASED = 16;

    public OutboundSa(SaParameters parameters, SaListener listener) {
        super(parameters, listener);
        lastSequence = esn ? -1L : 0xFFFFFFFFL;
        lowWarning = lastSequence - Long.divideUnsigned(lastSequence, 16);
        // Unlimited is Long.MAX_VALUE; sequence numbers are unsigned and ESN ones go past it.
        softPackets = lifetime.softPackets() == Long.MAX_VALUE ? 0 : lifetime.softPackets();
        hardPackets = lifetime.hardPackets() == Long.MAX_VALUE ? -1L : lifetime.hardPackets();
    }

    /**
     * Packets sealed here, counting those refused once they had a sequence number (past the
     * sequence space or a hard lifetime) and not the numbers {@link #resumeAfter} jumped over.
     */
    @Override
    public long packets() {
        return sequence() - skipped;
    }

    /** The last sequence number handed out (unsigned), or jumped to by {@link #resumeAfter}. */
    public long sequence() {
        return (long) SHARED.getVolatile(shared, SEQUENCE);
    }

    /**
     * Grants this SA every sequence number up to {@code lastSequence} (unsigned) until
     * {@code deadlineNanos} ({@link System#nanoTime()} on this machine; the lease is valid while
     * {@code now - deadlineNanos < 0}). The end never shrinks: a smaller one than the current
     * lease's keeps the current end and only moves the deadline, which may move either way;
     * a deadline of now or earlier revokes the lease (its numbers stay granted, and come back
     * usable with a later deadline). The first call puts an SA that had no lease under leases
     * from then on. Control threads only; packet threads see the new lease at their next seal.
     */
    public synchronized void lease(long lastSequence, long deadlineNanos) {
        Lease current = grant;
        long end = current == null || Long.compareUnsigned(lastSequence, current.end) > 0 ? lastSequence : current.end;
        grant = new Lease(end, deadlineNanos);
    }

    /** Whether a lease limits this SA ({@link #lease} was called); without one, only the sequence space does. */
    public boolean isLeased() {
        return grant != null;
    }

    /** The highest sequence number this SA may use now (unsigned): the lease's end, or the end of the sequence space without one. */
    public long leaseEnd() {
        Lease l = grant;
        return l == null ? lastSequence : Long.compareUnsigned(l.end, lastSequence) < 0 ? l.end : lastSequence;
    }

    /** The lease's deadline ({@link System#nanoTime()}); meaningless without a lease ({@link #isLeased}). */
    public long leaseDeadline() {
        Lease l = grant;
        return l == null ? 0 : l.deadline;
    }

    /**
     * Continues after {@code lastUsed} (unsigned): the next packet gets {@code lastUsed + 1}, for
     * an SA taken over from the other node of a pair, which may have used every number up to its
     * lease's end. Only moves forward: a number at or below {@link #sequence()} changes nothing.
     * Safe while other threads seal (they get numbers above whatever the counter holds), but
     * meant for before the SA carries traffic. Packet lifetime warnings the jump crosses are
     * reported now: the numbers count as used, by this node or the other.
     */
    public synchronized void resumeAfter(long lastUsed) {
        long before;
        do {
            before = sequence();
            if (Long.compareUnsigned(lastUsed, before) <= 0) {
                return;
            }
        } while (!SHARED.compareAndSet(shared, SEQUENCE, before, lastUsed));
        skipped += lastUsed - before;
        release(lastUsed);
        if (softPackets != 0 && Long.compareUnsigned(lastUsed, softPackets) >= 0) {
            fire(SaEvent.SOFT_LIFETIME_PACKETS);
        }
        if (Long.compareUnsigned(lastUsed, lowWarning) >= 0) {
            fire(SaEvent.SEQUENCE_NUMBERS_LOW);
        }
    }

    /**
     * Outbound packets are counted by sequence number: the carried ones are among the numbers
     * {@link #resumeAfter} jumped, so they count as sealed rather than skipped (at most all of them).
     */
    @Override
    public synchronized void carryOver(long packets, long bytes) {
        if (packets < 0) {
            throw new IllegalArgumentException("carried " + packets + " packets: may not be negative");
        }
        super.carryOver(0, bytes);
        skipped -= Math.min(packets, skipped);
    }

    /**
     * Encapsulates the inner packet found at {@code espOffset + headerLength()} into an ESP packet
     * starting at {@code espOffset}: header and IV before it, padding, trailer and ICV after it
     * (leave {@code suite().maxTrailerLength()} bytes of room). Bytes before {@code espOffset} are
     * not touched: that is the headroom for the outer IP and UDP headers.
     *
     * @param nextHeader {@link EspPacket#NEXT_HEADER_IPV4}, {@link EspPacket#NEXT_HEADER_IPV6} or
     *                   {@link EspPacket#NEXT_HEADER_NONE} for a dummy packet
     * @return the ESP packet's length, or a negative {@link SealFailure#code()}
     */
    public int seal(byte[] packet, int espOffset, int innerLength, int nextHeader) {
        Lease l = grant;
        return seal(packet, espOffset, innerLength, nextHeader, false, 0, l, l == null ? 0 : System.nanoTime());
    }

    /**
     * As {@link #seal(byte[], int, int, int)}, the lease's deadline checked against
     * {@code nowNanos}: a {@link System#nanoTime()} the caller read once for a batch of packets,
     * rather than once per packet. Ignored without a lease.
     *
     * <p>Measured with {@code EspBenchmark} (seal, sealLeased, sealLeasedBatchClock, nanoTime;
     * AES-128-GCM, one thread, two runs each, on the project's 2-core VM): System.nanoTime()
     * costs about 25 ns (40 M calls/s); a seal of 64 bytes about 155 ns (6.3 to 6.6 M/s, the
     * same before and after leases existed), of 1400 bytes about 470 ns (2.1 to 2.2 M/s). A
     * leased seal that reads the clock itself ran 5.6 to 5.9 M/s at 64 bytes, about 10% slower
     * (2.0 to 2.1 M/s at 1400 bytes, a few %); with the clock read once per batch and passed in
     * here, 6.4 to 6.9 M/s and 2.2 to 2.3 M/s, no slower than without a lease. Hence this
     * method, which the data plane calls with one clock read per TUN read.
     */
    public int seal(byte[] packet, int espOffset, int innerLength, int nextHeader, long nowNanos) {
        return seal(packet, espOffset, innerLength, nextHeader, false, 0, grant, nowNanos);
    }

    /** Continues as if {@code lastSent} packets had gone out: for tests of the sequence number's edges. */
    void skipTo(long lastSent) {
        SHARED.setVolatile(shared, SEQUENCE, lastSent);
        SHARED.setVolatile(order, RELEASED, lastSent);
    }

    // ------------------------------------------------------------------------------------------
    // Several packet threads, one SA, the packets on the wire in sequence order
    // ------------------------------------------------------------------------------------------

    /** Consecutive sequence numbers {@link #reserve}d by one thread: {@code first} to {@code first + count - 1}. Reused, one per thread. */
    public static final class SequenceBlock {
        private long first;
        private int count;

        public long first() {
            return first;
        }

        public int count() {
            return count;
        }

        /** The last number of the block (unsigned). */
        public long last() {
            return first + count - 1;
        }
    }

    /**
     * Reserves up to {@code n} consecutive sequence numbers for the calling thread, for packets
     * it then seals with {@link #sealReserved}: fewer if the lease (checked against
     * {@code nowNanos}, as {@link #seal(byte[], int, int, int, long)} does), the packet lifetime
     * or the sequence space ends first. Returns how many, the block in {@code into}, or a
     * negative {@link SealFailure#code()} if there is none to give (nothing reserved then). One
     * compare-and-set for the block, so that threads sealing for one SA take one contended
     * atomic per batch instead of one per packet, and each holds a run of numbers it can send
     * as one, in order ({@link #release}). Every number reserved counts as a packet sent
     * ({@link #packets}), whether or not the caller seals one with it (a packet dropped by NAT
     * leaves a gap, which receivers take as a loss).
     */
    public int reserve(SequenceBlock into, int n, long nowNanos) {
        if (n < 1) {
            throw new IllegalArgumentException("reserve at least one number, not " + n);
        }
        if (isDestroyed()) {
            return SealFailure.SA_DELETED.code();
        }
        int refused = refusal;
        if (refused != 0) {
            return refused;
        }
        Lease l = grant;
        if (l != null && nowNanos - l.deadline >= 0) {
            return SealFailure.SEQUENCE_LEASE.code();
        }
        long current;
        long end;
        do {
            current = sequence();
            if (Long.compareUnsigned(current, lastSequence) >= 0) {
                expire(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED, SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code());
                return SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code();
            }
            if (Long.compareUnsigned(current, hardPackets) >= 0) {
                expire(SaEvent.HARD_LIFETIME_PACKETS, SealFailure.LIFETIME_EXPIRED.code());
                return SealFailure.LIFETIME_EXPIRED.code();
            }
            long limit = Long.compareUnsigned(hardPackets, lastSequence) < 0 ? hardPackets : lastSequence;
            if (l != null) {
                if (Long.compareUnsigned(current, l.end) >= 0) {
                    return SealFailure.SEQUENCE_LEASE.code();
                }
                if (Long.compareUnsigned(l.end, limit) < 0) {
                    limit = l.end;
                }
            }
            end = Long.compareUnsigned(limit - current, n) < 0 ? limit : current + n;
        } while (!SHARED.compareAndSet(shared, SEQUENCE, current, end));
        into.first = current + 1;
        into.count = (int) (end - current);
        if (softPackets != 0 && Long.compareUnsigned(into.first, softPackets) <= 0 && Long.compareUnsigned(softPackets, end) <= 0) {
            fire(SaEvent.SOFT_LIFETIME_PACKETS);
        }
        if (Long.compareUnsigned(into.first, lowWarning) <= 0 && Long.compareUnsigned(lowWarning, end) <= 0) {
            fire(SaEvent.SEQUENCE_NUMBERS_LOW);
        }
        return into.count;
    }

    /**
     * Why a thread that {@link #reserve}d fewer numbers than it asked for gets no more now: the
     * lease, the packet lifetime or the sequence space, as a {@link SealFailure#code()}.
     */
    public int shortfall() {
        long current = sequence();
        if (Long.compareUnsigned(current, lastSequence) >= 0) {
            return SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code();
        }
        if (Long.compareUnsigned(current, hardPackets) >= 0) {
            return SealFailure.LIFETIME_EXPIRED.code();
        }
        return SealFailure.SEQUENCE_LEASE.code();
    }

    /**
     * As {@link #seal(byte[], int, int, int)} with sequence number {@code sequence}, one of a
     * block this thread {@link #reserve}d (and no other: a number sealed twice is a nonce used
     * twice). The lease and packet lifetime were checked when the block was reserved.
     */
    public int sealReserved(byte[] packet, int espOffset, int innerLength, int nextHeader, long sequence) {
        int unsealable = unsealable(packet, espOffset, innerLength, nextHeader);
        if (unsealable != 0) {
            return unsealable;
        }
        int header = suite.headerLength();
        int payloadLength = suite.paddedPayloadLength(innerLength);
        int total = header + payloadLength + suite.icvLength();
        return sealNumbered(packet, espOffset, innerLength, nextHeader, header, payloadLength, total, sequence, sequence);
    }

    /**
     * The send order of a {@link #reserve}ing SA: every sequence number up to this one (unsigned)
     * has been sent or given up. A thread whose block starts at {@code first} sends it when
     * this reaches {@code first - 1}, so the SA's packets leave in sequence order however many
     * threads seal them (the data plane waits for that, boundedly).
     */
    public long released() {
        return (long) SHARED.getVolatile(order, RELEASED);
    }

    /** Records that every number up to {@code last} (unsigned) has been sent or given up: never moves back. */
    public void release(long last) {
        long current;
        do {
            current = released();
            if (Long.compareUnsigned(last, current) <= 0) {
                return;
            }
        } while (!SHARED.compareAndSet(order, RELEASED, current, last));
    }

    /** Why this packet cannot be sealed here (a {@link SealFailure} code), or 0: the checks both seal paths make first. */
    private int unsealable(byte[] packet, int espOffset, int innerLength, int nextHeader) {
        if (isDestroyed()) {
            return SealFailure.SA_DELETED.code();
        }
        int refused = refusal;
        if (refused != 0) {
            return refused;
        }
        if (nextHeader != EspPacket.NEXT_HEADER_IPV4 && nextHeader != EspPacket.NEXT_HEADER_IPV6
                && nextHeader != EspPacket.NEXT_HEADER_NONE) {
            return SealFailure.INVALID_NEXT_HEADER.code();
        }
        if (innerLength < 0 || innerLength > 0xFFFF) {
            return SealFailure.INVALID_LENGTH.code();
        }
        int total = suite.headerLength() + suite.paddedPayloadLength(innerLength) + suite.icvLength();
        if (espOffset < 0 || espOffset > packet.length - total) {
            return SealFailure.BUFFER_TOO_SMALL.code();
        }
        return 0;
    }

    /** As {@link #seal(byte[], int, int, int)} but with the IV given: for published test vectors only. */
    int sealWithIv(byte[] packet, int espOffset, int innerLength, int nextHeader, long iv) {
        return seal(packet, espOffset, innerLength, nextHeader, true, iv, grant, System.nanoTime());
    }

    private int seal(byte[] packet, int espOffset, int innerLength, int nextHeader, boolean explicitIv, long iv, Lease l, long now) {
        int unsealable = unsealable(packet, espOffset, innerLength, nextHeader);
        if (unsealable != 0) {
            return unsealable;
        }
        int header = suite.headerLength();
        int payloadLength = suite.paddedPayloadLength(innerLength);
        int total = header + payloadLength + suite.icvLength();

        long seq;
        if (l == null) {
            seq = (long) SHARED.getAndAdd(shared, SEQUENCE, 1L) + 1;
        } else {
            // A compare-and-set rather than an add, so that a refusal takes no number and
            // sealers racing for the lease's last numbers never step past its end.
            if (now - l.deadline >= 0) {
                return SealFailure.SEQUENCE_LEASE.code();
            }
            long current;
            do {
                current = sequence();
                if (Long.compareUnsigned(current, lastSequence) >= 0) {
                    expire(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED, SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code());
                    return SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code();
                }
                if (Long.compareUnsigned(current, l.end) >= 0) {
                    return SealFailure.SEQUENCE_LEASE.code();
                }
            } while (!SHARED.compareAndSet(shared, SEQUENCE, current, current + 1));
            seq = current + 1;
        }
        if (seq == 0 || Long.compareUnsigned(seq, lastSequence) > 0) {
            expire(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED, SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code());
            return SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code();
        }
        if (Long.compareUnsigned(seq, hardPackets) > 0) {
            expire(SaEvent.HARD_LIFETIME_PACKETS, SealFailure.LIFETIME_EXPIRED.code());
            return SealFailure.LIFETIME_EXPIRED.code();
        }
        if (seq == softPackets) {
            fire(SaEvent.SOFT_LIFETIME_PACKETS);
        }
        if (seq == lowWarning) {
            fire(SaEvent.SEQUENCE_NUMBERS_LOW);
        }
        return sealNumbered(packet, espOffset, innerLength, nextHeader, header, payloadLength, total, seq, explicitIv ? iv : seq);
    }

    /** Seals with a sequence number that is this thread's to use: the volume counted, header, padding, trailer, cryptography. */
    private int sealNumbered(byte[] packet, int espOffset, int innerLength, int nextHeader, int header, int payloadLength, int total, long seq,
                             long iv) {
        PerThread thread = thread();
        if (!countBytes(thread, innerLength)) {
            return SealFailure.LIFETIME_EXPIRED.code();
        }

        EspPacket.writeHeader(packet, espOffset, spi, (int) seq);
        int pad = espOffset + header + innerLength;
        int padLength = payloadLength - innerLength - EspPacket.TRAILER_LENGTH;
        for (int i = 0; i < padLength; i++) {
            packet[pad + i] = (byte) (i + 1);
        }
        packet[pad + padLength] = (byte) padLength;
        packet[pad + padLength + 1] = (byte) nextHeader;

        thread.transform.seal(packet, espOffset, payloadLength, seq, iv, esn);
        if (destroyedMeanwhile()) {
            return SealFailure.SA_DELETED.code();
        }
        return total;
    }

    @Override
    int hardRefusalCode() {
        return SealFailure.LIFETIME_EXPIRED.code();
    }
}
