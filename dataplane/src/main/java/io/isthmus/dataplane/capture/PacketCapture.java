package io.isthmus.dataplane.capture;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * A running capture as the packet threads (and IKE) feed it: each packet the filter keeps is
 * copied, cut to the snap length, into a bounded many-to-one ring (Agrona's, as Aeron's
 * conductors use it), which the capture's writer drains ({@link CaptureFile}). Nothing here
 * waits or allocates per packet: a full ring drops the packet and counts it.
 *
 * <p>Outer packets are written as the wire has them, an IP header (and a UDP header for
 * UDP-encapsulated ESP and for IKE) made from the SA's or message's addresses before the ESP or
 * IKE bytes, so that Wireshark reads them as it would a capture of the interface. The ESP packet
 * is taken before it is opened (inbound) and after it is sealed (outbound).
 */
public final class PacketCapture {
    /** Ring records: what kind of packet. */
    static final int INNER_INGRESS = 1;
    static final int INNER_EGRESS = 2;
    static final int OUTER_INGRESS = 3;
    static final int OUTER_EGRESS = 4;
    /** Before the bytes: the time (epoch ns), the packet's length, its connection's index (or -1). */
    static final int RECORD_HEADER = 16;
    /** 4 MB of packets in flight between the packet threads and the file. */
    static final int DEFAULT_RING_BYTES = 4 << 20;

    private final CaptureFilter filter;
    /** The gateway's NAT-traversal port: IKE there has the non-ESP marker before it on the wire. */
    private final int natTraversalPort;
    private final CompiledFilter compiled;
    private final ManyToOneRingBuffer ring;
    private final long epochNanosAtStart;
    private final long nanoTimeAtStart;
    private final ConcurrentHashMap<String, Integer> tunnelIds = new ConcurrentHashMap<>();
    private final List<String> tunnelNames = new CopyOnWriteArrayList<>();
    private final AtomicLong kept = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /**
     * Where outer headers are made: one per packet thread (lanes seal and open at once; made at a
     * thread's first packet, looked up without allocating after), and IKE's under this object's lock.
     */
    private final ThreadLocal<byte[]> packetScratch = ThreadLocal.withInitial(() -> new byte[64]);
    private final byte[] ikeScratch = new byte[64];

    public PacketCapture(CaptureFilter filter, int natTraversalPort) {
        this(filter, natTraversalPort, DEFAULT_RING_BYTES);
    }

    PacketCapture(CaptureFilter filter, int natTraversalPort, int ringBytes) {
        this.filter = filter;
        this.natTraversalPort = natTraversalPort;
        this.compiled = new CompiledFilter(filter);
        this.ring = new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(ringBytes + RingBufferDescriptor.TRAILER_LENGTH)));
        Instant now = Instant.now();
        this.epochNanosAtStart = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        this.nanoTimeAtStart = System.nanoTime();
        if (ring.maxMsgLength() < RECORD_HEADER + filter.snapLength() + 64) {
            throw new IllegalArgumentException("a ring of " + ringBytes + " bytes is too small for packets of " + filter.snapLength());
        }
    }

    public CaptureFilter filter() {
        return filter;
    }

    /** An inner packet (IPv4 or IPv6) of {@code tunnel}: ingress after it was opened and checked, egress before it is sealed. */
    public void inner(boolean ingress, String tunnel, byte[] p, int off, int length) {
        if (!compiled.wants(false, ingress, tunnel) || !compiled.matches(p, off, length)) {
            return;
        }
        int captured = Math.min(length, filter.snapLength());
        int index = claim(ingress ? INNER_INGRESS : INNER_EGRESS, captured, length, tunnel);
        if (index < 0) {
            return;
        }
        ring.buffer().putBytes(index + RECORD_HEADER, p, off, captured);
        ring.commit(index);
    }

    /**
     * An ESP packet of {@code tunnel} (null: its SPI is unknown) between {@code local} and
     * {@code remote}, in UDP or raw: ingress as received, egress as sent.
     */
    public void esp(boolean ingress, String tunnel, byte[] p, int off, int length, InetSocketAddress local, InetSocketAddress remote,
                    boolean udp) {
        if (!compiled.wants(true, ingress, tunnel)) {
            return;
        }
        outer(packetScratch.get(), ingress, tunnel, p, off, length, local, remote, udp, false);
    }

    /** An IKE message as sent or received over UDP; on the NAT-traversal port the wire has the non-ESP marker before it, and so does the capture. */
    public synchronized void ike(boolean ingress, String tunnel, byte[] p, int off, int length, InetSocketAddress local, InetSocketAddress remote) {
        if (!compiled.wants(true, ingress, tunnel)) {
            return;
        }
        boolean marker = local.getPort() == natTraversalPort || remote.getPort() == natTraversalPort;
        outer(ikeScratch, ingress, tunnel, p, off, length, local, remote, true, marker);
    }

    private void outer(byte[] scratch, boolean ingress, String tunnel, byte[] p, int off, int length, InetSocketAddress local,
                       InetSocketAddress remote, boolean udp, boolean marker) {
        InetSocketAddress src = ingress ? remote : local;
        InetSocketAddress dst = ingress ? local : remote;
        int payload = length + (marker ? 4 : 0);
        int header = OuterHeaders.write(scratch, src, dst, udp, payload);
        if (header < 0) {
            return; // one address of each family: no such packet on a wire
        }
        int total = header + payload;
        if (!compiled.matches(scratch, 0, total)) {
            return;
        }
        if (udp && header == OuterHeaders.IPV6_UDP) {
            OuterHeaders.udpChecksumV6(scratch, p, off, length, marker); // IPv6 has no UDP without one
        }
        int captured = Math.min(total, filter.snapLength());
        int index = claim(ingress ? OUTER_INGRESS : OUTER_EGRESS, captured, total, tunnel);
        if (index < 0) {
            return;
        }
        MutableDirectBuffer b = ring.buffer();
        int at = index + RECORD_HEADER;
        int h = Math.min(header, captured);
        b.putBytes(at, scratch, 0, h);
        int left = captured - h;
        if (marker && left > 0) {
            int m = Math.min(4, left);
            for (int i = 0; i < m; i++) {
                b.putByte(at + h + i, (byte) 0);
            }
            h += m;
            left -= m;
        }
        if (left > 0) {
            b.putBytes(at + h, p, off, left);
        }
        ring.commit(index);
    }

    /** A ring slot with its record header written, or -1 (counted) when the ring is full. */
    private int claim(int kind, int captured, int original, String tunnel) {
        int index = ring.tryClaim(kind, RECORD_HEADER + captured);
        if (index < 0) {
            dropped.incrementAndGet();
            return -1;
        }
        kept.incrementAndGet();
        MutableDirectBuffer b = ring.buffer();
        b.putLong(index, epochNanosAtStart + (System.nanoTime() - nanoTimeAtStart));
        b.putInt(index + 8, original);
        b.putInt(index + 12, tunnelId(tunnel));
        return index;
    }

    private int tunnelId(String tunnel) {
        if (tunnel == null) {
            return -1;
        }
        Integer id = tunnelIds.get(tunnel);
        if (id != null) {
            return id;
        }
        synchronized (tunnelNames) {
            return tunnelIds.computeIfAbsent(tunnel, t -> {
                tunnelNames.add(t);
                return tunnelNames.size() - 1;
            });
        }
    }

    /** Packets kept so far (some of them perhaps still in the ring). */
    public long kept() {
        return kept.get();
    }

    /** Packets the filter kept but the ring had no room for: the writer fell behind. */
    public long dropped() {
        return dropped.get();
    }

    /** What the writer is handed, record by record. */
    interface Drain {
        void packet(int kind, long epochNanos, int original, String tunnel, org.agrona.DirectBuffer buffer, int offset, int captured);
    }

    /** Hands the records waiting to {@code drain}, at most {@code limit}; how many. */
    int drain(Drain drain, int limit) {
        return ring.read((kind, buffer, index, length) -> {
            int id = buffer.getInt(index + 12);
            drain.packet(kind, buffer.getLong(index), buffer.getInt(index + 8), id < 0 ? null : tunnelNames.get(id), buffer,
                    index + RECORD_HEADER, length - RECORD_HEADER);
        }, limit);
    }

    static boolean isIpv4(InetSocketAddress a) {
        return a.getAddress() instanceof Inet4Address;
    }

    RingBuffer ring() {
        return ring;
    }
}
