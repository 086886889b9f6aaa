package io.isthmus.control.ha;

import io.isthmus.ike.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.function.Predicate;

/**
 * IKE out, in a pair: a datagram leaves only once the partner acknowledged every state update
 * published before it, so the peer never sees an IKE state (a message ID, a child SA, a
 * response) the partner could not carry on if this instance died the next moment. The engine
 * publishes the record before it hands the datagram here ({@code IkeSaObserver}); this holds the
 * datagram until the link's acknowledgement, in order. Alone (the link down) the link
 * acknowledges at once: there is nobody to wait for.
 *
 * <p>And a datagram from a floating address this instance does not own now is dropped: after a
 * takeover by the partner (it fenced us) or a pause (our lease on the group ran out), the SAs'
 * state here is stale, and a retransmission with a stale message ID would only confuse the peer.
 * IKE thread only.
 */
final class HeldTransport implements Transport {
    private final Transport wire;
    private final PairLink updates;
    private final Predicate<InetAddress> maySendFrom;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private long acknowledged;
    private long heldCount;
    private long droppedCount;

    private record Held(byte[] datagram, InetSocketAddress local, InetSocketAddress remote, long after) {
    }

    HeldTransport(Transport wire, PairLink updates, Predicate<InetAddress> maySendFrom) {
        this.wire = wire;
        this.updates = updates;
        this.maySendFrom = maySendFrom;
    }

    @Override
    public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        if (!maySendFrom.test(local.getAddress())) {
            droppedCount++;
            return;
        }
        long after = updates.lastPublished();
        if (held.isEmpty() && after <= acknowledged) {
            wire.send(datagram, local, remote);
            return;
        }
        heldCount++;
        boolean wait = held.isEmpty() || held.peekLast().after != after;
        held.add(new Held(datagram, local, remote, after));
        if (wait) {
            updates.whenAcked(after, () -> acknowledged(after));
        }
    }

    private void acknowledged(long sequence) {
        acknowledged = Math.max(acknowledged, sequence);
        while (!held.isEmpty() && held.peek().after <= acknowledged) {
            Held h = held.poll();
            // Ownership may have gone while it waited (fenced): checked again at the last moment.
            if (maySendFrom.test(h.local.getAddress())) {
                wire.send(h.datagram, h.local, h.remote);
            } else {
                droppedCount++;
            }
        }
    }

    @Override
    public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
        if (maySendFrom.test(local.getAddress())) {
            wire.sendNatKeepalive(local, remote);
        }
    }

    /** Datagrams that had to wait for an acknowledgement, since the start. */
    long held() {
        return heldCount;
    }

    /** Datagrams dropped because their address was not this instance's to send from. */
    long dropped() {
        return droppedCount;
    }

    /** Waiting now. */
    int waiting() {
        return held.size();
    }
}
