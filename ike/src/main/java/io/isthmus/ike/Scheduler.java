package io.isthmus.ike;

import java.time.Duration;
import java.time.Instant;

/**
 * Time for the IKE engine: the current instant and tasks run later on the engine's thread.
 * Netty's event loop in the daemon; a manual clock in tests, so retransmissions, lifetimes and
 * dead peer detection are tested without sleeping.
 */
public interface Scheduler {
    Instant now();

    Cancellable schedule(Duration delay, Runnable task);

    interface Cancellable {
        void cancel();
    }
}
