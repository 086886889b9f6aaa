package io.isthmus.dataplane;

/**
 * The current {@link ForwardingSnapshot}: one volatile field, the only thing the control plane
 * and the packet threads share. The control plane publishes a whole new snapshot per change
 * ({@link ForwardingTables}, under the data plane's lock); a packet thread reads it once per
 * batch of packets, without a lock, and uses what it read to the end of that batch. The
 * {@link Graveyard} relies on this: publish first, then read the threads' duty-cycle counters.
 */
final class Forwarding {
    private volatile ForwardingSnapshot current = ForwardingSnapshot.EMPTY;

    ForwardingSnapshot current() {
        return current;
    }

    void publish(ForwardingSnapshot next) {
        current = next;
    }
}
