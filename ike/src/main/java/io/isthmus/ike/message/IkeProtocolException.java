package io.isthmus.ike.message;

/**
 * Bad input from the network, carrying the Notify the RFC says to answer it with (RFC 7296
 * §3.10.1). Whoever catches it decides whether to answer (requests) or only drop (responses,
 * messages that cannot be authenticated).
 */
public class IkeProtocolException extends Exception {
    private final int notifyType;
    private final byte[] notifyData;

    public IkeProtocolException(int notifyType, String message) {
        this(notifyType, new byte[0], message);
    }

    public IkeProtocolException(int notifyType, byte[] notifyData, String message) {
        super(message, null, false, false);
        this.notifyType = notifyType;
        this.notifyData = notifyData.clone();
    }

    public int notifyType() {
        return notifyType;
    }

    public byte[] notifyData() {
        return notifyData.clone();
    }

    /** INVALID_SYNTAX: a malformed message. */
    public static IkeProtocolException invalidSyntax(String message) {
        return new IkeProtocolException(NotifyType.INVALID_SYNTAX, message);
    }
}
