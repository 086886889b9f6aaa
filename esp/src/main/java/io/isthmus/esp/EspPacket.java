package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The wire layout of an ESP packet (RFC 4303 §2), offsets counted from the first byte of the
 * ESP header, whatever outer headers precede it.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ---
 * |               Security Parameters Index (SPI)                 |  ^ authenticated
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |
 * |              Sequence Number (low 32 bits with ESN)           |  |   ---
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |    ^
 * |  IV (8 bytes for AES-GCM and ChaCha20-Poly1305, 16 for AES-CBC) |  |    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |    | encrypted
 * ~        Inner IP packet (tunnel mode: IPv4 or IPv6)            ~  |    |
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |    |
 * |               |     Padding 1, 2, 3 ... (0-255 bytes)         |  |    |
 * +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  |    |
 * |                               |  Pad Length   | Next Header   |  v    v
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
 * |         Integrity Check Value (16, 24 or 32 bytes)            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * With ESN the high 32 bits of the sequence number are never sent, yet they are authenticated:
 * AEAD transforms put them in the AAD (RFC 4106 §5, RFC 7634 §2.1), HMAC appends them after
 * the Next Header field (RFC 4303 §3.3.2.1).
 */
public final class EspPacket {
    public static final int SPI_OFFSET = 0;
    public static final int SEQUENCE_OFFSET = 4;
    /** SPI and sequence number; the IV follows. */
    public static final int HEADER_LENGTH = 8;
    /** Pad Length and Next Header. */
    public static final int TRAILER_LENGTH = 2;
    public static final int MAX_PADDING = 255;

    public static final int NEXT_HEADER_IPV4 = 4;
    public static final int NEXT_HEADER_IPV6 = 41;
    /** A dummy packet (RFC 4303 §2.6): the receiver drops it silently. */
    public static final int NEXT_HEADER_NONE = 59;

    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private EspPacket() {
    }

    /** The SPI of the ESP packet at {@code offset}; the caller has checked 8 bytes are there. */
    public static int spi(byte[] packet, int offset) {
        return (int) INT_BE.get(packet, offset + SPI_OFFSET);
    }

    /** The (low 32 bits of the) sequence number of the ESP packet at {@code offset}. */
    public static int sequence(byte[] packet, int offset) {
        return (int) INT_BE.get(packet, offset + SEQUENCE_OFFSET);
    }

    /**
     * Writes the AAD of the AEAD transforms, zero-padded to one 16-byte block: SPI || sequence
     * number, or SPI || high || low with ESN (RFC 4106 §5, RFC 7634 §2.1). Returns its length.
     */
    static int aadBlock(byte[] packet, int offset, int sequenceHigh, boolean esn, byte[] block) {
        java.util.Arrays.fill(block, 0, 16, (byte) 0);
        INT_BE.set(block, 0, spi(packet, offset));
        if (esn) {
            INT_BE.set(block, 4, sequenceHigh);
            INT_BE.set(block, 8, sequence(packet, offset));
            return 12;
        }
        INT_BE.set(block, 4, sequence(packet, offset));
        return 8;
    }

    static void writeHeader(byte[] packet, int offset, int spi, int sequenceLow) {
        INT_BE.set(packet, offset + SPI_OFFSET, spi);
        INT_BE.set(packet, offset + SEQUENCE_OFFSET, sequenceLow);
    }
}
