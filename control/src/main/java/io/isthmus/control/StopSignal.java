package io.isthmus.control;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (systemctl stop) and SIGINT (Ctrl-C): stop the gateway in order, deleting its IKE SAs
 * (the peers are told), and exit 0, which is what systemd expects of a service it stops. The
 * JVM's own handling of these signals runs the shutdown hooks and exits 143 or 130, which
 * systemd records as a failure and a {@code Restart=on-failure} unit would not even need; here
 * the handler only wakes the main thread, which stops the gateway and returns.
 *
 * <p>A stop is bounded: if it has not ended {@link #LIMIT} after it began (an IKE thread stuck
 * in a task, say), the process halts with exit code 1 and one line saying so, rather than wait
 * for systemd's SIGKILL 90 s later. {@code sun.misc.Signal}, as in {@link ReloadSignal}: the
 * handler runs on an ordinary Java thread.
 */
final class StopSignal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** The promise is 5 s; the JVM needs a moment after this to be gone. */
    static final Duration LIMIT = Duration.ofMillis(4500);

    private final CountDownLatch received = new CountDownLatch(1);
    private final Map<Signal, SignalHandler> before = new LinkedHashMap<>();
    private volatile String name;

    private StopSignal() {
    }

    /** From now on SIGTERM and SIGINT end {@link #await()} instead of stopping the JVM. */
    static StopSignal install() {
        StopSignal s = new StopSignal();
        for (String signal : new String[] {"TERM", "INT"}) {
            try {
                Signal sig = new Signal(signal);
                s.before.put(sig, Signal.handle(sig, s::receive));
            } catch (IllegalArgumentException e) {
                // -Xrs, or the JVM keeps it: the shutdown hook still deletes the SAs, with the JVM's exit code.
                LOG.log(System.Logger.Level.WARNING, "SIG{0} cannot be handled ({1}): it stops this gateway with exit code 128+signal",
                        signal, e.getMessage());
            }
        }
        return s;
    }

    private void receive(Signal signal) {
        if (received.getCount() == 0) {
            LOG.log(System.Logger.Level.INFO, "SIG{0}: already stopping", signal.getName());
            return;
        }
        name = "SIG" + signal.getName();
        LOG.log(System.Logger.Level.INFO, "{0}: stopping", name);
        received.countDown();
    }

    /**
     * The stop begins: from now on the process has {@link #LIMIT} to end by itself. Not from the
     * signal: one that comes while the gateway is still starting waits for the start to end,
     * however slow, and the stop that follows is what is bounded.
     */
    static void bound() {
        Thread.ofPlatform().daemon().name("isthmus-stop-limit").start(StopSignal::haltIfStillStopping);
    }

    private static void haltIfStillStopping() {
        try {
            Thread.sleep(LIMIT);
        } catch (InterruptedException e) {
            return;
        }
        LOG.log(System.Logger.Level.ERROR, "still stopping {0} ms after the stop began: exiting now, without the rest of the cleanup",
                Long.toString(LIMIT.toMillis()));
        System.err.flush();
        Runtime.getRuntime().halt(1);
    }

    /**
     * Gives the signals back to whoever had them: a gateway that failed to start inside a longer
     * lived JVM (a test, the lab) must not leave it deaf to Ctrl-C.
     */
    @Override
    public void close() {
        before.forEach(Signal::handle);
        before.clear();
    }

    /** Whether a stop was asked for (during start-up, say). */
    boolean received() {
        return received.getCount() == 0;
    }

    /** Which signal it was, e.g. "SIGTERM"; null before one came. */
    String name() {
        return name;
    }

    /** Waits for SIGTERM or SIGINT. */
    void await() throws InterruptedException {
        received.await();
    }
}
