package io.isthmus.control.metrics;

import io.isthmus.control.ha.GatewayPair;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The active-active pair in metrics: the sync link, which instance carries each floating
 * group, the takeovers and the sequence leases. Azure has no such metrics (its instances share
 * nothing); an operator alerts on a sync link down or lagging, since a takeover then falls back
 * to jumping ahead, and on a group carried by the partner for longer than a maintenance takes.
 */
final class PairMetrics {
    private PairMetrics() {
    }

    static void add(Families f, GatewayPair.Status p) {
        GatewayPair.Link l = p.link();
        if (l != null) {
            f.gauge("isthmus_pair_sync_connected", "1 while the sync link to the partner instance is up (authenticated), else 0.", null)
                    .add(l.connected() ? 1 : 0, "partner", p.partner());
            if (l.lastHeardMillis() != null) {
                f.gauge("isthmus_pair_sync_last_heard_seconds", "Time since the partner was last heard on the sync link.", Unit.SECONDS)
                        .add(l.lastHeardMillis() / 1000.0, "partner", p.partner());
            }
            f.gauge("isthmus_pair_sync_lag_updates", "Updates sent to the partner and not yet acknowledged: the sync lag.", null)
                    .add(l.lagUpdates(), "partner", p.partner());
            f.counter("isthmus_pair_sync_updates_sent", "State updates sent to the partner.", null).add(l.updatesSent(), "partner", p.partner());
            f.counter("isthmus_pair_sync_updates_applied", "State updates received from the partner and applied.", null)
                    .add(l.updatesApplied(), "partner", p.partner());
            f.counter("isthmus_pair_sync_full_syncs_received", "Full resynchronisations received (the partner (re)joined).", null)
                    .add(l.fullSyncsReceived(), "partner", p.partner());
            f.counter("isthmus_pair_sync_reconnects", "Times the sync link was connected again after it broke.", null)
                    .add(l.reconnects(), "partner", p.partner());
            f.counter("isthmus_pair_sync_refused_handshakes", "Sync link connections refused: wrong certificate, wrong gateway or instance.",
                    null).add(l.refusedHandshakes(), "partner", p.partner());
            f.counter("isthmus_pair_sync_updates_fenced", "Updates from the partner dropped because they carried an older epoch than "
                    + "this instance's for their group (a paused instance speaking after the takeover).", null)
                    .add(l.updatesFenced(), "partner", p.partner());
            f.counter("isthmus_pair_sync_slow_partner_closes", "Sync link connections closed because the partner fell too far behind "
                    + "reading what this instance sent (it stayed connected but did not keep up); the next connection's full sync "
                    + "brings it level.", null).add(l.slowPartnerCloses(), "partner", p.partner());
            f.counter("isthmus_pair_sync_unacknowledged_closes", "Sync link connections closed because the partner acknowledged "
                    + "nothing for the deadline (2 s) while updates waited: it read but did not apply, and IKE datagrams held for its "
                    + "acknowledgement were released; the next connection's full sync brings it level.", null)
                    .add(l.unacknowledgedCloses(), "partner", p.partner());
            f.counter("isthmus_pair_sync_read_pauses", "Times the sync link stopped reading because the partner's updates waiting to be "
                    + "applied here passed the bound (a large full sync, or a partner writing faster than this daemon applies).", null)
                    .add(l.readPauses(), "partner", p.partner());
            f.gauge("isthmus_pair_sync_unapplied_bytes", "Octets of the partner's updates read and not yet applied here.", null)
                    .add(l.unappliedBytes(), "partner", p.partner());
        }
        var carried = f.gauge("isthmus_pair_group_carried", "1 for the instance that carries the floating group, as this instance "
                + "sees it (carried_by names it).", null);
        var epoch = f.gauge("isthmus_pair_group_epoch", "The group's ownership epoch: it rises at each takeover.", null);
        for (GatewayPair.GroupStatus g : p.groups()) {
            carried.add(1, "group", g.name(), "floating_address", g.floatingAddress(), "carried_by", g.carriedBy());
            epoch.add(g.epoch(), "group", g.name());
        }
        f.counter("isthmus_pair_takeovers", "Floating groups this instance took over, by how: with the exact numbers a planned handover "
                + "sent (how=handover), or jumping past the last lease and replay top (how=failover).", null)
                .add(p.handoversTaken(), "how", "handover").add(p.takeovers() - p.handoversTaken(), "how", "failover");
        GatewayPair.LastTakeover last = p.lastTakeover();
        if (last != null) {
            f.gauge("isthmus_pair_last_takeover_duration_seconds", "How long the last takeover took this instance, from keepalived's "
                    + "word to every SA carried on.", Unit.SECONDS).add(last.tookMillis() / 1000.0, "group", last.group());
            try {
                f.gauge("isthmus_pair_last_takeover_timestamp_seconds", "When the last takeover happened (Unix time).", Unit.SECONDS)
                        .add(Instant.parse(last.at()).toEpochMilli() / 1000.0, "group", last.group());
            } catch (DateTimeParseException e) {
                // not a time: left out rather than made up
            }
        }
        if (p.leases() != null) {
            f.counter("isthmus_pair_sequence_leases_granted", "Blocks of outbound ESP sequence numbers the partner acknowledged.", null)
                    .add(p.leases().leasesGranted());
            f.counter("isthmus_pair_sequence_lease_pauses", "Times this instance found it had not run for longer than "
                    + "a lease lasts (a long GC pause, SIGSTOP): it renewed no lease until the pair confirmed it still owned its groups.", null).add(p.leases().pauses());
            f.counter("isthmus_pair_sequence_lease_late_ticks", "Times the IKE thread renewed the leases later than a lease lasts "
                    + "while the rest of the process ran (its own work): renewed at once, not counted as pauses.", null).add(p.leases().lateTicks());
            f.counter("isthmus_pair_sequence_lease_solo_limit_reached", "Times an SA used up what it may send with the partner "
                    + "silent.", null).add(p.leases().soloLimitReached());
        }
        f.counter("isthmus_pair_ike_datagrams_held", "IKE datagrams held until the partner acknowledged the state they reveal.", null)
                .add(p.ikeDatagramsHeld());
        f.counter("isthmus_pair_ike_datagrams_dropped", "IKE datagrams dropped because their source address was not this "
                + "instance's to send from (its group was taken over meanwhile).",
                null).add(p.ikeDatagramsDropped());
    }
}
