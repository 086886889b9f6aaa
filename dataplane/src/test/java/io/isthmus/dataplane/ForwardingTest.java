package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EspPacket;
import io.isthmus.esp.Lifetime;
import io.isthmus.esp.SaParameters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two data planes, A (site 192.168.10.0/24, fd10::/64) and B (192.168.20.0/24, fd20::/64), joined
 * by hand: what A's outbound path sends is given to B's inbound path, with the real tables, SAs
 * and packet surgery and fake sockets and TUN devices.
 */
class ForwardingTest {
    static final SecureRandom RANDOM = new SecureRandom();

    /** Captures what one data plane emits: ESP packets, TUN writes, IKE messages. */
    static final class Capture implements EspPort.Sender, Dataplane.Events {
        final List<byte[]> esp = new ArrayList<>();
        final List<Integer> espSpis = new ArrayList<>();
        /** How many ESP packets each send carried. */
        final List<Integer> batches = new ArrayList<>();
        final List<byte[]> tun = new ArrayList<>();
        /** The virtio header of each TUN write. */
        final List<byte[]> tunHeaders = new ArrayList<>();
        final List<byte[]> ike = new ArrayList<>();
        /** Who sent each IKE message. */
        final List<InetSocketAddress> ikeFrom = new ArrayList<>();

        @Override
        public int send(EspPort.Endpoint to, PacketBuffer b, int offset, int length, int segmentSize) {
            int n = 0;
            for (int o = offset; o < offset + length; o += segmentSize, n++) {
                esp.add(Arrays.copyOfRange(b.bytes(), o, Math.min(o + segmentSize, offset + length)));
                espSpis.add(EspPacket.spi(b.bytes(), o));
            }
            batches.add(n);
            return n;
        }

        /** The TUN writes of a device with virtio headers (or without). */
        InMemoryTun.Frames tunFrames(boolean vnetHeader) {
            return (bytes, offset, length) -> {
                int h = vnetHeader ? VirtioHeader.LENGTH : 0;
                if (vnetHeader) {
                    tunHeaders.add(Arrays.copyOfRange(bytes, offset, offset + h));
                }
                tun.add(Arrays.copyOfRange(bytes, offset + h, offset + length));
            };
        }

        @Override
        public void ikeMessage(byte[] message, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
            ike.add(Arrays.copyOfRange(message, offset, offset + length));
            ikeFrom.add(remote);
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
        }
    }

    final List<String> lifetimeEvents = new ArrayList<>();
    final Dataplane.Events events = new Dataplane.Events() {
        @Override
        public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
            lifetimeEvents.add(Dataplane.spiText(inboundSpi) + (hard ? " hard" : " soft"));
        }
    };
    final Dataplane a = Dataplane.withoutIo(settings(1500), events);
    final Dataplane b = Dataplane.withoutIo(settings(1500), events);
    final Capture outA = new Capture();
    final Capture outB = new Capture();
    final InMemoryTun tunA = new InMemoryTun(true, true, outA.tunFrames(true));
    final InMemoryTun tunB = new InMemoryTun(true, true, outB.tunFrames(true));
    final OutboundPath pathA = outboundPath(a, tunA, outA);
    final InboundPath pathB = inboundPath(b, tunB, outB);
    /** What B's inbound path reads from: one UDP socket, in memory. */
    final InMemoryEspPort espB = new InMemoryEspPort();

    static OutboundPath outboundPath(Dataplane d, TunPort tun, EspPort.Sender esp) {
        return new OutboundPath(d.forwarding(), d.globalCounters(), d.settings().mss(), tun, esp, d.captureSwitch());
    }

    static InboundPath inboundPath(Dataplane d, TunPort tun, Dataplane.Events events) {
        return new InboundPath(d.forwarding(), d.globalCounters(), d.settings().mss(), tun, events, d.captureSwitch());
    }

    static Dataplane.Settings settings(int pathMtu) {
        return new Dataplane.Settings("test0", List.of(), 4500, true, pathMtu, 1350, 1 << 20);
    }

    static InetSocketAddress at(String address, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(address), port);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static SaParameters sa(int spi, byte[] key, Lifetime lifetime) {
        return SaParameters.builder(spi, CipherSuite.AES128_GCM16).encryptionKey(key).lifetime(lifetime).build();
    }

    static Selector prefix(String text) {
        var r = TunnelTable.route(text, null);
        byte[] end = r.prefix().clone();
        for (int bit = r.length(); bit < end.length * 8; bit++) {
            end[bit >>> 3] |= (byte) (0x80 >>> (bit & 7));
        }
        return new Selector(r.prefix(), end, 0, 0, 0xFFFF);
    }

    static final List<Selector> ANY = List.of(Selector.any(4), Selector.any(6));

    /** One child SA, both ends: SPIs ab (A to B) and ba, with the given selectors as seen from A. */
    void childSa(int ab, int ba, List<Selector> aLocal, List<Selector> aRemote, Lifetime lifetime) {
        byte[] kab = new byte[20];
        byte[] kba = new byte[20];
        RANDOM.nextBytes(kab);
        RANDOM.nextBytes(kba);
        a.install(new SaPair("to-b", sa(ba, kba, lifetime), sa(ab, kab, lifetime), aLocal, aRemote, at("10.0.0.1", 4500),
                at("10.0.0.2", 4500), true));
        b.install(new SaPair("to-a", sa(ab, kab, lifetime), sa(ba, kba, lifetime), aRemote, aLocal, at("10.0.0.2", 4500),
                at("10.0.0.1", 4500), true));
    }

    void tunnels(boolean policyBased) {
        a.tunnels(List.of(new Dataplane.TunnelSpec("to-b", policyBased, List.of("192.168.20.0/24", "fd20::/64"))));
        b.tunnels(List.of(new Dataplane.TunnelSpec("to-a", policyBased, List.of("192.168.10.0/24", "fd10::/64"))));
    }

    /** A's outbound path, as read from a TUN device without offloads; returns the ESP packets it sent. */
    List<byte[]> sendFromA(byte[] inner) {
        return sendFromA(new byte[VirtioHeader.LENGTH], inner);
    }

    /** A's outbound path, the packet read after this virtio header. */
    List<byte[]> sendFromA(byte[] virtio, byte[] inner) {
        return sendThrough(pathA, tunA, outA, virtio, inner);
    }

    static List<byte[]> sendThrough(OutboundPath path, InMemoryTun tun, Capture out, byte[] virtio, byte[] inner) {
        int before = out.esp.size();
        tun.offer(frame(virtio, inner));
        readAll(path, tun);
        return new ArrayList<>(out.esp.subList(before, out.esp.size()));
    }

    /** What the TUN device hands over: the virtio header, then the packet. */
    static byte[] frame(byte[] virtio, byte[] inner) {
        byte[] f = Arrays.copyOf(virtio, VirtioHeader.LENGTH + inner.length);
        System.arraycopy(inner, 0, f, VirtioHeader.LENGTH, inner.length);
        return f;
    }

    /** One duty cycle of the outbound thread: everything the device has, then the batch sent. */
    static void readAll(OutboundPath path, InMemoryTun tun) {
        TunBatch batch = new TunBatch();
        while (tun.read(batch)) {
            path.packets(batch);
        }
        path.flush();
        tun.flush();
    }

    void deliverToB(byte[] esp) {
        deliverToB(List.of(esp));
    }

    /** Several ESP packets to B, one receive each, then B's TUN writes. */
    void deliverToB(List<byte[]> esp) {
        deliver(pathB, tunB, espB, esp);
    }

    /** The ESP packets to the inbound path, one receive each from a UDP socket in memory, then its TUN port flushed. */
    static void deliver(InboundPath path, TunPort tun, InMemoryEspPort port, List<byte[]> esp) {
        EspPort.Receiver r = port.receivers().getFirst();
        PacketBuffer buf = new PacketBuffer(64 * 1024);
        for (byte[] e : esp) {
            port.deliver(new InMemoryEspPort.Datagram(at("10.0.0.2", 4500), at("10.0.0.1", 4500), true, e));
            int n = r.receive(buf);
            path.datagrams(buf, r.offset(), n - r.offset(), r.segmentSize(), r);
        }
        tun.flush();
    }

    /** The tunnel's outbound SAs in the data plane's current snapshot, newest first. */
    static InstalledSa.Outbound[] outbound(Dataplane d, String tunnel) {
        return d.snapshot().outbound(d.tunnelsForTests().get(tunnel));
    }

    static Counters tunnelCounters(Dataplane d, String name) {
        return d.tunnelsForTests().get(name).counters();
    }

    @Test
    void packetsCrossBothWaysOverIpv4AndIpv6() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        for (byte[] inner : List.of(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1000),
                Packets.udp6("fd10::5", "fd20::7", 5000, 53, 1000))) {
            List<byte[]> esp = sendFromA(inner);
            assertEquals(1, esp.size());
            deliverToB(esp.getFirst());
            assertArrayEquals(inner, outB.tun.getLast());
        }
        assertEquals(2, tunnelCounters(a, "to-b").egressPackets());
        assertEquals(2, tunnelCounters(b, "to-a").ingressPackets());
        assertEquals(2 * 1028 + 20, tunnelCounters(b, "to-a").ingressBytes());
    }

    @Test
    void aReplayedEspPacketIsDroppedAndCounted() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        byte[] esp = sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100)).getFirst();
        deliverToB(esp);
        deliverToB(esp);
        assertEquals(1, outB.tun.size());
        assertEquals(1, tunnelCounters(b, "to-a").drops(Drop.ESP_REPLAY));
        byte[] forged = sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100)).getFirst();
        forged[40] ^= 1;
        deliverToB(forged);
        assertEquals(1, tunnelCounters(b, "to-a").drops(Drop.ESP_BAD_ICV));
    }

    /** B agreed to 192.168.10.0/24 from A; a packet from elsewhere, even well encrypted, is dropped (TunnelIngressPacketDropTSMismatch). */
    @Test
    void aDecryptedPacketOutsideTheSelectorsIsDroppedAndCounted() {
        tunnels(false);
        childSa(0x1001, 0x2002, List.of(prefix("192.168.10.0/24")), List.of(prefix("192.168.20.0/24")), Lifetime.UNLIMITED);
        // A's side is route-based on the table, so it sends; B checks what came out of the SA.
        a.tunnels(List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"))));
        byte[] spoofed = Packets.udp4("10.66.6.6", "192.168.20.7", 5000, 53, 100);
        deliverToB(sendFromA(spoofed).getFirst());
        assertTrue(outB.tun.isEmpty());
        assertEquals(1, tunnelCounters(b, "to-a").drops(Drop.TS_MISMATCH));
        deliverToB(sendFromA(Packets.udp4("192.168.10.9", "192.168.20.7", 5000, 53, 100)).getFirst());
        assertEquals(1, outB.tun.size());
    }

    /**
     * B as a point-to-site gateway: client 172.16.201.1 (here A's side) has a tunnel of its own with
     * a host route, its SA bound to its address. What it sends from its address arrives; from
     * another client's address it is dropped and counted on its tunnel; B's replies find it by the
     * host route; a reload keeps it; it goes once its last SA is removed.
     */
    @Test
    void aRemoteAccessClientHasAHostRouteToItsTunnelAndMaySendOnlyFromItsAddress() {
        a.tunnels(List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"))));
        List<Dataplane.TunnelSpec> site = List.of(new Dataplane.TunnelSpec("to-a", false, List.of("192.168.10.0/24")));
        b.tunnels(site);
        String client = "p2s/172.16.201.1";
        b.clientTunnel(client, List.of("172.16.201.1/32"));
        byte[] kab = new byte[20];
        byte[] kba = new byte[20];
        RANDOM.nextBytes(kab);
        RANDOM.nextBytes(kba);
        a.install(new SaPair("to-b", sa(0x2002, kba, Lifetime.UNLIMITED), sa(0x1001, kab, Lifetime.UNLIMITED), ANY, ANY,
                at("10.0.0.1", 4500), at("10.0.0.2", 4500), true));
        b.install(new SaPair(client, sa(0x1001, kab, Lifetime.UNLIMITED), sa(0x2002, kba, Lifetime.UNLIMITED),
                List.of(prefix("192.168.20.0/24")), List.of(prefix("172.16.201.1/32")), at("10.0.0.2", 4500), at("10.0.0.1", 4500), true));

        deliverToB(sendFromA(Packets.udp4("172.16.201.1", "192.168.20.7", 5000, 53, 100)).getFirst());
        assertEquals(1, outB.tun.size());
        deliverToB(sendFromA(Packets.udp4("172.16.201.2", "192.168.20.7", 5000, 53, 100)).getFirst());
        assertEquals(1, outB.tun.size(), "another client's address");
        assertEquals(1, tunnelCounters(b, client).drops(Drop.TS_MISMATCH));

        Capture fromB = new Capture();
        InMemoryTun tun = new InMemoryTun(true, true, fromB.tunFrames(true));
        OutboundPath pathOfB = outboundPath(b, tun, fromB);
        assertEquals(1, sendThrough(pathOfB, tun, fromB, new byte[VirtioHeader.LENGTH], Packets.udp4("192.168.20.7", "172.16.201.1", 53, 5000, 100)).size());
        assertEquals(List.of(0x2002), fromB.espSpis);
        assertTrue(sendThrough(pathOfB, tun, fromB, new byte[VirtioHeader.LENGTH], Packets.udp4("192.168.20.7", "172.16.201.9", 53, 5000, 100)).isEmpty());

        b.tunnels(site);
        assertTrue(b.tunnelRoutes().stream().anyMatch(r -> r.prefixText().equals("172.16.201.1/32") && r.tunnel().name().equals(client)),
                "a reload keeps the clients' routes: " + b.tunnelRoutes());
        assertEquals(1, outbound(b, client).length);
        assertThrows(IllegalArgumentException.class, () -> b.clientTunnel("to-a", List.of("172.16.201.2/32")), "a site's name");

        assertEquals(false, b.clientTunnelIdle(client), "its SA is installed");
        b.retire(0x1001);
        assertEquals(false, b.clientTunnelIdle(client), "its inbound half still takes what is on its way");
        b.remove(0x1001);
        assertTrue(b.clientTunnelIdle(client));
        assertTrue(b.tunnelRoutes().stream().noneMatch(r -> r.prefixText().equals("172.16.201.1/32")), b.tunnelRoutes().toString());
        assertTrue(b.tunnelsForTests().containsKey("to-a"));
    }

    /**
     * Policy-based A has an SA for 192.168.10.0/24 to 192.168.20.0/24: a packet routed into the
     * tunnel from elsewhere has no SA that may carry it (TunnelEgressPacketDropTSMismatch), which
     * is not the same as having no SA at all.
     */
    @Test
    void anOutboundPacketOutsideEverySasSelectorsIsAnEgressMismatch() {
        tunnels(true);
        assertTrue(sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100)).isEmpty());
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.NO_SA));
        childSa(0x1001, 0x2002, List.of(prefix("192.168.10.0/24")), List.of(prefix("192.168.20.0/24")), Lifetime.UNLIMITED);
        assertTrue(sendFromA(Packets.udp4("10.66.6.6", "192.168.20.7", 5000, 53, 100)).isEmpty());
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.TS_MISMATCH_EGRESS));
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.NO_SA));
        assertEquals(1, sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100)).size());
    }

    @Test
    void withoutRouteSaOrKnownSpiNothingIsSent() {
        tunnels(false);
        assertTrue(sendFromA(Packets.udp4("192.168.10.5", "8.8.8.8", 1, 53, 10)).isEmpty());
        assertEquals(1, a.globalCounters().drops(Drop.NO_ROUTE));
        assertTrue(sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 53, 10)).isEmpty());
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.NO_SA));
        byte[] stranger = new byte[100];
        stranger[3] = 0x42;
        deliverToB(stranger);
        assertEquals(1, b.globalCounters().drops(Drop.UNKNOWN_SPI));
        assertTrue(sendFromA(new byte[] {0x45, 0, 0}).isEmpty());
        assertEquals(1, a.globalCounters().drops(Drop.MALFORMED_INNER));
    }

    /**
     * What the kernel sends on the TUN device as it comes up with IPv6 forwarding on (seen with a
     * reader on a fresh device): MLDv2 reports from :: to ff02::16 behind a hop-by-hop header.
     * They are not traffic the gateway failed to route, so status starts at zero drops (issue 17);
     * a packet for a global address no tunnel has still counts.
     */
    @Test
    void theKernelsOwnLinkChatterIsNotANoRouteDrop() {
        tunnels(false);
        byte[] mld = new byte[40 + 8 + 28];
        mld[0] = 0x60;
        IpPacket.put16(mld, 4, 8 + 28);
        mld[6] = 0; // hop-by-hop options: router alert, then ICMPv6
        mld[7] = 1;
        System.arraycopy(Packets.address("ff02::16"), 0, mld, 24, 16);
        mld[40] = 58;
        mld[42] = 5;
        mld[43] = 2;
        mld[46] = 1;
        mld[48] = (byte) 143;
        mld[55] = 1;
        mld[56] = 4;
        System.arraycopy(Packets.address("ff02::2"), 0, mld, 60, 16);
        assertTrue(sendFromA(mld).isEmpty());
        assertTrue(sendFromA(Packets.udp6("fe80::1", "fe80::2", 546, 547, 10)).isEmpty());
        assertTrue(sendFromA(Packets.udp4("192.168.10.5", "224.0.0.22", 1, 2, 10)).isEmpty());
        assertEquals(0, a.globalCounters().drops(Drop.NO_ROUTE));
        assertTrue(sendFromA(Packets.udp6("fd00:10::5", "2001:db8::1", 1, 53, 10)).isEmpty());
        assertTrue(sendFromA(Packets.udp4("192.168.10.5", "224.0.1.1", 1, 2, 10)).isEmpty());
        assertTrue(sendFromA(Packets.udp6("fd00:10::5", "ff05::2", 1, 53, 10)).isEmpty());
        assertEquals(3, a.globalCounters().drops(Drop.NO_ROUTE), "a global unicast, and multicast beyond the link");
    }

    @Test
    void aPacketTooBigForTheTunnelGetsAnIcmpErrorBack() {
        Dataplane small = Dataplane.withoutIo(settings(1400), events);
        small.tunnels(List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"))));
        small.install(new SaPair("to-b", sa(1, new byte[20], Lifetime.UNLIMITED), sa(2, new byte[20], Lifetime.UNLIMITED), ANY, ANY,
                at("10.0.0.1", 4500), at("10.0.0.2", 4500), true));
        byte[] big = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1400 - 28);
        OutboundPath path = outboundPath(small, tunA, outA);
        sendThrough(path, tunA, outA, new byte[VirtioHeader.LENGTH], big);
        assertTrue(outA.esp.isEmpty());
        byte[] icmp = outA.tun.getFirst();
        assertEquals(3, icmp[20]);
        assertEquals(4, icmp[21]);
        int mtu = IpPacket.u16(icmp, 26);
        // 1400 - IPv4 20 - UDP 8 - ESP header and IV 16 - ICV 16 - trailer 2 - alignment 3
        assertEquals(1335, mtu);
        assertEquals(1, tunnelCounters(small, "to-b").drops(Drop.TOO_BIG));
        // The same size without DF goes out, for the outer packet to be fragmented.
        big[6] = 0;
        sendThrough(path, tunA, outA, new byte[VirtioHeader.LENGTH], big);
        assertEquals(1, outA.esp.size());
    }

    @Test
    void tcpSynsAreClampedOnTheWay() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        deliverToB(sendFromA(Packets.syn4("192.168.10.5", "192.168.20.7", 1460)).getFirst());
        byte[] arrived = outB.tun.getFirst();
        assertEquals(1350, IpPacket.u16(arrived, 42));
        assertEquals(0xFFFF, Packets.tcpSum(arrived));
    }

    /** Policy-based: each packet takes the SA whose selectors hold it (Azure's UsePolicyBasedTrafficSelectors). */
    @Test
    void policyBasedTunnelsChooseTheSaBySelectors() {
        a.tunnels(List.of(new Dataplane.TunnelSpec("to-b", true, List.of("192.168.20.0/24", "172.16.0.0/16"))));
        b.tunnels(List.of(new Dataplane.TunnelSpec("to-a", true, List.of("192.168.10.0/24"))));
        childSa(0x1001, 0x2002, List.of(prefix("192.168.10.0/24")), List.of(prefix("192.168.20.0/24")), Lifetime.UNLIMITED);
        childSa(0x3003, 0x4004, List.of(prefix("192.168.10.0/24")), List.of(prefix("172.16.0.0/16")), Lifetime.UNLIMITED);
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        sendFromA(Packets.udp4("192.168.10.5", "172.16.3.4", 1, 2, 10));
        assertEquals(List.of(0x1001, 0x3003), outA.espSpis);
        sendFromA(Packets.udp4("10.1.1.1", "172.16.3.4", 1, 2, 10));
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.TS_MISMATCH_EGRESS), "a source outside every SA's selectors");
    }

    /*
     * Rekey, make-before-break: the replacement takes outbound traffic at once; packets still on
     * their way under the old SA are accepted until it is removed.
     */
    @Test
    void aRekeyMovesOutboundTrafficAndKeepsInboundUntilTheOldSaGoes() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        byte[] late = sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10)).getFirst();
        childSa(0x5005, 0x6006, ANY, ANY, Lifetime.UNLIMITED);
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(List.of(0x1001, 0x5005), outA.espSpis);
        deliverToB(outA.esp.getLast());
        deliverToB(late);
        assertEquals(2, outB.tun.size(), "the old SA still receives");
        b.remove(0x1001);
        a.remove(0x2002);
        deliverToB(late);
        assertEquals(1, b.globalCounters().drops(Drop.UNKNOWN_SPI));
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(0x5005, outA.espSpis.getLast());
        // Removing the newest falls back to what is left (the redundant SA after simultaneous rekeys).
        childSa(0x7007, 0x8008, ANY, ANY, Lifetime.UNLIMITED);
        a.remove(0x8008);
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(0x5005, outA.espSpis.getLast());
    }

    /**
     * The line an operator reads when a rekeyed SA goes names what it carried both ways (issue 17:
     * it said 0 bytes out for every rekeyed SA).
     */
    @Test
    void aRemovedSaLogsWhatItCarriedBothWays() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        for (int i = 0; i < 3; i++) {
            deliverToB(sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 100)));
        }
        List<java.util.logging.LogRecord> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("io.isthmus.dataplane");
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage().contains("SA removed")) {
                    lines.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        try {
            // Rekeyed by A: the replacement sends at once, the old SA is retired when its delete is done, removed after the grace.
            childSa(0x5005, 0x6006, ANY, ANY, Lifetime.UNLIMITED);
            sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 100));
            a.retire(0x2002);
            b.retire(0x1001);
            a.remove(0x2002);
            b.remove(0x1001);
        } finally {
            jul.removeHandler(h);
        }
        assertEquals(2, lines.size());
        Object[] atA = lines.get(0).getParameters();
        Object[] atB = lines.get(1).getParameters();
        assertEquals("0 / 384", atA[3] + " / " + atA[4], "A's old SA: bytes in / bytes out (3 packets of 128)");
        assertEquals("384 / 0", atB[3] + " / " + atB[4], "B's old SA");
    }

    /*
     * The peer rekeyed: our replacement waits behind the old SA until the peer deletes the old
     * one (it may not have installed the replacement yet); retired, the old SA still receives.
     */
    @Test
    void aReplacementThePeerAskedForWaitsForTheOldSaToRetire() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        a.install(new SaPair("to-b", sa(0x6006, new byte[20], Lifetime.UNLIMITED), sa(0x5005, new byte[20], Lifetime.UNLIMITED), ANY, ANY,
                at("10.0.0.1", 4500), at("10.0.0.2", 4500), true), false);
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(0x1001, outA.espSpis.getLast(), "still the old SA");
        b.retire(0x1001);
        a.retire(0x2002);
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(0x5005, outA.espSpis.getLast(), "the replacement, once the old SA is retired");
        deliverToB(outA.esp.getFirst());
        assertEquals(1, outB.tun.size(), "a retired SA still receives");
    }

    /*
     * A packet thread reads the tables, then seals: an SA retired in between must still seal.
     * So retire only takes the SA out of the tables, and remove destroys it (2 s later in the
     * daemon). Before, retire destroyed it at once and the packet was lost as a seal failure.
     */
    @Test
    void aRetiredSaIsOutOfTheTablesButNotDestroyedUntilRemoved() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.UNLIMITED);
        InstalledSa.Outbound readBeforeRetire = outbound(a, "to-b")[0];
        a.retire(0x2002);
        assertEquals(0, outbound(a, "to-b").length, "out of the tables");
        byte[] packet = new byte[readBeforeRetire.sa.headerLength() + 100 + 64];
        packet[readBeforeRetire.sa.headerLength()] = 0x45;
        assertTrue(readBeforeRetire.sa.seal(packet, 0, 100, io.isthmus.esp.EspPacket.NEXT_HEADER_IPV4) > 0,
                "a packet thread that read the tables before the retire still seals");
        sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 10));
        assertEquals(1, tunnelCounters(a, "to-b").drops(Drop.NO_SA));
        assertEquals(0, tunnelCounters(a, "to-b").drops(Drop.SEAL_SA_DELETED));
        a.remove(0x2002);
        assertTrue(readBeforeRetire.sa.isDestroyed(), "keys wiped once removed");
        assertTrue(a.snapshot().inbound(0x2002) == null);
    }

    /** Keys travel once: the parameters handed to install are wiped, and the SAs built from them still carry traffic. */
    @Test
    void installWipesTheKeysItWasHanded() {
        tunnels(false);
        byte[] kab = new byte[20];
        byte[] kba = new byte[20];
        RANDOM.nextBytes(kab);
        RANDOM.nextBytes(kba);
        SaParameters aIn = sa(0x2002, kba, Lifetime.UNLIMITED);
        SaParameters aOut = sa(0x1001, kab, Lifetime.UNLIMITED);
        a.install(new SaPair("to-b", aIn, aOut, ANY, ANY, at("10.0.0.1", 4500), at("10.0.0.2", 4500), true));
        b.install(new SaPair("to-a", sa(0x1001, kab, Lifetime.UNLIMITED), sa(0x2002, kba, Lifetime.UNLIMITED), ANY, ANY,
                at("10.0.0.2", 4500), at("10.0.0.1", 4500), true));
        for (SaParameters p : List.of(aIn, aOut)) {
            assertArrayEquals(new byte[20], p.encryptionKey(), p + " wiped");
            assertArrayEquals(new byte[0], p.integrityKey());
        }
        byte[] inner = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100);
        deliverToB(sendFromA(inner).getFirst());
        assertArrayEquals(inner, outB.tun.getLast(), "the SAs kept keys of their own");

        // Refused (no such tunnel) is consumed all the same.
        SaParameters in = sa(0x3003, kba, Lifetime.UNLIMITED);
        SaParameters out = sa(0x4004, kab, Lifetime.UNLIMITED);
        assertThrows(IllegalArgumentException.class, () -> a.install(new SaPair("nowhere", in, out, ANY, ANY, at("10.0.0.1", 4500),
                at("10.0.0.2", 4500), true)));
        assertArrayEquals(new byte[20], in.encryptionKey());
        assertArrayEquals(new byte[20], out.encryptionKey());
    }

    @Test
    void ikeMessagesAndKeepalivesOnPort4500AreNotEsp() {
        tunnels(false);
        deliverToB(new byte[] {(byte) 0xFF});
        deliverToB(new byte[] {0, 0, 0, 0, 1, 2, 3});
        assertEquals(1, outB.ike.size());
        assertArrayEquals(new byte[] {1, 2, 3}, outB.ike.getFirst());
        assertEquals(0, b.globalCounters().drops());
    }

    @Test
    void softAndHardLifetimesAreReported() {
        tunnels(false);
        childSa(0x1001, 0x2002, ANY, ANY, Lifetime.ofBytes(3000, 6000));
        for (int i = 0; i < 8; i++) {
            sendFromA(Packets.udp4("192.168.10.5", "192.168.20.7", 1, 2, 1000)).forEach(this::deliverToB);
        }
        assertTrue(lifetimeEvents.contains("00002002 soft"), lifetimeEvents.toString());
        assertTrue(lifetimeEvents.contains("00002002 hard"), lifetimeEvents.toString());
        assertTrue(lifetimeEvents.contains("00001001 soft"), "B's inbound SA counts too: " + lifetimeEvents);
        assertTrue(tunnelCounters(a, "to-b").drops(Drop.SEAL_LIFETIME_EXPIRED) > 0, "no packets past the hard lifetime");
    }
}
