package io.isthmus.control.ha;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The receiver's copy of the partner's groups, kept by the rules of {@link SyncListener}: a full
 * sync fills a fresh copy of its groups that replaces the old one at its end, so an entry the
 * partner no longer has disappears. Confined to the daemon's thread, like the listener calls.
 */
public final class Replica {

    /** An entry's identity: its kind and key. */
    public record Key(byte kind, byte[] key) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.kind == kind && Arrays.equals(k.key, key);
        }

        @Override
        public int hashCode() {
            return 31 * kind + Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return kind + ":" + Arrays.toString(key);
        }
    }

    private final Map<String, Map<Key, byte[]>> groups = new HashMap<>();
    private final Map<String, Map<Key, byte[]>> syncing = new HashMap<>();

    public void put(String group, byte kind, byte[] key, byte[] value) {
        target(group).put(new Key(kind, key), value);
    }

    public void remove(String group, byte kind, byte[] key) {
        target(group).remove(new Key(kind, key));
    }

    public void fullSyncBegin(Set<String> names) {
        names.forEach(g -> syncing.put(g, new HashMap<>()));
    }

    public void fullSyncEnd(Set<String> names) {
        for (String g : names) {
            Map<Key, byte[]> fresh = syncing.remove(g);
            if (fresh != null) {
                groups.put(g, fresh);
            }
        }
    }

    /** A copy of a group's entries as they stand (a full sync in progress not counted). */
    public Map<Key, byte[]> entries(String group) {
        return Map.copyOf(groups.getOrDefault(group, Map.of()));
    }

    private Map<Key, byte[]> target(String group) {
        Map<Key, byte[]> fresh = syncing.get(group);
        return fresh != null ? fresh : groups.computeIfAbsent(group, g -> new HashMap<>());
    }
}
