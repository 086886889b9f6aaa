package io.isthmus.control.ha;

import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;

/**
 * What the bridge between IKE and the data plane tells the pair about child SAs, on the IKE
 * thread. {@link #installing} comes before the data plane consumes (and wipes) the keys, and
 * before the IKE message that makes the SA known to the peer leaves.
 */
public interface ChildSaReplication {
    ChildSaReplication NONE = new ChildSaReplication() {
    };

    default void installing(ChildSaDescription sa, ChildSaKeys keys) {
    }

    /** The data plane has it: it may be leased sequence numbers now. */
    default void installed(ChildSaDescription sa) {
    }

    default void deleted(ChildSaDescription sa) {
    }
}
