package io.isthmus.dataplane.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Datagrams for one sendmmsg(2) or recvmmsg(2) call, in native memory made once: how raw ESP
 * moves a batch per system call where UDP has GSO and GRO. The kernel has no segmentation
 * offload for a raw socket, so each datagram still costs its own trip through the IP stack;
 * what goes is the call per datagram (and the poll and wakeup per datagram that came with it).
 *
 * <pre>
 * struct mmsghdr (LP64, 64 bytes)          struct iovec (16 bytes)
 *   0  void *msg_name                        0  void *iov_base
 *   8  socklen_t msg_namelen                 8  size_t iov_len
 *  16  struct iovec *msg_iov
 *  24  size_t msg_iovlen
 *  32  void *msg_control
 *  40  size_t msg_controllen
 *  48  int msg_flags        (recvmmsg: MSG_TRUNC if the datagram was longer than its buffer)
 *  56  unsigned int msg_len (bytes sent or received)
 * </pre>
 *
 * msghdr cannot point into the Java heap, so a batch is copied once between the packet buffer
 * and native memory: a memcpy of up to 64 KB per call, against a system call per datagram.
 * Owned by one thread.
 */
public final class MessageVector {
    static final int MMSGHDR = 64;
    static final int IOVEC = 16;
    private static final int NAME = 28;

    private final int capacity;
    private final int slot;
    private final MemorySegment headers;
    private final MemorySegment iovecs;
    private final MemorySegment data;
    private final MemorySegment names;
    private final long headersAddress;
    private final long dataAddress;

    private MessageVector(int capacity, int slot, long dataBytes, boolean withNames) {
        this.capacity = capacity;
        this.slot = slot;
        Arena arena = Arena.ofAuto();
        headers = arena.allocate((long) MMSGHDR * capacity, 8);
        iovecs = arena.allocate((long) IOVEC * capacity, 8);
        data = arena.allocate(dataBytes, 64);
        names = withNames ? arena.allocate((long) NAME * capacity, 8) : MemorySegment.NULL;
        headersAddress = headers.address();
        dataAddress = data.address();
        for (int i = 0; i < capacity; i++) {
            long h = (long) MMSGHDR * i;
            headers.set(ValueLayout.JAVA_LONG, h + 16, iovecs.address() + (long) IOVEC * i);
            headers.set(ValueLayout.JAVA_LONG, h + 24, 1);
            if (withNames) {
                headers.set(ValueLayout.JAVA_LONG, h, names.address() + (long) NAME * i);
            }
            if (slot > 0) {
                iovecs.set(ValueLayout.JAVA_LONG, (long) IOVEC * i, dataAddress + (long) slot * i);
                iovecs.set(ValueLayout.JAVA_LONG, (long) IOVEC * i + 8, slot);
            }
        }
    }

    /** For sending up to {@code messages} datagrams of {@code bytes} in all per call. */
    public static MessageVector forSending(int messages, int bytes) {
        return new MessageVector(messages, 0, bytes, false);
    }

    /** For receiving up to {@code messages} datagrams of up to {@code slot} bytes each, with their senders' addresses. */
    public static MessageVector forReceiving(int messages, int slot) {
        return new MessageVector(messages, slot, (long) messages * slot, true);
    }

    /** The most messages one call takes. */
    public int capacity() {
        return capacity;
    }

    /** The most bytes a batch sent may have, or a datagram received (longer ones are cut and flagged). */
    public int bytes() {
        return slot > 0 ? slot : (int) data.byteSize();
    }

    /**
     * Datagrams back to back at {@code buffer[offset .. offset + length)}, each
     * {@code segmentSize} bytes but the last, to {@code to}: one sendmmsg call, another for the
     * rest if the kernel stopped short but had taken some (it reports an error only when none
     * was sent). How many were sent, or -1 if none was. The caller keeps within
     * {@link #capacity()} datagrams and {@link #bytes()}.
     */
    public int send(int fd, PacketBuffer buffer, int offset, int length, int segmentSize, MemorySegment to, int toLength) {
        MemorySegment.copy(buffer.bytes(), offset, data, ValueLayout.JAVA_BYTE, 0, length);
        int count = 0;
        long name = to.address();
        for (int o = 0; o < length; o += segmentSize, count++) {
            long h = (long) MMSGHDR * count;
            headers.set(ValueLayout.JAVA_LONG, h, name);
            headers.set(ValueLayout.JAVA_INT, h + 8, toLength);
            iovecs.set(ValueLayout.JAVA_LONG, (long) IOVEC * count, dataAddress + o);
            iovecs.set(ValueLayout.JAVA_LONG, (long) IOVEC * count + 8, Math.min(segmentSize, length - o));
        }
        int sent = 0;
        while (sent < count) {
            int r = Libc.sendmmsg(fd, headersAddress + (long) MMSGHDR * sent, count - sent);
            if (r <= 0) {
                return sent == 0 ? r : sent;
            }
            sent += r;
        }
        return sent;
    }

    /** Whether sendmmsg and recvmmsg are there for {@code fd}: 0, or minus the errno that said no. */
    public int probe(Libc.CallState s, int fd) {
        return Libc.probeMultipleMessages(s, fd, headersAddress);
    }

    /**
     * Receives what waits, up to {@link #capacity()} datagrams, without blocking: how many, or 0
     * if none waits (or the call failed). Each is then read with {@link #length},
     * {@link #truncated}, {@link #copy} and {@link #copySource}.
     */
    public int receive(int fd) {
        for (int i = 0; i < capacity; i++) {
            headers.set(ValueLayout.JAVA_INT, (long) MMSGHDR * i + 8, NAME);
        }
        return Math.max(0, Libc.recvmmsg(fd, headersAddress, capacity));
    }

    /** The bytes of the {@code i}-th datagram received (at most {@link #bytes()}). */
    public int length(int i) {
        return headers.get(ValueLayout.JAVA_INT, (long) MMSGHDR * i + 56);
    }

    /** Whether the {@code i}-th datagram was longer than its buffer, and so cut. */
    public boolean truncated(int i) {
        return (headers.get(ValueLayout.JAVA_INT, (long) MMSGHDR * i + 48) & Libc.MSG_TRUNC) != 0;
    }

    /** Copies the first {@code length} bytes of the {@code i}-th datagram received into {@code buffer} at {@code offset}. */
    public void copy(int i, PacketBuffer buffer, int offset, int length) {
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) slot * i, buffer.bytes(), offset, length);
    }

    /** Copies the sender's address of the {@code i}-th datagram received into {@code to} (a sockaddr of 28 bytes). */
    public void copySource(int i, MemorySegment to) {
        MemorySegment.copy(names, (long) NAME * i, to, 0, NAME);
    }
}
