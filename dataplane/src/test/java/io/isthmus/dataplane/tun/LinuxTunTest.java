package io.isthmus.dataplane.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.ip.IpPacket;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.linux.TunDevice;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TUN port over the kernel's device, with and without its virtio header: a datagram sent
 * into the device's subnet is read as a batch of one plain packet, and an answer written through
 * the port (held for merging until the flush, where the device merges) reaches the sender. Needs
 * root, as CI has.
 */
class LinuxTunTest {
    @BeforeAll
    static void root() {
        String why = "root".equals(System.getProperty("user.name")) ? null : "TUN devices need root; CI runs as root";
        assertNull(why, why);
    }

    static void ip(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aDatagramReadAndAnAnswerWrittenThroughThePort(boolean offloads) throws Exception {
        String name = offloads ? "isthmus-t6" : "isthmus-t5";
        String net = offloads ? "10.99.12." : "10.99.11.";
        try (TunDevice device = TunDevice.open(name, offloads)) {
            assertEquals(offloads, device.vnetHeader(), device.offloads());
            ip("addr", "add", net + "1/24", "dev", name);
            ip("link", "set", name, "up");
            TunPort port = new LinuxTun(device);
            TunBatch batch = new TunBatch();
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getByName(net + "1"), 0));
                ch.configureBlocking(false);
                int localPort = ((InetSocketAddress) ch.getLocalAddress()).getPort();
                ch.send(ByteBuffer.wrap("hello".getBytes()), new InetSocketAddress(net + "2", 9));
                // The kernel may send its own IPv6 packets (router solicitations) first: skip them.
                boolean got = false;
                for (int i = 0; i < 200 && !got; i++) {
                    if (!port.read(batch)) {
                        Thread.sleep(10);
                    } else {
                        got = IpPacket.version(batch.bytes(), batch.ipOffset()) == 4;
                    }
                }
                assertTrue(got, "no IPv4 packet read from " + name);
                assertEquals(1, batch.count());
                assertFalse(batch.segmented());
                assertEquals(33, batch.length(0));
                byte[] p = new byte[TunPort.HEADROOM + 33];
                batch.copy(0, p, TunPort.HEADROOM);
                int h = TunPort.HEADROOM;
                assertEquals("hello", new String(p, h + 28, 5));
                assertEquals(0xFFFF, udpSum(p, h), "the checksum is complete (with offloads the kernel left it to us)");
                // Answer: addresses and ports swapped, UDP checksum 0 (none), IPv4 checksum again.
                byte[] answer = p.clone();
                System.arraycopy(p, h + 16, answer, h + 12, 4);
                System.arraycopy(p, h + 12, answer, h + 16, 4);
                IpPacket.put16(answer, h + 20, IpPacket.u16(p, h + 22));
                IpPacket.put16(answer, h + 22, localPort);
                IpPacket.put16(answer, h + 26, 0);
                IpPacket.put16(answer, h + 10, 0);
                IpPacket.put16(answer, h + 10, ~IpPacket.sum(answer, h, 20, 0));
                PacketBuffer out = new PacketBuffer(answer.length);
                System.arraycopy(answer, 0, out.bytes(), 0, answer.length);
                int[] refused = new int[1];
                port.write(out, h, 33, packets -> refused[0] += packets);
                port.flush();
                assertEquals(0, refused[0]);
                ByteBuffer reply = ByteBuffer.allocate(100);
                for (int i = 0; i < 200 && ch.receive(reply) == null; i++) {
                    Thread.sleep(10);
                }
                assertEquals("hello", new String(reply.array(), 0, reply.position()));
            }
        }
    }

    /** The UDP checksum over pseudo-header and datagram: 0xFFFF when right. */
    static int udpSum(byte[] p, int ip) {
        int len = IpPacket.totalLength(p, ip) - 20;
        return IpPacket.sum(p, ip + 20, len, IpPacket.pseudoHeaderSum(p, ip, IpPacket.PROTO_UDP, len));
    }
}
