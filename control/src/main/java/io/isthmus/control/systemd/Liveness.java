package io.isthmus.control.systemd;

/**
 * One part of the gateway the watchdog vouches for: whether it has made progress since it was
 * last asked. Asked by one thread (the watchdog's), once a round; the first answer only sets the
 * mark the next one is measured from.
 */
public interface Liveness {
    /** Null if it made progress since the previous call; otherwise what is stuck, one line for the log. */
    String stall();
}
