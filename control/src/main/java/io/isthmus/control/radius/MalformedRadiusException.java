package io.isthmus.control.radius;

/** A datagram that is not a RADIUS packet we accept; the client drops and counts it, never throws it further. */
public final class MalformedRadiusException extends Exception {
    public MalformedRadiusException(String message) {
        super(message, null, false, false);
    }
}
