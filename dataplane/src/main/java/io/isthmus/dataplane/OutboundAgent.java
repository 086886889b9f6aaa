package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.TunPort;
import org.agrona.concurrent.Agent;

/**
 * The outbound packet thread's work, TUN to ESP, as an Agrona agent: a duty cycle reads the TUN
 * port up to {@link PacketThreadIdle#BURST} times, runs each batch through the
 * {@link OutboundPath}, then sends what is left batched and flushes the port, so a lone packet
 * never waits for the next cycle. It owns its path, its ports and its buffers; all it shares is
 * the {@link Forwarding} snapshot and the counters.
 */
final class OutboundAgent implements Agent {
    private final TunPort tun;
    private final TunBatch batch = new TunBatch();
    private final OutboundPath path;

    OutboundAgent(Forwarding forwarding, TunPort tun, EspPort.Sender esp, Counters global, int mss, CaptureSwitch capture) {
        this.tun = tun;
        this.path = new OutboundPath(forwarding, global, mss, tun, esp, capture);
    }

    @Override
    public int doWork() {
        int work = 0;
        for (; work < PacketThreadIdle.BURST; work++) {
            if (!tun.read(batch)) {
                break;
            }
            path.packets(batch);
        }
        path.flush();
        tun.flush();
        path.sweepNat();
        return work;
    }

    @Override
    public String roleName() {
        return "isthmus-outbound";
    }
}
