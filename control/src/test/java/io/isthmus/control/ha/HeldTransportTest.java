package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.isthmus.ike.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** IKE datagrams leave only after the partner acknowledged the state before them, in order; none from an address not owned. */
class HeldTransportTest {
    static final InetSocketAddress FLOATING = new InetSocketAddress(InetAddress.ofLiteral("10.77.0.101"), 500);
    static final InetSocketAddress OTHER_FLOATING = new InetSocketAddress(InetAddress.ofLiteral("10.77.0.102"), 500);
    static final InetSocketAddress PEER = new InetSocketAddress(InetAddress.ofLiteral("10.77.0.2"), 500);

    /** A link whose acknowledgements the test gives by hand. */
    static class ManualLink implements PairLink {
        long published;
        long acked;
        boolean up = true;
        final TreeMap<Long, List<Runnable>> waiting = new TreeMap<>();

        @Override
        public long put(String group, byte kind, byte[] key, byte[] value) {
            return ++published;
        }

        @Override
        public long remove(String group, byte kind, byte[] key) {
            return ++published;
        }

        @Override
        public long lastPublished() {
            return published;
        }

        @Override
        public void whenAcked(long sequence, Runnable then) {
            if (!up || sequence <= acked) {
                then.run();
            } else {
                waiting.computeIfAbsent(sequence, s -> new ArrayList<>()).add(then);
            }
        }

        @Override
        public boolean acknowledged(long sequence) {
            return sequence <= acked;
        }

        @Override
        public boolean connected() {
            return up;
        }

        /** The link goes down: as the real one, those waiting for an acknowledgement are released (not acknowledged). */
        void down() {
            up = false;
            List<Runnable> released = new ArrayList<>();
            waiting.values().forEach(released::addAll);
            waiting.clear();
            released.forEach(Runnable::run);
        }

        void ack(long upTo) {
            acked = upTo;
            while (!waiting.isEmpty() && waiting.firstKey() <= upTo) {
                waiting.pollFirstEntry().getValue().forEach(Runnable::run);
            }
        }
    }

    final List<Byte> sent = new ArrayList<>();
    final Transport wire = (d, local, remote) -> sent.add(d[0]);

    @Test
    void aDatagramWaitsForTheStateBeforeItAndTheOrderHolds() {
        ManualLink link = new ManualLink();
        HeldTransport t = new HeldTransport(wire, link, a -> true);
        t.send(new byte[] {1}, FLOATING, PEER); // nothing published: at once
        link.put("gw1", SyncKinds.IKE_SA, new byte[1], new byte[1]);
        t.send(new byte[] {2}, FLOATING, PEER);
        t.send(new byte[] {3}, FLOATING, PEER);
        link.put("gw1", SyncKinds.IKE_SA, new byte[1], new byte[1]);
        t.send(new byte[] {4}, FLOATING, PEER);
        assertEquals(List.of((byte) 1), sent, "2, 3 and 4 wait for the partner");
        link.ack(1);
        assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), sent);
        t.send(new byte[] {5}, FLOATING, PEER); // behind 4, which still waits: never overtakes it
        assertEquals(3, sent.size());
        link.ack(2);
        assertEquals(List.of((byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 5), sent);
        assertEquals(0, t.waiting());
        assertEquals(4, t.held());
    }

    @Test
    void aloneNothingWaits() {
        ManualLink link = new ManualLink();
        link.up = false;
        HeldTransport t = new HeldTransport(wire, link, a -> true);
        link.put("gw1", SyncKinds.IKE_SA, new byte[1], new byte[1]);
        t.send(new byte[] {7}, FLOATING, PEER);
        assertEquals(List.of((byte) 7), sent);
    }

    @Test
    void nothingLeavesFromAnAddressThisInstanceDoesNotOwnEvenAfterWaiting() {
        ManualLink link = new ManualLink();
        Set<InetAddress> owned = new java.util.HashSet<>(Set.of(FLOATING.getAddress()));
        HeldTransport t = new HeldTransport(wire, link, owned::contains);
        t.send(new byte[] {1}, OTHER_FLOATING, PEER);
        link.put("gw1", SyncKinds.IKE_SA, new byte[1], new byte[1]);
        t.send(new byte[] {2}, FLOATING, PEER);
        owned.clear(); // fenced while it waited
        link.ack(1);
        assertEquals(List.of(), sent);
        assertEquals(2, t.dropped());
    }
}
