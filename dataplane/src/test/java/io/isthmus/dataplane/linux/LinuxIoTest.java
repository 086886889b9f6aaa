package io.isthmus.dataplane.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The FFM layer against the real kernel: a TUN device and raw ESP sockets. Needs root, as CI has. */
class LinuxIoTest {

    @BeforeAll
    static void root() {
        String why = "root".equals(System.getProperty("user.name")) ? null : "TUN devices and raw sockets need root; CI runs as root";
        assertNull(why, why);
    }

    static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    /** Fills in the checksum of the 20-byte IPv4 header at {@code p[h]} (its checksum field zero). */
    static void ipv4HeaderChecksum(byte[] p, int h) {
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((p[h + i] & 0xFF) << 8) | (p[h + i + 1] & 0xFF);
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = ~((sum & 0xFFFF) + (sum >>> 16)) & 0xFFFF;
        p[h + 10] = (byte) (sum >>> 8);
        p[h + 11] = (byte) sum;
    }

    static int awaitRead(java.util.function.IntSupplier read) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            int n = read.getAsInt();
            if (n != 0) {
                return n;
            }
            Thread.sleep(10);
        }
        return 0;
    }

    /*
     * A datagram sent to 10.99.7.2 leaves through the TUN device (10.99.7.1/24): read it there,
     * then write an answer into the device and receive it on the socket.
     */
    @Test
    void packetsThroughATunDevice() throws Exception {
        try (TunDevice tun = TunDevice.open("isthmus-t0", false)) {
            assertFalse(tun.vnetHeader());
            ip("addr", "add", "10.99.7.1/24", "dev", "isthmus-t0");
            ip("link", "set", "isthmus-t0", "up");
            Libc.CallState s = new Libc.CallState();
            PacketBuffer buf = new PacketBuffer(4096);
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getByName("10.99.7.1"), 0));
                ch.configureBlocking(false);
                int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
                ch.send(ByteBuffer.wrap("hello".getBytes()), new InetSocketAddress("10.99.7.2", 9));
                // The kernel may send its own IPv6 packets (router solicitations) first: skip them.
                int n;
                do {
                    n = awaitRead(() -> tun.read(s, buf, 100, 2000));
                } while (n > 0 && (buf.bytes()[100] & 0xF0) == 0x60);
                byte[] p = buf.bytes();
                assertEquals(0x45, p[100]);
                assertEquals(17, p[109], "UDP");
                assertEquals(33, n);
                assertEquals("hello", new String(p, 128, 5));
                // Answer: swap addresses and ports, fix the IPv4 checksum, UDP checksum 0 (none).
                byte[] answer = new byte[33];
                System.arraycopy(p, 100, answer, 0, 33);
                System.arraycopy(p, 116, answer, 12, 4);
                System.arraycopy(p, 112, answer, 16, 4);
                answer[20] = p[122];
                answer[21] = p[123];
                answer[22] = (byte) (port >>> 8);
                answer[23] = (byte) port;
                answer[26] = answer[27] = 0;
                answer[10] = answer[11] = 0;
                ipv4HeaderChecksum(answer, 0);
                System.arraycopy(answer, 0, buf.bytes(), 0, 33);
                assertEquals(33, tun.write(s, buf, 0, 33));
                ByteBuffer got = ByteBuffer.allocate(100);
                for (int i = 0; i < 200 && ch.receive(got) == null; i++) {
                    Thread.sleep(10);
                }
                assertEquals("hello", new String(got.array(), 0, got.position()));
            }
        }
    }

    /** With offloads (this kernel has them all), the device is opened with a virtio header and TSO. */
    @Test
    void aTunDeviceWithOffloadsPutsAVirtioHeaderBeforeEachPacket() throws Exception {
        try (TunDevice tun = TunDevice.open("isthmus-t1")) {
            assertTrue(tun.vnetHeader(), tun.offloads());
            assertTrue(tun.tso(), tun.offloads());
            ip("addr", "add", "10.99.8.1/24", "dev", "isthmus-t1");
            ip("link", "set", "isthmus-t1", "up");
            Libc.CallState s = new Libc.CallState();
            PacketBuffer buf = new PacketBuffer(70_000);
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getByName("10.99.8.1"), 0));
                ch.send(ByteBuffer.wrap("hello".getBytes()), new InetSocketAddress("10.99.8.2", 9));
                int n;
                do {
                    n = awaitRead(() -> tun.read(s, buf, 0, 70_000));
                } while (n > 0 && (buf.bytes()[TunDevice.VNET_HEADER] & 0xF0) == 0x60);
                assertEquals(TunDevice.VNET_HEADER + 33, n);
                assertEquals(0, buf.bytes()[1], "gso_type: none");
                assertEquals(0x45, buf.bytes()[TunDevice.VNET_HEADER]);
                assertEquals("hello", new String(buf.bytes(), TunDevice.VNET_HEADER + 28, 5));
            }
        }
    }

    /*
     * The kernel takes a UDP super-packet back (USO on write): five datagrams merged, with a
     * virtio header, written into the device, arrive at a local socket as five.
     */
    @Test
    void aUdpSuperPacketWrittenToTheTunArrivesAsDatagrams() throws Exception {
        try (TunDevice tun = TunDevice.open("isthmus-t2")) {
            // CI's kernel (6.18) has it; a kernel before 6.2 would not, and the data plane would merge only TCP.
            assertTrue(tun.uso(), "this kernel has no USO on TUN (Linux 6.2): " + tun.offloads());
            ip("addr", "add", "10.99.9.1/24", "dev", "isthmus-t2");
            ip("link", "set", "isthmus-t2", "up");
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getByName("10.99.9.1"), 0));
                ch.configureBlocking(false);
                int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
                int h = TunDevice.VNET_HEADER;
                PacketBuffer buf = new PacketBuffer(4096);
                byte[] p = buf.bytes();
                int len = 20 + 8 + 5 * 100;
                p[0] = 1; // NEEDS_CSUM
                p[1] = 5; // GSO_UDP_L4
                p[2] = 28; // hdr_len
                p[4] = 100; // gso_size
                p[6] = 20; // csum_start
                p[8] = 6; // csum_offset
                p[h] = 0x45;
                p[h + 2] = (byte) (len >>> 8);
                p[h + 3] = (byte) len;
                p[h + 8] = 64;
                p[h + 9] = 17;
                System.arraycopy(InetAddress.getByName("10.99.9.2").getAddress(), 0, p, h + 12, 4);
                System.arraycopy(InetAddress.getByName("10.99.9.1").getAddress(), 0, p, h + 16, 4);
                ipv4HeaderChecksum(p, h);
                p[h + 20] = 0x1e;
                p[h + 21] = 0x61; // source port 7777
                p[h + 22] = (byte) (port >>> 8);
                p[h + 23] = (byte) port;
                p[h + 24] = (byte) ((len - 20) >>> 8);
                p[h + 25] = (byte) (len - 20);
                for (int i = 0; i < 500; i++) {
                    p[h + 28 + i] = (byte) (i / 100);
                }
                // Pseudo-header sum: addresses, protocol, UDP length.
                long ps = 0x0a63 + 0x0902 + 0x0a63 + 0x0901 + 17 + (len - 20);
                ps = (ps & 0xFFFF) + (ps >>> 16);
                p[h + 26] = (byte) (ps >>> 8);
                p[h + 27] = (byte) ps;
                Libc.CallState s = new Libc.CallState();
                assertEquals(h + len, tun.write(s, buf, 0, h + len));
                java.util.List<Integer> got = new java.util.ArrayList<>();
                ByteBuffer d = ByteBuffer.allocate(2000);
                for (int i = 0; i < 200 && got.size() < 5; i++) {
                    d.clear();
                    if (ch.receive(d) == null) {
                        Thread.sleep(10);
                    } else {
                        assertEquals(100, d.position());
                        got.add((int) d.get(0));
                    }
                }
                assertEquals(List.of(0, 1, 2, 3, 4), got);
            }
        }
    }

    /*
     * UDP GSO and GRO as the data plane uses them, over loopback: ten datagrams leave in one call
     * and arrive in one receive, with their size; a lone longer datagram is not cut, and neither
     * is a control-plane message sent whole.
     */
    @Test
    void udpSegmentsLeaveInOneCallAndArriveInOneReceive() throws Exception {
        InetSocketAddress lo = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
        try (DatagramSocket receiver = DatagramSocket.udp(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 45_001), 1 << 20);
             DatagramSocket sender = DatagramSocket.udp(lo, 1 << 20)) {
            assertTrue(sender.gso() && receiver.gro(), sender.offloads());
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(20_000);
            for (int i = 0; i < 9_500; i++) {
                out.bytes()[i] = (byte) (i / 1000);
            }
            InetSocketAddress to = receiver.localAddress();
            assertEquals(10, sender.sendSegments(s, out, 0, 9_500, 1000, SocketAddresses.of(to), SocketAddresses.length(to)));
            PacketBuffer in = new PacketBuffer(70_000);
            int n = awaitRead(() -> receiver.receive(s, in, 0, 70_000));
            assertEquals(9_500, n, "one receive");
            assertEquals(1000, receiver.lastSegmentSize());
            assertEquals(9, in.bytes()[9_000]);
            assertEquals(1, sender.sendSegments(s, out, 0, 3000, 3000, SocketAddresses.of(to), SocketAddresses.length(to)));
            assertEquals(3000, awaitRead(() -> receiver.receive(s, in, 0, 70_000)));
            sender.sendSegments(s, out, 0, 2000, 1000, SocketAddresses.of(to), SocketAddresses.length(to));
            assertEquals(2000, awaitRead(() -> receiver.receive(s, in, 0, 70_000)));
            assertEquals(5000, sender.sendWhole(s, new byte[5000], to));
            assertEquals(5000, awaitRead(() -> receiver.receive(s, in, 0, 70_000)));
            assertEquals(5000, receiver.lastSegmentSize(), "not cut at the socket's segment size");
        }
    }

    @Test
    void rawEspSocketsCarryProtocol50() throws Exception {
        InetSocketAddress lo = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
        try (DatagramSocket receiver = DatagramSocket.rawEsp(lo, 1 << 20); DatagramSocket sender = DatagramSocket.rawEsp(lo, 1 << 20)) {
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(256);
            byte[] esp = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9, 9, 9, 9};
            System.arraycopy(esp, 0, out.bytes(), 10, esp.length);
            var to = SocketAddresses.of(lo);
            assertEquals(esp.length, sender.send(s, out, 10, esp.length, to, SocketAddresses.length(lo)));
            PacketBuffer in = new PacketBuffer(2048);
            int n = awaitRead(() -> receiver.receive(s, in, 0, 2048));
            int off = receiver.payloadOffset(in.bytes(), 0);
            assertEquals(20, off, "a raw IPv4 socket returns the IP header first");
            assertEquals(esp.length, n - off);
            assertEquals(0x12, in.bytes()[off]);
            assertEquals(InetAddress.getByName("127.0.0.1"), SocketAddresses.read(s.lastSource()).getAddress());
        }
    }

    @Test
    void errorsNameTheCause() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.net.BindException.class,
                () -> DatagramSocket.udp(new InetSocketAddress(InetAddress.getByName("192.0.2.77"), 4500), 1 << 16));
        assertEquals("cannot bind ESP in UDP to 192.0.2.77:4500: Cannot assign requested address (is the address on this host?)", e.getMessage());
        var t = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TunDevice.open("a-name-far-too-long-for-linux"));
        assertTrue(t.getMessage().contains("1 to 15 characters"), t.getMessage());
    }
}
