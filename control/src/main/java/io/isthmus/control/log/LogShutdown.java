package io.isthmus.control.log;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Shutdown hooks whose log lines all get written. The JVM starts every shutdown hook at once, in
 * no order; a logging library's own hook (JUL's reset, Logback's when configured) racing the
 * gateway's hook lost the very lines that say how the gateway went down ("gateway ... stopped").
 * Logback here has no hook of its own; one hook of ours waits for the gateway's hooks, then
 * stops Logback, the last thing the process does.
 */
public final class LogShutdown {
    /** Longer than a gateway's close (2 s for the deletes, up to 10 s for a stuck IKE thread); below systemd's 90 s stop timeout. */
    private static final Duration LONGEST_WAIT = Duration.ofSeconds(30);
    /** Between the JVM starting our hook and starting theirs: they are started in one loop. */
    private static final Duration LONGEST_WAIT_FOR_START = Duration.ofSeconds(1);
    private static final List<Thread> HOOKS = new CopyOnWriteArrayList<>();
    private static boolean closerAdded;

    private LogShutdown() {
    }

    /** Registers {@code hook} as a JVM shutdown hook; Logback stops only after it has finished. */
    public static synchronized void addShutdownHook(Thread hook) {
        HOOKS.add(hook);
        Runtime.getRuntime().addShutdownHook(hook);
        if (!closerAdded) {
            Runtime.getRuntime().addShutdownHook(new Thread(LogShutdown::stopLogAfterHooks, "isthmus-log-stop"));
            closerAdded = true;
        }
    }

    private static void stopLogAfterHooks() {
        long end = System.nanoTime() + LONGEST_WAIT.toNanos();
        long startBy = System.nanoTime() + LONGEST_WAIT_FOR_START.toNanos();
        try {
            for (Thread hook : HOOKS) {
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
        LogOutput.process().stop();
    }
}
