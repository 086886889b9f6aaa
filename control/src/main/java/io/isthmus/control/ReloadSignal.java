package io.isthmus.control;

import sun.misc.Signal;

/**
 * SIGHUP, which daemons take as "reload your configuration". Reloading is not built yet; until
 * it is, SIGHUP must at least be harmless: the JVM's default is to stop, and stopping deletes
 * every IKE SA, so a routine {@code systemctl reload} or a habitual {@code kill -HUP} would take
 * every tunnel down. Now it logs one warning and changes nothing.
 *
 * <p>Java has no public API for signals. {@code sun.misc.Signal} (module jdk.unsupported, kept
 * exported for exactly this kind of use) is the JVM's own mechanism: the handler runs on an
 * ordinary Java thread the JVM starts, not in signal context. The alternatives are worse: FFM
 * {@code sigaction} with an upcall would run Java code inside a signal handler, and a signalfd
 * needs the signal blocked in every thread, the JVM's own included.
 */
final class ReloadSignal {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private ReloadSignal() {
    }

    /** From now on SIGHUP logs a warning instead of stopping the JVM. */
    static void install() {
        try {
            Signal.handle(new Signal("HUP"), signal -> LOG.log(System.Logger.Level.WARNING,
                    "SIGHUP: reload is not supported yet; nothing changed, tunnels stay up"));
        } catch (IllegalArgumentException e) {
            // The JVM keeps the signal to itself, e.g. under -Xrs.
            LOG.log(System.Logger.Level.WARNING, "SIGHUP cannot be handled ({0}): it will stop this gateway", e.getMessage());
        }
    }
}
