package io.isthmus.control;

import sun.misc.Signal;

/**
 * SIGHUP, which daemons take as "reload your configuration" (and systemd's unit may send for
 * {@code systemctl reload}): it runs the gateway's reload, as {@code isthmus reload} does. The
 * JVM's default would be to stop, and stopping deletes every IKE SA, so a routine reload or a
 * habitual {@code kill -HUP} would take every tunnel down.
 *
 * <p>Java has no public API for signals. {@code sun.misc.Signal} (module jdk.unsupported, kept
 * exported for exactly this kind of use) is the JVM's own mechanism: the handler runs on an
 * ordinary Java thread the JVM starts for each signal, not in signal context, so it may take the
 * while a reload takes. The alternatives are worse: FFM {@code sigaction} with an upcall would
 * run Java code inside a signal handler, and a signalfd needs the signal blocked in every
 * thread, the JVM's own included.
 */
final class ReloadSignal {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private ReloadSignal() {
    }

    /** From now on SIGHUP runs {@code reload} instead of stopping the JVM. */
    static void install(Runnable reload) {
        try {
            Signal.handle(new Signal("HUP"), signal -> {
                LOG.log(System.Logger.Level.INFO, "SIGHUP: reloading the configuration");
                try {
                    reload.run();
                } catch (Throwable t) {
                    // An Error too (a StackOverflowError, an OutOfMemoryError the JVM did not exit on): said once, with its stack.
                    LOG.log(System.Logger.Level.ERROR, "SIGHUP: the reload failed: " + t, t);
                }
            });
        } catch (IllegalArgumentException e) {
            // The JVM keeps the signal to itself, e.g. under -Xrs.
            LOG.log(System.Logger.Level.WARNING, "SIGHUP cannot be handled ({0}): it will stop this gateway; use isthmus reload", e.getMessage());
        }
    }
}
