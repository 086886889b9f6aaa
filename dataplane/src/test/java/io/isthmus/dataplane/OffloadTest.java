package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.Lifetime;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The offloads on the two paths, with real SAs between two data planes: a TCP super-packet from
 * the TUN device is cut into segments as a NIC would (lengths, identification, sequence numbers,
 * flags, checksums), sealed into one batch for one GSO send, and merged again on the far side
 * into one super-packet for its TUN device, with the virtio header the kernel needs.
 */
class OffloadTest {
    final ForwardingTest t = new ForwardingTest();

    @BeforeEach
    void tunnel() {
        t.tunnels(false);
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
    }

    /** Opens each ESP packet with B's SA, without B's merging: the segments as A cut them. */
    List<byte[]> segmentsAsSent(List<byte[]> esp) {
        ForwardingTest.Capture plain = new ForwardingTest.Capture();
        InMemoryTun plainTun = new InMemoryTun(false, false, plain.tunFrames(false));
        InboundPath path = ForwardingTest.inboundPath(t.b, plainTun, plain);
        ForwardingTest.deliver(path, plainTun, new InMemoryEspPort(), esp);
        return plain.tun;
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.168.10.5>192.168.20.7", "fd10::5>fd20::7"})
    void aTcpSuperPacketIsCutIntoValidSegmentsSentInOneBatch(String flow) {
        String[] ends = flow.split(">");
        int mss = 1350;
        int payload = mss * 30 + 77;
        byte[] sp = Packets.tcp(ends[0], ends[1], 0xFFFFF000L, payload, Packets.TCP_ACK | Packets.TCP_PSH);
        byte[] original = sp.clone();
        List<byte[]> esp = t.sendFromA(Packets.tsoHeader(sp, mss), sp);
        assertEquals(31, esp.size());
        assertEquals(List.of(31), t.outA.batches, "one GSO send");
        for (int i = 0; i < 30; i++) {
            assertEquals(esp.getFirst().length, esp.get(i).length, "all but the last the same size");
        }
        List<byte[]> segments = segmentsAsSent(esp);
        assertEquals(31, segments.size());
        boolean v4 = flow.contains(".");
        int ip = v4 ? 20 : 40;
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < segments.size(); i++) {
            byte[] s = segments.get(i);
            int size = i < 30 ? mss : 77;
            assertEquals(ip + 32 + size, IpPacket.totalLength(s, 0));
            if (v4) {
                assertEquals(0xFFFF, IpPacket.sum(s, 0, 20, 0), "IPv4 header checksum");
                assertEquals(0x1234 + i, IpPacket.u16(s, 4), "identification counts up");
            }
            assertEquals(0xFFFF, Packets.l4Sum(s), "TCP checksum of segment " + i);
            assertEquals((0xFFFFF000L + (long) i * mss) & 0xFFFFFFFFL, IpPacket.u32(s, ip + 4), "sequence number, wrapping");
            assertEquals(i == 30 ? Packets.TCP_ACK | Packets.TCP_PSH : Packets.TCP_ACK, s[ip + 13] & 0xFF, "PSH on the last only");
            assertArrayEquals(Arrays.copyOfRange(original, ip + 8, ip + 13), Arrays.copyOfRange(s, ip + 8, ip + 13), "ack, data offset");
            assertArrayEquals(Arrays.copyOfRange(original, ip + 14, ip + 16), Arrays.copyOfRange(s, ip + 14, ip + 16), "window");
            data.write(s, ip + 32, size);
        }
        assertArrayEquals(Arrays.copyOfRange(original, ip + 32, original.length), data.toByteArray());
        assertEquals(31, ForwardingTest.tunnelCounters(t.a, "to-b").egressPackets());
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.168.10.5>192.168.20.7", "fd10::5>fd20::7"})
    void segmentsOfOneFlowAreMergedIntoOneSuperPacketForTheTun(String flow) {
        String[] ends = flow.split(">");
        int mss = 1350;
        byte[] sp = Packets.tcp(ends[0], ends[1], 5000, mss * 40 + 10, Packets.TCP_ACK | Packets.TCP_PSH);
        byte[] original = sp.clone();
        t.deliverToB(t.sendFromA(Packets.tsoHeader(sp, mss), sp));
        assertEquals(1, t.outB.tun.size(), "one TUN write");
        byte[] merged = t.outB.tun.getFirst();
        byte[] h = t.outB.tunHeaders.getFirst();
        boolean v4 = flow.contains(".");
        int ip = v4 ? 20 : 40;
        assertEquals(VirtioHeader.F_NEEDS_CSUM, VirtioHeader.flags(h, 0));
        assertEquals(v4 ? VirtioHeader.GSO_TCPV4 : VirtioHeader.GSO_TCPV6, VirtioHeader.gsoType(h, 0));
        assertEquals(mss, VirtioHeader.gsoSize(h, 0));
        assertEquals(ip, VirtioHeader.csumStart(h, 0));
        assertEquals(16, VirtioHeader.csumOffset(h, 0));
        assertEquals(original.length, merged.length);
        assertEquals(original.length, IpPacket.totalLength(merged, 0));
        if (v4) {
            assertEquals(0xFFFF, IpPacket.sum(merged, 0, 20, 0));
        }
        // What the kernel does with NEEDS_CSUM: sum from csum_start to the end, the pseudo-header's sum already in place.
        byte[] finished = merged.clone();
        IpPacket.put16(finished, ip + 16, ~IpPacket.sum(finished, ip, finished.length - ip, 0));
        assertEquals(0xFFFF, Packets.l4Sum(finished));
        assertArrayEquals(Arrays.copyOfRange(original, ip + 32, original.length), Arrays.copyOfRange(merged, ip + 32, merged.length));
        assertEquals(Packets.TCP_ACK | Packets.TCP_PSH, merged[ip + 13] & 0xFF);
        assertEquals(5000, IpPacket.u32(merged, ip + 4));
        assertEquals(41, ForwardingTest.tunnelCounters(t.b, "to-a").ingressPackets());
    }

    @Test
    void onlySegmentsThatFollowEachOtherAreMerged() {
        int mss = 1000;
        byte[] s1 = Packets.tcp("192.168.10.5", "192.168.20.7", 1000, mss, Packets.TCP_ACK);
        byte[] s2 = Packets.tcp("192.168.10.5", "192.168.20.7", 2000, mss, Packets.TCP_ACK);
        byte[] s3 = Packets.tcp("192.168.10.5", "192.168.20.7", 3000, mss, Packets.TCP_ACK);
        byte[] gap = Packets.tcp("192.168.10.5", "192.168.20.7", 5000, mss, Packets.TCP_ACK);
        byte[] other = Packets.tcp("192.168.10.6", "192.168.20.7", 6000, mss, Packets.TCP_ACK);
        byte[] push = Packets.tcp("192.168.10.6", "192.168.20.7", 7000, mss, Packets.TCP_ACK | Packets.TCP_PSH);
        byte[] after = Packets.tcp("192.168.10.6", "192.168.20.7", 8000, mss, Packets.TCP_ACK);
        byte[] syn = Packets.syn4("192.168.10.6", "192.168.20.7", 1300);
        byte[] udp = Packets.udp4("192.168.10.6", "192.168.20.7", 1, 2, 100);
        List<byte[]> esp = new ArrayList<>();
        for (byte[] p : List.of(s1, s2, s3, gap, other, push, after, syn, udp)) {
            esp.addAll(t.sendFromA(p));
        }
        t.deliverToB(esp);
        // s1+s2+s3 | gap | other+push (PSH ends the run) | after | syn | udp
        List<Integer> lengths = t.outB.tun.stream().map(p -> p.length).toList();
        assertEquals(List.of(52 + 3 * mss, 52 + mss, 52 + 2 * mss, 52 + mss, 44, 128), lengths);
        assertEquals(VirtioHeader.GSO_TCPV4, VirtioHeader.gsoType(t.outB.tunHeaders.getFirst(), 0));
        assertEquals(VirtioHeader.GSO_NONE, VirtioHeader.gsoType(t.outB.tunHeaders.get(1), 0), "one segment: a plain packet");
        assertEquals(0, VirtioHeader.flags(t.outB.tunHeaders.get(1), 0));
        assertEquals(0xFFFF, Packets.l4Sum(t.outB.tun.get(1)), "a lone segment keeps its own checksum");
        assertArrayEquals(udp, t.outB.tun.getLast());
    }

    @Test
    void withoutAVirtioHeaderOnTheTunEverySegmentIsWrittenAlone() {
        InMemoryTun plainTun = new InMemoryTun(false, false, t.outB.tunFrames(false));
        InboundPath plain = ForwardingTest.inboundPath(t.b, plainTun, t.outB);
        List<byte[]> esp = new ArrayList<>();
        for (long seq = 0; seq < 5000; seq += 1000) {
            esp.add(t.sendFromA(Packets.tcp("192.168.10.5", "192.168.20.7", seq, 1000, Packets.TCP_ACK)).getFirst());
        }
        ForwardingTest.deliver(plain, plainTun, new InMemoryEspPort(), esp);
        assertEquals(5, t.outB.tun.size());
    }

    @Test
    void aPacketLeftForUsToChecksumIsChecksummed() {
        byte[] udp = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 333);
        byte[] h = new byte[VirtioHeader.LENGTH];
        h[0] = VirtioHeader.F_NEEDS_CSUM;
        h[6] = 20; // csum_start, little-endian
        h[8] = 6; // csum_offset: the UDP checksum
        IpPacket.put16(udp, 26, IpPacket.pseudoHeaderSum(udp, 0, IpPacket.PROTO_UDP, udp.length - 20));
        t.deliverToB(t.sendFromA(h, udp));
        assertEquals(0xFFFF, Packets.l4Sum(t.outB.tun.getFirst()));
    }

    @Test
    void equalPacketsReadInOneBurstLeaveInOneSendAndADifferentOneEndsIt() {
        List<byte[]> burst = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            burst.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 64));
        }
        burst.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 20));
        burst.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 64));
        for (byte[] p : burst) {
            t.tunA.offer(ForwardingTest.frame(new byte[VirtioHeader.LENGTH], p));
        }
        ForwardingTest.readAll(t.pathA, t.tunA);
        // 64 at most per send; the shorter one ends its batch; the last starts a new one.
        assertEquals(List.of(64, 7, 1), t.outA.batches);
        List<byte[]> opened = segmentsAsSent(t.outA.esp);
        assertEquals(72, opened.size());
        for (int i = 0; i < burst.size(); i++) {
            assertArrayEquals(burst.get(i), opened.get(i));
        }
    }

    /** Datagrams of one UDP flow are merged too (USO): 64 at most, the shorter one last. */
    @Test
    void udpDatagramsOfOneFlowAreMergedIntoOneSuperPacket() {
        List<byte[]> datagrams = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            byte[] d = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100);
            d[28] = (byte) i;
            datagrams.add(d);
        }
        datagrams.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 40));
        datagrams.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
        datagrams.add(Packets.udp4("192.168.10.5", "192.168.20.7", 5001, 53, 100));
        List<byte[]> esp = new ArrayList<>();
        datagrams.forEach(d -> esp.addAll(t.sendFromA(d)));
        t.deliverToB(esp);
        assertEquals(List.of(20 + 8 + 64 * 100, 20 + 8 + 6 * 100 + 40, 128, 128), t.outB.tun.stream().map(p -> p.length).toList());
        byte[] merged = t.outB.tun.getFirst();
        byte[] h = t.outB.tunHeaders.getFirst();
        assertEquals(VirtioHeader.GSO_UDP_L4, VirtioHeader.gsoType(h, 0));
        assertEquals(100, VirtioHeader.gsoSize(h, 0));
        assertEquals(20, VirtioHeader.csumStart(h, 0));
        assertEquals(6, VirtioHeader.csumOffset(h, 0));
        assertEquals(merged.length, IpPacket.totalLength(merged, 0));
        assertEquals(merged.length - 20, IpPacket.u16(merged, 24), "UDP length of the whole");
        assertEquals(0xFFFF, IpPacket.sum(merged, 0, 20, 0));
        byte[] finished = merged.clone();
        IpPacket.put16(finished, 26, ~IpPacket.sum(finished, 20, finished.length - 20, 0));
        assertEquals(0xFFFF, Packets.l4Sum(finished), "the pseudo-header's sum is in place for the kernel to finish");
        for (int i = 0; i < 64; i++) {
            assertEquals((byte) i, merged[28 + i * 100], "datagram " + i + " in order");
        }
        assertEquals(VirtioHeader.GSO_NONE, VirtioHeader.gsoType(t.outB.tunHeaders.get(2), 0));
    }

    /** A UDP super-packet from the TUN device (a local sender using UDP GSO) is cut into datagrams. */
    @Test
    void aUdpSuperPacketIsCutIntoValidDatagrams() {
        byte[] sp = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 5 * 1000 + 300);
        byte[] original = sp.clone();
        byte[] h = new byte[VirtioHeader.LENGTH];
        VirtioHeader.udp(h, 0, 20, 1000);
        IpPacket.put16(sp, 26, IpPacket.pseudoHeaderSum(sp, 0, IpPacket.PROTO_UDP, sp.length - 20));
        List<byte[]> esp = t.sendFromA(h, sp);
        assertEquals(6, esp.size());
        List<byte[]> datagrams = segmentsAsSent(esp);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) {
            byte[] d = datagrams.get(i);
            int size = i < 5 ? 1000 : 300;
            assertEquals(28 + size, d.length);
            assertEquals(8 + size, IpPacket.u16(d, 24));
            assertEquals(0xFFFF, Packets.l4Sum(d), "UDP checksum of datagram " + i);
            data.write(d, 28, size);
        }
        assertArrayEquals(Arrays.copyOfRange(original, 28, original.length), data.toByteArray());
    }

    @Test
    void aSuperPacketWhoseSegmentsWouldNotFitGetsIcmpBack() {
        byte[] sp = Packets.tcp4("192.168.10.5", "192.168.20.7", 0, 1460 * 3);
        List<byte[]> esp = t.sendFromA(Packets.tsoHeader(sp, 1460), sp);
        assertTrue(esp.isEmpty());
        assertEquals(1, ForwardingTest.tunnelCounters(t.a, "to-b").drops(Drop.TOO_BIG));
        byte[] icmp = t.outA.tun.getFirst();
        assertEquals(IpPacket.PROTO_ICMP, IpPacket.protocol(icmp, 0));
    }
}
