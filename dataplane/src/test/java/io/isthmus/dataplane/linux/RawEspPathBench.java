package io.isthmus.dataplane.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which way of moving raw ESP costs the kernel least per packet: a diagnostic, not a test (run
 * by hand, as root; it prints, asserts nothing). Two namespaces ({@code rawesp-<pid>-a/b})
 * joined by veth; one thread sends 1,400-byte ESP packets from a to b as fast as the receiver
 * can, another receives them in b. For each way of sending (sendto per packet, sendmmsg of 44,
 * an AF_PACKET TX ring with and without PACKET_QDISC_BYPASS) against
 * each way of receiving (recvfrom per packet, recvmmsg of 64, an AF_PACKET TPACKET_V3 RX ring),
 * it prints packets per second and CPU microseconds per packet of each thread. Over veth the
 * receiving side's IP stack runs in the sender's system call (softirq on transmit), so the
 * sender's figure is the whole kernel path and the receiver's is its own calls and copies.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp dataplane/target/classes:dataplane/target/test-classes \
 *     io.isthmus.dataplane.linux.RawEspPathBench [seconds]
 * </pre>
 */
public final class RawEspPathBench {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle SENDTO_NULL = LINKER.downcallHandle(LINKER.defaultLookup().find("sendto").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = LINKER.downcallHandle(LINKER.defaultLookup().find("setsockopt").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final int AF_PACKET = 17;
    private static final int SOL_PACKET = 263;
    private static final int PACKET_RX_RING = 5;
    private static final int PACKET_VERSION = 10;
    private static final int PACKET_TX_RING = 13;
    private static final int PACKET_QDISC_BYPASS = 20;
    private static final int TPACKET_V2 = 1;
    private static final int TPACKET_V3 = 2;
    private static final int ESP = 1400;
    private static final int BATCH = 44;

    private final String nsA;
    private final String nsB;
    private final NetNamespace a;
    private final NetNamespace b;

    private RawEspPathBench(NetNamespace a, NetNamespace b) {
        this.a = a;
        this.b = b;
        this.nsA = a.name;
        this.nsB = b.name;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String senders = args.length > 1 ? args[1] : "sendto,sendmmsg,hdrincl,txring,txqdisc";
        String receivers = args.length > 2 ? args[2] : "recvfrom,recvmmsg,rxring";
        try (NetNamespace a = new NetNamespace("rawesp", "a"); NetNamespace b = new NetNamespace("rawesp", "b")) {
            NetNamespace.run("ip", "link", "add", "rawesp-va", "netns", a.name, "type", "veth", "peer", "name", "rawesp-vb", "netns", b.name);
            a.ip("addr", "add", "10.201.0.1/24", "dev", "rawesp-va");
            b.ip("addr", "add", "10.201.0.2/24", "dev", "rawesp-vb");
            a.ip("link", "set", "rawesp-va", "up");
            b.ip("link", "set", "rawesp-vb", "up");
            NetNamespace.run("ip", "netns", "exec", a.name, "ping", "-c", "1", "-W", "2", "10.201.0.2");
            RawEspPathBench bench = new RawEspPathBench(a, b);
            System.out.printf("%-9s %-9s %10s %10s %14s %16s%n", "send", "receive", "sent/s", "received/s", "sender µs/pkt", "receiver µs/pkt");
            for (int round = 0; round < 2; round++) {
                for (String s : senders.split(",")) {
                    for (String r : receivers.split(",")) {
                        bench.run(s, r, seconds);
                    }
                }
            }
        }
    }

    interface Sender {
        /** Sends up to {@code n} packets; how many left. */
        int send(int n);
    }

    interface Receiver {
        /** Receives what waits: how many. */
        int receive();

        /** What to poll(2) on when nothing waits. */
        int fd();
    }

    private static Receiver receiver(int fd, java.util.function.IntSupplier receive) {
        return new Receiver() {
            @Override
            public int receive() {
                return receive.getAsInt();
            }

            @Override
            public int fd() {
                return fd;
            }
        };
    }

    private void run(String sendMode, String receiveMode, int seconds) throws Exception {
        InetAddress from = InetAddress.getByName("10.201.0.1");
        InetAddress to = InetAddress.getByName("10.201.0.2");
        // An unread raw socket in b keeps the kernel from answering ESP with protocol-unreachable while a ring reads.
        DatagramSocket keep = b.inside(() -> DatagramSocket.rawEsp(new InetSocketAddress(to, 0), 4096, false, false));
        Receiver receiver = b.inside(() -> receiver(receiveMode, to));
        Sender sender = a.inside(() -> sender(sendMode, from, to));
        AtomicLong received = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long[] cpu = new long[2];
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Thread rx = Thread.ofPlatform().start(() -> {
            long c0 = threads.getCurrentThreadCpuTime();
            Poller poller = new Poller(receiver.fd());
            while (!stop.get()) {
                int n = receiver.receive();
                if (n > 0) {
                    received.addAndGet(n);
                } else {
                    poller.await(1);
                }
            }
            cpu[1] = threads.getCurrentThreadCpuTime() - c0;
        });
        Thread tx = Thread.ofPlatform().start(() -> {
            long c0 = threads.getCurrentThreadCpuTime();
            // Unpaced: the receiving side's kernel work up to its socket runs in these calls, dropped or not.
            while (!stop.get()) {
                sent.addAndGet(sender.send(BATCH));
            }
            cpu[0] = threads.getCurrentThreadCpuTime() - c0;
        });
        Thread.sleep(1000);
        long r0 = received.get();
        long s0 = sent.get();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long r1 = received.get();
        long s1 = sent.get();
        long t1 = System.nanoTime();
        stop.set(true);
        tx.join();
        rx.join();
        keep.close();
        double pps = (r1 - r0) * 1e9 / (t1 - t0);
        // CPU over the whole run (warm-up included) per packet over the whole run.
        System.out.printf("%-9s %-9s %,10.0f %,10.0f %14.2f %16.2f%n", sendMode, receiveMode, (s1 - s0) * 1e9 / (t1 - t0), pps,
                cpu[0] / 1e3 / sent.get(), cpu[1] / 1e3 / Math.max(1, received.get()));
    }

    private static byte[] esp(int seq) {
        byte[] p = new byte[ESP];
        p[0] = 0x12;
        p[3] = 0x34;
        p[4] = (byte) (seq >>> 24);
        p[5] = (byte) (seq >>> 16);
        p[6] = (byte) (seq >>> 8);
        p[7] = (byte) seq;
        return p;
    }

    private Sender sender(String mode, InetAddress from, InetAddress to) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(to, 0);
        MemorySegment address = SocketAddresses.of(peer);
        int addressLength = SocketAddresses.length(peer);
        Libc.CallState s = new Libc.CallState();
        PacketBuffer batch = new PacketBuffer(BATCH * ESP);
        for (int i = 0; i < BATCH; i++) {
            System.arraycopy(esp(i), 0, batch.bytes(), i * ESP, ESP);
        }
        return switch (mode) {
            case "sendto" -> {
                DatagramSocket socket = DatagramSocket.rawEsp(new InetSocketAddress(from, 0), 4 << 20, false, false);
                yield n -> {
                    int k = 0;
                    for (; k < n; k++) {
                        if (socket.send(s, batch, k * ESP, ESP, address, addressLength) < 0) {
                            break;
                        }
                    }
                    return k;
                };
            }
            case "sendmmsg" -> {
                DatagramSocket socket = DatagramSocket.rawEsp(new InetSocketAddress(from, 0), 4 << 20, true, false);
                if (!socket.vectored()) {
                    throw new IllegalStateException(socket.offloads());
                }
                yield n -> Math.max(0, socket.sendSegments(s, batch, 0, n * ESP, ESP, address, addressLength));
            }
            case "hdrincl" -> headerIncluded(from, to, address, addressLength, batch);
            case "txring" -> txRing(from, to, true);
            case "txqdisc" -> txRing(from, to, false);
            default -> throw new IllegalArgumentException(mode);
        };
    }

    /** ip -o link's line for the device (ip may say more on the lines before it, as "Error: Peer netns reference is invalid."). */
    private static String link(String ns, String device) throws Exception {
        return NetNamespace.run("ip", "-n", ns, "-o", "link", "show", "dev", device).lines().filter(l -> l.matches("^\\d+: .*"))
                .findFirst().orElseThrow();
    }

    /**
     * An IPPROTO_RAW socket (IP_HDRINCL, and it receives nothing): sendmmsg of messages of two
     * iovecs, our 20-byte IPv4 header (ID 0 with DF; the kernel fills in length and checksum)
     * and the ESP packet. Skips ip_append_data, keeps the route lookup and netfilter.
     */
    private Sender headerIncluded(InetAddress from, InetAddress to, MemorySegment address, int addressLength, PacketBuffer batch) {
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.socket(s, Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK, 255);
        if (fd < 0) {
            throw new IllegalStateException(Libc.describe(-fd));
        }
        Libc.setsockopt(s, fd, Libc.SOL_SOCKET, Libc.SO_SNDBUFFORCE, 4 << 20);
        Arena arena = Arena.ofAuto();
        MemorySegment header = arena.allocate(20, 8);
        byte[] h = new byte[20];
        h[0] = 0x45;
        h[6] = 0x40;
        h[8] = 64;
        h[9] = 50;
        System.arraycopy(from.getAddress(), 0, h, 12, 4);
        System.arraycopy(to.getAddress(), 0, h, 16, 4);
        MemorySegment.copy(h, 0, header, ValueLayout.JAVA_BYTE, 0, 20);
        MemorySegment data = arena.allocate((long) BATCH * ESP, 64);
        MemorySegment headers = arena.allocate(64L * BATCH, 8);
        MemorySegment iovecs = arena.allocate(32L * BATCH, 8);
        for (int i = 0; i < BATCH; i++) {
            headers.set(ValueLayout.JAVA_LONG, 64L * i, address.address());
            headers.set(ValueLayout.JAVA_INT, 64L * i + 8, addressLength);
            headers.set(ValueLayout.JAVA_LONG, 64L * i + 16, iovecs.address() + 32L * i);
            headers.set(ValueLayout.JAVA_LONG, 64L * i + 24, 2);
            iovecs.set(ValueLayout.JAVA_LONG, 32L * i, header.address());
            iovecs.set(ValueLayout.JAVA_LONG, 32L * i + 8, 20);
            iovecs.set(ValueLayout.JAVA_LONG, 32L * i + 16, data.address() + (long) ESP * i);
            iovecs.set(ValueLayout.JAVA_LONG, 32L * i + 24, ESP);
        }
        return n -> {
            MemorySegment.copy(batch.bytes(), 0, data, ValueLayout.JAVA_BYTE, 0, n * ESP);
            return Math.max(0, Libc.sendmmsg(fd, headers.address(), n));
        };
    }

    private static int ifindex(String ns, String device) throws Exception {
        String out = link(ns, device);
        return Integer.parseInt(out.substring(0, out.indexOf(':')).strip());
    }

    private static byte[] mac(String ns, String device) throws Exception {
        String out = link(ns, device);
        String m = out.substring(out.indexOf("link/ether ") + 11).split(" ")[0];
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) Integer.parseInt(m.substring(3 * i, 3 * i + 2), 16);
        }
        return b;
    }

    private static void setsockopt(int fd, int level, int name, MemorySegment value) throws Exception {
        int r;
        try {
            r = (int) SETSOCKOPT.invokeExact(fd, level, name, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r != 0) {
            throw new IllegalStateException("setsockopt " + name + " failed");
        }
    }

    private static MemorySegment ints(int... v) {
        MemorySegment m = Arena.ofAuto().allocate(4L * v.length, 8);
        for (int i = 0; i < v.length; i++) {
            m.set(ValueLayout.JAVA_INT, 4L * i, v[i]);
        }
        return m;
    }

    private static MemorySegment mmap(int fd, long size) throws Exception {
        long at;
        try {
            at = (long) MMAP.invokeExact(0L, size, 3, 1, fd, 0L); // PROT_READ|PROT_WRITE, MAP_SHARED
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (at == -1) {
            throw new IllegalStateException("mmap failed");
        }
        return MemorySegment.ofAddress(at).reinterpret(size);
    }

    private static MemorySegment sockaddrLl(int ifindex, int protocol) {
        MemorySegment ll = Arena.ofAuto().allocate(20, 8);
        ll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
        ll.set(ValueLayout.JAVA_BYTE, 2, (byte) (protocol >>> 8));
        ll.set(ValueLayout.JAVA_BYTE, 3, (byte) protocol);
        ll.set(ValueLayout.JAVA_INT, 4, ifindex);
        return ll;
    }

    /**
     * TPACKET_V2 TX ring on a's veth, bypassing the qdisc (and with it packet taps such as
     * tcpdump) or not: Ethernet and IPv4 headers written by us (ID 0 with DF, RFC 6864), the
     * frames handed to the kernel, one sendto per batch.
     */
    private Sender txRing(InetAddress from, InetAddress to, boolean bypassQdisc) throws Exception {
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.socket(s, AF_PACKET, Libc.SOCK_RAW, 0);
        setsockopt(fd, SOL_PACKET, PACKET_VERSION, ints(TPACKET_V2));
        if (bypassQdisc) {
            setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, ints(1));
        }
        int frameSize = 2048;
        int blockSize = 1 << 16;
        int blocks = 16;
        int frames = blocks * blockSize / frameSize;
        setsockopt(fd, SOL_PACKET, PACKET_TX_RING, ints(blockSize, blocks, frameSize, frames));
        MemorySegment ring = mmap(fd, (long) blockSize * blocks);
        int ifindex = ifindex(nsA, "rawesp-va");
        if (Libc.bind(s, fd, sockaddrLl(ifindex, 0x0800), 20) != 0) {
            throw new IllegalStateException("bind");
        }
        byte[] frame = new byte[14 + 20 + ESP];
        System.arraycopy(mac(nsB, "rawesp-vb"), 0, frame, 0, 6);
        System.arraycopy(mac(nsA, "rawesp-va"), 0, frame, 6, 6);
        frame[12] = 0x08;
        frame[14] = 0x45;
        int total = 20 + ESP;
        frame[16] = (byte) (total >>> 8);
        frame[17] = (byte) total;
        frame[20] = 0x40; // DF
        frame[22] = 64;
        frame[23] = 50;
        System.arraycopy(from.getAddress(), 0, frame, 26, 4);
        System.arraycopy(to.getAddress(), 0, frame, 30, 4);
        LinuxIoTest.ipv4HeaderChecksum(frame, 14);
        System.arraycopy(esp(0), 0, frame, 34, ESP);
        int[] cursor = {0};
        return n -> {
            int k = 0;
            for (; k < n; k++) {
                long f = (long) frameSize * cursor[0];
                if (ring.get(ValueLayout.JAVA_INT, f) != 0) { // not yet TP_STATUS_AVAILABLE
                    break;
                }
                MemorySegment.copy(frame, 0, ring, ValueLayout.JAVA_BYTE, f + 32, frame.length);
                ring.set(ValueLayout.JAVA_INT, f + 4, frame.length); // tp_len
                VarHandle.releaseFence();
                ring.set(ValueLayout.JAVA_INT, f, 1); // TP_STATUS_SEND_REQUEST
                cursor[0] = (cursor[0] + 1) % frames;
            }
            try {
                long r = (long) SENDTO_NULL.invokeExact(fd, 0L, 0L, Libc.MSG_DONTWAIT, 0L, 0);
                if (r < 0) {
                    return 0;
                }
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            return k;
        };
    }

    private Receiver receiver(String mode, InetAddress at) throws Exception {
        Libc.CallState s = new Libc.CallState();
        PacketBuffer buffer = new PacketBuffer(70_000);
        return switch (mode) {
            case "recvfrom", "recvmmsg" -> {
                DatagramSocket socket = DatagramSocket.rawEsp(new InetSocketAddress(at, 0), 4 << 20, mode.equals("recvmmsg"), false);
                yield receiver(socket.fd(), () -> {
                    int k = 0;
                    while (k < 64 && socket.receive(s, buffer, 0, buffer.capacity()) > 0) {
                        k++;
                    }
                    return k;
                });
            }
            case "rxring" -> rxRing(s, buffer);
            default -> throw new IllegalArgumentException(mode);
        };
    }

    /**
     * TPACKET_V3 RX ring on b's veth for IPv4 (no filter: only this traffic runs there): each
     * packet copied out of the ring into the heap buffer, as the data plane would have to.
     */
    private Receiver rxRing(Libc.CallState s, PacketBuffer buffer) throws Exception {
        int fd = Libc.socket(s, AF_PACKET, Libc.SOCK_RAW, 0x0008); // htons(ETH_P_IP)
        setsockopt(fd, SOL_PACKET, PACKET_VERSION, ints(TPACKET_V3));
        int blockSize = 1 << 18;
        int blocks = 16;
        int frameSize = 2048;
        // block_size, block_nr, frame_size, frame_nr, retire_blk_tov (ms), sizeof_priv, feature_req_word
        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, ints(blockSize, blocks, frameSize, blocks * blockSize / frameSize, 1, 0, 0));
        MemorySegment ring = mmap(fd, (long) blockSize * blocks);
        if (Libc.bind(s, fd, sockaddrLl(ifindex(nsB, "rawesp-vb"), 0x0800), 20) != 0) {
            throw new IllegalStateException("bind");
        }
        int[] block = {0};
        return receiver(fd, () -> {
            long b = (long) blockSize * block[0];
            if ((ring.get(ValueLayout.JAVA_INT, b + 8) & 1) == 0) { // block_status & TP_STATUS_USER
                return 0;
            }
            VarHandle.acquireFence();
            int packets = ring.get(ValueLayout.JAVA_INT, b + 12);
            long p = b + ring.get(ValueLayout.JAVA_INT, b + 16);
            for (int i = 0; i < packets; i++) {
                int snap = ring.get(ValueLayout.JAVA_INT, p + 12);
                int mac = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, p + 24));
                int net = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, p + 26));
                MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, p + net, buffer.bytes(), 0, Math.min(snap - (net - mac), buffer.capacity()));
                p += ring.get(ValueLayout.JAVA_INT, p);
            }
            VarHandle.releaseFence();
            ring.set(ValueLayout.JAVA_INT, b + 8, 0); // TP_STATUS_KERNEL
            block[0] = (block[0] + 1) % blocks;
            return packets;
        });
    }
}
