package io.isthmus.control;

import io.isthmus.control.config.ConfigDiff;
import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.ike.Connection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A reload ({@code isthmus reload}, {@code systemctl reload}, SIGHUP): the configuration file the
 * gateway was started with, read and checked again as at start (the file, then the host's
 * routes, then the certificate files), compared with the running configuration
 * ({@link ConfigDiff}) and applied ({@link RunningConnections#apply}), and the file's logging
 * settings with it (levels set at run time with {@code isthmus log-level} are the file's again). Or refused, with the
 * reason, when any of that fails or the change needs a restart: then the running configuration
 * stays as it was, and the keys the new file brought are wiped at once. One reload at a time.
 */
final class Reload {
    private static final System.Logger LOG = System.getLogger("io.isthmus.config");

    /** What a reload (or a reset) did, as the operator is told: applied, or refused with why. */
    public record Outcome(boolean applied, List<String> lines) {
        public Outcome {
            lines = List.copyOf(lines);
        }
    }

    /** What is checked against the host before a configuration's routes go in (at start: {@link HostNetwork}'s check). */
    @FunctionalInterface
    interface HostCheck {
        void check(GatewayConfig next) throws Exception;
    }

    private final RunningConnections running;
    private final Function<Path, GatewayConfig> reader;
    private final HostCheck hostCheck;
    private final Consumer<LoggingSettings> logging;

    /**
     * {@code reader}: how the file is read and checked ({@link io.isthmus.control.config.ConfigReader#read}), throwing
     * ConfigException; {@code logging}: where its logging settings go (the process's log output).
     */
    Reload(RunningConnections running, Function<Path, GatewayConfig> reader, HostCheck hostCheck, Consumer<LoggingSettings> logging) {
        this.running = running;
        this.reader = reader;
        this.hostCheck = hostCheck;
        this.logging = logging;
    }

    synchronized Outcome run() {
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
            List<String> lines = new ArrayList<>(running.apply(next, diff, built));
            logging.accept(next.logging());
            if (!next.logging().equals(current.logging())) {
                lines.add("logging: the file's new format and levels applied");
            }
            lines.forEach(line -> LOG.log(System.Logger.Level.INFO, "reload: {0}", line));
            return new Outcome(true, lines);
        } catch (ConfigException e) {
            return refused(next, e.getMessage().lines().toList());
        } catch (RunningConnections.PartlyApplied e) {
            LOG.log(System.Logger.Level.ERROR, "reload of " + current.source() + " " + e.getMessage(), e.getCause());
            return new Outcome(false, List.of("reload of " + current.source() + " " + e.getMessage()));
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            return refused(next, List.of(current.source() + ": " + why.strip().replaceAll("\\s*\\R\\s*", "; ")));
        }
    }

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
