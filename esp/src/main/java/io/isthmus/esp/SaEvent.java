package io.isthmus.esp;

/** What an SA tells its owner from the packet path, once each. */
public enum SaEvent {
    SOFT_LIFETIME_BYTES(false),
    SOFT_LIFETIME_PACKETS(false),
    /**
     * The sequence number space is nearly used up (the last sixteenth of it): rekey now, or the SA
     * will have to stop sending.
     */
    SEQUENCE_NUMBERS_LOW(false),
    HARD_LIFETIME_BYTES(true),
    HARD_LIFETIME_PACKETS(true),
    /** The SA refused to send: its next sequence number would wrap (RFC 4303 §3.3.3). */
    SEQUENCE_NUMBERS_EXHAUSTED(true);

    private final boolean hard;

    SaEvent(boolean hard) {
        this.hard = hard;
    }

    /** Whether the SA has stopped carrying traffic; otherwise a rekey is due. */
    public boolean isHard() {
        return hard;
    }
}
