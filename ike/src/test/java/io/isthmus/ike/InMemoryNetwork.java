package io.isthmus.ike;

import io.isthmus.ike.engine.IkeEngine;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Engines joined by a queue of datagrams, delivered one at a time by the test, so no engine is
 * ever re-entered. A filter can drop or inspect any datagram, and an optional NAT rewrites one
 * host's source address and port on the way out (and back on the way in), as a home router does.
 */
public final class InMemoryNetwork {
    public record Datagram(byte[] bytes, InetSocketAddress from, InetSocketAddress to) {
    }

    private final Map<InetAddress, IkeEngine> engines = new HashMap<>();
    private final Deque<Datagram> queue = new ArrayDeque<>();
    private Predicate<Datagram> drop = d -> false;
    private InetAddress natInside;
    private InetAddress natOutside;
    private final Map<InetSocketAddress, InetSocketAddress> natOut = new HashMap<>();
    private final Map<InetSocketAddress, InetSocketAddress> natIn = new HashMap<>();
    private int nextNatPort = 40_000;
    final List<Datagram> keepalives = new ArrayList<>();
    final List<Datagram> sent = new ArrayList<>();
    int delivered;
    int dropped;

    public Transport transport() {
        return new Transport() {
            @Override
            public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
                Datagram d = new Datagram(datagram.clone(), local, remote);
                sent.add(d);
                queue.add(d);
            }

            @Override
            public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
                keepalives.add(new Datagram(new byte[] {(byte) 0xFF}, local, remote));
            }
        };
    }

    public void attach(InetAddress address, IkeEngine engine) {
        engines.put(address, engine);
    }

    public void dropWhen(Predicate<Datagram> rule) {
        this.drop = rule;
    }

    /** Everything {@code inside} sends leaves from {@code outside} on a port of the NAT's choosing. */
    void natBehind(InetAddress inside, InetAddress outside) {
        this.natInside = inside;
        this.natOutside = outside;
    }

    private Datagram translate(Datagram d) {
        if (natInside == null) {
            return d;
        }
        if (d.from().getAddress().equals(natInside)) {
            InetSocketAddress mapped = natOut.computeIfAbsent(d.from(), k -> {
                InetSocketAddress m = new InetSocketAddress(natOutside, nextNatPort++);
                natIn.put(m, k);
                return m;
            });
            return new Datagram(d.bytes(), mapped, d.to());
        }
        if (d.to().getAddress().equals(natOutside)) {
            InetSocketAddress inside = natIn.get(d.to());
            return inside == null ? null : new Datagram(d.bytes(), d.from(), inside);
        }
        return d;
    }

    /** Delivers until nothing is left in flight. */
    public void deliverAll(ManualScheduler scheduler) {
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
            d = translate(d);
            if (d == null) {
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

    /** Lets virtual time pass in steps, delivering whatever the engines send meanwhile. */
    public void run(ManualScheduler scheduler, java.time.Duration total, java.time.Duration step) {
        for (java.time.Duration t = java.time.Duration.ZERO; t.compareTo(total) < 0; t = t.plus(step)) {
            scheduler.advance(step);
            deliverAll(scheduler);
        }
    }
}
