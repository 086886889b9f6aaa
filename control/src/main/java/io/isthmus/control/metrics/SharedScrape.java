package io.isthmus.control.metrics;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The registry's snapshot, taken at most once at a time and used again for a moment: a scrape
 * costs the IKE thread a walk over every SA, and the data plane a pass over its tables, so ten
 * clients scraping at once (or one in a loop) must not cost ten walks, nor queue a new walk on
 * an IKE thread that is already behind (one that has not answered the last is not asked again).
 */
final class SharedScrape {
    /** A snapshot this fresh is as good as a new one to anyone graphing at a 15 s interval. */
    static final Duration REUSE = Duration.ofSeconds(1);
    /** Longer than the gateway's own wait for the IKE thread (10 s), which then fails the snapshot first. */
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final PrometheusRegistry registry;
    private CompletableFuture<MetricSnapshots> inFlight;
    private MetricSnapshots last;
    private long lastAt;

    SharedScrape(PrometheusRegistry registry) {
        this.registry = registry;
    }

    MetricSnapshots snapshots() {
        CompletableFuture<MetricSnapshots> f;
        boolean mine = false;
        synchronized (this) {
            if (last != null && System.nanoTime() - lastAt < REUSE.toNanos()) {
                return last;
            }
            if (inFlight == null) {
                inFlight = new CompletableFuture<>();
                mine = true;
            }
            f = inFlight;
        }
        if (mine) {
            try {
                MetricSnapshots s = registry.scrape();
                synchronized (this) {
                    last = s;
                    lastAt = System.nanoTime();
                    inFlight = null;
                }
                f.complete(s);
            } catch (RuntimeException | Error e) {
                synchronized (this) {
                    inFlight = null;
                }
                f.completeExceptionally(e);
            }
        }
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no snapshot within " + WAIT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the snapshot");
        }
    }
}
