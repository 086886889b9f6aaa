package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.capture.CaptureFile;
import io.isthmus.dataplane.capture.CaptureFilter;
import io.isthmus.dataplane.capture.IpPrefix;
import io.isthmus.dataplane.capture.PacketCapture;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.VirtioHeader;
import io.isthmus.esp.Lifetime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture from the packet paths themselves, over memory: what A seals and B opens lands in their
 * pcapng files as the wire and the tunnel have it (outer: IP, UDP and the ESP bytes that were
 * sent; inner: the packet itself), with its direction; filters keep what they say; a ring with no
 * room drops and counts rather than waits.
 */
class CaptureTest {
    @TempDir
    Path dir;

    final PacketAgentsTest agents = new PacketAgentsTest();

    /** One packet of a pcapng file. */
    record Packet(int iface, boolean inbound, byte[] bytes, int original, String comment) {
    }

    /** The packets of a pcapng file, after checking its section header and its two interfaces (outer, inner: raw IP). */
    static List<Packet> read(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Packet> packets = new ArrayList<>();
        int interfaces = 0;
        while (b.hasRemaining()) {
            int start = b.position();
            int type = b.getInt();
            int length = b.getInt();
            assertEquals(length, b.getInt(start + length - 4), "a block ends with its length");
            assertEquals(0, length % 4);
            if (type == 0x0A0D0D0A) {
                assertEquals(0x1A2B3C4D, b.getInt(start + 8));
            } else if (type == 1) {
                assertEquals(101, b.getShort(start + 8), "LINKTYPE_RAW");
                interfaces++;
            } else if (type == 6) {
                int iface = b.getInt(start + 8);
                int captured = b.getInt(start + 20);
                int original = b.getInt(start + 24);
                byte[] bytes = Arrays.copyOfRange(b.array(), start + 28, start + 28 + captured);
                int o = start + 28 + (captured + 3) / 4 * 4;
                boolean inbound = false;
                String comment = null;
                while (o < start + length - 4) {
                    int code = b.getShort(o) & 0xffff;
                    int len = b.getShort(o + 2) & 0xffff;
                    if (code == 2) {
                        inbound = (b.getInt(o + 4) & 3) == 1;
                    } else if (code == 1) {
                        comment = new String(b.array(), o + 4, len, java.nio.charset.StandardCharsets.UTF_8);
                    }
                    o += 4 + (len + 3) / 4 * 4;
                }
                packets.add(new Packet(iface, inbound, bytes, original, comment));
            }
            b.position(start + length);
        }
        assertEquals(2, interfaces);
        return packets;
    }

    static CaptureFilter filter(CaptureFilter.Layers layers, CaptureFilter.Direction direction, Set<Integer> destinationPorts, int tcpFlags) {
        return new CaptureFilter(null, layers, direction, List.of(), List.of(), Set.of(), destinationPorts, Set.of(), tcpFlags, 65_535, 1 << 20,
                Duration.ofMinutes(1));
    }

    private void send(byte[] inner) {
        agents.tunA.offer(ForwardingTest.frame(new byte[VirtioHeader.LENGTH], inner));
        agents.outboundA.doWork();
    }

    @Test
    void bothEndsCaptureWhatTheWireAndTheTunnelCarry() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        PacketCapture a = new PacketCapture(CaptureFilter.everything(), 4500);
        PacketCapture b = new PacketCapture(CaptureFilter.everything(), 4500);
        List<CaptureFile.Summary> ended = new java.util.concurrent.CopyOnWriteArrayList<>();
        CaptureFile fa = CaptureFile.start(a, dir.resolve("a.pcapng"), ended::add);
        CaptureFile fb = CaptureFile.start(b, dir.resolve("b.pcapng"), ended::add);
        agents.t.a.capture(a);
        agents.t.b.capture(b);
        byte[] inner = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100);
        send(inner);
        InMemoryEspPort.Datagram onTheWire = agents.espA.sent().peek();
        agents.wire();
        agents.t.a.capture(null);
        agents.t.b.capture(null);
        CaptureFile.Summary sa = fa.stop(Duration.ofSeconds(5));
        CaptureFile.Summary sb = fb.stop(Duration.ofSeconds(5));
        assertEquals(CaptureFile.End.STOPPED, sa.end());
        assertEquals(2, sa.packets());
        assertEquals(0, sa.dropped());
        assertEquals(2, ended.size(), "each start hears its end once");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sa.file())));

        List<Packet> atA = read(sa.file());
        assertEquals(2, atA.size());
        Packet innerOut = atA.get(0);
        assertEquals(1, innerOut.iface(), "inner");
        assertTrue(!innerOut.inbound());
        assertArrayEquals(inner, innerOut.bytes());
        assertEquals("to-b", innerOut.comment());
        Packet espOut = atA.get(1);
        assertEquals(0, espOut.iface(), "outer");
        assertEquals(0x45, espOut.bytes()[0] & 0xff);
        assertEquals(17, espOut.bytes()[9], "UDP-encapsulated ESP");
        assertEquals(4500, (espOut.bytes()[20] & 0xff) << 8 | espOut.bytes()[21] & 0xff);
        assertArrayEquals(onTheWire.bytes(), Arrays.copyOfRange(espOut.bytes(), 28, espOut.bytes().length), "the ESP bytes that were sent");
        assertEquals(28 + onTheWire.bytes().length, espOut.original());

        List<Packet> atB = read(sb.file());
        assertEquals(2, atB.size());
        assertTrue(atB.get(0).inbound() && atB.get(0).iface() == 0);
        assertArrayEquals(onTheWire.bytes(), Arrays.copyOfRange(atB.get(0).bytes(), 28, atB.get(0).bytes().length), "taken before it was opened");
        assertTrue(atB.get(1).inbound() && atB.get(1).iface() == 1);
        assertArrayEquals(inner, atB.get(1).bytes());
    }

    @Test
    void filtersKeepWhatTheySay() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        // Inner only, port 53 only, towards the peer only: the outer packet and the port 54 one are left out.
        PacketCapture dns = new PacketCapture(filter(CaptureFilter.Layers.INNER, CaptureFilter.Direction.EGRESS, Set.of(53), 0), 4500);
        CaptureFile f = CaptureFile.start(dns, dir.resolve("dns.pcapng"), s -> { });
        agents.t.a.capture(dns);
        send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
        send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 54, 100));
        agents.t.a.capture(null);
        List<Packet> got = read(f.stop(Duration.ofSeconds(5)).file());
        assertEquals(1, got.size());
        assertEquals(53, (got.get(0).bytes()[22] & 0xff) << 8 | got.get(0).bytes()[23] & 0xff);

        // SYNs only, and only from 192.168.10.0/25; cut to 64 bytes.
        PacketCapture syns = new PacketCapture(new CaptureFilter(null, CaptureFilter.Layers.INNER, CaptureFilter.Direction.BOTH,
                List.of(IpPrefix.parse("192.168.10.0/25")), List.of(), Set.of(), Set.of(), Set.of(6), 2, 64, 1 << 20, Duration.ofMinutes(1)), 4500);
        f = CaptureFile.start(syns, dir.resolve("syns.pcapng"), s -> { });
        agents.t.a.capture(syns);
        send(Packets.tcp("192.168.10.5", "192.168.20.7", 1000, 200, Packets.TCP_SYN));
        send(Packets.tcp("192.168.10.5", "192.168.20.7", 1000, 200, Packets.TCP_ACK));
        send(Packets.tcp("192.168.10.200", "192.168.20.7", 1000, 200, Packets.TCP_SYN));
        agents.t.a.capture(null);
        got = read(f.stop(Duration.ofSeconds(5)).file());
        assertEquals(1, got.size(), "one SYN from the /25");
        assertEquals(64, got.get(0).bytes().length);
        assertEquals(20 + 32 + 200, got.get(0).original());
    }

    static CaptureFilter filter(String connection, CaptureFilter.Layers layers, List<IpPrefix> destinations, Set<Integer> sourcePorts,
                                Set<Integer> destinationPorts, Set<Integer> protocols, int tcpFlags, Duration duration) {
        return new CaptureFilter(connection, layers, CaptureFilter.Direction.BOTH, List.of(), destinations, sourcePorts, destinationPorts, protocols,
                tcpFlags, 65_535, 1 << 20, duration);
    }

    /** What A's capture with {@code filter} wrote while {@code traffic} went through A. */
    private List<Packet> capture(String name, CaptureFilter filter, java.util.function.Consumer<PacketCapture> traffic) throws Exception {
        PacketCapture c = new PacketCapture(filter, 4500);
        CaptureFile f = CaptureFile.start(c, dir.resolve(name + ".pcapng"), s -> { });
        agents.t.a.capture(c);
        traffic.accept(c);
        agents.t.a.capture(null);
        CaptureFile.Summary s = f.stop(Duration.ofSeconds(30));
        assertEquals(CaptureFile.End.STOPPED, s.end());
        assertEquals(0, s.dropped());
        return read(s.file());
    }

    private static int port(byte[] p, int at) {
        return (p[at] & 0xff) << 8 | p[at + 1] & 0xff;
    }

    @Test
    void aConnectionFilterKeepsThatConnectionOnly() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        byte[] inner = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100);
        byte[] esp = new byte[64];
        List<Packet> got = capture("to-b", filter("to-b", CaptureFilter.Layers.BOTH, List.of(), Set.of(), Set.of(), Set.of(), 0, Duration.ofMinutes(1)),
                c -> {
                    send(inner);
                    // The same packets said to be another connection's, or of no connection known (an ESP packet of an unknown SPI).
                    c.inner(false, "to-c", inner, 0, inner.length);
                    c.esp(false, "to-c", esp, 0, esp.length, ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true);
                    c.esp(true, null, esp, 0, esp.length, ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true);
                    c.ike(false, "to-c", esp, 0, esp.length, ForwardingTest.at("10.0.0.1", 500), ForwardingTest.at("10.0.0.2", 500));
                });
        assertEquals(2, got.size(), "to-b's inner and outer packet, nothing of to-c or of no connection");
        assertEquals(List.of(1, 0), got.stream().map(Packet::iface).toList());
        assertEquals(List.of("to-b", "to-b"), got.stream().map(Packet::comment).toList());
        assertArrayEquals(inner, got.get(0).bytes());

        got = capture("to-c", filter("to-c", CaptureFilter.Layers.BOTH, List.of(), Set.of(), Set.of(), Set.of(), 0, Duration.ofMinutes(1)),
                c -> send(inner));
        assertEquals(0, got.size(), "to-b's traffic is not to-c's");
    }

    @Test
    void aDestinationSubnetFilterKeepsThatSubnetOnly() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        List<Packet> got = capture("dst", filter(null, CaptureFilter.Layers.INNER, List.of(IpPrefix.parse("192.168.20.0/25"), IpPrefix.parse("fd20::/120")),
                Set.of(), Set.of(), Set.of(), 0, Duration.ofMinutes(1)), c -> {
            send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
            send(Packets.udp4("192.168.10.5", "192.168.20.200", 5000, 53, 100));
            send(Packets.udp6("fd10::5", "fd20::7", 5000, 53, 100));
            send(Packets.udp6("fd10::5", "fd20::1:7", 5000, 53, 100));
            // The source in the prefix, the destination not: a destination filter looks at the destination.
            send(Packets.udp4("192.168.20.7", "192.168.20.201", 5000, 53, 100));
        });
        assertEquals(2, got.size(), "192.168.20.7 and fd20::7, not 192.168.20.200, fd20::1:7 or 192.168.20.201");
        assertArrayEquals(Packets.address("192.168.20.7"), Arrays.copyOfRange(got.get(0).bytes(), 16, 20));
        assertArrayEquals(Packets.address("fd20::7"), Arrays.copyOfRange(got.get(1).bytes(), 24, 40));
    }

    @Test
    void aSourcePortFilterKeepsThatPortOnly() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        List<Packet> got = capture("sport", filter(null, CaptureFilter.Layers.BOTH, List.of(), Set.of(5000), Set.of(), Set.of(), 0, Duration.ofMinutes(1)),
                c -> {
                    send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
                    send(Packets.udp4("192.168.10.5", "192.168.20.7", 5001, 53, 100));
                    // Port 5000 as the destination is not the source.
                    send(Packets.udp4("192.168.10.5", "192.168.20.7", 53, 5000, 100));
                });
        assertEquals(1, got.size(), "the inner packet from 5000 (its ESP packet is from 4500)");
        assertEquals(1, got.get(0).iface());
        assertEquals(5000, port(got.get(0).bytes(), 20));
        assertEquals(53, port(got.get(0).bytes(), 22));
    }

    @Test
    void anOuterOnlyFilterKeepsTheWireOnly() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        byte[] ike = {1, 2, 3, 4, 5, 6, 7, 8};
        List<Packet> got = capture("outer", filter(null, CaptureFilter.Layers.OUTER, List.of(), Set.of(), Set.of(), Set.of(), 0, Duration.ofMinutes(1)),
                c -> {
                    send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
                    c.ike(false, "to-b", ike, 0, ike.length, ForwardingTest.at("10.0.0.1", 500), ForwardingTest.at("10.0.0.2", 500));
                });
        assertEquals(2, got.size(), "the ESP packet and the IKE message, not the inner packet");
        for (Packet p : got) {
            assertEquals(0, p.iface(), "outer");
            assertEquals(17, p.bytes()[9]);
        }
        assertEquals(4500, port(got.get(0).bytes(), 22), "ESP in UDP");
        assertEquals(500, port(got.get(1).bytes(), 22), "IKE");
    }

    /** {@code p} (an IPv4 packet) as an IPv4 fragment at {@code offset} bytes (a multiple of 8), more to come or not; DF cleared. */
    private static byte[] fragment(byte[] p, int offset, boolean more) {
        byte[] f = p.clone();
        int field = (more ? 0x2000 : 0) | offset / 8;
        f[6] = (byte) (field >> 8);
        f[7] = (byte) field;
        return f;
    }

    @Test
    void aLaterFragmentHasNoPortsOrFlagsButItsAddressesAndProtocol() {
        // A later fragment whose payload happens to read, where ports and flags would be, as port 5000 to 53 and a SYN.
        byte[] udp = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100);
        byte[] syn = Packets.tcp("192.168.10.5", "192.168.20.7", 1000, 200, Packets.TCP_SYN);
        PacketCapture ports = new PacketCapture(filter(null, CaptureFilter.Layers.BOTH, List.of(), Set.of(5000), Set.of(53), Set.of(), 0,
                Duration.ofMinutes(1)), 4500);
        PacketCapture syns = new PacketCapture(filter(null, CaptureFilter.Layers.BOTH, List.of(), Set.of(), Set.of(), Set.of(), Packets.TCP_SYN,
                Duration.ofMinutes(1)), 4500);
        PacketCapture addresses = new PacketCapture(filter(null, CaptureFilter.Layers.BOTH, List.of(IpPrefix.parse("192.168.20.0/24")), Set.of(),
                Set.of(), Set.of(17, 6), 0, Duration.ofMinutes(1)), 4500);
        for (PacketCapture c : List.of(ports, syns, addresses)) {
            for (byte[] p : List.of(udp, fragment(udp, 0, true), fragment(udp, 1480, true), fragment(udp, 2960, false), syn, fragment(syn, 0, true),
                    fragment(syn, 8, false))) {
                c.inner(false, "to-b", p, 0, p.length);
            }
        }
        assertEquals(2, ports.kept(), "the whole UDP packet and its first fragment");
        assertEquals(2, syns.kept(), "the whole SYN and its first fragment");
        assertEquals(7, addresses.kept(), "addresses and protocol are in every fragment");
        // A header said to be 16 bytes long, whose destination 19.136.0.53 would read as port 5000 to 53: no transport header to find.
        byte[] shortHeader = Packets.udp4("192.168.10.5", "19.136.0.53", 5000, 53, 100);
        shortHeader[0] = 0x44;
        ports.inner(false, "to-b", shortHeader, 0, shortHeader.length);
        assertEquals(2, ports.kept(), "a header shorter than 20 bytes has no ports");
        shortHeader[0] = 0x45;
        ports.inner(false, "to-b", shortHeader, 0, shortHeader.length);
        assertEquals(3, ports.kept(), "the same packet with a whole header");
    }

    @Test
    void aCaptureEndsAtItsDurationWithItsFileWhole() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        // The shortest duration allowed is any more than 0; its packets are in the ring before the writer starts, so it writes them first.
        PacketCapture brief = new PacketCapture(filter(null, CaptureFilter.Layers.BOTH, List.of(), Set.of(), Set.of(), Set.of(), 0,
                Duration.ofMillis(200)), 4500);
        agents.t.a.capture(brief);
        send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100));
        send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 54, 100));
        java.util.concurrent.CompletableFuture<CaptureFile.Summary> ended = new java.util.concurrent.CompletableFuture<>();
        CaptureFile f = CaptureFile.start(brief, dir.resolve("brief.pcapng"), ended::complete);
        CaptureFile.Summary s = ended.orTimeout(60, java.util.concurrent.TimeUnit.SECONDS).join();
        agents.t.a.capture(null);
        assertEquals(CaptureFile.End.DURATION, s.end());
        assertEquals(4, s.packets(), "two inner, two outer");
        assertEquals(0, s.dropped());
        assertEquals(Files.size(f.file()), s.bytes(), "everything written is in the file");
        List<Packet> got = read(f.file());
        assertEquals(4, got.size());
        assertEquals(53, port(got.get(0).bytes(), 22));
        assertEquals(54, port(got.get(2).bytes(), 22));
        assertEquals(s, f.stop(Duration.ofSeconds(30)), "a stop after the end finds it over");
    }

    @Test
    void ikeOnTheNatTraversalPortHasItsMarkerAndIpv6UdpItsChecksum() throws Exception {
        PacketCapture c = new PacketCapture(CaptureFilter.everything(), 4500);
        CaptureFile f = CaptureFile.start(c, dir.resolve("ike.pcapng"), s -> { });
        byte[] ike = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        c.ike(false, "to-b", ike, 0, ike.length, ForwardingTest.at("fd00::1", 4500), ForwardingTest.at("fd00::2", 4500));
        c.ike(true, "to-b", ike, 0, ike.length, ForwardingTest.at("10.0.0.1", 500), ForwardingTest.at("10.0.0.2", 500));
        List<Packet> got = read(f.stop(Duration.ofSeconds(5)).file());
        byte[] v6 = got.get(0).bytes();
        assertEquals(40 + 8 + 4 + ike.length, v6.length);
        assertArrayEquals(new byte[4], Arrays.copyOfRange(v6, 48, 52), "the non-ESP marker");
        assertArrayEquals(ike, Arrays.copyOfRange(v6, 52, v6.length));
        // A right checksum sums, with the pseudo-header, to all ones.
        long sum = 0;
        for (int i = 8; i < 40; i += 2) {
            sum += (v6[i] & 0xff) << 8 | v6[i + 1] & 0xff;
        }
        sum += (v6.length - 40) + 17;
        for (int i = 40; i < v6.length; i += 2) {
            sum += (v6[i] & 0xff) << 8 | (i + 1 < v6.length ? v6[i + 1] & 0xff : 0);
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        assertEquals(0xffff, sum);
        byte[] v4 = got.get(1).bytes();
        assertEquals(20 + 8 + ike.length, v4.length, "port 500: no marker");
        assertTrue(got.get(1).inbound());
        assertEquals(10, v4[12] & 0xff, "from the peer");
        assertEquals(2, v4[15], "from the peer");
    }

    @Test
    void aFullRingDropsAndCountsRatherThanWaits() {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        PacketCapture nobodyReads = new PacketCapture(CaptureFilter.everything(), 4500);
        agents.t.a.capture(nobodyReads);
        for (int i = 0; i < 5000; i++) {
            send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1200));
        }
        assertTrue(nobodyReads.dropped() > 0, "4 MB of ring hold fewer than 10,000 packets of 1,228 bytes");
        assertEquals(10_000, nobodyReads.kept() + nobodyReads.dropped());
        assertEquals(5000, ForwardingTest.tunnelCounters(agents.t.a, "to-b").egressPackets(), "every packet went on");
    }

    @Test
    void aCaptureEndsAtItsSize() throws Exception {
        agents.t.tunnels(false);
        agents.t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
        PacketCapture small = new PacketCapture(new CaptureFilter(null, CaptureFilter.Layers.BOTH, CaptureFilter.Direction.BOTH, List.of(), List.of(),
                Set.of(), Set.of(), Set.of(), 0, 65_535, 8192, Duration.ofMinutes(1)), 4500);
        java.util.concurrent.CompletableFuture<CaptureFile.Summary> ended = new java.util.concurrent.CompletableFuture<>();
        CaptureFile f = CaptureFile.start(small, dir.resolve("small.pcapng"), ended::complete);
        agents.t.a.capture(small);
        for (int i = 0; i < 20; i++) {
            send(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1000));
        }
        CaptureFile.Summary s = ended.orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).join();
        agents.t.a.capture(null);
        assertEquals(CaptureFile.End.SIZE, s.end());
        assertTrue(s.bytes() >= 8192 && s.bytes() < 8192 + 2 * 1200, "stops at the first packet past the size: " + s.bytes());
        assertEquals(s.packets(), read(f.file()).size());
    }
}
