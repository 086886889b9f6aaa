package io.isthmus.control.radius;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the RADIUS client did and what it dropped. Every datagram that is not the verified answer
 * to a request in flight lands in one of the drop counters, never in an exception.
 */
public final class RadiusCounters {
    public final AtomicLong requests = new AtomicLong();
    public final AtomicLong retransmissions = new AtomicLong();
    public final AtomicLong serverTimeouts = new AtomicLong();
    public final AtomicLong unreachable = new AtomicLong();
    public final AtomicLong accepts = new AtomicLong();
    public final AtomicLong rejects = new AtomicLong();
    public final AtomicLong challenges = new AtomicLong();
    /** Not RADIUS: short, a Length past the datagram, an attribute past Length, over 4096 bytes. */
    public final AtomicLong malformed = new AtomicLong();
    /** From an address no server has, or an identifier no request of ours is waiting on (a late duplicate or a forgery). */
    public final AtomicLong unexpected = new AtomicLong();
    /** Response Authenticator or Message-Authenticator wrong or missing: a forgery or a wrong secret. */
    public final AtomicLong badAuthenticator = new AtomicLong();
    /** A code an Access-Request cannot be answered with. */
    public final AtomicLong badCode = new AtomicLong();
    /** Too many requests in flight to one server (256 identifiers): the request was refused, not queued. */
    public final AtomicLong busy = new AtomicLong();
}
