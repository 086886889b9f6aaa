package io.isthmus.ike;

import java.util.ArrayList;
import java.util.List;

/** Keeps what IKE announced, in order: for tests, and for running IKE without a data plane. */
public final class InMemoryChildSaListener implements ChildSaListener {
    public enum Kind { INSTALLED, REKEYED, DELETED }

    /** {@code replaced} is set for REKEYED: the SA {@code sa} replaces. */
    public record Event(Kind kind, ChildSaDescription sa, ChildSaDescription replaced) {
    }

    private final List<Event> events = new ArrayList<>();
    private final List<ChildSaDescription> current = new ArrayList<>();

    @Override
    public synchronized void installed(ChildSaDescription sa) {
        events.add(new Event(Kind.INSTALLED, sa, null));
        current.add(sa);
    }

    @Override
    public synchronized void rekeyed(ChildSaDescription old, ChildSaDescription replacement) {
        events.add(new Event(Kind.REKEYED, replacement, old));
        current.add(replacement);
    }

    @Override
    public synchronized void deleted(ChildSaDescription sa) {
        events.add(new Event(Kind.DELETED, sa, null));
        current.remove(sa);
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
