package io.isthmus.control.ha;

import java.util.Map;

/**
 * One message of the sync link. The link carries the daemon's state as opaque bytes: a group
 * names an ownership group (a floating address and the SAs that land on it), a kind tells the
 * daemon which of its records a key and value hold; neither means anything here.
 *
 * <p>Updates (put, remove, the brackets of a full sync) carry a sequence number that rises by
 * one per update in each direction for the life of the sending link; the receiver acknowledges
 * them cumulatively. An update made while no partner listens still takes a number (the daemon
 * holds it), so the numbers a connection carries rise but may skip.
 */
sealed interface Frame {

    /** First frame each way after the TLS handshake; the epochs are those of the groups the sender owns. */
    record Hello(int version, String instance, Map<String, Long> epochs) implements Frame {
    }

    record Put(long sequence, String group, long epoch, byte kind, byte[] key, byte[] value) implements Frame {
    }

    record Remove(long sequence, String group, long epoch, byte kind, byte[] key) implements Frame {
    }

    /** The sender is about to send everything it holds of these groups (all it owns), each with its epoch. */
    record FullSyncBegin(long sequence, Map<String, Long> groups) implements Frame {
    }

    /** The full sync of these groups is over: the receiver's replica of them is exactly what came since the begin. */
    record FullSyncEnd(long sequence, Map<String, Long> groups) implements Frame {
    }

    /** Every update up to this sequence number was applied (the receiver's listener was called). */
    record Ack(long sequence) implements Frame {
    }

    record Heartbeat() implements Frame {
    }

    /** The owner took the group at this epoch (persisted before this was sent). */
    record Ownership(String group, long epoch, String owner) implements Frame {
    }

    /** An update of the group came with an epoch below this one, which the receiver knows: it was not applied. */
    record Fenced(String group, long epoch) implements Frame {
    }
}
