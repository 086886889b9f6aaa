package io.isthmus.control.ha;

import java.util.Set;

/**
 * What the sync link tells the daemon, every call on the daemon's thread (the {@code deliver}
 * executor given to {@link SyncLink#start}), in the order the partner sent it.
 *
 * <p>The receiver's replica of a group is what the full sync brought plus the puts and removes
 * after it: at {@link #fullSyncEnd} the entries of those groups that did not come again since
 * {@link #fullSyncBegin} are gone ({@link Replica} does exactly that). An update is acknowledged
 * to the partner after its call here returned.
 */
public interface SyncListener {

    void put(String group, byte kind, byte[] key, byte[] value);

    void remove(String group, byte kind, byte[] key);

    /** The partner sends everything it holds of these groups now (each (re)connection). */
    void fullSyncBegin(Set<String> groups);

    /** The partner's full sync of these groups is over: drop what did not come again. */
    void fullSyncEnd(Set<String> groups);

    /** The partner answered; own full sync follows ({@link #ownState}). */
    void connected();

    /** The link is down; acknowledgements waited for have been given up (their callbacks run next). */
    void disconnected();

    /** The partner owns the group from this epoch on (announced, or in its HELLO; once per new epoch). */
    void ownership(String group, long epoch, String owner);

    /**
     * The partner refused an update of this group: it knows a higher epoch (it took the group
     * over). The link no longer counts the group as this instance's; the daemon drops its SAs
     * without sending anything.
     */
    void fenced(String group, long epoch);

    /** Every entry of a group this instance owns, for the full sync the link sends at each (re)connection. */
    void ownState(String group, Entries out);

    /** Where {@link #ownState} writes. */
    interface Entries {
        void put(byte kind, byte[] key, byte[] value);
    }
}
