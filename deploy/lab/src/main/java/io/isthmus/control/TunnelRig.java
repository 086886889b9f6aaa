package io.isthmus.control;

import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.metrics.GatewayMetrics;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.Connection;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.engine.IkeEngine;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One instance of a gateway configuration as {@link Gateway} wires it (the IKE engine with the
 * connections {@link IkeConnections} makes of the file, a {@link ChildSaBridge} to the data plane,
 * the data plane's tunnels from {@link RunningConnections#tunnels}, status and metrics built by
 * the same code), with IKE over a transport and a scheduler the caller gives: for
 * {@code isthmus bench tunnels}, which measures thousands of tunnels up without thousands of peers
 * on a wire. It lives in the lab's jar, not the gateway's, and in control's package only to reach
 * that wiring, as control's own tests do.
 */
public final class TunnelRig {
    private final GatewayConfig config;
    private final GatewayConfig.Instance instance;
    private final Executor ikeThread;
    private final IkeEngine engine;
    private final Dataplane dataplane;
    private final InboundDatagrams ikeFromDataplane;
    private final PacketTimes packetTimes = new PacketTimes();
    private final Instant startedAt = Instant.now();
    private final PrometheusRegistry registry = new PrometheusRegistry();

    /**
     * What a data plane made before the rig reports to: nothing until the rig exists, then the
     * rig's bridge (so that a data plane's own memory can be measured apart from the tunnels').
     */
    public static final class LateEvents implements Dataplane.Events {
        private volatile Dataplane.Events to;

        @Override
        public void ikeMessage(byte[] buffer, int offset, int length, java.net.InetSocketAddress local, java.net.InetSocketAddress remote) {
            Dataplane.Events e = to;
            if (e != null) {
                e.ikeMessage(buffer, offset, length, local, remote);
            }
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
            Dataplane.Events e = to;
            if (e != null) {
                e.lifetime(inboundSpi, hard);
            }
        }
    }

    /**
     * @param ikeThread runs a task on the thread {@code scheduler} runs its tasks on (the engine's)
     * @param dataplane the data plane ({@link Dataplane#start} or {@link Dataplane#withoutIo}) made to report to {@code events}
     */
    public TunnelRig(GatewayConfig config, String instanceName, Transport transport, Scheduler scheduler, Executor ikeThread,
                     Dataplane dataplane, LateEvents events) throws Exception {
        this.config = config;
        this.instance = config.instance(instanceName);
        this.ikeThread = ikeThread;
        List<Connection> connections = new ArrayList<>();
        for (GatewayConfig.Connection c : config.connections()) {
            connections.add(IkeConnections.of(config, instance, c));
        }
        IkeEngine[] engineRef = new IkeEngine[1];
        ikeFromDataplane = new InboundDatagrams(256, ikeThread, (d, local, remote) -> engineRef[0].receive(d, 0, d.length, local, remote));
        ChildSaBridge bridge = new ChildSaBridge(ikeThread, scheduler, ikeFromDataplane);
        engine = new IkeEngine(transport, scheduler, bridge);
        engineRef[0] = engine;
        engine.natTraversalPort(config.gateway().tunnel().natTraversalPort());
        this.dataplane = dataplane;
        events.to = bridge;
        bridge.connect(engine, this.dataplane);
        this.dataplane.tunnels(RunningConnections.tunnels(config, instance));
        onIkeThread(() -> {
            connections.forEach(engine::addConnection);
            return null;
        });
        registry.register(new GatewayMetrics("bench", this::scrape));
    }

    public IkeEngine engine() {
        return engine;
    }

    public Dataplane dataplane() {
        return dataplane;
    }

    public GatewayConfig config() {
        return config;
    }

    /** What {@code isthmus status} shows, made as {@link Gateway#status} makes it: the data plane read here, the IKE SAs on the IKE thread. */
    public GatewayStatus status() throws Exception {
        List<Dataplane.TunnelStatus> tunnels = dataplane.status();
        packetTimes.observe(tunnels, Instant.now());
        return onIkeThread(() -> GatewayStatus.of(config, instance, packetTimes, engine.ikeSas(), tunnels, dataplane.globalCounters(), startedAt,
                new GatewayStatus.Defense(engine.cookiesSent(), engine.halfOpenSas(), ikeFromDataplane.accepted(), ikeFromDataplane.dropped(),
                        io.isthmus.ike.crypto.KeyExchangeMethod.keyPairsGenerated()), null, engine.counters(), java.util.Map.of()));
    }

    /** The status as the management API sends it: JSON. */
    public byte[] statusJson() throws Exception {
        return ControlSocket.JSON.writeValueAsBytes(status());
    }

    /** A Prometheus scrape of the gateway's metrics, in the text format, as {@code /metrics} answers it. */
    public byte[] scrapeText() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, registry.scrape());
        return out.toByteArray();
    }

    private GatewayMetrics.Scrape scrape() {
        try {
            return new GatewayMetrics.Scrape(status(), engine.counters());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code task} on the IKE thread and waits for it. */
    public <T> T onIkeThread(java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        ikeThread.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.MINUTES);
    }
}
