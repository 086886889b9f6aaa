package io.isthmus.control.systemd;

import io.isthmus.dataplane.Dataplane.PacketThreadProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The data plane's packet threads are alive when each has completed a duty cycle since the last
 * round. An idle one still wakes every millisecond, so standing still for a watchdog round (half
 * of WatchdogSec) means stuck: in a system call that does not return, in a loop, or failing every
 * cycle. This is the reason the watchdog exists at all: a gateway whose packet threads have stopped
 * still answers IKE and status, and only a restart brings its traffic back.
 */
public final class PacketThreadLiveness implements Liveness {
    private final Supplier<List<PacketThreadProgress>> progress;
    private List<PacketThreadProgress> last;

    public PacketThreadLiveness(Supplier<List<PacketThreadProgress>> progress) {
        this.progress = progress;
    }

    @Override
    public String stall() {
        List<PacketThreadProgress> now = progress.get();
        List<PacketThreadProgress> before = last;
        last = now;
        if (before == null) {
            return null;
        }
        List<String> stuck = new ArrayList<>();
        for (int i = 0; i < now.size(); i++) {
            if (i < before.size() && now.get(i).dutyCycles() == before.get(i).dutyCycles()) {
                stuck.add(now.get(i).thread() + " (at duty cycle " + now.get(i).dutyCycles() + ")");
            }
        }
        return stuck.isEmpty() ? null : "packet thread " + String.join(" and ", stuck) + " made no progress";
    }
}
