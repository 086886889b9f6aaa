package io.isthmus.dataplane;

import org.agrona.concurrent.Agent;

/**
 * One packet thread's work: both directions over its own TUN queue and its own sockets (a
 * "lane"), run to completion: the outbound agent (its TUN queue to ESP), then the inbound one
 * (its sockets to its TUN queue), each duty cycle. Lanes share nothing but the
 * {@link Forwarding} snapshot, the SAs in it and the counters; the kernel spreads the traffic
 * over them (a multi-queue TUN device by flow hash, an SO_REUSEPORT group by the peer's
 * addresses and ports), so no packet crosses from one lane to another.
 *
 * <p>Where that keeps order: a multi-queue TUN device (IFF_MULTI_QUEUE, a descriptor per lane)
 * hands each flow from the local network to one queue by its hash, so one inner flow is read,
 * sealed and sent by one lane, in order; an SO_REUSEPORT group of UDP sockets on port 4500 (one
 * per lane) hands each peer's datagrams to one socket by the hash of its addresses and ports, so
 * one peer's ESP in UDP is opened by one lane, in order (raw ESP: lane 0 reads the raw sockets).
 * What lanes share per SA is what ESP makes shared: the outbound sequence numbers, reserved a
 * block per TUN read and sent in sequence order per SA whichever lanes sealed them
 * ({@link OutboundPath}), and the inbound replay window, a CAS per packet
 * ({@link io.isthmus.esp.ReplayWindow}: each number accepted once whatever the threads). Dynamic
 * NAT keeps its flow tables with one owner thread, so it needs one lane
 * ({@link Dataplane#tunnels} refuses it with more).
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
