package io.isthmus.control.ha;

import io.isthmus.dataplane.SaTraffic;
import io.isthmus.dataplane.Dataplane;
import java.nio.ByteBuffer;

/**
 * What the pair's entries are, by the kind byte the sync link carries opaquely, and how their keys
 * are written. One group's entries are the SAs that land on its floating address.
 */
final class SyncKinds {
    /** An established IKE SA: key its two SPIs, value {@code IkeSaRecord.encode()}. */
    static final byte IKE_SA = 1;
    /** A child SA's ESP keys, both directions: key its inbound SPI, value the IKE SA's key then {@code ChildSaKeys.encode()}. */
    static final byte CHILD_KEYS = 2;
    /** How far an outbound SA may count: key the child SA's inbound SPI (unique here), value the lease's last sequence number. */
    static final byte LEASE = 3;
    /**
     * The inbound replay window's top as last synced: key the inbound SPI, value the top and the
     * packets a second it rose by since the sync before ({@link #top}, {@link #rate}).
     */
    static final byte REPLAY_TOP = 4;
    /**
     * A planned handover: the owner stopped the group's SAs and published their exact numbers
     * (LEASE the last sequence number used, REPLAY_TOP the last accepted), so the partner
     * resumes without jumps. Key {@link #HANDOVER_KEY}, value empty.
     */
    static final byte HANDOVER = 5;
    static final byte[] HANDOVER_KEY = {0};
    /**
     * What a child SA carried, synced every {@link SequenceLeases#TRAFFIC_INTERVAL} and at a
     * handover: key the inbound SPI, value inner packets and bytes in, then out ({@link #traffic}).
     * The survivor counts on from them: the byte lifetime ends when it would have, totals go on.
     */
    static final byte TRAFFIC = 6;

    private SyncKinds() {
    }

    static byte[] ikeKey(long initiatorSpi, long responderSpi) {
        return ByteBuffer.allocate(16).putLong(initiatorSpi).putLong(responderSpi).array();
    }

    static byte[] spiKey(int spi) {
        return ByteBuffer.allocate(4).putInt(spi).array();
    }

    static int spi(byte[] key) {
        return ByteBuffer.wrap(key).getInt();
    }

    static byte[] number(long n) {
        return ByteBuffer.allocate(8).putLong(n).array();
    }

    static long number(byte[] value) {
        return ByteBuffer.wrap(value).getLong();
    }

    static byte[] replayTop(long top, long packetsPerSecond) {
        return ByteBuffer.allocate(16).putLong(top).putLong(packetsPerSecond).array();
    }

    static long top(byte[] value) {
        return ByteBuffer.wrap(value).getLong();
    }

    static long rate(byte[] value) {
        return value.length >= 16 ? ByteBuffer.wrap(value).getLong(8) : 0;
    }

    static byte[] traffic(Dataplane.SaCounters c) {
        return ByteBuffer.allocate(32).putLong(c.inPackets()).putLong(c.inBytes()).putLong(c.outPackets()).putLong(c.outBytes()).array();
    }

    /** What {@link #traffic(Dataplane.SaCounters)} wrote; none for a value that is not four counts (from a partner that is wrong). */
    static SaTraffic traffic(byte[] value) {
        if (value == null || value.length != 32) {
            return SaTraffic.NONE;
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        long inPackets = b.getLong();
        long inBytes = b.getLong();
        long outPackets = b.getLong();
        long outBytes = b.getLong();
        if ((inPackets | inBytes | outPackets | outBytes) < 0) {
            return SaTraffic.NONE;
        }
        return new SaTraffic(inPackets, inBytes, outPackets, outBytes);
    }
}
