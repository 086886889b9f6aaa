package io.isthmus.dataplane;

import org.agrona.concurrent.Agent;

/**
 * One packet thread's work: both directions over its own TUN queue and its own sockets (a
 * "lane"), run to completion: the outbound agent (its TUN queue to ESP), then the inbound one
 * (its sockets to its TUN queue), each duty cycle. Lanes share nothing but the
 * {@link Forwarding} snapshot, the SAs in it and the counters; the kernel spreads the traffic
 * over them (a multi-queue TUN device by flow hash, an SO_REUSEPORT group by the peer's
 * addresses and ports), so no packet crosses from one lane to another.
 */
final class PacketLane implements Agent {
    private final String name;
    private final Agent outbound;
    private final Agent inbound;

    PacketLane(int index, Agent outbound, Agent inbound) {
        this.name = "isthmus-lane-" + index;
        this.outbound = outbound;
        this.inbound = inbound;
    }

    @Override
    public int doWork() throws Exception {
        return outbound.doWork() + inbound.doWork();
    }

    @Override
    public String roleName() {
        return name;
    }
}
