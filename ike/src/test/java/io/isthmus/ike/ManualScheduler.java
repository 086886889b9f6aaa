package io.isthmus.ike;

import java.time.Duration;
import java.time.Instant;
import java.util.PriorityQueue;

/** Virtual time: tasks run when a test advances the clock past them, on the test's thread. */
public final class ManualScheduler implements Scheduler {
    private record Task(Instant at, long order, Runnable run, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.at.equals(b.at)
            ? Long.compare(a.order, b.order) : a.at.compareTo(b.at));
    private Instant now = Instant.parse("2026-11-22T00:00:00Z");
    private long order;

    @Override
    public Instant now() {
        return now;
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        boolean[] cancelled = {false};
        tasks.add(new Task(now.plus(delay), order++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Runs everything due now (including tasks scheduled with no delay by those tasks). */
    public void runDue() {
        while (!tasks.isEmpty() && !tasks.peek().at.isAfter(now)) {
            Task t = tasks.poll();
            if (!t.cancelled[0]) {
                t.run.run();
            }
        }
    }

    public void advance(Duration d) {
        Instant end = now.plus(d);
        while (!tasks.isEmpty() && !tasks.peek().at.isAfter(end)) {
            Task t = tasks.poll();
            now = t.at;
            if (!t.cancelled[0]) {
                t.run.run();
            }
        }
        now = end;
    }
}
