package io.isthmus.control.systemd;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An event loop (the IKE thread) is alive when a task posted to it has run by the next round.
 * One task at a time: a loop that is stuck gets no pile of probes behind it, and the watchdog's
 * thread never waits for it.
 */
public final class EventLoopLiveness implements Liveness {
    private final String name;
    private final Executor loop;
    private final AtomicBoolean ran = new AtomicBoolean();
    private boolean posted;

    public EventLoopLiveness(String name, Executor loop) {
        this.name = name;
        this.loop = loop;
    }

    @Override
    public String stall() {
        if (posted && !ran.get()) {
            return name + " has not run a task posted a round ago";
        }
        ran.set(false);
        try {
            loop.execute(() -> ran.set(true));
        } catch (RejectedExecutionException e) {
            posted = false;
            return name + " takes no more tasks (" + e.getMessage() + ")";
        }
        posted = true;
        return null;
    }
}
