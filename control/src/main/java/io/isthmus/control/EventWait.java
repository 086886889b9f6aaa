package io.isthmus.control;

import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.engine.IkeEngine;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Waits for what a verb set going on one connection: {@code successes} events of a kind in
 * {@code success}, or the first of a kind in {@code failure}, whichever comes first. Listening
 * starts before the verb runs, so an answer that comes at once is not missed.
 */
final class EventWait implements IkeEvent.Listener, AutoCloseable {
    private final IkeEngine engine;
    private final String connection;
    private final Set<IkeEvent.Kind> success;
    private final Set<IkeEvent.Kind> failure;
    private final AtomicInteger needed;
    private final CompletableFuture<IkeEvent> outcome = new CompletableFuture<>();

    EventWait(IkeEngine engine, String connection, Set<IkeEvent.Kind> success, int successes, Set<IkeEvent.Kind> failure) {
        this.engine = engine;
        this.connection = connection;
        this.success = success;
        this.failure = failure;
        this.needed = new AtomicInteger(successes);
        engine.addEventListener(this);
    }

    /** How many successes to wait for, once the verb knows (a child rekey: one per child SA). */
    void successes(int n) {
        needed.set(n);
    }

    @Override
    public void event(IkeEvent e) {
        if (!connection.equals(e.connection())) {
            return;
        }
        if (failure.contains(e.kind())) {
            outcome.complete(e);
        } else if (success.contains(e.kind()) && needed.decrementAndGet() <= 0) {
            outcome.complete(e);
        }
    }

    /** The event that settled it, or null if none came within {@code wait}. */
    IkeEvent await(Duration wait) throws InterruptedException {
        try {
            return outcome.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    boolean succeeded(IkeEvent e) {
        return e != null && success.contains(e.kind());
    }

    @Override
    public void close() {
        engine.removeEventListener(this);
    }
}
