package io.isthmus.control;

import io.isthmus.control.config.ConfigDiff;
import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.ike.Connection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A reload ({@code isthmus reload}, {@code systemctl reload}, SIGHUP): the configuration file the
 * gateway was started with, read and checked again as at start (the file, then the host's
 * routes, then the certificate files), compared with the running configuration
 * ({@link ConfigDiff}) and applied ({@link RunningConnections#apply}), and the file's logging
 * settings with it (levels set at run time with {@code isthmus log-level} are the file's again). Or refused, with the
 * reason, when any of that fails or the change needs a restart: then the running configuration
 * stays as it was, and the keys the new file brought are wiped at once.
 *
 * <p>One change (a reload or a reset) at a time: one that finds another running waits
 * {@link #BUSY_WAIT} at most, then answers that one is running ({@link Result#BUSY}), so that a
 * stuck reload never makes later ones hang and then apply unseen. Once the gateway stops
 * ({@link #stop}), every later change is refused: nothing lands on a closed data plane, and no key
 * escapes the stop's wiping.
 */
final class Reload {
    private static final System.Logger LOG = System.getLogger("io.isthmus.config");

    /** How a change ended; each has its own exit code for the operator's command ({@link OutcomeRequest}). */
    public enum Result {
        APPLIED, REFUSED, PARTLY_APPLIED, BUSY
    }

    /** What a reload (or a reset) did, as the operator is told: applied, or refused with why. */
    public record Outcome(boolean applied, List<String> lines, Result result) {
        public Outcome {
            lines = List.copyOf(lines);
        }

        public Outcome(boolean applied, List<String> lines) {
            this(applied, lines, applied ? Result.APPLIED : Result.REFUSED);
        }
    }

    /** How long a change waits for the one running before it answers {@link Result#BUSY}. */
    static final Duration BUSY_WAIT = Duration.ofSeconds(3);
    static final String BUSY = "a reload or reset is already running; try again";
    static final String STOPPING = "the gateway is stopping";

    /** What is checked against the host before a configuration's routes go in (at start: {@link HostNetwork}'s check). */
    @FunctionalInterface
    interface HostCheck {
        void check(GatewayConfig next) throws Exception;
    }

    private final RunningConnections running;
    private final Function<Path, GatewayConfig> reader;
    private final HostCheck hostCheck;
    private final Consumer<LoggingSettings> logging;
    private final ReentrantLock lock = new ReentrantLock();
    private final Duration busyWait;
    private volatile boolean stopping;

    /**
     * {@code reader}: how the file is read and checked ({@link io.isthmus.control.config.ConfigReader#read}), throwing
     * ConfigException; {@code logging}: where its logging settings go (the process's log output).
     */
    Reload(RunningConnections running, Function<Path, GatewayConfig> reader, HostCheck hostCheck, Consumer<LoggingSettings> logging) {
        this(running, reader, hostCheck, logging, BUSY_WAIT);
    }

    Reload(RunningConnections running, Function<Path, GatewayConfig> reader, HostCheck hostCheck, Consumer<LoggingSettings> logging,
           Duration busyWait) {
        this.busyWait = busyWait;
        this.running = running;
        this.reader = reader;
        this.hostCheck = hostCheck;
        this.logging = logging;
    }

    /** A reload: the file read, checked and applied, or refused. */
    Outcome run() {
        try {
            return exclusively(this::reload);
        } catch (Exception e) {
            throw new IllegalStateException(e); // reload() throws nothing checked
        }
    }

    /**
     * A change that must not overlap a reload, another change or the stop ({@code isthmus
     * connection reset}); what it throws is thrown on (the control socket answers it as an error).
     */
    Outcome exclusively(Callable<Outcome> change) throws Exception {
        try {
            if (!lock.tryLock(busyWait.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "{0}: nothing changed", BUSY);
                return new Outcome(false, List.of(BUSY), Result.BUSY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(false, List.of(BUSY), Result.BUSY);
        }
        try {
            if (stopping) {
                return stoppingOutcome();
            }
            return change.call();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The gateway stops: every change from now on is refused, and one running is waited for,
     * {@code wait} at most (a stop must end in time). Returns whether none is running any more.
     * The lock is kept: no change starts after this.
     */
    boolean stop(Duration wait) {
        stopping = true;
        try {
            return lock.tryLock(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Outcome stoppingOutcome() {
        LOG.log(System.Logger.Level.WARNING, "{0}: nothing changed", STOPPING);
        return new Outcome(false, List.of(STOPPING), Result.REFUSED);
    }

    private Outcome reload() {
        long began = System.nanoTime();
        GatewayConfig current = running.config();
        GatewayConfig next;
        try {
            next = reader.apply(current.source());
        } catch (ConfigException e) {
            return refused(null, e.getMessage().lines().toList());
        } catch (RuntimeException e) {
            return refused(null, List.of(current.source() + ": " + e.getMessage()));
        }
        try {
            ConfigDiff diff = ConfigDiff.between(current, next);
            if (diff.refused()) {
                return refused(next, diff.restartNeeded().stream().map(line -> current.source() + ": " + line).toList());
            }
            hostCheck.check(next);
            Map<String, Connection> built = new LinkedHashMap<>();
            for (GatewayConfig.Connection c : next.connections()) {
                built.put(c.name(), IkeConnections.of(next, running.instance(), c));
            }
            List<String> stay = new ArrayList<>(diff.kept());
            stay.addAll(diff.changed().keySet());
            for (String name : stay) {
                // The settings may be the same and a certificate or key file rewritten under them.
                if (!running.sameAuthentication(name, built.get(name))) {
                    diff = diff.with(name, ConfigDiff.Change.KEY);
                }
            }
            if (stopping) {
                // It waited (a slow file) past the stop's patience: the stop goes on without it.
                next.destroySecrets();
                return stoppingOutcome();
            }
            List<String> lines = new ArrayList<>(running.apply(next, diff, built));
            // From here on next is running: nothing may refuse it or wipe its keys (the engine uses them).
            afterApply(current, next, lines);
            lines.forEach(line -> LOG.log(next.warnings().contains(line) ? System.Logger.Level.WARNING : System.Logger.Level.INFO, "reload: {0}", line));
            LOG.log(System.Logger.Level.INFO, "reload: applied in {0} ms, {1} connections", Long.toString((System.nanoTime() - began) / 1_000_000),
                    Integer.toString(next.connections().size()));
            return new Outcome(true, lines);
        } catch (ConfigException e) {
            return refused(next, e.getMessage().lines().toList());
        } catch (RunningConnections.PartlyApplied e) {
            LOG.log(System.Logger.Level.ERROR, "reload of " + current.source() + " " + e.getMessage(), e.getCause());
            List<String> lines = new ArrayList<>();
            lines.add("reload of " + current.source() + " " + e.getMessage());
            lines.addAll(e.lines());
            return new Outcome(false, lines, Result.PARTLY_APPLIED);
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            return refused(next, List.of(current.source() + ": " + why.strip().replaceAll("\\s*\\R\\s*", "; ")));
        }
    }

    /**
     * What follows a successful apply: the logging settings, the file's warnings, a note on
     * credentials. Never throws: a failure here is told and logged, and the reload stays applied.
     */
    private void afterApply(GatewayConfig current, GatewayConfig next, List<String> lines) {
        // As at start: what the gateway runs with but the operator should fix.
        lines.addAll(next.warnings());
        try {
            logging.accept(next.logging());
            if (!next.logging().equals(current.logging())) {
                lines.add("logging: the file's new format and levels applied");
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "reload: the connections were applied but the logging settings were not", e);
            lines.add("logging: the file's logging settings could not be applied (" + e + "); the connections were applied");
        }
        if (next.usesCredentials()) {
            lines.add(CREDENTIALS_NOTE);
        }
    }

    static final String CREDENTIALS_NOTE = "credentials: systemd copies them at the service's start and not on a reload,"
            + " so a rotated credential file is read only after systemctl restart";

    /** Nothing changed; the new configuration's keys (if it was read) are wiped now. */
    private Outcome refused(GatewayConfig next, List<String> why) {
        if (next != null) {
            next.destroySecrets();
        }
        List<String> lines = new ArrayList<>();
        lines.add("reload refused, the running configuration stays:");
        lines.addAll(why);
        LOG.log(System.Logger.Level.WARNING, "{0}", String.join(" ", lines));
        return new Outcome(false, lines);
    }
}
