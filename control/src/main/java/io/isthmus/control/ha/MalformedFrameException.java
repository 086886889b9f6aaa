package io.isthmus.control.ha;

/** A frame from the partner that cannot be read: the link closes the connection and says why. */
final class MalformedFrameException extends Exception {
    MalformedFrameException(String message) {
        super(message);
    }
}
