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
 */
public record SyncStatus(boolean connected, Instant connectedSince, Duration lastHeard, long lagUpdates,
        long updatesSent, long updatesApplied, long fullSyncsSent, long fullSyncsReceived, long reconnects,
        long refusedHandshakes, long updatesFenced, long slowPartnerCloses) {
}
