package io.isthmus.esp;

/**
 * Why an inbound ESP packet was not delivered; the closed set the data plane counts by.
 * {@link InboundSa#open} returns {@link #code()}, always negative, in place of a length.
 */
public enum DropReason {
    /** Shorter than header, IV, trailer and ICV. */
    TOO_SHORT,
    /** The encrypted part is not a whole number of cipher blocks. */
    MALFORMED,
    /** Already received (RFC 4303 §3.4.3). */
    REPLAY,
    /** Older than the replay window reaches. */
    OUTSIDE_WINDOW,
    /** Integrity check failed: wrong key, corrupted or forged. */
    BAD_ICV,
    /** Pad Length longer than the payload, or pad bytes other than 1, 2, 3 ... (RFC 4303 §2.4). */
    BAD_PADDING,
    /** Next Header neither IPv4 (4) nor IPv6 (41): only tunnel mode is spoken. */
    UNSUPPORTED_NEXT_HEADER,
    /** A dummy packet (Next Header 59, RFC 4303 §2.6): dropped silently, counted all the same. */
    DUMMY_PACKET,
    /** The SA reached its hard lifetime. */
    SA_EXPIRED,
    /** The SA was deleted. */
    SA_DELETED;

    private static final DropReason[] VALUES = values();

    /** The negative value {@link InboundSa#open} returns for this reason. */
    public int code() {
        return -1 - ordinal();
    }

    public static DropReason fromCode(int code) {
        if (code >= 0 || -1 - code >= VALUES.length) {
            throw new IllegalArgumentException("not a drop code: " + code);
        }
        return VALUES[-1 - code];
    }

    /** Whether this drop is expected traffic rather than a fault worth logging. */
    public boolean isSilent() {
        return this == DUMMY_PACKET;
    }
}
