package io.isthmus.esp;

/**
 * UDP encapsulation of ESP (RFC 3948), as pure computation: what a datagram that arrived on the
 * NAT-traversal port (4500) is, and how IKE messages and NAT keepalives sent there are framed.
 * IKE and ESP share the port, and the first four bytes tell them apart: an ESP packet starts
 * with its SPI, which is never zero, so four zero bytes (the non-ESP marker) announce IKE.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 SPI (non-zero): ESP, RFC 4303                 |  §2.1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Non-ESP Marker (four zeros)                  |  §2.2
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                  IKE message (RFC 7296 header)                ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * +-+-+-+-+-+-+-+-+
 * |      0xFF     |  NAT-keepalive: one byte, no marker                §2.3
 * +-+-+-+-+-+-+-+-+
 * </pre>
 *
 * {@link #classify} allocates nothing: the data plane calls it for every datagram on port 4500.
 */
public final class UdpEncapsulation {
    /** The length of the non-ESP marker before an IKE message. */
    public static final int MARKER_LENGTH = 4;
    /** The one byte of a NAT-keepalive. */
    public static final byte KEEPALIVE_BYTE = (byte) 0xFF;

    /** What a datagram on the NAT-traversal port carries. */
    public enum Kind {
        /** An ESP packet (it may still be too short to be one: the SA's open says so). */
        ESP,
        /** An IKE message after the non-ESP marker, at {@link #MARKER_LENGTH} from the start. */
        IKE,
        /** A NAT-keepalive: nothing to deliver. */
        KEEPALIVE
    }

    private UdpEncapsulation() {
    }

    /** What the datagram of {@code length} bytes at {@code datagram[offset]} carries. */
    public static Kind classify(byte[] datagram, int offset, int length) {
        if (length == 1 && datagram[offset] == KEEPALIVE_BYTE) {
            return Kind.KEEPALIVE;
        }
        if (length >= MARKER_LENGTH && datagram[offset] == 0 && datagram[offset + 1] == 0 && datagram[offset + 2] == 0
                && datagram[offset + 3] == 0) {
            return Kind.IKE;
        }
        return Kind.ESP;
    }

    /** The datagram that carries {@code message} (an IKE message) on the NAT-traversal port: the marker, then the message. */
    public static byte[] ikeDatagram(byte[] message) {
        byte[] framed = new byte[MARKER_LENGTH + message.length];
        System.arraycopy(message, 0, framed, MARKER_LENGTH, message.length);
        return framed;
    }

    /** A NAT-keepalive datagram (RFC 3948 §2.3): one 0xFF byte, without marker. */
    public static byte[] keepalive() {
        return new byte[] {KEEPALIVE_BYTE};
    }
}
