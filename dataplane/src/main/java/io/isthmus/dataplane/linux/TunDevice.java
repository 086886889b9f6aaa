package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN device opened through /dev/net/tun: IFF_TUN | IFF_NO_PI, so every read and write is
 * one bare IPv4 or IPv6 packet, and where the kernel allows, IFF_VNET_HDR with TCP segmentation
 * offload: each packet then comes after a 10-byte struct virtio_net_hdr, and the kernel hands
 * over TCP "super-packets" of up to 64 KB (one read instead of forty), and takes them back the
 * same way. Without the header, the data plane gets and gives one packet per call.
 *
 * <p>The descriptor is non-blocking; waiting is the {@link Poller}'s job. Addresses, MTU and
 * routes are the daemon's to set (with ip(8), as an operator would).
 */
public final class TunDevice implements AutoCloseable {
    private static final long TUNSETIFF = 0x400454caL;
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final int TUN_F_CSUM = 0x01;
    private static final int TUN_F_TSO4 = 0x02;
    private static final int TUN_F_TSO6 = 0x04;
    private static final int TUN_F_USO4 = 0x20;
    private static final int TUN_F_USO6 = 0x40;
    private static final int IFNAMSIZ = 16;
    /** sizeof(struct virtio_net_hdr), the kernel's default for IFF_VNET_HDR. */
    public static final int VNET_HEADER = 10;

    private final String name;
    private final int fd;
    private final boolean vnetHeader;
    private final boolean tso;
    private final boolean uso;
    private final Libc.CallState setup = new Libc.CallState();

    private TunDevice(String name, int fd, boolean vnetHeader, boolean tso, boolean uso) {
        this.name = name;
        this.fd = fd;
        this.vnetHeader = vnetHeader;
        this.tso = tso;
        this.uso = uso;
    }

    /** Creates (or attaches to) the TUN device {@code name}, with offloads if the kernel has them. */
    public static TunDevice open(String name) throws IOException {
        return open(name, true);
    }

    /**
     * Creates (or attaches to) the TUN device {@code name}. With {@code offloads}, asks for the
     * virtio header and checksum and TCP segmentation offload, and falls back step by step to
     * what the kernel grants.
     */
    public static TunDevice open(String name, boolean offloads) throws IOException {
        if (offloads) {
            try {
                return open(name, (short) (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR));
            } catch (IOException e) {
                // A kernel without IFF_VNET_HDR on TUN: plain packets.
            }
        }
        return open(name, (short) (IFF_TUN | IFF_NO_PI));
    }

    /**
     * The TUN device {@code name} with {@code queues} queues (IFF_MULTI_QUEUE when more than
     * one): a descriptor each, all of one device, for one packet thread each. The kernel hands a
     * packet the local network sends into the device to one queue, chosen by a hash of its flow
     * (and, once a packet thread has written a flow's packets into a queue, to that queue: the
     * kernel's "automq"), so one flow's packets are read by one thread, in order. With one queue
     * this is {@link #open(String, boolean)}. All or none: queues already open are closed if a
     * later one fails.
     */
    public static java.util.List<TunDevice> openQueues(String name, boolean offloads, int queues) throws IOException {
        if (queues < 1) {
            throw new IllegalArgumentException("a TUN device has at least one queue, not " + queues);
        }
        if (queues == 1) {
            return java.util.List.of(open(name, offloads));
        }
        java.util.List<TunDevice> open = new java.util.ArrayList<>();
        try {
            short flags = (short) (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
            TunDevice first;
            if (offloads) {
                try {
                    first = open(name, (short) (flags | IFF_VNET_HDR));
                } catch (IOException e) {
                    first = open(name, flags);
                }
            } else {
                first = open(name, flags);
            }
            open.add(first);
            // Every queue with the first one's flags: the kernel refuses a queue that differs.
            short same = (short) (flags | (first.vnetHeader ? IFF_VNET_HDR : 0));
            while (open.size() < queues) {
                open.add(open(name, same));
            }
            return java.util.List.copyOf(open);
        } catch (IOException | RuntimeException e) {
            open.forEach(TunDevice::close);
            throw e;
        }
    }

    private static TunDevice open(String name, short flags) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        if (n.length == 0 || n.length >= IFNAMSIZ) {
            throw new IOException("TUN device name '" + name + "' must be 1 to 15 characters");
        }
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.open(s, "/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open /dev/net/tun: " + Libc.describe(-fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifreq = a.allocate(40, 8);
            MemorySegment.copy(n, 0, ifreq, ValueLayout.JAVA_BYTE, 0, n.length);
            ifreq.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, flags);
            int r = Libc.ioctl(s, fd, TUNSETIFF, ifreq);
            if (r < 0) {
                Libc.close(s, fd);
                throw new IOException("TUNSETIFF " + name + ": " + Libc.describe(-r));
            }
            boolean vnet = (flags & IFF_VNET_HDR) != 0;
            // TUNSETOFFLOAD takes its argument by value, not by pointer. UDP segmentation
            // (Linux 6.2) is asked for first; a kernel without it refuses the lot, then TCP only.
            int tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
            boolean uso = vnet && Libc.ioctl(s, fd, TUNSETOFFLOAD, MemorySegment.ofAddress(tcp | TUN_F_USO4 | TUN_F_USO6)) == 0;
            boolean tso = uso || vnet && Libc.ioctl(s, fd, TUNSETOFFLOAD, MemorySegment.ofAddress(tcp)) == 0;
            return new TunDevice(name, fd, vnet, tso, uso);
        }
    }

    /** Whether every packet read and written comes after a {@link #VNET_HEADER}-byte virtio header. */
    public boolean vnetHeader() {
        return vnetHeader;
    }

    /** Whether the kernel hands over unchecksummed packets and TCP super-packets (TSO). */
    public boolean tso() {
        return tso;
    }

    /** Whether UDP super-packets go both ways too (USO, Linux 6.2). */
    public boolean uso() {
        return uso;
    }

    /** What this device offloads, for the log. */
    public String offloads() {
        return uso ? "virtio header, checksum, TCP and UDP segmentation offload (TSO4, TSO6, USO4, USO6)"
                : tso ? "virtio header, checksum and TCP segmentation offload (TSO4, TSO6)"
                : vnetHeader ? "virtio header only (TUNSETOFFLOAD refused)" : "none";
    }

    public String name() {
        return name;
    }

    public int fd() {
        return fd;
    }

    /**
     * One packet into {@code buffer} at {@code offset}, after its virtio header if the device has
     * one: the bytes read, 0 if none is waiting, or minus errno.
     */
    public int read(Libc.CallState s, PacketBuffer buffer, int offset, int maxLength) {
        int r = Libc.read(s, fd, buffer.at(offset), maxLength);
        return r == -Libc.EAGAIN ? 0 : r;
    }

    /** One packet out of {@code buffer} (after its virtio header if the device has one): bytes written, or minus errno. */
    public int write(Libc.CallState s, PacketBuffer buffer, int offset, int length) {
        return Libc.write(s, fd, buffer.at(offset), length);
    }

    @Override
    public void close() {
        Libc.close(setup, fd);
    }

    @Override
    public String toString() {
        return "TUN " + name;
    }
}
