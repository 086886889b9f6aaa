package io.isthmus.esp;

/**
 * Why {@link OutboundSa#seal} sent nothing; it returns {@link #code()}, always negative, in place
 * of a length.
 */
public enum SealFailure {
    /** The next sequence number would wrap (RFC 4303 §3.3.3): the SA waits for its replacement. */
    SEQUENCE_NUMBERS_EXHAUSTED,
    /** The SA reached a hard byte or packet lifetime. */
    LIFETIME_EXPIRED,
    /** The SA was deleted. */
    SA_DELETED,
    /** No room for header, padding or ICV around the inner packet. */
    BUFFER_TOO_SMALL,
    /** Negative, or longer than an IP packet can be. */
    INVALID_LENGTH,
    /** Next Header must be IPv4 (4), IPv6 (41) or none (59, a dummy packet). */
    INVALID_NEXT_HEADER,
    /**
     * The SA's sequence lease is used up or past its deadline ({@link OutboundSa#lease}): in a
     * gateway pair this node may not use more sequence numbers until the pair grants them. No
     * number was taken.
     */
    SEQUENCE_LEASE;

    private static final SealFailure[] VALUES = values();

    public int code() {
        return -1 - ordinal();
    }

    public static SealFailure fromCode(int code) {
        if (code >= 0 || -1 - code >= VALUES.length) {
            throw new IllegalArgumentException("not a seal failure code: " + code);
        }
        return VALUES[-1 - code];
    }
}
