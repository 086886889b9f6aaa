package io.isthmus.ike;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Engines joined by a queue of datagrams, delivered one at a time by the test, so no engine is
 * ever re-entered. A filter can drop or inspect any datagram.
 */
final class InMemoryNetwork {
    record Datagram(byte[] bytes, InetSocketAddress from, InetSocketAddress to) {
    }

    private final Map<java.net.InetAddress, IkeEngine> engines = new HashMap<>();
    private final Deque<Datagram> queue = new ArrayDeque<>();
    private Predicate<Datagram> drop = d -> false;
    int delivered;
    int dropped;

    Transport transport() {
        return (datagram, local, remote) -> queue.add(new Datagram(datagram.clone(), local, remote));
    }

    void attach(java.net.InetAddress address, IkeEngine engine) {
        engines.put(address, engine);
    }

    void dropWhen(Predicate<Datagram> rule) {
        this.drop = rule;
    }

    /** Delivers until nothing is left in flight. */
    void deliverAll(ManualScheduler scheduler) {
        while (true) {
            scheduler.runDue();
            Datagram d = queue.poll();
            if (d == null) {
                return;
            }
            if (drop.test(d)) {
                dropped++;
                continue;
            }
            IkeEngine engine = engines.get(d.to().getAddress());
            if (engine != null) {
                delivered++;
                engine.receive(d.bytes(), 0, d.bytes().length, d.to(), d.from());
            }
        }
    }
}
