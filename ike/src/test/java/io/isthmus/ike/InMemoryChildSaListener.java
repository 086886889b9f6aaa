package io.isthmus.ike;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps what IKE announced, in order: for tests, and for running IKE without a data plane. As
 * the owner of the announced keys ({@link ChildSaListener}), it keeps them readable while the SA
 * lives, for tests to compare, and wipes them when it is deleted.
 */
public final class InMemoryChildSaListener implements ChildSaListener {
    public enum Kind { INSTALLED, REKEYED, DELETED }

    /** {@code replaced} is set for REKEYED: the SA {@code sa} replaces; {@code outboundNow}: whether outbound moved to it at once. */
    public record Event(Kind kind, ChildSaDescription sa, ChildSaDescription replaced, boolean outboundNow) {
    }

    private final List<Event> events = new ArrayList<>();
    private final List<ChildSaDescription> current = new ArrayList<>();
    private final Map<ChildSaDescription, ChildSaKeys> keys = new HashMap<>();

    @Override
    public synchronized void installed(ChildSaDescription sa, ChildSaKeys keys) {
        installed(sa, keys, true);
    }

    @Override
    public synchronized void installed(ChildSaDescription sa, ChildSaKeys keys, boolean outboundNow) {
        events.add(new Event(Kind.INSTALLED, sa, null, outboundNow));
        current.add(sa);
        this.keys.put(sa, keys);
    }

    @Override
    public synchronized void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
        events.add(new Event(Kind.REKEYED, replacement, old, outboundNow));
        current.add(replacement);
        this.keys.put(replacement, keys);
    }

    @Override
    public synchronized void deleted(ChildSaDescription sa) {
        events.add(new Event(Kind.DELETED, sa, null, false));
        current.remove(sa);
        ChildSaKeys k = keys.remove(sa);
        if (k != null) {
            k.destroy();
        }
    }

    /** The keys announced with {@code sa}, while it lives (tests compare them with the peer's). */
    public synchronized ChildSaKeys keys(ChildSaDescription sa) {
        ChildSaKeys k = keys.get(sa);
        if (k == null) {
            throw new IllegalStateException("no keys kept for " + sa);
        }
        return k;
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    public synchronized List<Event> events(Kind kind) {
        return events.stream().filter(e -> e.kind() == kind).toList();
    }

    /** Child SAs installed and not yet deleted, oldest first. */
    public synchronized List<ChildSaDescription> current() {
        return List.copyOf(current);
    }
}
