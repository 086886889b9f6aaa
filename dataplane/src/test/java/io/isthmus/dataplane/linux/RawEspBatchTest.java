package io.isthmus.dataplane.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Raw ESP in batches against the real kernel, over the loopback of a namespace of its own
 * ({@code rawesp-<pid>-lo}): a run of ESP packets leaves in one sendmmsg and each arrives as
 * its own datagram through recvmmsg, in order, with its sender; a datagram longer than a
 * receive slot is flagged, not passed on as if whole; a kernel that refuses the calls (a
 * seccomp filter here) leaves the socket working one call per packet; and neither way
 * allocates per packet. Needs root, as CI has.
 */
class RawEspBatchTest {
    static NetNamespace ns;
    static InetSocketAddress receiverAt;
    static InetSocketAddress senderAt;

    @BeforeAll
    static void namespace() throws Exception {
        String why = "root".equals(System.getProperty("user.name")) ? null : "raw sockets and namespaces need root; CI runs as root";
        assertNull(why, why);
        ns = new NetNamespace("rawesp", "lo");
        // Two addresses, so the sender's raw socket (bound to .2) does not also take what goes to .1.
        receiverAt = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
        senderAt = new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0);
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (ns != null) {
            ns.close();
        }
    }

    /** ESP-looking packets back to back in {@code out}: packet i is {@code size} bytes of {@code (byte) (i + first)}, its SPI 0x1234 and sequence number i + first. */
    static void fill(PacketBuffer out, int count, int size, int first) {
        for (int i = 0; i < count; i++) {
            int at = i * size;
            java.util.Arrays.fill(out.bytes(), at, at + size, (byte) (i + first));
            out.bytes()[at] = 0;
            out.bytes()[at + 1] = 0;
            out.bytes()[at + 2] = 0x12;
            out.bytes()[at + 3] = 0x34;
            int seq = i + first;
            out.bytes()[at + 4] = (byte) (seq >>> 24);
            out.bytes()[at + 5] = (byte) (seq >>> 16);
            out.bytes()[at + 6] = (byte) (seq >>> 8);
            out.bytes()[at + 7] = (byte) seq;
        }
    }

    /** Receives until {@code count} datagrams arrived (or 20 s passed): each as {IP header length, ESP length, sequence number, last byte}. */
    static List<int[]> receive(DatagramSocket socket, Libc.CallState s, PacketBuffer in, int count) throws InterruptedException {
        List<int[]> got = new ArrayList<>();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (got.size() < count && System.nanoTime() < deadline) {
            int n = socket.receive(s, in, 0, in.capacity());
            if (n <= 0) {
                Thread.sleep(5);
                continue;
            }
            assertFalse(socket.lastTruncated());
            int off = socket.payloadOffset(in.bytes(), 0);
            byte[] b = in.bytes();
            int seq = ((b[off + 4] & 0xFF) << 24) | ((b[off + 5] & 0xFF) << 16) | ((b[off + 6] & 0xFF) << 8) | (b[off + 7] & 0xFF);
            got.add(new int[] {off, n - off, seq, b[n - 1]});
        }
        return got;
    }

    @Test
    void aRunLeavesInOneCallAndArrivesAsItsDatagramsInOrder() throws Exception {
        try (DatagramSocket receiver = ns.inside(() -> DatagramSocket.rawEsp(receiverAt, 1 << 22));
             DatagramSocket sender = ns.inside(() -> DatagramSocket.rawEsp(senderAt, 1 << 22))) {
            assertTrue(sender.vectored() && receiver.vectored(), sender.offloads());
            assertEquals("sendmmsg, recvmmsg (64 datagrams a call)", sender.offloads());
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(70_000);
            // 43 of 1,400 bytes and a last one of 300: what the outbound path hands over for one SA.
            fill(out, 44, 1400, 0);
            MemorySegment to = SocketAddresses.of(receiverAt);
            assertEquals(44, sender.sendSegments(s, out, 0, 43 * 1400 + 300, 1400, to, SocketAddresses.length(receiverAt)));
            // 150 more in three runs: more than one recvmmsg holds, handed out in order.
            for (int run = 0; run < 3; run++) {
                fill(out, 50, 200, 44 + 50 * run);
                assertEquals(50, sender.sendSegments(s, out, 0, 50 * 200, 200, to, SocketAddresses.length(receiverAt)));
            }
            PacketBuffer in = new PacketBuffer(70_000);
            List<int[]> got = receive(receiver, s, in, 194);
            assertEquals(194, got.size());
            for (int i = 0; i < 194; i++) {
                int[] g = got.get(i);
                assertEquals(20, g[0], "the IPv4 header first");
                assertEquals(i < 43 ? 1400 : i == 43 ? 300 : 200, g[1], "datagram " + i);
                assertEquals(i, g[2], "in order");
                assertEquals((byte) i, (byte) g[3], "its own bytes");
            }
            assertEquals(InetAddress.getByName("127.0.0.2"), SocketAddresses.read(s.lastSource()).getAddress());
            assertEquals(0, receiver.receive(s, in, 0, in.capacity()), "drained");
        }
    }

    /** A raw IPv6 socket hands over ESP without the IP header: the same batches, offset 0. */
    @Test
    void overIpv6TooWithoutAnIpHeader() throws Exception {
        ns.ip("-6", "addr", "add", "fd00:e5b::2/128", "dev", "lo");
        InetSocketAddress at = new InetSocketAddress(InetAddress.getByName("::1"), 0);
        try (DatagramSocket receiver = ns.inside(() -> DatagramSocket.rawEsp(at, 1 << 22));
             DatagramSocket sender = ns.inside(() -> DatagramSocket.rawEsp(new InetSocketAddress(InetAddress.getByName("fd00:e5b::2"), 0), 1 << 22))) {
            assertTrue(sender.vectored() && receiver.vectored(), sender.offloads());
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(20_000);
            fill(out, 10, 1000, 3);
            MemorySegment to = SocketAddresses.of(at);
            assertEquals(10, sender.sendSegments(s, out, 0, 10 * 1000, 1000, to, SocketAddresses.length(at)));
            List<int[]> got = receive(receiver, s, new PacketBuffer(70_000), 10);
            assertEquals(List.of(3, 4, 5, 6, 7, 8, 9, 10, 11, 12), got.stream().map(g -> g[2]).toList());
            assertTrue(got.stream().allMatch(g -> g[0] == 0 && g[1] == 1000), "no header before ESP");
            assertEquals(InetAddress.getByName("fd00:e5b::2"), SocketAddresses.read(s.lastSource()).getAddress());
        }
    }

    @Test
    void aDatagramLongerThanAReceiveSlotIsFlaggedTruncated() throws Exception {
        try (DatagramSocket receiver = ns.inside(() -> DatagramSocket.rawEsp(receiverAt, 1 << 22));
             DatagramSocket sender = ns.inside(() -> DatagramSocket.rawEsp(senderAt, 1 << 22))) {
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(70_000);
            MemorySegment to = SocketAddresses.of(receiverAt);
            int tooLong = DatagramSocket.RECEIVE_SLOT - 20 + 1;
            fill(out, 1, tooLong, 7);
            assertEquals(1, sender.sendSegments(s, out, 0, tooLong, tooLong, to, SocketAddresses.length(receiverAt)), "loopback's MTU is 65,536");
            fill(out, 1, DatagramSocket.RECEIVE_SLOT - 20, 8);
            assertEquals(1, sender.sendSegments(s, out, 0, DatagramSocket.RECEIVE_SLOT - 20, DatagramSocket.RECEIVE_SLOT - 20, to,
                    SocketAddresses.length(receiverAt)));
            PacketBuffer in = new PacketBuffer(70_000);
            int n = LinuxIoTest.awaitRead(() -> receiver.receive(s, in, 0, in.capacity()));
            assertEquals(DatagramSocket.RECEIVE_SLOT, n, "cut at the slot");
            assertTrue(receiver.lastTruncated());
            n = LinuxIoTest.awaitRead(() -> receiver.receive(s, in, 0, in.capacity()));
            assertEquals(DatagramSocket.RECEIVE_SLOT, n, "one that fits exactly");
            assertFalse(receiver.lastTruncated());
            assertEquals(8, in.bytes()[27]);
        }
    }

    /*
     * A seccomp filter on one thread makes sendmmsg and recvmmsg fail with ENOSYS there, as a
     * sandbox without them would: the socket opened on that thread says why it has no batches,
     * and carries a run one datagram per call.
     */
    @Test
    void whereTheKernelRefusesTheCallsTheSocketFallsBackToOneCallPerDatagram() throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("rawesp-seccomp").start(() -> {
            try {
                Seccomp.refuseMultipleMessageCalls();
                try (DatagramSocket receiver = ns.inside(() -> DatagramSocket.rawEsp(receiverAt, 1 << 22));
                     DatagramSocket sender = ns.inside(() -> DatagramSocket.rawEsp(senderAt, 1 << 22))) {
                    assertFalse(sender.vectored());
                    assertEquals("none (raw; sendmmsg/recvmmsg refused: ENOSYS (no such system call here))", sender.offloads());
                    Libc.CallState s = new Libc.CallState();
                    PacketBuffer out = new PacketBuffer(10_000);
                    fill(out, 5, 1000, 0);
                    MemorySegment to = SocketAddresses.of(receiverAt);
                    assertEquals(5, sender.sendSegments(s, out, 0, 5000, 1000, to, SocketAddresses.length(receiverAt)));
                    List<int[]> got = receive(receiver, s, new PacketBuffer(70_000), 5);
                    assertEquals(List.of(0, 1, 2, 3, 4), got.stream().map(g -> g[2]).toList());
                    assertTrue(got.stream().allMatch(g -> g[1] == 1000));
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    @Test
    void sendingAndReceivingInBatchesAllocatesNothingPerPacket() throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (DatagramSocket receiver = ns.inside(() -> DatagramSocket.rawEsp(receiverAt, 1 << 22));
             DatagramSocket sender = ns.inside(() -> DatagramSocket.rawEsp(senderAt, 1 << 22))) {
            Libc.CallState s = new Libc.CallState();
            PacketBuffer out = new PacketBuffer(70_000);
            PacketBuffer in = new PacketBuffer(70_000);
            fill(out, 44, 1400, 0);
            MemorySegment to = SocketAddresses.of(receiverAt);
            int length = SocketAddresses.length(receiverAt);
            long[] counted = new long[1];
            Runnable round = () -> {
                int sent = sender.sendSegments(s, out, 0, 44 * 1400, 1400, to, length);
                // The kernel may drop what the receiver's buffer cannot hold; what was sent is read back.
                for (int got = 0, idle = 0; got < sent && idle < 1_000_000; ) {
                    if (receiver.receive(s, in, 0, in.capacity()) > 0) {
                        got++;
                        counted[0]++;
                    } else {
                        idle++;
                    }
                }
            };
            // Until C2 has compiled the calls, the copies and checks around them allocate; warm up in
            // chunks until a chunk allocates nothing, 60 chunks at most.
            long allocated = 0;
            for (int chunk = 0; chunk < 60; chunk++) {
                counted[0] = 0;
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1_000; i++) {
                    round.run();
                }
                allocated = threads.getCurrentThreadAllocatedBytes() - before;
                if (allocated == 0) {
                    break;
                }
            }
            assertTrue(counted[0] > 1_000 * 40, counted[0] + " packets received");
            assertTrue(allocated < counted[0] / 10, allocated + " bytes allocated for " + counted[0] + " packets");
        }
    }

    /** A seccomp filter for the calling thread alone (no TSYNC): sendmmsg and recvmmsg fail with ENOSYS, all else passes. */
    static final class Seccomp {
        private static final MethodHandle PRCTL = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("prctl").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG), Linker.Option.firstVariadicArg(1));
        private static final int PR_SET_NO_NEW_PRIVS = 38;
        private static final int PR_SET_SECCOMP = 22;
        private static final int SECCOMP_MODE_FILTER = 2;

        static void refuseMultipleMessageCalls() throws Throwable {
            // This machine's numbers for the two calls (asm/unistd_64.h and the generic table).
            int arch;
            int sendmmsg;
            int recvmmsg;
            switch (System.getProperty("os.arch")) {
                case "amd64", "x86_64" -> {
                    arch = 0xC000003E;
                    sendmmsg = 307;
                    recvmmsg = 299;
                }
                case "aarch64" -> {
                    arch = 0xC00000B7;
                    sendmmsg = 269;
                    recvmmsg = 243;
                }
                default -> throw new AssertionError("no system call numbers for " + System.getProperty("os.arch") + " in this test");
            }
            int[][] program = {
                    {0x20, 0, 0, 4},              // A = seccomp_data.arch
                    {0x15, 1, 0, arch},           // this architecture? on to the numbers
                    {0x06, 0, 0, 0x7FFF0000},     // else allow
                    {0x20, 0, 0, 0},              // A = seccomp_data.nr
                    {0x15, 2, 0, sendmmsg},
                    {0x15, 1, 0, recvmmsg},
                    {0x06, 0, 0, 0x7FFF0000},     // SECCOMP_RET_ALLOW
                    {0x06, 0, 0, 0x00050000 | Libc.ENOSYS}, // SECCOMP_RET_ERRNO
            };
            Arena arena = Arena.ofAuto();
            MemorySegment filter = arena.allocate(8L * program.length, 8);
            for (int i = 0; i < program.length; i++) {
                filter.set(ValueLayout.JAVA_SHORT, 8L * i, (short) program[i][0]);
                filter.set(ValueLayout.JAVA_BYTE, 8L * i + 2, (byte) program[i][1]);
                filter.set(ValueLayout.JAVA_BYTE, 8L * i + 3, (byte) program[i][2]);
                filter.set(ValueLayout.JAVA_INT, 8L * i + 4, program[i][3]);
            }
            MemorySegment fprog = arena.allocate(16, 8);
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) program.length);
            fprog.set(ValueLayout.ADDRESS, 8, filter);
            assertEquals(0, (int) PRCTL.invokeExact(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L));
            assertEquals(0, (int) PRCTL.invokeExact(PR_SET_SECCOMP, (long) SECCOMP_MODE_FILTER, fprog.address(), 0L, 0L));
        }
    }
}
