package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.nat.FlowTable;
import io.isthmus.dataplane.nat.NatRule;
import io.isthmus.dataplane.nat.TunnelNat;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.Lifetime;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * NAT through the real packet paths: gateway G (the virtual network 192.168.20.0/24) and two
 * on-premises sites S1 and S2 that both use 10.0.0.0/24, each joined to G by a tunnel with real
 * SAs, as the lab will run it. G's IngressSnat rules make the sites 100.64.1.0/24 and
 * 100.64.2.0/24 to its own network; a dynamic EgressSnat rule hides its network behind
 * 203.0.113.9. Time is G's own clock, moved by hand.
 */
class NatForwardingTest {
    static final NatRule SITE1 = new NatRule("site1-in", NatRule.Mode.INGRESS_SNAT, NatRule.Type.STATIC, new NatRule.Mapping("10.0.0.0/24"),
            new NatRule.Mapping("100.64.1.0/24"));
    static final NatRule SITE2 = new NatRule("site2-in", NatRule.Mode.INGRESS_SNAT, NatRule.Type.STATIC, new NatRule.Mapping("10.0.0.0/24"),
            new NatRule.Mapping("100.64.2.0/24"));

    static NatRule hide(int capacity) {
        return new NatRule("vnet-out", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("192.168.20.0/24"),
                new NatRule.Mapping("203.0.113.9/32"), capacity);
    }

    /** One gateway's data plane with its paths over memory, and what it emits. */
    static final class Gateway {
        final Dataplane d;
        final ForwardingTest.Capture out = new ForwardingTest.Capture();
        final InMemoryTun tun = new InMemoryTun(true, true, out.tunFrames(true));
        final InMemoryEspPort esp = new InMemoryEspPort();
        final OutboundPath outbound;
        final InboundPath inbound;

        Gateway(AtomicLong clock) {
            d = Dataplane.withoutIo(ForwardingTest.settings(1500), out);
            d.natClock(clock::get);
            outbound = ForwardingTest.outboundPath(d, tun, out);
            inbound = ForwardingTest.inboundPath(d, tun, out);
        }

        /** A packet read from this gateway's TUN device: the ESP packets it sent for it. */
        List<byte[]> send(byte[] inner) {
            return ForwardingTest.sendThrough(outbound, tun, out, new byte[VirtioHeader.LENGTH], inner);
        }

        /** ESP packets received: what reached the TUN device from them (the last ones written). */
        List<byte[]> receive(List<byte[]> espPackets) {
            int before = out.tun.size();
            ForwardingTest.deliver(inbound, tun, esp, espPackets);
            return new ArrayList<>(out.tun.subList(before, out.tun.size()));
        }

        Counters counters(String tunnel) {
            return d.tunnelsForTests().get(tunnel).counters();
        }

        TunnelNat nat(String tunnel) {
            return d.snapshot().nat(d.tunnelsForTests().get(tunnel));
        }
    }

    final AtomicLong clock = new AtomicLong(5_000_000_000L);
    final Gateway g = new Gateway(clock);
    final Gateway s1 = new Gateway(clock);
    final Gateway s2 = new Gateway(clock);
    int spi = 0x100;

    /** A child SA between G's tunnel and a site's, with the selectors each negotiated (G's local first). */
    void childSa(Gateway site, String gTunnel, List<Selector> gLocal, List<Selector> gRemote) {
        byte[] k1 = new byte[20];
        byte[] k2 = new byte[20];
        ForwardingTest.RANDOM.nextBytes(k1);
        ForwardingTest.RANDOM.nextBytes(k2);
        int toSite = spi++;
        int toG = spi++;
        g.d.install(new SaPair(gTunnel, ForwardingTest.sa(toG, k2, Lifetime.UNLIMITED), ForwardingTest.sa(toSite, k1, Lifetime.UNLIMITED), gLocal,
                gRemote, ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true));
        site.d.install(new SaPair("to-g", ForwardingTest.sa(toSite, k1, Lifetime.UNLIMITED), ForwardingTest.sa(toG, k2, Lifetime.UNLIMITED),
                gRemote, gLocal, ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true));
    }

    /** The two sites behind IngressSnat, each with the selectors its device negotiates: its real range to G's network. */
    void twoSites(List<NatRule> site1Extra) {
        List<NatRule> site1 = new ArrayList<>(List.of(SITE1));
        site1.addAll(site1Extra);
        List<String> site1Prefixes = new ArrayList<>(List.of("100.64.1.0/24"));
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, site1Prefixes, site1),
                new Dataplane.TunnelSpec("site2", false, List.of("100.64.2.0/24"), List.of(SITE2))));
        for (Gateway s : List.of(s1, s2)) {
            s.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("192.168.20.0/24", "203.0.113.9/32"))));
        }
        List<Selector> site1Local = new ArrayList<>(List.of(ForwardingTest.prefix("192.168.20.0/24")));
        if (!site1Extra.isEmpty()) {
            site1Local.add(ForwardingTest.prefix("203.0.113.9/32"));
        }
        childSa(s1, "site1", site1Local, List.of(ForwardingTest.prefix("10.0.0.0/24")));
        childSa(s2, "site2", List.of(ForwardingTest.prefix("192.168.20.0/24")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
    }

    /** G's network alone behind 203.0.113.9, towards site 1 (which sees it so). */
    void hiddenNetwork(int capacity) {
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(hide(capacity)))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("203.0.113.9/32"))));
        childSa(s1, "site1", List.of(ForwardingTest.prefix("203.0.113.9/32")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
    }

    static int u32(byte[] p, int at) {
        return (int) IpPacket.u32(p, at);
    }

    static String source(byte[] p) {
        return text(p, 12);
    }

    static String destination(byte[] p) {
        return text(p, 16);
    }

    static String text(byte[] p, int at) {
        return (p[at] & 0xFF) + "." + (p[at + 1] & 0xFF) + "." + (p[at + 2] & 0xFF) + "." + (p[at + 3] & 0xFF);
    }

    /** Every checksum of an IPv4 packet is right: the header's and the transport's (summed in full). */
    static void assertChecksums(byte[] p) {
        assertEquals(0xFFFF, IpPacket.sum(p, 0, IpPacket.headerLength(p, 0), 0), "IPv4 header checksum");
        int proto = IpPacket.protocol(p, 0);
        int l4 = IpPacket.headerLength(p, 0);
        if (proto == IpPacket.PROTO_ICMP) {
            assertEquals(0xFFFF, IpPacket.sum(p, l4, p.length - l4, 0), "ICMP checksum");
        } else if (proto != IpPacket.PROTO_UDP || IpPacket.u16(p, l4 + 6) != 0) {
            assertEquals(0xFFFF, Packets.l4Sum(p), "transport checksum");
        }
    }

    static byte[] echo(String src, String dst, int id, int type) {
        byte[] p = new byte[20 + 8 + 32];
        Packets.ipv4(p, IpPacket.PROTO_ICMP, src, dst);
        p[20] = (byte) type;
        IpPacket.put16(p, 24, id);
        IpPacket.put16(p, 26, 7);
        for (int i = 28; i < p.length; i++) {
            p[i] = (byte) i;
        }
        IpPacket.put16(p, 22, ~IpPacket.sum(p, 20, p.length - 20, 0) & 0xFFFF);
        return p;
    }

    /** An ICMP error from {@code src} to {@code dst} quoting the whole of {@code about}. */
    static byte[] icmpError(int type, int code, String src, String dst, byte[] about) {
        byte[] p = new byte[28 + about.length];
        Packets.ipv4(p, IpPacket.PROTO_ICMP, src, dst);
        p[20] = (byte) type;
        p[21] = (byte) code;
        System.arraycopy(about, 0, p, 28, about.length);
        IpPacket.put16(p, 22, ~IpPacket.sum(p, 20, p.length - 20, 0) & 0xFFFF);
        return p;
    }

    /** The same packet with source and destination (and ports) swapped, checksums right: the answer. */
    static byte[] answer(byte[] p) {
        byte[] a = p.clone();
        System.arraycopy(p, 12, a, 16, 4);
        System.arraycopy(p, 16, a, 12, 4);
        int l4 = IpPacket.headerLength(p, 0);
        int proto = IpPacket.protocol(p, 0);
        if (proto == IpPacket.PROTO_TCP || proto == IpPacket.PROTO_UDP) {
            IpPacket.put16(a, l4, IpPacket.u16(p, l4 + 2));
            IpPacket.put16(a, l4 + 2, IpPacket.u16(p, l4));
            int at = l4 + (proto == IpPacket.PROTO_TCP ? 16 : 6);
            IpPacket.put16(a, at, 0);
            IpPacket.put16(a, at, ~Packets.l4Sum(a) & 0xFFFF);
        } else if (proto == IpPacket.PROTO_ICMP) {
            a[l4] = 0;
            IpPacket.put16(a, l4 + 2, 0);
            IpPacket.put16(a, l4 + 2, ~IpPacket.sum(a, l4, a.length - l4, 0) & 0xFFFF);
        }
        IpPacket.put16(a, 10, 0);
        IpPacket.put16(a, 10, ~IpPacket.sum(a, 0, 20, 0) & 0xFFFF);
        return a;
    }

    @Test
    void twoSitesWithTheSameRangeReachOneHostWhichAnswersBoth() {
        twoSites(List.of());
        List<byte[]> fromSite = List.of(Packets.udp4("10.0.0.5", "192.168.20.7", 5000, 53, 101),
                Packets.tcp4("10.0.0.5", "192.168.20.7", 1, 333), echo("10.0.0.5", "192.168.20.7", 77, 8));
        for (Gateway site : List.of(s1, s2)) {
            String external = site == s1 ? "100.64.1.5" : "100.64.2.5";
            for (byte[] p : fromSite) {
                List<byte[]> arrived = g.receive(site.send(p));
                assertEquals(1, arrived.size(), "through the tunnel: its selectors hold 10.0.0.5, checked before NAT");
                byte[] at = arrived.getFirst();
                assertEquals(external, source(at));
                assertEquals("192.168.20.7", destination(at));
                assertEquals(IpPacket.u16(p, 20), IpPacket.u16(at, 20), "a static rule without port ranges keeps ports");
                int end = p.length - (IpPacket.protocol(p, 0) == IpPacket.PROTO_TCP ? 333 : IpPacket.protocol(p, 0) == IpPacket.PROTO_UDP ? 101 : 32);
                assertArrayEquals(Arrays.copyOfRange(p, end, p.length), Arrays.copyOfRange(at, end, at.length), "payload as sent");
                assertChecksums(at);
                // The host answers the address it saw; G routes that to the site's tunnel and gives it back its own address.
                byte[] back = answer(at);
                List<byte[]> esp = g.send(back);
                assertEquals(1, esp.size());
                List<byte[]> home = site.receive(esp);
                assertEquals(1, home.size());
                assertEquals("10.0.0.5", destination(home.getFirst()));
                assertEquals("192.168.20.7", source(home.getFirst()));
                assertChecksums(home.getFirst());
            }
        }
        assertEquals(3, s1.out.tun.size(), "each site got only its own answers");
        assertEquals(3, s2.out.tun.size());
        assertEquals(0, g.counters("site1").drops() + g.counters("site2").drops());
        assertEquals(3, g.counters("site2").ingressPackets());
    }

    @Test
    void aDynamicRuleHidesTheNetworkBehindOneAddressWithManyFlows() {
        hiddenNetwork(1000);
        Set<Integer> ports = new HashSet<>();
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] p = i % 2 == 0 ? Packets.udp4("192.168.20." + (1 + i % 7), "10.0.0.5", 4000 + i / 7, 53, 20 + i)
                    : Packets.tcp4("192.168.20." + (1 + i % 7), "10.0.0.5", i, 10 + i);
            if (i % 2 == 1) {
                IpPacket.put16(p, 20, 4000 + i / 7);
                IpPacket.put16(p, 36, 0);
                IpPacket.put16(p, 36, ~Packets.l4Sum(p) & 0xFFFF);
            }
            sent.add(p);
            byte[] seen = s1.receive(g.send(p)).getFirst();
            assertEquals("203.0.113.9", source(seen));
            assertEquals("10.0.0.5", destination(seen));
            assertChecksums(seen);
            assertTrue(ports.add(IpPacket.u16(seen, 20)), "a port of its own for every flow");
            // The site answers; G gives the answer back to the flow's host and port.
            byte[] home = g.receive(s1.send(answer(seen))).getFirst();
            assertEquals(source(p), destination(home));
            assertEquals(IpPacket.u16(p, 20), IpPacket.u16(home, 22));
            assertChecksums(home);
        }
        assertEquals(200, g.nat("site1").status().getFirst().flowsInUse());
        assertEquals(1000, g.d.status().getFirst().nat().getFirst().flowCapacity());
        assertEquals(200, g.d.status().getFirst().nat().getFirst().flowsInUse(), "status shows the flows in use");
        // The same flow again keeps its port.
        byte[] again = s1.receive(g.send(sent.getFirst())).getFirst();
        assertTrue(ports.contains(IpPacket.u16(again, 20)));
        assertEquals(200, g.nat("site1").status().getFirst().flowsInUse());
    }

    /** A TCP super-packet read with TSO is cut into segments before NAT: each is translated, all by one flow. */
    @Test
    void theSegmentsOfASuperPacketAreTranslatedEachByTheSameFlow() {
        hiddenNetwork(100);
        byte[] sp = Packets.tcp("192.168.20.3", "10.0.0.5", 7000, 1300 * 10 + 5, Packets.TCP_ACK);
        byte[] original = sp.clone();
        List<byte[]> esp = ForwardingTest.sendThrough(g.outbound, g.tun, g.out, Packets.tsoHeader(sp, 1300), sp);
        assertEquals(11, esp.size());
        List<byte[]> arrived = s1.receive(esp);
        assertEquals(1, arrived.size(), "merged again at the site");
        byte[] merged = arrived.getFirst();
        assertEquals("203.0.113.9", source(merged));
        assertEquals(original.length, merged.length);
        assertArrayEquals(Arrays.copyOfRange(original, 52, original.length), Arrays.copyOfRange(merged, 52, merged.length));
        assertEquals(1, g.nat("site1").status().getFirst().flowsInUse());
    }

    @Test
    void unsolicitedOrForgedPacketsToTheHiddenAddressAreDroppedAndCounted() {
        hiddenNetwork(1000);
        byte[] seen = s1.receive(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20))).getFirst();
        int port = IpPacket.u16(seen, 20);
        assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.5", "203.0.113.9", 53, port == 1024 ? 1025 : port - 1, 20))).isEmpty(),
                "to a port no flow has");
        assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.5", "203.0.113.9", 54, port, 20))).isEmpty(), "from another remote port");
        assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.6", "203.0.113.9", 53, port, 20))).isEmpty(), "from another remote address");
        assertTrue(g.receive(s1.send(echo("10.0.0.5", "203.0.113.9", port, 8))).isEmpty(), "another protocol on the flow's port");
        assertEquals(4, g.counters("site1").drops(Drop.NAT_NO_FLOW));
        assertEquals(1, g.receive(s1.send(answer(seen))).size(), "the flow's own answer still goes through");
    }

    @Test
    void aFullFlowTableDropsNewFlowsAndCountsThem() {
        hiddenNetwork(4);
        List<byte[]> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            seen.add(s1.receive(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 4000 + i, 53, 20))).getFirst());
        }
        for (int i = 0; i < 10; i++) {
            assertTrue(g.send(Packets.udp4("192.168.20.4", "10.0.0.5", 5000 + i, 53, 20)).isEmpty());
        }
        assertEquals(10, g.counters("site1").drops(Drop.NAT_FLOW_TABLE_FULL_EGRESS));
        assertTrue(Drop.NAT_FLOW_TABLE_FULL_EGRESS.isEgress() && !Drop.NAT_NO_FLOW.isEgress());
        assertEquals(4, g.nat("site1").status().getFirst().flowsInUse());
        for (byte[] s : seen) {
            assertEquals(1, g.receive(s1.send(answer(s))).size(), "the flows there keep working");
        }
        // Once they are idle past the UDP timeout, their slots serve new flows, and their answers find nothing.
        clock.addAndGet(FlowTable.UDP_NANOS + 1);
        int newPort = IpPacket.u16(s1.receive(g.send(Packets.udp4("192.168.20.4", "10.0.0.5", 6000, 53, 20))).getFirst(), 20);
        for (byte[] s : seen) {
            List<byte[]> home = g.receive(s1.send(answer(s)));
            if (IpPacket.u16(s, 20) == newPort) {
                assertEquals("192.168.20.4", destination(home.getFirst()), "a reused port belongs to its new flow");
            } else {
                assertTrue(home.isEmpty(), "an expired flow translates nothing");
            }
        }
        assertEquals(3, g.counters("site1").drops(Drop.NAT_NO_FLOW));
        g.outbound.sweepNat();
        assertEquals(1, g.nat("site1").status().getFirst().flowsInUse(), "the expired ones freed");
    }

    @Test
    void flowsExpireByProtocolAndByWhatTheySaw() {
        hiddenNetwork(100);
        byte[] udp = s1.receive(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20))).getFirst();
        byte[] syn = Packets.tcp("192.168.20.3", "10.0.0.5", 1, 0, Packets.TCP_SYN);
        byte[] tcpOut = s1.receive(g.send(syn)).getFirst();
        byte[] ping = s1.receive(g.send(echo("192.168.20.3", "10.0.0.5", 99, 8))).getFirst();
        assertEquals(1, g.receive(s1.send(answer(ping))).size(), "the echo reply finds its flow");
        assertEquals(1, g.receive(s1.send(answer(tcpOut))).size(), "the SYN-ACK: the TCP flow is established");
        clock.addAndGet(FlowTable.ICMP_NANOS + 1);
        assertTrue(g.receive(s1.send(answer(ping))).isEmpty(), "ICMP idles out first");
        assertEquals(1, g.receive(s1.send(answer(udp))).size(), "UDP still there");
        clock.addAndGet(FlowTable.UDP_NANOS + 1);
        assertTrue(g.receive(s1.send(answer(udp))).isEmpty(), "UDP idle past its timeout");
        assertEquals(1, g.receive(s1.send(answer(tcpOut))).size(), "established TCP lasts minutes");
        // A RST shortens it to seconds.
        byte[] rst = Packets.tcp("192.168.20.3", "10.0.0.5", 2, 0, 0x04);
        s1.receive(g.send(rst));
        clock.addAndGet(FlowTable.TCP_CLOSED_NANOS + 1);
        assertTrue(g.receive(s1.send(answer(tcpOut))).isEmpty(), "after a RST the flow goes soon");
        assertEquals(3, g.counters("site1").drops(Drop.NAT_NO_FLOW));
        // A SYN never answered holds its slot only briefly.
        byte[] lone = s1.receive(g.send(Packets.tcp("192.168.20.3", "10.0.0.5", 1, 0, Packets.TCP_SYN))).getFirst();
        clock.addAndGet(FlowTable.TCP_TRANSITORY_NANOS + 1);
        assertTrue(g.receive(s1.send(answer(lone))).isEmpty());
    }

    @Test
    void aPortStillInUseIsNeverHandedOutAgain() {
        hiddenNetwork(3);
        byte[] keep = Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20);
        int kept = IpPacket.u16(s1.receive(g.send(keep)).getFirst(), 20);
        Set<Integer> others = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            others.add(IpPacket.u16(s1.receive(g.send(Packets.udp4("192.168.20.4", "10.0.0.5", 5000 + i, 53, 20))).getFirst(), 20));
        }
        assertEquals(2, others.size());
        assertTrue(!others.contains(kept));
        for (int round = 0; round < 5; round++) {
            clock.addAndGet(FlowTable.UDP_NANOS / 2 + 1);
            assertEquals(kept, IpPacket.u16(s1.receive(g.send(keep)).getFirst(), 20), "the kept flow is refreshed and keeps its port");
            clock.addAndGet(FlowTable.UDP_NANOS / 2 + 1);
            assertEquals(kept, IpPacket.u16(s1.receive(g.send(keep)).getFirst(), 20));
            // The others expired: new flows get their ports, never the kept flow's.
            Set<Integer> next = new HashSet<>();
            for (int i = 0; i < 2; i++) {
                next.add(IpPacket.u16(s1.receive(g.send(Packets.udp4("192.168.20.5", "10.0.0.5", 6000 + round * 2 + i, 53, 20))).getFirst(), 20));
            }
            assertEquals(others, next, "the freed ports, and only those");
        }
        assertEquals(0, g.counters("site1").drops(Drop.NAT_FLOW_TABLE_FULL_EGRESS));
    }

    @Test
    void icmpErrorsThroughStaticNatQuoteWhatTheSenderSent() {
        twoSites(List.of());
        // G's host sends to site 1's 10.0.0.5 as it knows it; the site's host answers port unreachable.
        byte[] sent = Packets.udp4("192.168.20.7", "100.64.1.5", 5000, 53, 40);
        byte[] arrived = s1.receive(g.send(sent)).getFirst();
        assertEquals("10.0.0.5", destination(arrived));
        byte[] error = icmpError(3, 3, "10.0.0.5", "192.168.20.7", arrived);
        byte[] back = g.receive(s1.send(error)).getFirst();
        assertEquals("100.64.1.5", source(back));
        assertEquals("192.168.20.7", destination(back));
        assertArrayEquals(sent, Arrays.copyOfRange(back, 28, back.length), "the quoted packet exactly as G's host sent it");
        assertChecksums(back);
        // The other way: site 1's host sends, G's host answers with an error about it.
        byte[] fromSite = Packets.tcp4("10.0.0.5", "192.168.20.7", 9, 10);
        byte[] atG = g.receive(s1.send(fromSite)).getFirst();
        byte[] unreachable = icmpError(3, 1, "192.168.20.7", source(atG), Arrays.copyOf(atG, 28));
        byte[] home = s1.receive(g.send(unreachable)).getFirst();
        assertEquals("10.0.0.5", destination(home));
        assertArrayEquals(Arrays.copyOf(fromSite, 28), Arrays.copyOfRange(home, 28, home.length));
        assertChecksums(home);
    }

    @Test
    void icmpErrorsThroughDynamicNatFindTheirFlowFromTheQuotedHeader() {
        hiddenNetwork(100);
        byte[] sent = Packets.udp4("192.168.20.7", "10.0.0.5", 5000, 53, 40);
        byte[] arrived = s1.receive(g.send(sent)).getFirst();
        // A router at the site: time exceeded, to the hidden address, about the packet as it saw it.
        byte[] error = icmpError(11, 0, "10.0.0.1", "203.0.113.9", Arrays.copyOf(arrived, 28));
        byte[] back = g.receive(s1.send(error)).getFirst();
        assertEquals("10.0.0.1", source(back));
        assertEquals("192.168.20.7", destination(back));
        assertArrayEquals(Arrays.copyOf(sent, 28), Arrays.copyOfRange(back, 28, back.length));
        assertChecksums(back);
        // An error about a flow that does not exist is unsolicited too.
        byte[] forged = Packets.udp4("203.0.113.9", "10.0.0.5", IpPacket.u16(arrived, 20) ^ 1, 53, 40);
        assertTrue(g.receive(s1.send(icmpError(3, 3, "10.0.0.5", "203.0.113.9", forged))).isEmpty());
        assertEquals(1, g.counters("site1").drops(Drop.NAT_NO_FLOW));
        // An error from the hidden network about a packet from the site: out through the flow it belongs to.
        byte[] answer = g.receive(s1.send(answer(arrived))).getFirst();
        byte[] unreachable = icmpError(3, 3, "192.168.20.7", "10.0.0.5", answer);
        byte[] out = s1.receive(g.send(unreachable)).getFirst();
        assertEquals("203.0.113.9", source(out));
        assertArrayEquals(answer(arrived), Arrays.copyOfRange(out, 28, out.length));
        assertChecksums(out);
    }

    @Test
    void aReloadKeepsTheFlowsOfAnUnchangedRule() {
        hiddenNetwork(100);
        byte[] seen = s1.receive(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20))).getFirst();
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24", "10.9.0.0/16"), List.of(hide(100)))));
        assertEquals(1, g.receive(s1.send(answer(seen))).size(), "same rule: same flows");
        assertEquals(1, g.nat("site1").status().getFirst().flowsInUse());
        NatRule renamed = new NatRule("renamed", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("192.168.20.0/24"),
                new NatRule.Mapping("203.0.113.9/32"), 100);
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(renamed))));
        assertEquals(1, g.receive(s1.send(answer(seen))).size(), "a new name alone translates nothing differently: same flows");
        assertEquals("renamed", g.nat("site1").status().getFirst().name());
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(hide(200)))));
        assertTrue(g.receive(s1.send(answer(seen))).isEmpty(), "a changed rule starts afresh");
        assertEquals(0, g.nat("site1").status().getFirst().flowsInUse());
    }

    @Test
    void laterFragmentsPassStaticRulesAndAreDroppedByDynamicOnes() {
        twoSites(List.of());
        byte[] fragment = Packets.udp4("10.0.0.5", "192.168.20.7", 5000, 53, 64);
        IpPacket.put16(fragment, 6, 0x2000 | 100); // MF, offset 800: no UDP header in here
        IpPacket.put16(fragment, 10, 0);
        IpPacket.put16(fragment, 10, ~IpPacket.sum(fragment, 0, 20, 0) & 0xFFFF);
        byte[] at = g.receive(s1.send(fragment)).getFirst();
        assertEquals("100.64.1.5", source(at));
        assertArrayEquals(Arrays.copyOfRange(fragment, 20, fragment.length), Arrays.copyOfRange(at, 20, at.length), "payload untouched");
        assertEquals(0xFFFF, IpPacket.sum(at, 0, 20, 0));

        hiddenNetwork(10);
        byte[] out = Packets.udp4("192.168.20.3", "10.0.0.5", 5000, 53, 64);
        IpPacket.put16(out, 6, 100);
        IpPacket.put16(out, 10, 0);
        IpPacket.put16(out, 10, ~IpPacket.sum(out, 0, 20, 0) & 0xFFFF);
        assertTrue(g.send(out).isEmpty());
        assertEquals(1, g.counters("site1").drops(Drop.NAT_FRAGMENT_EGRESS));
    }

    @Test
    void ipv6AndOtherTrafficPassUntranslated() {
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24", "fd10::/64"), List.of(hide(10)))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("203.0.113.9/32", "fd20::/64"))));
        childSa(s1, "site1", ForwardingTest.ANY, ForwardingTest.ANY);
        byte[] v6 = Packets.udp6("fd20::3", "fd10::5", 4000, 53, 30);
        assertArrayEquals(v6, s1.receive(g.send(v6)).getFirst());
        byte[] outside = Packets.udp4("172.16.0.1", "10.0.0.5", 1, 2, 3);
        assertArrayEquals(outside, s1.receive(g.send(outside)).getFirst(), "from outside the rule's internal range");
    }

    @Test
    void truncatedTransportHeadersAreDroppedAndCounted() {
        twoSites(List.of());
        byte[] cut = Arrays.copyOf(Packets.tcp4("10.0.0.5", "192.168.20.7", 1, 0), 30); // a TCP header of 10 bytes
        IpPacket.put16(cut, 2, 30);
        IpPacket.put16(cut, 10, 0);
        IpPacket.put16(cut, 10, ~IpPacket.sum(cut, 0, 20, 0) & 0xFFFF);
        assertTrue(g.receive(s1.send(cut)).isEmpty());
        assertEquals(1, g.counters("site1").drops(Drop.NAT_MALFORMED));
        byte[] error = icmpError(3, 3, "10.0.0.5", "192.168.20.7", new byte[] {0x45, 0, 0, 40, 0, 0});
        assertTrue(g.receive(s1.send(error)).isEmpty(), "an ICMP error quoting less than an IPv4 header");
        assertEquals(2, g.counters("site1").drops(Drop.NAT_MALFORMED));
    }

    @Test
    void natNeedsARouteBasedTunnel() {
        assertThrows(IllegalArgumentException.class, () -> new Dataplane.TunnelSpec("t", true, List.of("10.0.0.0/8"), List.of(SITE1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NatRule("bad", NatRule.Mode.EGRESS_SNAT,
                NatRule.Type.STATIC, new NatRule.Mapping("10.0.0.0/24", new NatRule.PortRange(1, 10)), new NatRule.Mapping("10.1.0.0/16")));
        assertTrue(e.getMessage().contains("same length") && e.getMessage().contains("port ranges"), e.getMessage());
    }

    @Test
    void staticPortRangesTranslateOnlyThePortsInThem() {
        NatRule web = new NatRule("web", NatRule.Mode.EGRESS_SNAT, NatRule.Type.STATIC,
                new NatRule.Mapping("192.168.20.7/32", new NatRule.PortRange(8000, 8099)),
                new NatRule.Mapping("198.51.100.7/32", new NatRule.PortRange(443, 542)));
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(web))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("198.51.100.7/32", "192.168.20.0/24"))));
        childSa(s1, "site1", ForwardingTest.ANY, ForwardingTest.ANY);
        byte[] seen = s1.receive(g.send(Packets.udp4("192.168.20.7", "10.0.0.5", 8005, 53, 20))).getFirst();
        assertEquals("198.51.100.7", source(seen));
        assertEquals(448, IpPacket.u16(seen, 20));
        assertChecksums(seen);
        byte[] other = Packets.udp4("192.168.20.7", "10.0.0.5", 9000, 53, 20);
        assertArrayEquals(other, s1.receive(g.send(other)).getFirst(), "a port outside the range: untranslated");
        byte[] home = g.receive(s1.send(answer(seen))).getFirst();
        assertEquals("192.168.20.7", destination(home));
        assertEquals(8005, IpPacket.u16(home, 22));
        assertChecksums(home);
    }

    /**
     * Site 1's 10.0.0.0/24 statically 100.64.1.0/24 to G, and G's own network, which is
     * 10.0.0.0/24 too, dynamically behind 100.70.0.4 to the site: a static rule translates one
     * address of every packet and a dynamic rule the other.
     */
    void staticSiteDynamicNetwork() {
        NatRule vnet = new NatRule("vnet-dyn", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("10.0.0.0/24"),
                new NatRule.Mapping("100.70.0.4/32"), 100);
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("100.64.1.0/24"), List.of(SITE1, vnet))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("100.70.0.4/32"))));
        childSa(s1, "site1", List.of(ForwardingTest.prefix("100.70.0.4/32")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
    }

    /** The mirror: site 1's 10.0.0.0/24 dynamically behind 100.70.0.4, G's 10.0.0.0/24 statically 100.64.1.0/24 to the site. */
    void dynamicSiteStaticNetwork() {
        NatRule site = new NatRule("site-dyn", NatRule.Mode.INGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("10.0.0.0/24"),
                new NatRule.Mapping("100.70.0.4/32"), 100);
        NatRule vnet = new NatRule("vnet-static", NatRule.Mode.EGRESS_SNAT, NatRule.Type.STATIC, new NatRule.Mapping("10.0.0.0/24"),
                new NatRule.Mapping("100.64.1.0/24"));
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("100.70.0.4/32"), List.of(site, vnet))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("100.64.1.0/24"))));
        childSa(s1, "site1", List.of(ForwardingTest.prefix("100.64.1.0/24")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
    }

    /** The echo identifier of an ICMP echo at IPv4 offset 0 without options. */
    static int echoId(byte[] p) {
        return IpPacket.u16(p, 24);
    }

    @Test
    void anEchoFromBehindADynamicRuleToAStaticallyTranslatedHostGetsItsReplyWithItsOwnIdentifier() {
        staticSiteDynamicNetwork();
        byte[] ping = echo("10.0.0.5", "100.64.1.7", 1234, 8);
        byte[] atSite = s1.receive(g.send(ping)).getFirst();
        assertEquals("100.70.0.4", source(atSite));
        assertEquals("10.0.0.7", destination(atSite));
        assertTrue(echoId(atSite) >= FlowTable.FIRST_PORT, "the dynamic rule's identifier: " + echoId(atSite));
        assertChecksums(atSite);
        byte[] home = g.receive(s1.send(answer(atSite))).getFirst();
        assertEquals("100.64.1.7", source(home));
        assertEquals("10.0.0.5", destination(home));
        assertEquals(1234, echoId(home), "the dynamic rule's reverse mapping gives the identifier back, whatever the static rule did");
        assertChecksums(home);
        // An error from the site about the request: the quoted echo exactly as G's host sent it.
        byte[] exceeded = g.receive(s1.send(icmpError(11, 0, "10.0.0.1", "100.70.0.4", atSite))).getFirst();
        assertEquals("100.64.1.1", source(exceeded));
        assertEquals("10.0.0.5", destination(exceeded));
        assertArrayEquals(ping, Arrays.copyOfRange(exceeded, 28, exceeded.length));
        assertChecksums(exceeded);
        // An error from G's network about the reply: the quoted reply exactly as the site's host sent it, identifier and all.
        byte[] unreachable = s1.receive(g.send(icmpError(3, 1, "10.0.0.1", "100.64.1.7", home))).getFirst();
        assertEquals("100.70.0.4", source(unreachable));
        assertEquals("10.0.0.7", destination(unreachable));
        assertArrayEquals(answer(atSite), Arrays.copyOfRange(unreachable, 28, unreachable.length));
        assertChecksums(unreachable);
        assertEquals(0, g.counters("site1").drops());
    }

    @Test
    void anEchoFromBehindADynamicSiteRuleToAStaticallyTranslatedHostGetsItsReplyWithItsOwnIdentifier() {
        dynamicSiteStaticNetwork();
        byte[] ping = echo("10.0.0.5", "100.64.1.7", 1234, 8);
        byte[] atG = g.receive(s1.send(ping)).getFirst();
        assertEquals("100.70.0.4", source(atG));
        assertEquals("10.0.0.7", destination(atG));
        assertChecksums(atG);
        byte[] home = s1.receive(g.send(answer(atG))).getFirst();
        assertEquals("100.64.1.7", source(home));
        assertEquals("10.0.0.5", destination(home));
        assertEquals(1234, echoId(home));
        assertChecksums(home);
        byte[] exceeded = s1.receive(g.send(icmpError(11, 0, "10.0.0.1", "100.70.0.4", atG))).getFirst();
        assertEquals("100.64.1.1", source(exceeded));
        assertEquals("10.0.0.5", destination(exceeded));
        assertArrayEquals(ping, Arrays.copyOfRange(exceeded, 28, exceeded.length));
        assertChecksums(exceeded);
        byte[] unreachable = g.receive(s1.send(icmpError(3, 1, "10.0.0.1", "100.64.1.7", home))).getFirst();
        assertEquals("100.70.0.4", source(unreachable));
        assertEquals("10.0.0.7", destination(unreachable));
        assertArrayEquals(answer(atG), Arrays.copyOfRange(unreachable, 28, unreachable.length));
        assertChecksums(unreachable);
        assertEquals(0, g.counters("site1").drops());
    }

    TunnelNat.RuleStatus rule(String tunnel, String name) {
        return g.nat(tunnel).status().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * Both sides dynamic: the source's rule would make a flow, the destination's finds none. What
     * the packet made goes with it, so unsolicited packets cannot fill the table.
     */
    @Test
    void aPacketDroppedForWantOfAFlowLeavesNoFlowBehind() {
        NatRule site = new NatRule("site-dyn", NatRule.Mode.INGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("10.0.0.0/24"),
                new NatRule.Mapping("100.70.0.4/32"), 100);
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("100.70.0.4/32"), List.of(site, hide(100)))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("203.0.113.9/32"))));
        childSa(s1, "site1", List.of(ForwardingTest.prefix("203.0.113.9/32")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
        for (int i = 0; i < 150; i++) {
            assertTrue(g.send(Packets.udp4("192.168.20.3", "100.70.0.4", 4000 + i, 53, 20)).isEmpty());
            assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.5", "203.0.113.9", 5000 + i, 80, 20))).isEmpty());
        }
        assertEquals(150, g.counters("site1").drops(Drop.NAT_NO_FLOW_EGRESS));
        assertEquals(150, g.counters("site1").drops(Drop.NAT_NO_FLOW));
        assertEquals(0, g.counters("site1").drops(Drop.NAT_FLOW_TABLE_FULL_EGRESS) + g.counters("site1").drops(Drop.NAT_FLOW_TABLE_FULL),
                "more packets than the tables hold, and still room");
        assertEquals(0, rule("site1", "vnet-out").flowsInUse());
        assertEquals(0, rule("site1", "site-dyn").flowsInUse());
    }

    /**
     * A dynamic rule hides its internal addresses: route-based child SAs take any address, so a
     * peer could send to them by their real addresses and start what only the hidden side may.
     */
    @Test
    void aPeerCannotReachAddressesADynamicRuleHidesByTheirRealAddresses() {
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(hide(100)))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("203.0.113.9/32", "192.168.20.0/24", "172.16.0.0/16"))));
        childSa(s1, "site1", ForwardingTest.ANY, ForwardingTest.ANY);
        byte[] seen = s1.receive(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20))).getFirst();
        assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.5", "192.168.20.3", 53, 4000, 20))).isEmpty(), "UDP to the real address");
        assertTrue(g.receive(s1.send(Packets.tcp("10.0.0.5", "192.168.20.9", 1, 0, Packets.TCP_SYN))).isEmpty(), "a SYN to any hidden host");
        assertTrue(g.receive(s1.send(echo("10.0.0.5", "192.168.20.3", 9, 8))).isEmpty(), "a ping");
        byte[] gre = Packets.udp4("10.0.0.5", "192.168.20.3", 1, 2, 20);
        gre[9] = 47;
        IpPacket.put16(gre, 10, 0);
        IpPacket.put16(gre, 10, ~IpPacket.sum(gre, 0, 20, 0) & 0xFFFF);
        assertTrue(g.receive(s1.send(gre)).isEmpty(), "another protocol");
        // An ICMP error about a packet the hidden host could not have sent untranslated, and one sent to its real address.
        assertTrue(g.receive(s1.send(icmpError(3, 3, "10.0.0.5", "192.168.20.3", Packets.udp4("192.168.20.3", "10.0.0.5", 4000, 53, 20))))
                .isEmpty());
        assertTrue(g.receive(s1.send(icmpError(11, 0, "10.0.0.1", "192.168.20.3", Arrays.copyOf(seen, 28)))).isEmpty());
        assertEquals(6, g.counters("site1").drops(Drop.NAT_UNTRANSLATED));
        assertTrue(!Drop.NAT_UNTRANSLATED.isEgress() && Drop.NAT_UNTRANSLATED_EGRESS.isEgress());
        assertEquals(1, g.receive(s1.send(answer(seen))).size(), "the flow's answer, to the external address, goes through");
        byte[] outside = Packets.udp4("10.0.0.5", "172.16.0.1", 1, 2, 3);
        assertArrayEquals(outside, g.receive(s1.send(outside)).getFirst(), "to an address no rule hides: as it was");
        assertEquals(6, g.counters("site1").drops());
    }

    /** A dynamic rule with an internal port range hides only what it translates: answers to what it leaves alone come back. */
    @Test
    void aDynamicRuleWithAnInternalPortRangeHidesOnlyThosePorts() {
        NatRule some = new NatRule("vnet-some", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC,
                new NatRule.Mapping("192.168.20.0/24", new NatRule.PortRange(4000, 4999)), new NatRule.Mapping("203.0.113.9/32"), 100);
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("10.0.0.0/24"), List.of(some))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("203.0.113.9/32", "192.168.20.0/24"))));
        childSa(s1, "site1", ForwardingTest.ANY, ForwardingTest.ANY);
        byte[] plain = Packets.udp4("192.168.20.3", "10.0.0.5", 8080, 53, 20);
        assertArrayEquals(plain, s1.receive(g.send(plain)).getFirst(), "outside the range: untranslated");
        assertEquals(1, g.receive(s1.send(answer(plain))).size(), "and its answer comes back to the real address");
        assertTrue(g.receive(s1.send(Packets.udp4("10.0.0.5", "192.168.20.3", 53, 4500, 20))).isEmpty(), "a port the rule hides");
        assertEquals(1, g.counters("site1").drops(Drop.NAT_UNTRANSLATED));
    }

    /** The mirror: a dynamic IngressSnat rule hides the site, which the gateway's network reaches only by answering. */
    @Test
    void theGatewaysNetworkCannotReachASiteADynamicRuleHidesByItsRealAddresses() {
        NatRule site = new NatRule("site-dyn", NatRule.Mode.INGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("10.0.0.0/24"),
                new NatRule.Mapping("100.70.0.4/32"), 100);
        // The real range routed into the tunnel too (a learned route, say): NAT must still not let it through.
        g.d.tunnels(List.of(new Dataplane.TunnelSpec("site1", false, List.of("100.70.0.4/32", "10.0.0.0/24"), List.of(site))));
        s1.d.tunnels(List.of(new Dataplane.TunnelSpec("to-g", false, List.of("192.168.20.0/24"))));
        childSa(s1, "site1", List.of(ForwardingTest.prefix("192.168.20.0/24")), List.of(ForwardingTest.prefix("10.0.0.0/24")));
        byte[] atG = g.receive(s1.send(Packets.udp4("10.0.0.5", "192.168.20.3", 4000, 53, 20))).getFirst();
        assertEquals("100.70.0.4", source(atG));
        assertEquals("10.0.0.5", destination(s1.receive(g.send(answer(atG))).getFirst()), "answers go home");
        assertTrue(g.send(Packets.udp4("192.168.20.3", "10.0.0.5", 53, 4000, 20)).isEmpty(), "to the site's real address");
        assertTrue(g.send(echo("192.168.20.3", "10.0.0.7", 5, 8)).isEmpty());
        assertTrue(g.send(icmpError(3, 3, "192.168.20.3", "10.0.0.5", Packets.udp4("10.0.0.5", "192.168.20.3", 4000, 53, 20))).isEmpty());
        assertEquals(3, g.counters("site1").drops(Drop.NAT_UNTRANSLATED_EGRESS));
        assertTrue(g.send(Packets.udp4("192.168.20.3", "100.70.0.4", 53, 9, 20)).isEmpty(), "to the external address without a flow");
        assertEquals(1, g.counters("site1").drops(Drop.NAT_NO_FLOW_EGRESS));
    }

    /** Hands an ESP batch straight to another gateway's inbound path, as {@link ForwardingAllocationTest} does. */
    static final class Wire implements EspPort.Sender {
        final PacketBuffer buffer = new PacketBuffer(64 * 1024);
        final EspPort.Receiver from = new InMemoryEspPort().receivers().getFirst();
        final InboundPath to;
        final InMemoryTun tun;

        Wire(Dataplane d, InMemoryTun tun) {
            this.tun = tun;
            this.to = ForwardingTest.inboundPath(d, tun, new ForwardingTest.Capture());
        }

        @Override
        public int send(EspPort.Endpoint endpoint, PacketBuffer b, int offset, int length, int segmentSize) {
            System.arraycopy(b.bytes(), offset, buffer.bytes(), 0, length);
            to.datagrams(buffer, 0, length, segmentSize, from);
            tun.flush();
            return (length + segmentSize - 1) / segmentSize;
        }
    }

    @Test
    void dynamicNatAllocatesNothingPerPacket() {
        hiddenNetwork(1000);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int[] delivered = new int[2];
        InMemoryTun tunS1 = new InMemoryTun(true, true, (bytes, offset, length) -> delivered[0]++);
        InMemoryTun tunG = new InMemoryTun(true, true, (bytes, offset, length) -> delivered[1]++);
        OutboundPath gOut = ForwardingTest.outboundPath(g.d, g.tun, new Wire(s1.d, tunS1));
        OutboundPath s1Out = ForwardingTest.outboundPath(s1.d, s1.tun, new Wire(g.d, tunG));
        byte[][] out = new byte[50][];
        byte[][] back = new byte[50][];
        for (int i = 0; i < out.length; i++) {
            byte[] p = Packets.udp4("192.168.20." + (1 + i % 5), "10.0.0.5", 4000 + i, 53, 100);
            out[i] = ForwardingTest.frame(new byte[VirtioHeader.LENGTH], p);
            back[i] = ForwardingTest.frame(new byte[VirtioHeader.LENGTH], answer(s1.receive(g.send(p)).getFirst()));
        }
        TunBatch batch = new TunBatch();
        Runnable round = () -> {
            for (int i = 0; i < out.length; i++) {
                g.tun.offer(out[i]);
                g.tun.read(batch);
                gOut.packets(batch);
                gOut.flush();
                s1.tun.offer(back[i]);
                s1.tun.read(batch);
                s1Out.packets(batch);
                s1Out.flush();
            }
            gOut.sweepNat();
        };
        for (int i = 0; i < 2000; i++) {
            round.run();
        }
        int before = delivered[1];
        long allocated = threads.getCurrentThreadAllocatedBytes();
        int rounds = 3000;
        for (int i = 0; i < rounds; i++) {
            round.run();
        }
        allocated = threads.getCurrentThreadAllocatedBytes() - allocated;
        assertEquals(rounds * out.length, delivered[1] - before, "every answer found its flow");
        int packets = rounds * out.length * 2;
        assertTrue(allocated < packets / 10, allocated + " bytes allocated for " + packets + " packets");
        assertNotEquals(0, g.nat("site1").status().getFirst().flowsInUse());
    }
}
