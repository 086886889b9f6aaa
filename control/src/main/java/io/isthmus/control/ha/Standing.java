package io.isthmus.control.ha;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * What this instance tells keepalived through the file its track_file reads: 1 (priority 1, below
 * the partner's) after a handover, until {@code isthmus ha resume}; and while this instance
 * carries no group and does not have the partner's state yet. That is an instance come back
 * while the partner carries its group: taking it back before the full sync would carry on from a
 * stale copy whose message IDs the peer has left behind (the failover benchmark saw it when the
 * sync link took longer to come back than the preemption delay, and the peer renegotiated). A
 * low priority never keeps an instance from taking over from a silent partner: VRRP's master-down
 * timer does not look at it. Otherwise 0, the configured priority. Any thread.
 */
final class Standing {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private final Path file;
    private final boolean waitsForSync;
    private final BooleanSupplier carriesNothing;
    private volatile boolean handedOver;
    private volatile boolean synced;
    private String written;

    /** {@code waitsForSync}: the pair syncs state (without it there is nothing to wait for). */
    Standing(Path file, boolean waitsForSync, BooleanSupplier carriesNothing) {
        this.file = file;
        this.waitsForSync = waitsForSync;
        this.carriesNothing = carriesNothing;
    }

    void handedOver(boolean h) throws IOException {
        handedOver = h;
        update();
    }

    /** The partner's full state arrived (true), or the link went down (false). */
    void synced(boolean s) throws IOException {
        synced = s;
        update();
    }

    /** Writes the file if what it should say changed (ownership did, say). */
    synchronized void update() throws IOException {
        boolean waiting = waitsForSync && !synced && carriesNothing.getAsBoolean();
        String value = handedOver || waiting ? "1" : "0";
        if (value.equals(written)) {
            return;
        }
        Files.writeString(file, value + "\n");
        written = value;
        LOG.log(System.Logger.Level.INFO, "pair: keepalived priority {0}", value.equals("0") ? "as configured"
                : handedOver ? "1: handed over until isthmus ha resume" : "1 until the partner's state is here: no group taken back before");
    }
}
