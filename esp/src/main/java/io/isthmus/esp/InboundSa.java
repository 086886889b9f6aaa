package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The receiving half of an ESP SA: checks and decrypts an ESP packet in place and hands back the
 * inner packet, or says why not.
 *
 * <p>Order of checks, after RFC 4303 §3.4: length; replay window (a read-only pre-check, so that
 * replays cost no cryptography); ICV; then the window is committed, only for packets that
 * authenticated (see {@link ReplayWindow} for how that stays right with several threads); then
 * padding and Next Header. With ESN the high half of the sequence number is inferred from the
 * window (Appendix A2.2), and after {@value #RESYNC_TRIGGER} consecutive authentication failures
 * the next failing packet is retried with the following {@value #RESYNC_TRIES} subspaces
 * (Appendix A3), which recovers from losing 2^32 packets in a row.
 */
public final class InboundSa extends SecurityAssociation {
    static final int RESYNC_TRIGGER = 64;
    static final int RESYNC_TRIES = 4;
    private static final VarHandle FAILURES;

    static {
        try {
            FAILURES = MethodHandles.lookup().findVarHandle(InboundSa.class, "consecutiveFailures", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ReplayWindow window;
    private final AtomicLongArray drops = new AtomicLongArray(DropReason.values().length);
    @SuppressWarnings("unused") // through FAILURES
    private volatile int consecutiveFailures;

    public InboundSa(SaParameters parameters, SaListener listener) {
        super(parameters, listener);
        window = new ReplayWindow(parameters.replayWindow());
    }

    /** Packets delivered (and dummy packets), not counting drops. */
    @Override
    public long packets() {
        return countedPackets();
    }

    public ReplayWindow replayWindow() {
        return window;
    }

    /** Packets dropped for {@code reason} so far. */
    public long drops(DropReason reason) {
        return drops.get(reason.ordinal());
    }

    /**
     * Opens the ESP packet of {@code espLength} bytes at {@code espOffset}, which the caller found
     * by this SA's SPI.
     *
     * @return the inner packet's length (it starts at {@code espOffset + headerLength()}), or a
     * negative {@link DropReason#code()}
     */
    public int open(byte[] packet, int espOffset, int espLength) {
        if (isDestroyed()) {
            return drop(DropReason.SA_DELETED);
        }
        if (refusal != 0) {
            return drop(DropReason.SA_EXPIRED);
        }
        int header = suite.headerLength();
        int payloadLength = espLength - header - suite.icvLength();
        if (espOffset < 0 || espLength < 0 || espOffset > packet.length - espLength
                || payloadLength < EspPacket.TRAILER_LENGTH) {
            return drop(DropReason.TOO_SHORT);
        }
        if (!suite.encryption().isAead() && payloadLength % suite.blockAlignment() != 0) {
            return drop(DropReason.MALFORMED);
        }

        int low = EspPacket.sequence(packet, espOffset);
        long seq = esn ? window.inferSequence(low) : low & 0xFFFFFFFFL;
        int verdict = window.check(seq);
        if (verdict != ReplayWindow.ACCEPT) {
            return drop(verdict == ReplayWindow.REPLAY ? DropReason.REPLAY : DropReason.OUTSIDE_WINDOW);
        }

        PerThread thread = thread();
        PacketTransform transform = thread.transform;
        if (!transform.open(packet, espOffset, payloadLength, (int) (seq >>> 32), esn)) {
            seq = esn ? resynchronise(transform, packet, espOffset, payloadLength, seq) : -1;
            if (seq == -1) {
                return drop(DropReason.BAD_ICV);
            }
        }
        if (consecutiveFailures != 0) {
            consecutiveFailures = 0;
        }
        if (destroyedMeanwhile()) {
            return drop(DropReason.SA_DELETED);
        }
        verdict = window.commit(seq);
        if (verdict != ReplayWindow.ACCEPT) {
            return drop(verdict == ReplayWindow.REPLAY ? DropReason.REPLAY : DropReason.OUTSIDE_WINDOW);
        }

        int trailer = espOffset + header + payloadLength - EspPacket.TRAILER_LENGTH;
        int padLength = packet[trailer] & 0xFF;
        int nextHeader = packet[trailer + 1] & 0xFF;
        int innerLength = payloadLength - EspPacket.TRAILER_LENGTH - padLength;
        if (innerLength < 0) {
            return drop(DropReason.BAD_PADDING);
        }
        int pad = trailer - padLength;
        for (int i = 0; i < padLength; i++) {
            if (packet[pad + i] != (byte) (i + 1)) {
                return drop(DropReason.BAD_PADDING);
            }
        }

        if (!countPacket(thread) || !countBytes(thread, innerLength)) {
            return drop(DropReason.SA_EXPIRED);
        }

        if (nextHeader == EspPacket.NEXT_HEADER_IPV4 || nextHeader == EspPacket.NEXT_HEADER_IPV6) {
            return innerLength;
        }
        return drop(nextHeader == EspPacket.NEXT_HEADER_NONE ? DropReason.DUMMY_PACKET : DropReason.UNSUPPORTED_NEXT_HEADER);
    }

    /**
     * RFC 4303 A3: after a run of authentication failures, try the packet in the next few 2^32
     * subspaces. Whoever triggers the attempt resets the count, so a flood of forgeries costs at
     * most {@value #RESYNC_TRIES} extra checks per {@value #RESYNC_TRIGGER} packets.
     *
     * @return the sequence number the packet authenticated with, or -1
     */
    private long resynchronise(PacketTransform transform, byte[] packet, int espOffset, int payloadLength, long seq) {
        int failures = (int) FAILURES.getAndAdd(this, 1) + 1;
        if (failures < RESYNC_TRIGGER) {
            return -1;
        }
        consecutiveFailures = 0;
        int high = (int) (seq >>> 32);
        for (int k = 1; k <= RESYNC_TRIES; k++) {
            if (transform.open(packet, espOffset, payloadLength, high + k, true)) {
                return ((long) (high + k) << 32) | (seq & 0xFFFFFFFFL);
            }
        }
        return -1;
    }

    private int drop(DropReason reason) {
        drops.getAndIncrement(reason.ordinal());
        return reason.code();
    }

    @Override
    int hardRefusalCode() {
        return DropReason.SA_EXPIRED.code();
    }
}
