package io.isthmus.control.systemd;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * systemd's watchdog ({@code WatchdogSec=}): every half interval, WATCHDOG=1, but only when every
 * {@link Liveness} made progress since the round before. A timer alone would outlive what it is
 * meant to vouch for (a stuck packet thread, a stuck IKE loop); this one falls silent with them,
 * and systemd kills and restarts the gateway ({@code Restart=on-failure}) once a whole interval
 * passes without a word.
 */
public final class Watchdog implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** However small WATCHDOG_USEC is, a round takes at least this: the probes need time to show progress. */
    static final Duration SHORTEST_ROUND = Duration.ofMillis(10);

    private final ServiceManager manager;
    private final List<Liveness> parts;
    private final Duration interval;
    private volatile boolean closed;
    private Thread thread;
    private boolean silent;

    public Watchdog(ServiceManager manager, List<Liveness> parts, Duration interval) {
        this.manager = manager;
        this.parts = List.copyOf(parts);
        this.interval = interval;
    }

    /**
     * The watchdog interval systemd expects this process to keep, from {@code $WATCHDOG_USEC},
     * or null when it expects none: the variable unset, or {@code $WATCHDOG_PID} naming another
     * process (a wrapper that did not exec). As sd_watchdog_enabled(3) reads them.
     */
    public static Duration interval(Function<String, String> environment, long pid) {
        String usec = environment.apply("WATCHDOG_USEC");
        if (usec == null || usec.isEmpty()) {
            return null;
        }
        String forPid = environment.apply("WATCHDOG_PID");
        try {
            if (forPid != null && !forPid.isEmpty() && Long.parseLong(forPid.strip()) != pid) {
                return null;
            }
            long micros = Long.parseLong(usec.strip());
            if (micros <= 0) {
                throw new NumberFormatException("not positive");
            }
            return Duration.ofNanos(Math.multiplyExact(micros, 1000L));
        } catch (NumberFormatException | ArithmeticException e) {
            LOG.log(System.Logger.Level.WARNING, "the watchdog is off: $WATCHDOG_USEC {0} / $WATCHDOG_PID {1} is not a number of microseconds and a"
                    + " process id", NotifySocket.printable(usec), forPid == null ? "unset" : NotifySocket.printable(forPid));
            return null;
        }
    }

    /** How often a round runs: half the interval, as sd_watchdog_enabled(3) advises. */
    public Duration round() {
        Duration half = interval.dividedBy(2);
        return half.compareTo(SHORTEST_ROUND) < 0 ? SHORTEST_ROUND : half;
    }

    /** Starts the rounds on a thread of their own, the first one now. */
    public synchronized void start() {
        LOG.log(System.Logger.Level.INFO, "watchdog: {0} ms, a round every {1} ms", Long.toString(interval.toMillis()),
                Long.toString(round().toMillis()));
        thread = Thread.ofPlatform().daemon().name("isthmus-watchdog").start(() -> {
            long next = System.nanoTime();
            while (!closed) {
                check();
                next += round().toNanos();
                // Sleep to the next round, not for a round: a slow round does not push every later one back.
                for (long left = next - System.nanoTime(); left > 0 && !closed; left = next - System.nanoTime()) {
                    LockSupport.parkNanos(left);
                }
            }
        });
    }

    /** One round: asks every part (all of them, so each one's mark moves on) and says WATCHDOG=1 if none is stuck. */
    public boolean check() {
        List<String> stalls = new ArrayList<>();
        for (Liveness part : parts) {
            String stall;
            try {
                stall = part.stall();
            } catch (RuntimeException e) {
                // Not knowing is not vouching; and the watchdog's own thread must not die of it, which would be silence for good.
                stall = "a liveness check failed: " + e;
            }
            if (stall != null) {
                stalls.add(stall);
            }
        }
        if (stalls.isEmpty()) {
            if (silent) {
                LOG.log(System.Logger.Level.WARNING, "watchdog: everything makes progress again");
                silent = false;
            }
            manager.watchdog();
            return true;
        }
        if (!silent) {
            LOG.log(System.Logger.Level.ERROR, "watchdog: {0} in {1} ms; WATCHDOG=1 held back, systemd restarts the gateway if this lasts {2} ms",
                    String.join("; ", stalls), Long.toString(round().toMillis()), Long.toString(interval.toMillis()));
            silent = true;
        }
        return false;
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
