package io.isthmus.control.ha;

import java.time.Duration;
import java.time.Instant;

/**
 * The link for status and metrics.
 *
 * @param connectedSince when the current connection's HELLO came, null while down
 * @param lastHeard age of the last frame from the partner, null if none on this connection
 * @param lagUpdates updates sent on this connection and not acknowledged yet
 * @param refusedHandshakes connections refused: wrong or no certificate, not TLS 1.3, not TLS at all
 * @param updatesFenced partner updates refused because their epoch was below the one known
 * @param slowPartnerCloses connections closed because the partner fell behind reading (it gets a full sync on the next one)
 * @param unacknowledgedCloses connections closed because the partner acknowledged nothing for {@link SyncBounds#ACK_DEADLINE}
 *        while updates waited (its daemon stuck, its connection alive)
 * @param readPauses times the connection stopped reading because the daemon had too much of the partner's state unapplied
 * @param unappliedBytes the partner's updates (frame octets) handed to the daemon and not applied yet, now
 */
public record SyncStatus(boolean connected, Instant connectedSince, Duration lastHeard, long lagUpdates,
        long updatesSent, long updatesApplied, long fullSyncsSent, long fullSyncsReceived, long reconnects,
        long refusedHandshakes, long updatesFenced, long slowPartnerCloses,
        long unacknowledgedCloses, long readPauses, long unappliedBytes) {
}
