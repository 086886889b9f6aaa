package io.isthmus.dataplane.conn;

import io.isthmus.dataplane.ip.IpPacket;

/**
 * The IPv4 header a raw IPv4 socket hands over before each ESP packet (RFC 791), checked before
 * anything behind it is read:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |  Protocol 50  |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL > 5)                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * A raw socket sees every protocol-50 packet the host takes for its address. Linux checks the
 * header, trims the packet to its total length, reassembles fragments and matches the bound
 * address before it delivers; none of that is taken on trust here, since the ESP parser behind
 * reads by these numbers and a kernel, a sandbox or a future packet ring that skips a step must
 * not make it read garbage. Options are skipped, not refused: they are legal.
 */
final class OuterIpv4Header {
    static final int MIN_LENGTH = 20;
    private static final int PROTOCOL_ESP = 50;
    /** More Fragments and the 13-bit offset: either set means a piece of a packet. */
    private static final int FRAGMENT_BITS = 0x3FFF;

    private OuterIpv4Header() {
    }

    /**
     * Where ESP starts in the {@code length} bytes at {@code p[0]}, a raw IPv4 socket's datagram
     * for {@code destination} (an IPv4 address as a big-endian int): after the header and its
     * options; or {@link EspPort.Receiver#MALFORMED_OUTER} if the header is cut short, is not
     * IPv4, gives a total length other than what arrived, is a fragment, is not ESP, or is for
     * another address.
     */
    static int espOffset(byte[] p, int length, int destination) {
        if (length < MIN_LENGTH || (p[0] & 0xF0) != 0x40) {
            return EspPort.Receiver.MALFORMED_OUTER;
        }
        int headerLength = (p[0] & 0x0F) << 2;
        if (headerLength < MIN_LENGTH || headerLength > length || IpPacket.u16(p, 2) != length
                || (IpPacket.u16(p, 6) & FRAGMENT_BITS) != 0 || (p[9] & 0xFF) != PROTOCOL_ESP || (int) IpPacket.u32(p, 16) != destination) {
            return EspPort.Receiver.MALFORMED_OUTER;
        }
        return headerLength;
    }
}
