package io.isthmus.control.ha;

/**
 * What the daemon's pair logic needs of the sync link: ordered updates with sequence numbers,
 * and their acknowledgements. The link itself ({@link SyncLink}) does not know IKE or ESP.
 */
interface PairLink {
    /** Queues an update of {@code group} to the partner; its sequence number. */
    long put(String group, byte kind, byte[] key, byte[] value);

    long remove(String group, byte kind, byte[] key);

    /** The sequence number of the last update queued (0: none yet). */
    long lastPublished();

    /** Runs {@code then} on the IKE thread once the partner acknowledged {@code sequence}, or at once while the link is down. */
    void whenAcked(long sequence, Runnable then);

    /** Whether the partner really acknowledged {@code sequence} (not given up on because the link went down). */
    boolean acknowledged(long sequence);

    /** Whether the partner answers now. */
    boolean connected();
}
