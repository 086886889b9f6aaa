package io.isthmus.control;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * The isthmus process's {@link LogManager}: the same as the JDK's, except that at JVM shutdown it
 * closes its handlers only after Isthmus's own shutdown hooks have finished.
 *
 * <p>Why: the JDK's LogManager registers a shutdown hook of its own that resets logging (removes
 * and closes every handler), and the JVM runs all shutdown hooks at once, in no order. Isthmus's
 * hook deletes the IKE SAs and logs what it does ("gateway ... stopped"); racing the reset, those
 * lines were lost, the very lines that say how a gateway went down. Here the reset, when the JVM
 * is shutting down, first waits for the hooks registered through {@link #addShutdownHook}.
 *
 * <p>The JDK takes its LogManager class from the {@code java.util.logging.manager} system
 * property, once, when the first logger is made or this class is initialized (it is a
 * LogManager): {@link Isthmus#setUpLogging} sets it before that, first thing in {@code main},
 * without touching this class ({@code deploy/isthmus} also sets it on the command line).
 */
public final class IsthmusLogManager extends LogManager {
    /** Longer than a gateway's close (2 s for the deletes, up to 10 s for a stuck IKE thread); below systemd's 90 s stop timeout. */
    private static final Duration LONGEST_WAIT = Duration.ofSeconds(30);
    /** Between the JVM starting the logging hook and starting ours: they are started in one loop. */
    private static final Duration LONGEST_WAIT_FOR_START = Duration.ofSeconds(1);
    private static final List<Thread> HOOKS = new CopyOnWriteArrayList<>();

    /** Made by the JDK, through the system property. */
    public IsthmusLogManager() {
    }

    /** Registers {@code hook} as a JVM shutdown hook whose log lines all get written. */
    static void addShutdownHook(Thread hook) {
        // Once shutdown has begun the JDK no longer sets up the root handlers: set them up now.
        Logger.getLogger("").getHandlers();
        if (!(LogManager.getLogManager() instanceof IsthmusLogManager)) {
            System.getLogger("io.isthmus.gateway").log(System.Logger.Level.WARNING, "the log manager is {0}, not {1}: lines logged while "
                    + "stopping may be lost", LogManager.getLogManager().getClass().getName(), IsthmusLogManager.class.getName());
        }
        HOOKS.add(hook);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void reset() {
        if (!HOOKS.isEmpty() && shuttingDown()) {
            awaitHooks();
        }
        super.reset();
    }

    private static void awaitHooks() {
        long end = System.nanoTime() + LONGEST_WAIT.toNanos();
        long startBy = System.nanoTime() + LONGEST_WAIT_FOR_START.toNanos();
        try {
            for (Thread hook : HOOKS) {
                if (hook == Thread.currentThread()) {
                    continue;
                }
                while (hook.getState() == Thread.State.NEW && System.nanoTime() < startBy) {
                    Thread.sleep(5);
                }
                long left = end - System.nanoTime();
                if (left > 0) {
                    hook.join(Duration.ofNanos(left));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The JVM refuses new shutdown hooks, as documented, once its shutdown has begun. */
    private static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
