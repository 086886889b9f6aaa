package io.isthmus.control;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Both ends of a Default-mode connection may initiate at once and end up with two IKE SAs (or
 * more). Both keep the one with the lowest SPIs, a rule both compute alike, and delete the
 * others; should both send the same Delete, the exchange still ends with that SA gone at both.
 *
 * <p>The rule is applied only among SAs the peer has just proved it still has: when duplicates
 * appear, each gets a liveness check, and the choice waits until every one of them has been
 * heard from since. An SA whose peer crashed and came back with a new one (without
 * INITIAL_CONTACT) never answers: it is not chosen for its lower SPIs (measured before: after
 * kill -9 and a restart, traffic flapped for 25 to 45 s in 3 of 6 runs while the survivor
 * deleted the live SA in favour of the dead one), and its own check fails it after the dead
 * peer timeout. Deciding only when all have answered also keeps the two ends from choosing
 * differently on a lost answer (each would delete the other's choice, and both SAs would go).
 * Meanwhile traffic is not held up: outbound uses the newest child SA, and both receive.
 */
final class DuplicateIkeSas {
    /** What the rule needs of an IKE SA. */
    interface Candidate {
        long initiatorSpi();

        long responderSpi();

        /** When the peer last sent an authenticated message on it. */
        Instant lastHeard();

        /** Sends a liveness check unless a request is already on its way. */
        void probe();

        /** Deletes it, telling the peer. */
        void delete(String why);
    }

    private static final Comparator<Candidate> LOWEST_SPIS = (x, y) -> {
        int c = Long.compareUnsigned(x.initiatorSpi(), y.initiatorSpi());
        return c != 0 ? c : Long.compareUnsigned(x.responderSpi(), y.responderSpi());
    };

    /** When each connection's duplicates were last checked; IKE thread only. */
    private final Map<String, Instant> probed = new HashMap<>();

    /**
     * One round for {@code connection}, whose established IKE SAs are {@code established}: checks
     * them, or, once all have answered, deletes all but the one with the lowest SPIs. A check
     * older than {@code patience} (an answer that never came for an SA still there) is sent again.
     * Returns the SAs deleted.
     */
    List<Candidate> settle(String connection, List<? extends Candidate> established, Instant now, Duration patience) {
        if (established.size() < 2) {
            probed.remove(connection);
            return List.of();
        }
        Instant since = probed.get(connection);
        if (since == null || Duration.between(since, now).compareTo(patience) > 0) {
            probed.put(connection, now);
            established.forEach(Candidate::probe);
            return List.of();
        }
        if (established.stream().anyMatch(s -> s.lastHeard().isBefore(since))) {
            return List.of(); // not all have answered yet
        }
        Candidate keep = established.stream().min(LOWEST_SPIS).orElseThrow();
        List<Candidate> deleted = new ArrayList<>();
        for (Candidate duplicate : established) {
            if (duplicate != keep) {
                duplicate.delete("a duplicate of " + keep + " (both ends initiated; the lowest SPIs stay)");
                deleted.add(duplicate);
            }
        }
        probed.remove(connection);
        return deleted;
    }
}
