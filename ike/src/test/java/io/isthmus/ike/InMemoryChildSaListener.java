package io.isthmus.ike;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps what IKE announced, in order: for tests, and for running IKE without a data plane. As
 * the owner of the announced keys ({@link ChildSaListener}), it keeps them readable while the SA
 * lives, for tests to compare, and wipes them when it is deleted.
 */
public final class InMemoryChildSaListener implements ChildSaListener {
    public enum Kind { INSTALLED, REKEYED, DELETED }

    /** {@code replaced} is set for REKEYED: the SA {@code sa} replaces, and whether outbound moved at once. */
    public record Event(Kind kind, ChildSaDescription sa, ChildSaDescription replaced, boolean outboundNow) {
    }

    private final List<Event> events = new ArrayList<>();
    private final List<ChildSaDescription> current = new ArrayList<>();

    @Override
    public synchronized void installed(ChildSaDescription sa) {
        events.add(new Event(Kind.INSTALLED, sa, null, true));
        current.add(sa);
    }

    @Override
    public synchronized void rekeyed(ChildSaDescription old, ChildSaDescription replacement, boolean outboundNow) {
        events.add(new Event(Kind.REKEYED, replacement, old, outboundNow));
        current.add(replacement);
    }

    @Override
    public synchronized void deleted(ChildSaDescription sa) {
        events.add(new Event(Kind.DELETED, sa, null, false));
        current.remove(sa);
        sa.inbound().destroy();
        sa.outbound().destroy();
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
