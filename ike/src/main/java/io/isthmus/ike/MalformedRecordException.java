package io.isthmus.ike;

/**
 * An {@link IkeSaRecord} or {@link ChildSaKeys} that does not decode: truncated, of another
 * version, or with a value out of range. The records come from the pair partner over an
 * authenticated link, yet a bug or a partner of another version must not bring the daemon down;
 * the message names what was wrong, never a key.
 */
public final class MalformedRecordException extends Exception {
    public MalformedRecordException(String message) {
        super(message);
    }

    public MalformedRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
