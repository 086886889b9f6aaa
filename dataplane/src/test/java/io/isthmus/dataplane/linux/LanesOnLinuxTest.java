package io.isthmus.dataplane.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.conn.LinuxEspPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the lanes rely on the kernel for, against the real kernel (root, as CI has): an
 * SO_REUSEPORT group of UDP sockets gives each datagram to one socket and one peer's datagrams
 * always to the same one; a multi-queue TUN device gives each packet to one queue and one
 * flow's packets always to the same one, and spreads flows over the queues.
 */
class LanesOnLinuxTest {
    private static final int LANES = 4;

    @BeforeAll
    static void root() {
        String why = "TUN devices and SO_REUSEPORT groups on port 4500 need root; CI runs as root";
        assertNull("root".equals(System.getProperty("user.name")) ? null : why, why);
    }

    @Test
    void aReusePortGroupGivesEachPeerToOneLaneAndEachDatagramOnce() throws Exception {
        int port;
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        try (LinuxEspPort esp = LinuxEspPort.open(List.of(InetAddress.getLoopbackAddress()), List.of(), port, false, 1 << 20, false, LANES)) {
            assertEquals(LANES, esp.lanes());
            int peers = 32;
            int each = 3;
            List<DatagramChannel> senders = new ArrayList<>();
            try {
                for (int p = 0; p < peers; p++) {
                    DatagramChannel c = DatagramChannel.open();
                    c.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    senders.add(c);
                    for (int i = 0; i < each; i++) {
                        c.send(ByteBuffer.wrap(new byte[] {(byte) p, (byte) i, 0x55, 0x55}), new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                    }
                }
                Map<Integer, Set<Integer>> lanesOfPeer = new HashMap<>();
                Set<Integer> seen = new HashSet<>();
                PacketBuffer buffer = new PacketBuffer(65_536);
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (seen.size() < peers * each && System.nanoTime() < deadline) {
                    for (int lane = 0; lane < LANES; lane++) {
                        for (EspPort.Receiver r : esp.receivers(lane)) {
                            int n;
                            while ((n = r.receive(buffer)) > 0) {
                                assertEquals(4, n);
                                int peer = buffer.bytes()[0];
                                assertTrue(seen.add(peer * each + buffer.bytes()[1]), "datagram " + peer + "/" + buffer.bytes()[1] + " received twice");
                                lanesOfPeer.computeIfAbsent(peer, k -> new HashSet<>()).add(lane);
                                assertEquals(senders.get(peer).getLocalAddress(), r.lastSource(), "the sender is the peer that sent it");
                            }
                        }
                    }
                    Thread.sleep(1);
                }
                assertEquals(peers * each, seen.size(), "every datagram received once");
                lanesOfPeer.forEach((peer, lanes) -> assertEquals(1, lanes.size(), "peer " + peer + " reached lanes " + lanes));
                Set<Integer> used = new HashSet<>();
                lanesOfPeer.values().forEach(used::addAll);
                assertTrue(used.size() > 1, "32 peers spread over more than one lane: " + used);
            } finally {
                for (DatagramChannel c : senders) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aMultiQueueTunDeviceGivesEachFlowToOneQueueAndEachPacketOnce() throws Exception {
        String name = "cores-" + ProcessHandle.current().pid() % 100_000 + "q";
        List<TunDevice> queues = TunDevice.openQueues(name, false, LANES);
        try {
            assertEquals(LANES, queues.size());
            assertEquals(LANES, queues.stream().mapToInt(TunDevice::fd).distinct().count(), "a descriptor per queue");
            LinuxIoTest.ip("addr", "add", "10.97.3.1/24", "dev", name);
            LinuxIoTest.ip("link", "set", name, "up");
            int flows = 32;
            int each = 3;
            List<DatagramChannel> senders = new ArrayList<>();
            Map<Integer, Integer> flowOfPort = new HashMap<>();
            try {
                for (int f = 0; f < flows; f++) {
                    DatagramChannel c = DatagramChannel.open();
                    c.bind(new InetSocketAddress(InetAddress.getByName("10.97.3.1"), 0));
                    senders.add(c);
                    flowOfPort.put(((InetSocketAddress) c.getLocalAddress()).getPort(), f);
                    for (int i = 0; i < each; i++) {
                        c.send(ByteBuffer.wrap(new byte[] {(byte) f, (byte) i}), new InetSocketAddress("10.97.3.2", 9));
                    }
                }
                Libc.CallState s = new Libc.CallState();
                PacketBuffer buffer = new PacketBuffer(4096);
                Map<Integer, Set<Integer>> queuesOfFlow = new HashMap<>();
                Set<Integer> seen = new HashSet<>();
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (seen.size() < flows * each && System.nanoTime() < deadline) {
                    for (int q = 0; q < LANES; q++) {
                        int n;
                        while ((n = queues.get(q).read(s, buffer, 0, 4096)) > 0) {
                            byte[] p = buffer.bytes();
                            if ((p[0] & 0xF0) != 0x40 || p[9] != 17) {
                                continue; // the kernel's own IPv6 router solicitations and the like
                            }
                            Integer flow = flowOfPort.get(((p[20] & 0xFF) << 8) | (p[21] & 0xFF));
                            assertEquals(30, n);
                            assertEquals(flow.intValue(), p[28]);
                            assertTrue(seen.add(flow * each + p[29]), "packet " + flow + "/" + p[29] + " read twice");
                            queuesOfFlow.computeIfAbsent(flow, k -> new HashSet<>()).add(q);
                        }
                    }
                    Thread.sleep(1);
                }
                assertEquals(flows * each, seen.size(), "every packet read once, from one queue");
                queuesOfFlow.forEach((flow, qs) -> assertEquals(1, qs.size(), "flow " + flow + " read from queues " + qs));
                Set<Integer> used = new HashSet<>();
                queuesOfFlow.values().forEach(used::addAll);
                assertTrue(used.size() > 1, "32 flows spread over more than one queue: " + used);
            } finally {
                for (DatagramChannel c : senders) {
                    c.close();
                }
            }
        } finally {
            queues.forEach(TunDevice::close);
        }
    }
}
