package io.isthmus.ike;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The child SAs one IKE SA keeps ({@link IkeSa#children()}), and what becomes of them: their
 * timers started, rekeyed and deleted through the exchanges while their IKE SA allows it, removed
 * (their inbound SPIs free again), handed over to the IKE SA that replaces theirs, or forgotten
 * when it is released to another instance. The exchanges change them here; the daemon asks its
 * {@link IkeSa} by inbound SPI.
 */
public final class ChildSas {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeSa sa;
    private final List<ChildSa> list = new ArrayList<>();

    ChildSas(IkeSa sa) {
        this.sa = sa;
    }

    /** All of them, unmodifiable. */
    public List<ChildSa> list() {
        return Collections.unmodifiableList(list);
    }

    public Stream<ChildSa> stream() {
        return list.stream();
    }

    /** Whether {@code c} is still one of this IKE SA's (not removed, not handed over). */
    public boolean contains(ChildSa c) {
        return list.contains(c);
    }

    public ChildSa byInboundSpi(int inboundSpi) {
        return list.stream().filter(c -> c.inboundSpi() == inboundSpi).findFirst().orElse(null);
    }

    public ChildSa byOutboundSpi(int outboundSpi) {
        return list.stream().filter(c -> c.outboundSpi() == outboundSpi).findFirst().orElse(null);
    }

    /** A new one of ours: kept, and rekeyed before its lifetime ends. */
    public void add(ChildSa child) {
        list.add(child);
        sa.touched();
        sa.timers().startChild(child, Duration.ZERO);
        if (sa.isUp()) {
            // Make-before-break: the new IKE SA and its child SA are up, the old one can go.
            sa.reauthentication().ended(null);
        }
    }

    /** One of an adopted IKE SA, {@code age} old: its timers run for what is left of its lifetime. */
    void adopt(ChildSa child, Duration age) {
        list.add(child);
        sa.timers().startChild(child, age);
    }

    /** Starts the rekey of {@code c} if it is ours and installed; while our IKE SA is rekeyed, a little later. */
    public void rekey(ChildSa c) {
        if (!sa.isUp() || c.owner != sa || c.state != ChildSa.State.INSTALLED || !list.contains(c)) {
            return;
        }
        if (sa.state() == IkeSaState.REKEYING) {
            // RFC 7296 §2.25.2 would have the peer refuse it anyway; try once the new IKE SA is up.
            sa.context().scheduler().schedule(Duration.ofSeconds(2), () -> c.owner.children().rekey(c));
            return;
        }
        sa.context().exchanges().rekeyChild(sa, c);
    }

    /** Deletes {@code c}, telling the peer, or at once when this SA can no longer tell it. */
    public void delete(ChildSa c, String why) {
        if (c.owner != sa || c.state == ChildSa.State.DELETING || !list.contains(c)) {
            return;
        }
        if (!sa.isUp()) {
            remove(c, why);
            return;
        }
        c.state = ChildSa.State.DELETING;
        c.cancelTimers();
        sa.context().exchanges().deleteChild(sa, c, why);
    }

    /** {@code c} is gone: announced deleted, its inbound SPI free again. */
    public void remove(ChildSa c, String why) {
        if (!list.remove(c)) {
            return;
        }
        c.cancelTimers();
        c.spi.release(c);
        sa.touched();
        LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA {1} closed: {2}", sa, c, why);
        if (!c.replaced) {
            sa.context().emit(IkeEvent.Kind.CHILD_DOWN, sa, c.description, why);
        }
        sa.context().listener().deleted(c.description);
    }

    /**
     * The connection's selectors changed (a reload): the child SAs negotiated with the old ones
     * are replaced, make-before-break, by one child SA with the new ones, and deleted once it is
     * installed. A rekey could not do it: it keeps the selectors of the SA it replaces (RFC 7296
     * §2.9.2). A peer still configured with the old selectors narrows the new ones to what it
     * has (§2.9); a peer that refuses them leaves the old child SAs running.
     */
    public void renewSelectors() {
        if (!sa.isUp()) {
            return;
        }
        List<ChildSa> outdated = list.stream().filter(c -> c.state == ChildSa.State.INSTALLED || c.state == ChildSa.State.REKEYING)
                .toList();
        if (!outdated.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "{0}: new selectors {1} === {2}: replacing {3} child SA(s)", sa, sa.connection().localSelectors(),
                    sa.connection().remoteSelectors(), outdated.size());
            sa.context().exchanges().replaceChildren(sa, outdated);
        }
    }

    /** Every one removed, as {@link #remove} does: the IKE SA is destroyed. */
    void removeAll(String why) {
        for (ChildSa c : List.copyOf(list)) {
            remove(c, why);
        }
    }

    /** All of them now belong to {@code next}'s IKE SA, which replaces this one. */
    void handOverTo(ChildSas next) {
        for (ChildSa c : list) {
            c.owner = next.sa;
            next.list.add(c);
        }
        list.clear();
    }

    /** Forgotten without a word: their timers stopped and inbound SPIs freed (the IKE SA is released). */
    void forget() {
        for (ChildSa c : list) {
            c.cancelTimers();
            c.spi.release(c);
        }
        list.clear();
    }
}
