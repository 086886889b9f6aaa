package io.isthmus.esp;

/**
 * The sending half of an ESP SA: turns an inner IP packet into an ESP packet, in place.
 *
 * <p>Sequence numbers come from one atomic counter, so threads sealing for the same SA get
 * distinct numbers; packets may leave slightly out of order, which the peer's replay window
 * absorbs. The counter never wraps: past 2^32 - 1 (2^64 - 1 with ESN) the SA refuses to send and
 * reports {@link SaEvent#SEQUENCE_NUMBERS_EXHAUSTED}, after warning with
 * {@link SaEvent#SEQUENCE_NUMBERS_LOW} when a sixteenth of the space is left.
 */
public final class OutboundSa extends SecurityAssociation {
    /** The largest sequence number this SA may send, unsigned. */
    private final long lastSequence;
    private final long lowWarning;
    private final long softPackets;
    private final long hardPackets;

    public OutboundSa(SaParameters parameters, SaListener listener) {
        super(parameters, listener);
        lastSequence = esn ? -1L : 0xFFFFFFFFL;
        lowWarning = lastSequence - Long.divideUnsigned(lastSequence, 16);
        // Unlimited is Long.MAX_VALUE; sequence numbers are unsigned and ESN ones go past it.
        softPackets = lifetime.softPackets() == Long.MAX_VALUE ? 0 : lifetime.softPackets();
        hardPackets = lifetime.hardPackets() == Long.MAX_VALUE ? -1L : lifetime.hardPackets();
    }

    /** Packets sealed, counting those refused once they had a sequence number. */
    @Override
    public long packets() {
        return sequence();
    }

    /** The last sequence number handed out. */
    public long sequence() {
        return (long) SHARED.getVolatile(shared, SEQUENCE);
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
        return seal(packet, espOffset, innerLength, nextHeader, false, 0);
    }

    /** Continues as if {@code lastSent} packets had gone out: for tests of the sequence number's edges. */
    void skipTo(long lastSent) {
        SHARED.setVolatile(shared, SEQUENCE, lastSent);
    }

    /** As {@link #seal(byte[], int, int, int)} but with the IV given: for published test vectors only. */
    int sealWithIv(byte[] packet, int espOffset, int innerLength, int nextHeader, long iv) {
        return seal(packet, espOffset, innerLength, nextHeader, true, iv);
    }

    private int seal(byte[] packet, int espOffset, int innerLength, int nextHeader, boolean explicitIv, long iv) {
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
        int header = suite.headerLength();
        int payloadLength = suite.paddedPayloadLength(innerLength);
        int total = header + payloadLength + suite.icvLength();
        if (espOffset < 0 || espOffset > packet.length - total) {
            return SealFailure.BUFFER_TOO_SMALL.code();
        }

        long seq = (long) SHARED.getAndAdd(shared, SEQUENCE, 1L) + 1;
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

        thread.transform.seal(packet, espOffset, payloadLength, seq, explicitIv ? iv : seq, esn);
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
