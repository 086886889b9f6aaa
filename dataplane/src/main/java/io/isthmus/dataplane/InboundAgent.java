package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.tun.TunPort;
import java.util.List;
import org.agrona.concurrent.Agent;

/**
 * The inbound packet thread's work, ESP (UDP 4500 and raw) to TUN, as an Agrona agent: a duty
 * cycle receives from each socket up to {@link PacketThreadIdle#BURST} times, so one busy socket
 * cannot starve the others, runs what arrived through the {@link InboundPath}, then flushes the
 * TUN port (the merged super-packet waiting there). IKE messages on port 4500 go to the control
 * plane's {@link Dataplane.Events}. It owns its path, ports and buffer.
 */
final class InboundAgent implements Agent {
    /** The largest receive (64 KB, a UDP GRO run) with room to spare. */
    private static final int BUFFER = TunPort.HEADROOM + 65_536;

    private final EspPort.Receiver[] receivers;
    private final TunPort tun;
    private final PacketBuffer buffer = new PacketBuffer(BUFFER);
    private final InboundPath path;
    /** Drops no tunnel can be named for: datagrams refused before their SPI is read. */
    private final Counters global;

    InboundAgent(Forwarding forwarding, List<EspPort.Receiver> receivers, TunPort tun, Dataplane.Events events, Counters global, int mss,
                 CaptureSwitch capture) {
        this.receivers = receivers.toArray(EspPort.Receiver[]::new);
        this.tun = tun;
        this.path = new InboundPath(forwarding, global, mss, tun, events, capture);
        this.global = global;
    }

    @Override
    public int doWork() {
        int work = 0;
        for (EspPort.Receiver r : receivers) {
            for (int i = 0; i < PacketThreadIdle.BURST; i++) {
                int n = r.receive(buffer);
                if (n <= 0) {
                    break;
                }
                int off = r.offset();
                if (off < 0 || off >= n) {
                    global.drop(off == EspPort.Receiver.TRUNCATED ? Drop.RECEIVE_TRUNCATED
                            : off == EspPort.Receiver.MALFORMED_OUTER ? Drop.MALFORMED_OUTER : Drop.ESP_TOO_SHORT);
                    work++;
                    continue;
                }
                path.datagrams(buffer, off, n - off, r.segmentSize(), r);
                work++;
            }
        }
        tun.flush();
        path.sweepNat();
        return work;
    }

    @Override
    public String roleName() {
        return "isthmus-inbound";
    }
}
