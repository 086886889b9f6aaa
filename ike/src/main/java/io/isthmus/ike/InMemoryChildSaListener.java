package io.isthmus.ike;

import java.util.ArrayList;
import java.util.List;

/** Keeps what IKE announced, in order: for tests, and for running IKE without a data plane. */
public final class InMemoryChildSaListener implements ChildSaListener {
    public record Event(boolean installed, ChildSaDescription sa) {
    }

    private final List<Event> events = new ArrayList<>();
    private final List<ChildSaDescription> current = new ArrayList<>();

    @Override
    public synchronized void installed(ChildSaDescription sa) {
        events.add(new Event(true, sa));
        current.add(sa);
    }

    @Override
    public synchronized void deleted(ChildSaDescription sa) {
        events.add(new Event(false, sa));
        current.remove(sa);
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Child SAs installed and not yet deleted. */
    public synchronized List<ChildSaDescription> current() {
        return List.copyOf(current);
    }
}
