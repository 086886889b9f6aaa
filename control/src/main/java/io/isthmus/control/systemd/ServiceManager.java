package io.isthmus.control.systemd;

import java.io.IOException;
import java.util.function.Function;

/**
 * What the gateway tells systemd, as a {@code Type=notify} service (sd_notify(3)): that it is
 * ready, how many tunnels are up, that it is stopping, why it failed to start, and that it is
 * alive (the watchdog). Outside systemd ({@code $NOTIFY_SOCKET} unset) every call does nothing.
 *
 * <p>A message that cannot be sent is logged, never thrown: the gateway carries traffic whether
 * or not systemd hears about it (and a lost WATCHDOG=1 is what the watchdog is for).
 */
public final class ServiceManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** What `systemctl status` shows of STATUS= fits a line; a list of a hundred problems would not. */
    static final int MAX_STATUS = 400;

    private final NotifySocket socket;
    private boolean warned;

    ServiceManager(NotifySocket socket) {
        this.socket = socket;
    }

    /** The service manager that started this process, from {@code $NOTIFY_SOCKET}; one that hears nothing if there is none. */
    public static ServiceManager fromEnvironment(Function<String, String> environment) {
        String name = environment.apply("NOTIFY_SOCKET");
        if (name == null || name.isEmpty()) {
            return new ServiceManager(null);
        }
        try {
            return new ServiceManager(NotifySocket.open(name));
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "$NOTIFY_SOCKET: {0}; systemd will not hear that this gateway is ready", e.getMessage());
            return new ServiceManager(null);
        }
    }

    /** Whether anyone listens: started by systemd as a Type=notify service. */
    public boolean listening() {
        return socket != null;
    }

    /** Start-up is over: IKE and the data plane are up, the connections added. MAINPID: this process, the one to watch and signal. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status) + "\nMAINPID=" + ProcessHandle.current().pid());
    }

    /** A new status line for {@code systemctl status}. */
    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    /** Shutdown has begun. */
    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    /** Start-up failed: why, in one line, and an errno-style code if there is one (0: none). */
    public void startFailed(String why, int errno) {
        send("STATUS=" + oneLine(why) + (errno > 0 ? "\nERRNO=" + errno : ""));
    }

    /** All is well: the watchdog's keep-alive. */
    public void watchdog() {
        send("WATCHDOG=1");
    }

    /**
     * A STATUS value must stay one line: a line break would start another assignment (a status
     * quoting a peer's identity could otherwise say READY=1 or MAINPID=...).
     */
    static String oneLine(String text) {
        String line = text.strip().replaceAll("\\s*\\R\\s*", "; ").replaceAll("\\p{Cntrl}", "?");
        return line.length() <= MAX_STATUS ? line : line.substring(0, MAX_STATUS - 3) + "...";
    }

    private synchronized void send(String message) {
        if (socket == null) {
            return;
        }
        try {
            socket.send(message);
        } catch (IOException e) {
            // Once at WARNING: a watchdog every few seconds to a socket that has gone would fill the log.
            LOG.log(warned ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING, "{0}", e.getMessage());
            warned = true;
        }
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            socket.close();
        }
    }
}
