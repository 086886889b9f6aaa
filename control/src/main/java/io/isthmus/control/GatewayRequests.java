package io.isthmus.control;

import io.isthmus.control.metrics.GatewayMetrics;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What {@code isthmus gateway run} answers on its control socket and to SIGHUP: the running
 * gateway's status, reload and resets; while the gateway is still starting, that it is.
 */
final class GatewayRequests implements ControlRequests {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final String STARTING = "the gateway is still starting";
    private final AtomicReference<Gateway> running = new AtomicReference<>();
    private final java.util.List<io.isthmus.ike.IkeEvent.Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** From now on, {@code gateway} answers. */
    void running(Gateway gateway) {
        listeners.forEach(gateway::addEventListener);
        running.set(gateway);
    }

    @Override
    public void listen(io.isthmus.ike.IkeEvent.Listener listener) {
        Gateway g = running.get();
        if (g != null) {
            g.addEventListener(listener);
        } else {
            listeners.add(listener); // the socket opens before the gateway starts: it hears from the first event on
        }
    }

    @Override
    public Object initiate(String connection) throws Exception {
        Gateway g = running.get();
        return g != null ? g.initiate(connection) : Map.of("error", STARTING);
    }

    @Override
    public Object disconnectClient(String client) throws Exception {
        Gateway g = running.get();
        return g != null ? g.disconnectClient(client) : Map.of("error", STARTING);
    }

    @Override
    public Object terminate(String connection) throws Exception {
        Gateway g = running.get();
        return g != null ? g.terminate(connection) : Map.of("error", STARTING);
    }

    @Override
    public Object rekey(String connection, boolean child) throws Exception {
        Gateway g = running.get();
        return g != null ? g.rekey(connection, child) : Map.of("error", STARTING);
    }

    @Override
    public Object status() throws Exception {
        Gateway g = running.get();
        return g != null ? g.status() : Map.of("error", STARTING);
    }

    @Override
    public Object reload() {
        Gateway g = running.get();
        return g != null ? g.reload() : Map.of("error", STARTING + "; reload it once it runs");
    }

    @Override
    public Object reset(String connection) throws Exception {
        Gateway g = running.get();
        return g != null ? g.reset(connection) : Map.of("error", STARTING);
    }

    @Override
    public Object captureStart(com.fasterxml.jackson.databind.JsonNode body) throws Exception {
        Gateway g = running.get();
        return g != null ? g.captures().start(CaptureRequest.parse(body), g.connectionNames()) : Map.of("error", STARTING);
    }

    @Override
    public Object captureStop() throws Exception {
        Gateway g = running.get();
        return g != null ? g.captures().stop() : Map.of("error", STARTING);
    }

    @Override
    public Object captureStatus() throws Exception {
        Gateway g = running.get();
        return g != null ? g.captures().status() : Map.of("error", STARTING);
    }

    @Override
    public Object handover() throws Exception {
        Gateway g = running.get();
        return g != null ? g.handover() : Map.of("error", STARTING);
    }

    @Override
    public Object resume() throws Exception {
        Gateway g = running.get();
        return g != null ? g.resume() : Map.of("error", STARTING);
    }

    /** What a metrics scrape reads: nothing but the build while the gateway is starting. */
    GatewayMetrics.Scrape scrape() {
        Gateway g = running.get();
        if (g == null) {
            return new GatewayMetrics.Scrape(null, null);
        }
        try {
            return g.scrape();
        } catch (Exception e) {
            throw new IllegalStateException("the gateway's snapshot failed: " + e, e); // a timeout's message is null: its name says it
        }
    }

    /** SIGHUP: the reload logs what it did or why it refused. */
    void reloadOnSignal() {
        Gateway g = running.get();
        if (g == null) {
            LOG.log(System.Logger.Level.WARNING, "SIGHUP while the gateway starts: nothing to reload yet; nothing changed");
            return;
        }
        g.reload();
    }
}
