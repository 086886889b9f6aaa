package io.isthmus.control.ha;

import io.isthmus.ike.Scheduler;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A planned handover makes before it breaks: the groups handed over keep their child SAs in this
 * instance's data plane for a moment after the partner has them, so the packets the peer and the
 * hosts still send here, until keepalived has moved the floating addresses and they have learnt
 * the new owner's link-layer address, are carried rather than dropped. Both instances carry the
 * SAs meanwhile without sharing a nonce: this one seals only up to the lease end it handed over,
 * the partner only after it. The replay windows overlap as after any takeover (the partner starts
 * at the top handed over, this one goes on above it): what an attacker could replay is what this
 * instance received in the drain, the bound Takeover states for an unplanned takeover.
 *
 * <p>The drain ends {@link #AFTER_LET_GO} after keepalived took the group from this instance, or
 * {@link #LIMIT} after the handover, whichever is first. IKE thread only.
 */
final class HandoverDrain {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /**
     * After keepalived took the group away here: the partner becomes MASTER one advert later and
     * announces the address (gratuitous ARP, unsolicited neighbour advertisements); packets already
     * on their way here arrive within that.
     */
    static final Duration AFTER_LET_GO = Duration.ofMillis(200);
    /** If keepalived says nothing (it is stopped, or slow): the SAs stop here all the same, and so do their leases. */
    static final Duration LIMIT = Duration.ofSeconds(2);

    private final Scheduler scheduler;
    private final Consumer<List<Integer>> remove;
    private final Map<String, Draining> draining = new HashMap<>();
    private long drains;
    /** Completed whenever no drain runs. */
    private CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);

    /** One drain: its SAs, and which drain it is, so that a timer of an earlier one leaves it alone. */
    private record Draining(List<Integer> inboundSpis, long id) {
    }

    /** {@code remove}: takes the child SAs with these inbound SPIs out of the data plane. */
    HandoverDrain(Scheduler scheduler, Consumer<List<Integer>> remove) {
        this.scheduler = scheduler;
        this.remove = remove;
    }

    /** {@code group} was handed over; its child SAs (by inbound SPI) carry on here until the drain ends. */
    void start(String group, List<Integer> inboundSpis) {
        finish(group);
        long id = ++drains;
        if (idle.isDone()) {
            idle = new CompletableFuture<>();
        }
        draining.put(group, new Draining(List.copyOf(inboundSpis), id));
        scheduler.schedule(LIMIT, () -> finish(group, id));
    }

    /** keepalived no longer has {@code group} here: the drain ends shortly. */
    void letGo(String group) {
        Draining d = draining.get(group);
        if (d != null) {
            scheduler.schedule(AFTER_LET_GO, () -> finish(group, d.id()));
        }
    }

    /** Ends the drain of {@code group} now, if one runs: before the group comes back here, for one. */
    void finish(String group) {
        Draining d = draining.remove(group);
        if (d != null) {
            remove.accept(d.inboundSpis());
            LOG.log(System.Logger.Level.INFO, "pair: group {0} drained: its {1} child SA(s) are the partner''s alone now", group,
                    d.inboundSpis().size());
            if (draining.isEmpty()) {
                idle.complete(null);
            }
        }
    }

    private void finish(String group, long id) {
        Draining d = draining.get(group);
        if (d != null && d.id() == id) {
            finish(group);
        }
    }

    boolean idle() {
        return draining.isEmpty();
    }

    /** Completes once no drain runs (at once if none does); other threads may wait on it. */
    CompletableFuture<Void> whenIdle() {
        return idle;
    }
}
