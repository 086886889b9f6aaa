package io.isthmus.ike.message;

import java.util.HexFormat;

/**
 * The IKE header (RFC 7296 §3.1).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Initiator's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Responder's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Message ID                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Length                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public record IkeHeader(long initiatorSpi, long responderSpi, int nextPayload, int majorVersion, int minorVersion,
                        int exchangeType, int flags, int messageId, int length) {
    public static final int LENGTH = 28;
    /** Flags: sent by the original initiator of the IKE SA. */
    public static final int FLAG_INITIATOR = 0x08;
    public static final int FLAG_VERSION = 0x10;
    public static final int FLAG_RESPONSE = 0x20;

    public boolean isResponse() {
        return (flags & FLAG_RESPONSE) != 0;
    }

    public boolean fromInitiator() {
        return (flags & FLAG_INITIATOR) != 0;
    }

    /** Parses and checks the header; {@code datagramLength} is what the transport received. */
    static IkeHeader decode(WireReader r, int datagramLength) throws IkeProtocolException {
        long ispi = r.u64("IKE header");
        long rspi = r.u64("IKE header");
        int next = r.u8("IKE header");
        int version = r.u8("IKE header");
        int exchange = r.u8("IKE header");
        int flags = r.u8("IKE header");
        int messageId = r.u32("IKE header");
        int length = r.u32("IKE header");
        int major = version >>> 4;
        if (major != 2) {
            // RFC 7296 §2.5: a higher major version gets INVALID_MAJOR_VERSION, a lower one is dropped.
            throw new IkeProtocolException(NotifyType.INVALID_MAJOR_VERSION, "IKE major version " + major);
        }
        if (length != datagramLength) {
            throw IkeProtocolException.invalidSyntax("IKE header says " + Integer.toUnsignedString(length)
                    + " bytes, datagram has " + datagramLength);
        }
        return new IkeHeader(ispi, rspi, next, major, version & 0x0F, exchange, flags, messageId, length);
    }

    void encode(WireWriter w, int nextPayloadType, int totalLength) {
        w.u64(initiatorSpi).u64(responderSpi).u8(nextPayloadType).u8((majorVersion << 4) | minorVersion)
                .u8(exchangeType).u8(flags).u32(messageId).u32(totalLength);
    }

    /** For logs: "IKE_AUTH request 1 [SPIs 1a2b...c3d4_i 5e6f..._r]". */
    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return ExchangeType.name(exchangeType) + (isResponse() ? " response " : " request ") + Integer.toUnsignedString(messageId)
                + " [" + hex.toHexDigits(initiatorSpi) + "_i " + hex.toHexDigits(responderSpi) + "_r]";
    }
}
