package io.isthmus.control;

import io.isthmus.control.systemd.EventLoopLiveness;
import io.isthmus.control.systemd.PacketThreadLiveness;
import io.isthmus.control.systemd.ServiceManager;
import io.isthmus.control.systemd.Watchdog;
import java.time.Duration;
import java.util.List;

/**
 * A started gateway as systemd sees it: READY=1 once it runs, a STATUS= line whenever the
 * number of tunnels up changes, and the watchdog, fed only while the packet threads and the IKE
 * thread make progress. Outside systemd it costs one count a second on the IKE thread.
 */
final class GatewayService implements AutoCloseable {
    /** How often the IKE thread counts the tunnels up: cheap (a walk over the IKE SAs), and soon enough for an operator. */
    static final Duration TUNNEL_COUNT_PERIOD = Duration.ofSeconds(1);

    private final Gateway gateway;
    private final ServiceManager manager;
    private final Watchdog watchdog;
    private volatile boolean closed;
    /** Tunnels up at the last count: IKE thread only. */
    private int lastUp = -1;

    private GatewayService(Gateway gateway, ServiceManager manager, Watchdog watchdog) {
        this.gateway = gateway;
        this.manager = manager;
        this.watchdog = watchdog;
    }

    /**
     * Tells {@code manager} the gateway is ready, with how many tunnels are up, and keeps it told;
     * starts the watchdog if systemd asked for one ({@code watchdogInterval} not null).
     */
    static GatewayService start(Gateway gateway, ServiceManager manager, Duration watchdogInterval) throws Exception {
        Watchdog watchdog = watchdogInterval == null ? null : new Watchdog(manager, List.of(
                new PacketThreadLiveness(gateway.dataplane()::progress),
                new EventLoopLiveness("the IKE thread", gateway.ikeThread())), watchdogInterval);
        GatewayService s = new GatewayService(gateway, manager, watchdog);
        // Counted on the IKE thread, where the SAs live; the count also says that thread is answering.
        int up = gateway.onLoop(() -> {
            s.lastUp = gateway.tunnelsUp();
            return s.lastUp;
        });
        manager.ready(s.tunnels(up));
        gateway.ikeScheduler().schedule(TUNNEL_COUNT_PERIOD, s::count);
        if (watchdog != null) {
            watchdog.start();
        }
        return s;
    }

    /** "1 of 2 tunnels up": what systemctl status shows. */
    String tunnels(int up) {
        return up + " of " + gateway.config().connections().size() + " tunnels up";
    }

    /** On the IKE thread, every {@link #TUNNEL_COUNT_PERIOD}: a STATUS= line when a tunnel came up or went down. */
    private void count() {
        if (closed) {
            return;
        }
        int up = gateway.tunnelsUp();
        if (up != lastUp) {
            lastUp = up;
            manager.status(tunnels(up));
        }
        gateway.ikeScheduler().schedule(TUNNEL_COUNT_PERIOD, this::count);
    }

    /** Shutdown begins: STOPPING=1; no more counts or watchdog (the packet threads are about to stop on purpose). */
    void stopping(String why) {
        close();
        manager.stopping(why);
    }

    @Override
    public void close() {
        closed = true;
        if (watchdog != null) {
            watchdog.close();
        }
    }
}
