package io.isthmus.control;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.LogShutdown;
import io.isthmus.control.metrics.GatewayMetrics;
import io.isthmus.control.metrics.MetricsServer;
import io.isthmus.control.systemd.ServiceManager;
import io.isthmus.control.systemd.Watchdog;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code isthmus gateway run|check}: the daemon, and a dry run of its configuration. */
@Command(name = "gateway", description = "Run a gateway instance, or check its configuration.",
        subcommands = {GatewayCommand.Run.class, GatewayCommand.Check.class})
final class GatewayCommand {
    /**
     * The exit status of {@code gateway run} when this host does not offer what the configuration
     * needs ({@link StartupChecks}: the address not yet on it, a port taken, no TUN driver,
     * forwarding off): often for a moment at boot, so systemd starts it again (the unit's
     * RestartPreventExitStatus names only 2, a mistake in the file itself).
     */
    static final int HOST_NOT_READY = 3;

    static Path defaultSocket(GatewayConfig config) {
        return ControlSocket.RUN_DIRECTORY.resolve(config.gateway().name() + ".sock");
    }

    @Command(name = "run", description = "Run the gateway (IKE and the data plane) until stopped with SIGTERM or Ctrl-C.")
    static final class Run implements Callable<Integer> {
        @Option(names = "--config", required = true, description = "The configuration file (YAML or JSON).")
        Path config;

        @Option(names = "--instance", description = "Which of virtualNetworkGateway.instances this is (default: the first).")
        String instance;

        @Option(names = "--control-socket", description = "Where isthmus status finds this gateway (default: /run/isthmus/<name>.sock).")
        Path socket;

        @Option(names = "--capture-directory", paramLabel = "DIR", description = "Where isthmus capture writes (default: $STATE_DIRECTORY/captures "
                + "under systemd, else /var/lib/isthmus/captures); made with mode 0700, the newest 10 captures kept.")
        Path captureDirectory;

        @Spec
        CommandSpec spec;

        /** The start-up checks found the problems being thrown: exit {@link #HOST_NOT_READY}, not 2. */
        private boolean hostNotReady;

        @Override
        public Integer call() throws Exception {
            GatewayRequests requests = new GatewayRequests();
            ReloadSignal.install(requests::reloadOnSignal); // from the start: a SIGHUP while starting must not stop us either
            try (StopSignal stop = StopSignal.install()) { // SIGTERM, SIGINT: the SAs deleted, then exit 0
                return run(stop, requests);
            } catch (ConfigException e) {
                var handler = spec.commandLine().getExecutionExceptionHandler();
                if (!hostNotReady || handler == null) {
                    throw e;
                }
                // The same lines as any configuration problem (the file and field), another status.
                handler.handleExecutionException(e, spec.commandLine(), spec.commandLine().getParseResult());
                return HOST_NOT_READY;
            }
        }

        private int run(StopSignal stop, GatewayRequests requests) throws Exception {
            ServiceManager systemd = ServiceManager.fromEnvironment(System::getenv);
            ControlSocket control;
            MetricsServer metrics;
            Gateway gateway;
            try {
                long began = System.nanoTime();
                GatewayConfig c = ConfigReader.read(config);
                LogOutput.process().apply(c.logging());
                GatewayConfig.Instance which = c.instance(instance); // an unknown instance name is a mistake: exit 2
                long read = System.nanoTime();
                // Before anything is made on the host (this socket included): its address, ports, TUN, forwarding, routes.
                try {
                    StartupChecks.run(c, which);
                } catch (ConfigException e) {
                    hostNotReady = true;
                    throw e;
                }
                long checked = System.nanoTime();
                // Then the socket: a second gateway on the same socket is refused before it binds ports, makes devices or adds routes.
                control = ControlSocket.open(socket != null ? socket : defaultSocket(c), requests,
                        c.control().group() == null ? ControlAccess.ownerOnly() : ControlAccess.withGroup(c.control().group()),
                        ControlSocket.Limits.DEFAULT);
                // Before the gateway starts: a scrape during a long start shows the build, and a port taken is logged at once.
                metrics = c.metrics().listen() == null ? null : MetricsServer.start(c.metrics().listen(), registry(requests));
                try {
                    gateway = Gateway.start(c, instance, captureDirectory != null ? captureDirectory : Captures.defaultDirectory());
                } catch (Exception | Error e) {
                    if (metrics != null) {
                        metrics.close();
                    }
                    control.close();
                    throw e;
                }
                requests.running(gateway);
                long up = System.nanoTime();
                // What a start costs, in the log (and what isthmus bench tunnels reads): with thousands of connections it matters.
                System.getLogger("io.isthmus.control").log(System.Logger.Level.INFO, "gateway started in {0} ms: configuration read and"
                        + " checked in {1} ms, the host in {2} ms, the gateway with {3} connections in {4} ms", millis(up - began),
                        millis(read - began), millis(checked - read), Integer.toString(c.connections().size()), millis(up - checked));
            } catch (Exception e) {
                systemd.startFailed(Isthmus.OneLineErrors.describe(e), errno(e));
                throw e;
            }
            AtomicReference<GatewayService> service = new AtomicReference<>();
            AtomicBoolean stopped = new AtomicBoolean();
            Runnable stopAll = () -> {
                if (stopped.compareAndSet(false, true)) {
                    StopSignal.bound();
                    String why = "stopping: deleting the IKE SAs" + (stop.name() == null ? "" : " (" + stop.name() + ")");
                    if (service.get() != null) {
                        service.get().stopping(why);
                    } else {
                        systemd.stopping(why);
                    }
                    control.close();
                    if (metrics != null) {
                        metrics.close();
                    }
                    gateway.close();
                    systemd.close();
                }
            };
            // Any other way the JVM ends (System.exit, a signal that could not be handled) still deletes the SAs.
            LogShutdown.addShutdownHook(new Thread(stopAll, "isthmus-shutdown"));
            try {
                service.set(GatewayService.start(gateway, systemd, Watchdog.interval(System::getenv, ProcessHandle.current().pid())));
            } catch (Exception e) {
                systemd.startFailed(Isthmus.OneLineErrors.describe(e), 0);
                stopAll.run();
                throw e;
            }
            stop.await();
            stopAll.run();
            return 0;
        }

        /** Whole milliseconds, as digits alone (a log line's numbers are otherwise grouped, 13,775, which is harder to read back). */
        private static String millis(long nanos) {
            return Long.toString(nanos / 1_000_000);
        }

        /** The gateway's own metrics, read at each scrape from whatever gateway runs, and the JVM's. */
        private static PrometheusRegistry registry(GatewayRequests requests) {
            PrometheusRegistry registry = new PrometheusRegistry();
            JvmMetrics.builder().register(registry);
            registry.register(new GatewayMetrics(Isthmus.Version.version(), requests::scrape));
            return registry;
        }

        /** An errno-style code for systemd's ERRNO=, where the failure has an obvious one. */
        static int errno(Exception e) {
            String message = String.valueOf(e.getMessage());
            if (e instanceof ConfigException) {
                return 22; // EINVAL
            } else if (e instanceof BindException && message.contains("in use")) {
                return 98; // EADDRINUSE
            } else if (e instanceof BindException && message.contains("assign")) {
                return 99; // EADDRNOTAVAIL
            }
            return 0;
        }
    }

    @Command(name = "check", description = "Read and check a configuration file, print what it configures, start nothing.")
    static final class Check implements Callable<Integer> {
        @Option(names = "--config", required = true, description = "The configuration file (YAML or JSON).")
        Path config;

        @Override
        public Integer call() {
            GatewayConfig c = ConfigReader.read(config);
            var g = c.gateway();
            System.out.printf("%s: gateway %s, %s, SKU %s (up to %d tunnels), instances %s%n", config, g.name(), g.vpnType(), g.sku().azureName(),
                    g.sku().maxTunnels(), g.instances().stream().map(i -> i.name() + " " + i.publicIpAddress().getHostAddress()).toList());
            for (var conn : c.connections()) {
                var site = c.localNetworkGateway(conn.localNetworkGateway());
                System.out.printf("  %s -> %s (%s) %s, %s, %s, IKE SA %d s, DPD %d s (timeout %d s)%n", conn.name(), site.name(),
                        site.peerText(), site.addressPrefixes(), conn.connectionMode(),
                        conn.usePolicyBasedTrafficSelectors() ? "policy-based" : "route-based", conn.ikeSaLifeTime().toSeconds(),
                        conn.dpdDelay().toSeconds(), conn.dpdTimeout().toSeconds());
                // strongSwan's syntax, for the peer's swanctl.conf: what the Azure names mean, spelt out transform by transform.
                System.out.printf("    proposals = %s%n", io.isthmus.control.config.SwanctlProposals.ike(IkeConnections.ikeProposals(conn)));
                System.out.printf("    esp_proposals = %s%n", io.isthmus.control.config.SwanctlProposals.esp(IkeConnections.espProposals(conn)));
                if (conn.hasNat()) {
                    // What the operator sets up on the peer: its prefixes are routed here as translated, and it sees this side as translated.
                    var translated = io.isthmus.control.config.TranslatedPrefixes.of(c);
                    var ts = translated.selectors(conn);
                    System.out.printf("    NAT %s: routes into the tunnel %s; inside the tunnel the site is %s and sees this side as %s%n",
                            c.natRules(conn).stream().map(r -> r.name() + " (" + r.type() + " " + r.mode() + " " + r.internalMapping() + " -> "
                                    + r.externalMapping() + (r.type() == io.isthmus.control.config.GatewayConfig.NatRuleType.DYNAMIC
                                    ? ", maxFlows " + r.maxFlows() : "") + ")").toList(), translated.tunnelRoutes(conn), ts.remote(), ts.local());
                }
            }
            c.warnings().forEach(w -> System.err.println("isthmus: warning: " + w));
            return 0;
        }
    }
}
