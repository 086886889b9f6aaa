package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.esp.EspPacket;
import io.isthmus.esp.Lifetime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gateway pair's hold on sequence numbers, through the whole data plane over memory (the same
 * agents, paths and tables as with devices): leases required, granted, used up and revoked; a
 * child SA installed where the other node left it; the sequence state the pair syncs.
 */
class SequenceLeaseTest {
    static final int AB = 0x1001; // A to B: A's outbound SPI, B's inbound
    static final int BA = 0x2002;

    /** One gateway over memory: what it sent, and what its TUN device got. */
    static final class Side {
        final InMemoryEspPort esp = new InMemoryEspPort();
        final List<byte[]> delivered = new ArrayList<>();
        final InMemoryTun tun = new InMemoryTun(false, false, (bytes, offset, length) -> delivered.add(Arrays.copyOfRange(bytes, offset, offset + length)));
        final Dataplane dataplane;
        final String tunnel;

        Side(String tunnel, String theirs) {
            this.tunnel = tunnel;
            dataplane = Dataplane.overMemory(ForwardingTest.settings(1500), new ForwardingTest.Capture(), tun, esp);
            dataplane.tunnels(List.of(new Dataplane.TunnelSpec(tunnel, false, List.of(theirs))));
        }

        void drain() {
            while (dataplane.runDutyCycle() > 0) {
                // each cycle reads a burst per port
            }
        }

        /** Packets from this side's network into its TUN device: the ESP datagrams they became. */
        List<byte[]> send(int count, String from, String to) {
            for (int i = 0; i < count; i++) {
                tun.offer(Packets.udp4(from, to, 5000 + i, 53, 100));
            }
            drain();
            List<byte[]> out = new ArrayList<>();
            for (InMemoryEspPort.Datagram d; (d = esp.sent().poll()) != null; ) {
                out.add(d.bytes());
            }
            return out;
        }

        void receive(List<byte[]> datagrams) {
            for (byte[] d : datagrams) {
                esp.deliver(new InMemoryEspPort.Datagram(ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true, d));
            }
            drain();
        }

        Counters counters() {
            return ForwardingTest.tunnelCounters(dataplane, tunnel);
        }

        Dataplane.SaCounters state() {
            List<Dataplane.SaCounters> all = dataplane.sequenceState();
            assertEquals(1, all.size());
            return all.getFirst();
        }
    }

    final Side a = new Side("to-b", "192.168.20.0/24");
    final Side b = new Side("to-a", "192.168.10.0/24");
    final byte[] kab = new byte[20];
    final byte[] kba = new byte[20];

    SequenceLeaseTest() {
        ForwardingTest.RANDOM.nextBytes(kab);
        ForwardingTest.RANDOM.nextBytes(kba);
    }

    void installA(ResumePoint resume) {
        a.dataplane.install(new SaPair("to-b", ForwardingTest.sa(BA, kba.clone(), Lifetime.UNLIMITED), ForwardingTest.sa(AB, kab.clone(), Lifetime.UNLIMITED),
                ForwardingTest.ANY, ForwardingTest.ANY, ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true), true, resume);
    }

    void installB(ResumePoint resume) {
        b.dataplane.install(new SaPair("to-a", ForwardingTest.sa(AB, kab.clone(), Lifetime.UNLIMITED), ForwardingTest.sa(BA, kba.clone(), Lifetime.UNLIMITED),
                ForwardingTest.ANY, ForwardingTest.ANY, ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true), true, resume);
    }

    List<byte[]> fromA(int count) {
        return a.send(count, "192.168.10.5", "192.168.20.7");
    }

    List<byte[]> fromB(int count) {
        return b.send(count, "192.168.20.7", "192.168.10.5");
    }

    static long later() {
        return System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    }

    static List<Long> sequences(List<byte[]> esp) {
        return esp.stream().map(p -> EspPacket.sequence(p, 0) & 0xFFFF_FFFFL).toList();
    }

    @Test
    void withLeasesRequiredNothingLeavesBeforeALeaseAndSendingStopsAtItsEnd() {
        a.dataplane.requireLeases(true);
        installA(null);
        installB(null);
        assertEquals(List.of(), fromA(2), "no lease yet");
        assertEquals(2, a.counters().drops(Drop.SEAL_SEQUENCE_LEASE), "counted as their own drop");
        assertTrue(Drop.SEAL_SEQUENCE_LEASE.isEgress());
        assertTrue(a.state().leased());
        assertEquals(0, a.state().outboundLeaseEnd());

        assertTrue(a.dataplane.lease(BA, 3, later()));
        List<byte[]> sent = fromA(5);
        assertEquals(List.of(1L, 2L, 3L), sequences(sent), "up to the lease's end, numbering from 1: none taken by the refusals");
        assertEquals(4, a.counters().drops(Drop.SEAL_SEQUENCE_LEASE));
        b.receive(sent);
        assertEquals(3, b.delivered.size());

        assertTrue(a.dataplane.lease(BA, 5, later()));
        assertEquals(List.of(4L, 5L), sequences(fromA(3)));
        Dataplane.SaCounters s = a.state();
        assertEquals(5, s.outboundSequence());
        assertEquals(5, s.outboundLeaseEnd());
        assertEquals(5, s.outPackets());
    }

    @Test
    void aLeaseWithASmallerNumberDoesNotShrinkAndARevokedOneStopsSending() {
        a.dataplane.requireLeases(true);
        installA(null);
        assertTrue(a.dataplane.lease(BA, 10, later()));
        assertTrue(a.dataplane.lease(BA, 2, later()));
        assertEquals(10, a.state().outboundLeaseEnd());
        assertEquals(4, fromA(4).size());
        assertTrue(a.dataplane.lease(BA, 10, System.nanoTime()), "revoked: the deadline is now");
        assertEquals(List.of(), fromA(1));
        assertTrue(a.dataplane.lease(BA, 10, later()));
        assertEquals(List.of(5L), sequences(fromA(1)));
        assertFalse(a.dataplane.lease(0x7777, 10, later()), "no such SA");
    }

    @Test
    void withoutLeasesNothingChanges() {
        installA(null);
        assertEquals(List.of(1L, 2L), sequences(fromA(2)));
        Dataplane.SaCounters s = a.state();
        assertFalse(s.leased());
        assertEquals(0xFFFF_FFFFL, s.outboundLeaseEnd());
        assertEquals(0, a.counters().drops(Drop.SEAL_SEQUENCE_LEASE));
    }

    @Test
    void requiringLeasesAppliesToSasInstalledFromThenOn() {
        installA(null);
        a.dataplane.requireLeases(true);
        assertEquals(1, fromA(1).size(), "the SA already installed keeps going");
        a.dataplane.requireLeases(false);
    }

    /**
     * A takes the child SA over from its partner node (not modelled: only what it left behind),
     * which may have sent up to 1000 and delivered up to 500. A's first packet is 1001; what the
     * peer (B here) sends at or below 500 is a replay, 501 gets through.
     */
    @Test
    void aPairInstalledWithAResumePointGoesOnFromIt() {
        installA(new ResumePoint(1000, 500, 1010, later()));
        installB(null);
        // B is the peer, whose outbound SA had sent up to 500 to the pair: here it jumps by hand.
        b.dataplane.forwarding().current().inbound(AB).outbound.resumeAfter(498);

        List<byte[]> sent = fromA(1);
        assertEquals(List.of(1001L), sequences(sent), "after outboundAfter");
        b.receive(sent);
        assertEquals(1, b.delivered.size());

        List<byte[]> back = fromB(3); // 499, 500, 501
        assertEquals(List.of(499L, 500L, 501L), sequences(back));
        a.receive(back);
        assertEquals(1, a.delivered.size(), "only 501 is above the top the partner delivered");
        assertEquals(2, a.counters().drops(Drop.ESP_REPLAY));
        assertArrayEquals(Packets.udp4("192.168.20.7", "192.168.10.5", 5002, 53, 100), a.delivered.getFirst(), "501, the third");

        Dataplane.SaCounters s = a.state();
        assertEquals(BA, s.inboundSpi());
        assertEquals(AB, s.outboundSpi());
        assertEquals(1001, s.outboundSequence());
        assertEquals(1010, s.outboundLeaseEnd());
        assertTrue(s.leased(), "a resumed SA is leased, whether or not leases are required");
        assertEquals(501, s.inboundHighest());
        assertEquals(1, s.inPackets());
        assertEquals(1, s.outPackets(), "packets sent here, not the numbers jumped over");
        assertEquals(128, s.outBytes());
        assertEquals(128, s.inBytes());

        assertEquals(9, fromA(12).size(), "1002 to 1010, then the lease's end");
        assertEquals(3, a.counters().drops(Drop.SEAL_SEQUENCE_LEASE));
    }

    /** The partner's totals come with the SA: its lifetime and its counters go on, not from zero. */
    @Test
    void aResumedSaCountsOnFromWhatItCarriedBefore() {
        installA(new ResumePoint(1000, 0, 1010, later(), new SaTraffic(5, 700, 9, 900)));
        installB(null);
        b.receive(fromA(1));
        a.receive(fromB(1));
        Dataplane.SaCounters s = a.state();
        assertEquals(6, s.inPackets());
        assertEquals(700 + 128, s.inBytes());
        assertEquals(10, s.outPackets());
        assertEquals(900 + 128, s.outBytes());
    }

    @Test
    void aResumedSaWithALeaseUpToItsResumePointWaitsForAGrant() {
        installA(new ResumePoint(1000, 0, 1000, later()));
        assertEquals(List.of(), fromA(1));
        assertTrue(a.dataplane.lease(BA, 1001, later()));
        assertEquals(List.of(1001L), sequences(fromA(1)));
    }

    @Test
    void theSequenceStateListsEverySaPairWithItsCounters() {
        installA(null);
        installB(null);
        b.receive(fromA(3));
        a.receive(fromB(2));
        Dataplane.SaCounters s = a.state();
        assertEquals(new Dataplane.SaCounters(BA, AB, 3, 0xFFFF_FFFFL, false, 2, 2, 256, 3, 384), s);
        Dataplane.SaCounters t = b.state();
        assertEquals(new Dataplane.SaCounters(AB, BA, 2, 0xFFFF_FFFFL, false, 3, 3, 384, 2, 256), t);
        a.dataplane.remove(BA);
        assertEquals(List.of(), a.dataplane.sequenceState(), "a removed SA is not listed");
    }
}
