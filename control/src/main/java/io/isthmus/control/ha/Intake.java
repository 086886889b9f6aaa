package io.isthmus.control.ha;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The receiving half of the link, on the daemon's thread: epochs checked, updates applied through
 * the listener, then acknowledged. On that thread so that a refusal is decided in the same order
 * as the daemon's own take-overs: an update that arrives after this instance took the group is
 * refused, one that arrived before was applied before the take-over began.
 *
 * <p>An update is accepted if its epoch is the partner's (the partner takes the other parity) and
 * not below the highest epoch known for its group; otherwise the partner hears FENCED with the
 * known epoch (once per group and epoch per connection) and the update is not applied. It is
 * still acknowledged: the acknowledgement is cumulative, and a fenced group must not hold back
 * the others; the FENCED goes out before that ACK, so the partner's daemon learns of the fence
 * before the acknowledgement releases anything it waited for.
 */
final class Intake {
    private final SyncLink link;
    private final SyncListener listener;
    private final EpochStore epochs;
    private final Map<String, Long> announced = new HashMap<>();

    Intake(SyncLink link, SyncListener listener, EpochStore epochs) {
        this.link = link;
        this.listener = listener;
        this.epochs = epochs;
    }

    void update(SyncConnection conn, Frame frame) {
        if (!link.isReady(conn)) {
            return;
        }
        long sequence;
        try {
            switch (frame) {
                case Frame.Put p -> {
                    sequence = p.sequence();
                    if (accept(conn, p.group(), p.epoch())) {
                        listener.put(p.group(), p.kind(), p.key(), p.value());
                        link.counted(SyncLink.Counter.APPLIED);
                    }
                }
                case Frame.Remove r -> {
                    sequence = r.sequence();
                    if (accept(conn, r.group(), r.epoch())) {
                        listener.remove(r.group(), r.kind(), r.key());
                        link.counted(SyncLink.Counter.APPLIED);
                    }
                }
                case Frame.FullSyncBegin b -> {
                    sequence = b.sequence();
                    Set<String> groups = new LinkedHashSet<>();
                    b.groups().forEach((g, e) -> {
                        if (accept(conn, g, e)) {
                            groups.add(g);
                        }
                    });
                    conn.syncing = groups;
                    listener.fullSyncBegin(Set.copyOf(groups));
                }
                case Frame.FullSyncEnd e -> {
                    sequence = e.sequence();
                    Set<String> groups = conn.syncing == null ? Set.of() : conn.syncing;
                    conn.syncing = null;
                    listener.fullSyncEnd(Set.copyOf(groups));
                    link.counted(SyncLink.Counter.FULL_SYNCS_RECEIVED);
                }
                default -> throw new IllegalArgumentException("not an update: " + frame);
            }
        } catch (RuntimeException e) {
            // Not acknowledged: the connection goes, and the next full sync brings the state again.
            SyncLink.LOG.log(Level.ERROR, "the daemon failed to apply a sync update; dropping the connection", e);
            conn.close();
            return;
        }
        conn.applied(sequence);
    }

    /** The partner says it owns the group from this epoch (OWNERSHIP, HELLO, a full sync's begin). */
    boolean announce(SyncConnection conn, String group, long epoch) {
        if (!link.isReady(conn)) {
            return false;
        }
        return accept(conn, group, epoch);
    }

    void fenced(String group, long epoch) {
        observe(group, epoch);
        link.lostTo(group, epoch);
        listener.fenced(group, epoch);
    }

    private boolean accept(SyncConnection conn, String group, long epoch) {
        long known = epochs.highest(group);
        if (epoch < known || epochs.isOwn(epoch)) {
            link.counted(SyncLink.Counter.FENCED);
            if (conn.fencedSent.add(group + "@" + known)) {
                conn.send(new Frame.Fenced(group, known));
            }
            return false;
        }
        if (epoch > known) {
            observe(group, epoch);
        }
        link.lostTo(group, epoch);
        if (epoch > announced.getOrDefault(group, 0L)) {
            announced.put(group, epoch);
            listener.ownership(group, epoch, link.settings.partner());
        }
        return true;
    }

    private void observe(String group, long epoch) {
        try {
            epochs.observe(group, epoch);
        } catch (IOException e) {
            // Still raised in memory, so this run refuses lower epochs; a restart could forget it, hence loud.
            SyncLink.LOG.log(Level.ERROR, "cannot record epoch " + epoch + " of group " + group + ": " + e.getMessage());
        }
    }
}
