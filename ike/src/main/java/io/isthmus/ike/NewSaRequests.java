package io.isthmus.ike;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * IKE_SA_INIT requests for new IKE SAs, set aside as they are read so that everything else (an
 * IKE_AUTH above all: the second half of an IKE SA already paid for) is worked on first, and
 * worked through a few at a time between reads. The engine's thread reads its sockets too: in
 * arrival order, a burst of 3,000 reconnecting peers put each IKE_AUTH behind the thousands of
 * IKE_SA_INIT read before it, seconds late, and most were sent again (IKE load bench: 11,859
 * retransmissions for 3,000 IKE SAs); strongSwan queues its jobs by priority likewise. Bounded:
 * past {@link #CAPACITY} a request is dropped and counted (its initiator sends it again). On the
 * engine's thread only.
 */
final class NewSaRequests {
    static final int CAPACITY = 8192;
    /** Requests handed to the engine between two reads of the sockets. */
    static final int BATCH = 8;

    record Request(byte[] bytes, InetSocketAddress local, InetSocketAddress remote) {
    }

    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private long dropped;

    /**
     * Whether the datagram is an IKE_SA_INIT request for a new IKE SA: exchange type 34, the
     * initiator's flag without the response's, no responder SPI yet (RFC 7296 §3.1).
     */
    static boolean isNewSaRequest(byte[] d, int offset, int length) {
        if (length < 28 || (d[offset + 18] & 0xFF) != 34 || (d[offset + 19] & 0x28) != 0x08) {
            return false;
        }
        for (int i = 8; i < 16; i++) {
            if (d[offset + i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Sets {@code r} aside; false, dropping it, when {@link #CAPACITY} wait already. */
    boolean offer(Request r) {
        if (waiting.size() >= CAPACITY) {
            dropped++;
            return false;
        }
        waiting.addLast(r);
        return true;
    }

    /** Hands the oldest {@link #BATCH} to {@code engine}; whether more wait. */
    boolean drain(Transport.Receiver engine) {
        for (int i = 0; i < BATCH && !waiting.isEmpty(); i++) {
            Request r = waiting.pollFirst();
            engine.receive(r.bytes(), 0, r.bytes().length, r.local(), r.remote());
        }
        return !waiting.isEmpty();
    }

    int waiting() {
        return waiting.size();
    }

    long dropped() {
        return dropped;
    }
}
