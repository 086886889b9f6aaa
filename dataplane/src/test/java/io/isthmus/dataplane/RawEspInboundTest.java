package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.LinuxEspPort;
import io.isthmus.dataplane.linux.DatagramSocket;
import io.isthmus.dataplane.linux.Libc;
import io.isthmus.dataplane.linux.NetNamespace;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.linux.SocketAddresses;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.esp.Lifetime;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Raw ESP into gateway B's inbound agent through the real kernel: namespaces
 * {@code rawesp-<pid>-wa} and {@code -wb} joined by veth (MTU 16,000), B's port a
 * {@link LinuxEspPort} with batches on. A sends ESP its outbound path sealed, in one sendmmsg,
 * and, through a socket that writes its own IPv4 headers, what a hostile or odd sender puts on
 * the wire: a header with options, an ESP packet in two fragments, a lone fragment, ESP for
 * another address of B's host, ESP cut to four bytes, and ESP longer than a receive slot. Each
 * ends opened, dropped and counted, or never seen; nothing is thrown and nothing else dropped.
 * Needs root, as CI has.
 */
class RawEspInboundTest {
    static final String A = "10.204.0.1";
    static final String B = "10.204.0.2";
    /** Another address of B's host: no socket of the gateway's is bound to it. */
    static final String B_OTHER = "10.204.0.9";

    final ForwardingTest t = new ForwardingTest();
    final ForwardingTest.Capture tunOfB = new ForwardingTest.Capture();
    final InMemoryTun tunB = new InMemoryTun(true, true, tunOfB.tunFrames(true));
    NetNamespace wa;
    NetNamespace wb;
    LinuxEspPort portB;
    DatagramSocket espA;
    /** A's socket for hand-made IPv4 packets (IPPROTO_RAW: the header is ours, bar checksum and length). */
    int headersA = -1;
    final Libc.CallState s = new Libc.CallState();

    @BeforeEach
    void namespaces() throws Exception {
        String why = "root".equals(System.getProperty("user.name")) ? null : "raw sockets and namespaces need root; CI runs as root";
        assertNull(why, why);
        wa = new NetNamespace("rawesp", "wa");
        wb = new NetNamespace("rawesp", "wb");
        NetNamespace.run("ip", "link", "add", "rawesp-wa", "netns", wa.name, "mtu", "16000", "type", "veth", "peer", "name", "rawesp-wb",
                "netns", wb.name, "mtu", "16000");
        wa.ip("addr", "add", A + "/24", "dev", "rawesp-wa");
        wb.ip("addr", "add", B + "/24", "dev", "rawesp-wb");
        wb.ip("addr", "add", B_OTHER + "/24", "dev", "rawesp-wb");
        wa.ip("link", "set", "rawesp-wa", "up");
        wb.ip("link", "set", "rawesp-wb", "up");
        portB = wb.inside(() -> LinuxEspPort.open(List.of(InetAddress.getByName(B)), 4500, true, 1 << 22, true));
        espA = wa.inside(() -> DatagramSocket.rawEsp(new InetSocketAddress(InetAddress.getByName(A), 0), 1 << 22));
        headersA = wa.inside(() -> Libc.socket(s, Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 255));
        assertTrue(headersA >= 0, Libc.describe(-headersA));
        NetNamespace.run("ip", "netns", "exec", wa.name, "ping", "-c", "1", "-W", "5", B);
        t.tunnels(false);
        t.childSa(0x1001, 0x2002, ForwardingTest.ANY, ForwardingTest.ANY, Lifetime.UNLIMITED);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (headersA >= 0) {
            Libc.close(s, headersA);
        }
        if (espA != null) {
            espA.close();
        }
        if (portB != null) {
            portB.close();
        }
        if (wa != null) {
            wa.close();
        }
        if (wb != null) {
            wb.close();
        }
    }

    /** An inner UDP packet from site A to site B, a flow of its own (so B's TUN port does not merge it with another). */
    static byte[] inner(int n) {
        return Packets.udp4("192.168.10.5", "192.168.20.7", 5000 + n, 53, 1000);
    }

    /** ESP for {@code to}, sent with an IPv4 header we write: {@code options} bytes of NOPs, fragment bits as given. */
    void sendWithHeader(byte[] esp, int espOffset, int espLength, String to, int options, int id, int fragment) throws Exception {
        int h = 20 + options;
        byte[] p = new byte[h + espLength];
        p[0] = (byte) (0x40 | (h / 4));
        p[4] = (byte) (id >>> 8);
        p[5] = (byte) id;
        p[6] = (byte) (fragment >>> 8);
        p[7] = (byte) fragment;
        p[8] = 64;
        p[9] = 50;
        System.arraycopy(InetAddress.getByName(A).getAddress(), 0, p, 12, 4);
        System.arraycopy(InetAddress.getByName(to).getAddress(), 0, p, 16, 4);
        Arrays.fill(p, 20, h, (byte) 1); // NOP options
        System.arraycopy(esp, espOffset, p, h, espLength);
        PacketBuffer b = new PacketBuffer(p.length);
        System.arraycopy(p, 0, b.bytes(), 0, p.length);
        InetSocketAddress dst = new InetSocketAddress(InetAddress.getByName(to), 0);
        int r = Libc.sendto(s, headersA, b.at(0), p.length, SocketAddresses.of(dst), SocketAddresses.length(dst));
        assertEquals(p.length, r, r < 0 ? Libc.describe(-r) : "sent");
    }

    void sendEsp(byte[] esp, String to) {
        PacketBuffer b = new PacketBuffer(esp.length);
        System.arraycopy(esp, 0, b.bytes(), 0, esp.length);
        InetSocketAddress dst = new InetSocketAddress(parse(to), 0);
        MemorySegment at = SocketAddresses.of(dst);
        assertEquals(1, espA.sendSegments(s, b, 0, esp.length, esp.length, at, SocketAddresses.length(dst)));
    }

    static InetAddress parse(String a) {
        try {
            return InetAddress.getByName(a);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** B's inbound duty cycles until its tunnel has taken {@code packets} (30 s at most, as the machine may be loaded). */
    void awaitIngress(InboundAgent inB, long packets) throws InterruptedException {
        Counters c = ForwardingTest.tunnelCounters(t.b, "to-a");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (c.ingressPackets() < packets && System.nanoTime() < deadline) {
            if (inB.doWork() == 0) {
                Thread.sleep(2);
            }
        }
        assertEquals(packets, c.ingressPackets());
    }

    @Test
    void oddAndHostileRawEspIsOpenedOrDroppedAndCountedNeverThrown() throws Exception {
        InboundAgent inB = new InboundAgent(t.b.forwarding(), portB.receivers(), tunB, tunOfB, t.b.globalCounters(), 1350, t.b.captureSwitch());
        Counters global = t.b.globalCounters();
        Counters tunnel = ForwardingTest.tunnelCounters(t.b, "to-a");
        List<byte[]> inners = new ArrayList<>();
        List<byte[]> esp = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            inners.add(inner(i));
            esp.add(t.sendFromA(inners.getLast()).getFirst());
        }
        // 1. Twenty sealed packets back to back, one sendmmsg, as A's outbound path sends a run.
        int size = esp.getFirst().length;
        PacketBuffer run = new PacketBuffer(20 * size);
        for (int i = 0; i < 20; i++) {
            assertEquals(size, esp.get(i).length);
            System.arraycopy(esp.get(i), 0, run.bytes(), i * size, size);
        }
        InetSocketAddress b = new InetSocketAddress(parse(B), 0);
        assertEquals(20, espA.sendSegments(s, run, 0, 20 * size, size, SocketAddresses.of(b), SocketAddresses.length(b)));
        awaitIngress(inB, 20);
        // 2. An outer header with options (IHL 6): ESP starts after them.
        sendWithHeader(esp.get(20), 0, size, B, 4, 0x4201, 0x4000);
        // 3. ESP in two fragments, which B's kernel puts together.
        sendWithHeader(esp.get(21), 0, 512, B, 0, 0x4202, 0x2000);
        sendWithHeader(esp.get(21), 512, size - 512, B, 0, 0x4202, 512 / 8);
        // 4. A first fragment whose rest never comes: nothing reaches the gateway.
        sendWithHeader(esp.get(22), 0, 512, B, 0, 0x4203, 0x2000);
        // 5. ESP for another address of B's host: not for the gateway's socket.
        sendEsp(esp.get(23), B_OTHER);
        // 6. ESP cut to four bytes: no room for an SPI and a sequence number.
        sendEsp(Arrays.copyOf(esp.get(23), 4), B);
        // 7. Longer than a receive slot: cut by the kernel, flagged, dropped.
        byte[] huge = Arrays.copyOf(esp.get(23), DatagramSocket.RECEIVE_SLOT);
        sendEsp(huge, B);
        // The last, a sealed packet: once it is in, all before it were handled.
        sendEsp(esp.get(24), B);
        awaitIngress(inB, 23);
        assertEquals(1, global.drops(Drop.ESP_TOO_SHORT));
        assertEquals(1, global.drops(Drop.RECEIVE_TRUNCATED));
        assertEquals(2, global.drops(), "nothing else dropped: " + t.b.globalCounters());
        assertEquals(0, tunnel.drops(), "the tunnel dropped nothing (no replay, no bad ICV)");
        // What B wrote to its TUN device: the inner packets of 1 to 3 and the last, in order, intact.
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 22; i++) {
            expected.add(i);
        }
        expected.add(24);
        assertEquals(expected.size(), tunOfB.tun.size());
        for (int k = 0; k < expected.size(); k++) {
            assertArrayEquals(inners.get(expected.get(k)), tunOfB.tun.get(k), "inner packet " + expected.get(k));
        }
    }
}
