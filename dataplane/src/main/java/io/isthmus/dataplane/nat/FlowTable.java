package io.isthmus.dataplane.nat;

import io.isthmus.dataplane.ip.IpPacket;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.security.SecureRandom;

/**
 * The flows of one dynamic NAT rule: bounded, preallocated (parallel arrays of {@code capacity}
 * slots, nothing allocated per packet), used by both directions' packet paths without locks.
 *
 * <p><b>Slots and ports.</b> A slot is a flow: internal address and port (or ICMP echo
 * identifier), protocol, remote address and port. Its external address and port follow from its
 * index: slot {@code i} is address {@code pool + i / portsPerAddress}, port
 * {@code firstPort + i % portsPerAddress}. So the reverse direction finds a flow by indexing, not
 * hashing, and two live flows can never share an external address and port (for any protocol):
 * a port is reused only once its slot is free. Free slots queue in a ring, first in first out,
 * shuffled at the start: the next port is unpredictable to an outsider, and a port just freed is
 * the last to be handed out again (the remote end may still hold the old connection).
 *
 * <p><b>Threads.</b> A gateway with a dynamic rule runs one lane ({@link io.isthmus.dataplane.Dataplane#tunnels}),
 * whose one thread runs both directions today; the rules below are what keep the table sound
 * where the two directions run on threads of their own, as they did before lanes and may again.
 * The <em>owner</em> is the packet thread of the rule's translating direction
 * (outbound for EgressSnat, inbound for IngressSnat): it alone creates, finds by internal key,
 * expires and frees flows, and it alone writes the flow fields, the forward index
 * ({@link #heads}, {@link #next}), the free ring, {@link #seenForward} and {@link #forwardFlags}.
 * The <em>reverse</em> thread (the other direction) only reads flows, by index, and writes two
 * arrays of its own, {@link #seenReverse} and {@link #reverseState}. Concurrency argument:
 * <ul>
 * <li>Each slot's fields are guarded by a per-slot sequence number ({@link #version}, a seqlock):
 *     the owner makes it odd (opaque write, then a release fence), writes the fields, and makes it
 *     even again (release write). The reverse thread reads it (acquire), the fields, then (after an
 *     acquire fence) the version again, and believes the fields only if both reads are the same
 *     even number: it never acts on a half-written flow, nor on a flow freed and reused while it
 *     read. Fields are ints, so no read tears.</li>
 * <li>Every other array has one writer. Timestamps and flags the other thread reads are written
 *     and read with opaque access: the reader may see a value a moment old, which only makes an
 *     expiry decision a moment late, never wrong in kind.</li>
 * <li>{@link #reverseState} is tagged with the version of the flow it was written for, so flags
 *     the reverse thread left for a slot's previous flow never count for the next one. A
 *     {@link #seenReverse} left from a previous flow is older than the new flow's creation, so it
 *     never extends the new flow's life; one written in the instant the slot was reused can
 *     extend it by one timeout at most.</li>
 * <li>The reverse thread checks expiry itself on every lookup, so a flow past its timeout
 *     translates nothing even before the owner frees it.</li>
 * </ul>
 *
 * <p><b>Expiry</b> without a scan of the table per packet: the owner frees what it meets expired
 * (a lookup of an expired flow frees it and makes a new one), sweeps {@link #SWEEP_ON_CREATE}
 * slots with a clock hand at every new flow, up to {@link #SWEEP_WHEN_FULL} when no slot is free,
 * and {@link #sweep} is called each duty cycle of the owner's thread for a few more, so an idle
 * table empties too. Idle timeouts: TCP {@link #TCP_ESTABLISHED_NANOS} (4 min, Azure's default
 * TCP idle timeout) once the other side answered, {@link #TCP_TRANSITORY_NANOS} before (a SYN
 * flood cannot hold slots long), {@link #TCP_CLOSED_NANOS} after a RST or a FIN each way; UDP
 * {@link #UDP_NANOS}; ICMP echo {@link #ICMP_NANOS}.
 */
public final class FlowTable {
    /** Where dynamic ports start without a configured range: above the well-known and, as Linux's masquerade, the privileged ones. */
    public static final int FIRST_PORT = 1024;
    public static final long TCP_ESTABLISHED_NANOS = 240_000_000_000L;
    public static final long TCP_TRANSITORY_NANOS = 30_000_000_000L;
    public static final long TCP_CLOSED_NANOS = 10_000_000_000L;
    public static final long UDP_NANOS = 60_000_000_000L;
    public static final long ICMP_NANOS = 30_000_000_000L;
    static final int SWEEP_ON_CREATE = 2;
    static final int SWEEP_WHEN_FULL = 64;
    /** A lookup result: no flow. */
    static final int NONE = -1;
    /** A lookup result: no flow and no free slot for one. */
    static final int FULL = -2;

    private static final int FIN = 0x01;
    private static final int RST = 0x04;
    /** In {@link #reverseState}: the other side has answered. */
    private static final int REPLIED = 0x100;
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final int capacity;
    private final int pool;
    private final int poolSize;
    private final int firstPort;
    private final int portsPerAddress;
    private final int salt;

    private final int[] version;
    /** 0: a free slot. */
    private final int[] protocol;
    private final int[] internalAddress;
    private final int[] internalPort;
    private final int[] remoteAddress;
    private final int[] remotePort;
    private final long[] seenForward;
    private final int[] forwardFlags;
    private final long[] seenReverse;
    private final long[] reverseState;
    /** The forward index, chained: bucket heads and each slot's successor (-1 ends a chain). */
    private final int[] heads;
    private final int[] next;
    private final int[] freeRing;
    private int freeHead;
    private int freeCount;
    private int hand;
    private volatile int inUse;

    /** Whether the last {@link #forward} made its flow: written and read by the owner only. */
    private boolean made;

    /** What {@link #reverse} found: written and read by the reverse thread only. */
    private int foundAddress;
    private int foundPort;

    /**
     * @param pool the first external address, {@code poolSize} of them
     * @param firstPort the first external port of each address, {@code portsPerAddress} of them
     */
    FlowTable(int capacity, int pool, int poolSize, int firstPort, int portsPerAddress) {
        if (capacity < 1 || (long) poolSize * portsPerAddress < capacity) {
            throw new IllegalArgumentException("a flow table of " + capacity + " over " + poolSize + " addresses of " + portsPerAddress + " ports");
        }
        this.capacity = capacity;
        this.pool = pool;
        this.poolSize = poolSize;
        this.firstPort = firstPort;
        this.portsPerAddress = portsPerAddress;
        SecureRandom random = new SecureRandom();
        this.salt = random.nextInt() | 1;
        version = new int[capacity];
        protocol = new int[capacity];
        internalAddress = new int[capacity];
        internalPort = new int[capacity];
        remoteAddress = new int[capacity];
        remotePort = new int[capacity];
        seenForward = new long[capacity];
        forwardFlags = new int[capacity];
        seenReverse = new long[capacity];
        reverseState = new long[capacity];
        heads = new int[Integer.highestOneBit(capacity - 1 | 1) << 2];
        java.util.Arrays.fill(heads, -1);
        next = new int[capacity];
        freeRing = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeRing[i] = i;
        }
        for (int i = capacity - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = freeRing[i];
            freeRing[i] = freeRing[j];
            freeRing[j] = t;
        }
        freeCount = capacity;
    }

    public int capacity() {
        return capacity;
    }

    /** Flows held now (expired ones count until the owner frees them, within a few duty cycles). */
    public int inUse() {
        return inUse;
    }

    int externalAddress(int slot) {
        return pool + slot / portsPerAddress;
    }

    int externalPort(int slot) {
        return firstPort + slot % portsPerAddress;
    }

    /** Whether {@code address} is one of the pool's. */
    boolean inPool(int address) {
        return Integer.compareUnsigned(address - pool, poolSize) < 0;
    }

    // ------------------------------------------------------------------------------------------
    // The owner's side
    // ------------------------------------------------------------------------------------------

    /**
     * Owner: the flow of this internal key, made if there is none (or only an expired one), and
     * marked as seen now; {@link #FULL} if a new one is needed and no slot is free. For ICMP echo
     * the port is the identifier and {@code remotePort} 0.
     */
    int forward(int address, int port, int proto, int remote, int remotePort, int tcpFlags, long now) {
        made = false;
        int slot = find(address, port, proto, remote, remotePort);
        if (slot >= 0) {
            if (!expired(slot, now, version[slot], protocol[slot])) {
                LONGS.setOpaque(seenForward, slot, now);
                int f = forwardFlags[slot];
                if ((f | tcpFlags & (FIN | RST)) != f) {
                    INTS.setOpaque(forwardFlags, slot, f | tcpFlags & (FIN | RST));
                }
                return slot;
            }
            free(slot);
        }
        sweep(now, SWEEP_ON_CREATE);
        if (freeCount == 0) {
            sweep(now, SWEEP_WHEN_FULL);
            if (freeCount == 0) {
                return FULL;
            }
        }
        slot = freeRing[freeHead];
        freeHead = freeHead + 1 == capacity ? 0 : freeHead + 1;
        freeCount--;
        int v = version[slot];
        INTS.setOpaque(version, slot, v + 1);
        VarHandle.releaseFence();
        protocol[slot] = proto;
        internalAddress[slot] = address;
        internalPort[slot] = port;
        remoteAddress[slot] = remote;
        this.remotePort[slot] = remotePort;
        LONGS.setOpaque(seenForward, slot, now);
        INTS.setOpaque(forwardFlags, slot, tcpFlags & (FIN | RST));
        INTS.setRelease(version, slot, v + 2);
        int b = bucket(address, port, proto, remote, remotePort);
        next[slot] = heads[b];
        heads[b] = slot;
        inUse = capacity - freeCount;
        made = true;
        return slot;
    }

    /** Owner: whether the last {@link #forward} made the flow it returned (rather than finding it). */
    boolean made() {
        return made;
    }

    /**
     * Owner: frees the flow the last {@link #forward} just made, when the packet it was made for
     * is dropped after all: a flow nothing went through would hold its slot until it timed out.
     */
    void release(int slot) {
        if (made && slot >= 0 && protocol[slot] != 0) {
            made = false;
            free(slot);
        }
    }

    /** Owner: the live flow of this internal key, or {@link #NONE}; nothing is made or marked (for ICMP errors). */
    int existing(int address, int port, int proto, int remote, int remotePort, long now) {
        int slot = find(address, port, proto, remote, remotePort);
        return slot >= 0 && !expired(slot, now, version[slot], protocol[slot]) ? slot : NONE;
    }

    /** Owner: frees up to {@code slots} expired flows, going round the table. */
    public void sweep(long now, int slots) {
        for (int i = 0; i < slots; i++) {
            int s = hand;
            hand = hand + 1 == capacity ? 0 : hand + 1;
            if (protocol[s] != 0 && expired(s, now, version[s], protocol[s])) {
                free(s);
            }
        }
    }

    private int find(int address, int port, int proto, int remote, int remotePort) {
        int guard = capacity;
        for (int s = heads[bucket(address, port, proto, remote, remotePort)]; s >= 0 && guard-- > 0; s = next[s]) {
            if (internalAddress[s] == address && internalPort[s] == port && protocol[s] == proto && remoteAddress[s] == remote
                    && this.remotePort[s] == remotePort) {
                return s;
            }
        }
        return NONE;
    }

    private void free(int slot) {
        int b = bucket(internalAddress[slot], internalPort[slot], protocol[slot], remoteAddress[slot], remotePort[slot]);
        if (heads[b] == slot) {
            heads[b] = next[slot];
        } else {
            int guard = capacity;
            for (int s = heads[b]; s >= 0 && guard-- > 0; s = next[s]) {
                if (next[s] == slot) {
                    next[s] = next[slot];
                    break;
                }
            }
        }
        int v = version[slot];
        INTS.setOpaque(version, slot, v + 1);
        VarHandle.releaseFence();
        protocol[slot] = 0;
        INTS.setRelease(version, slot, v + 2);
        int tail = freeHead + freeCount;
        freeRing[tail >= capacity ? tail - capacity : tail] = slot;
        freeCount++;
        inUse = capacity - freeCount;
    }

    private int bucket(int address, int port, int proto, int remote, int remotePort) {
        int h = address * 0x9E3779B1 ^ (port << 16 | remotePort) * 0x85EBCA6B ^ remote * 0xC2B2AE35 ^ proto * salt;
        h ^= h >>> 15;
        h *= salt;
        h ^= h >>> 13;
        return h & (heads.length - 1);
    }

    // ------------------------------------------------------------------------------------------
    // The reverse thread's side
    // ------------------------------------------------------------------------------------------

    /**
     * Reverse thread: the live flow whose external address and port these are, with this
     * protocol and remote end, or {@link #NONE}; with {@code touch}, marked as seen (and TCP
     * flags noted). Its internal address and port are then {@link #foundAddress()} and
     * {@link #foundPort()}.
     */
    int reverse(int address, int port, int proto, int remote, int remotePort, int tcpFlags, long now, boolean touch) {
        if (!inPool(address) || port < firstPort || port >= firstPort + portsPerAddress) {
            return NONE;
        }
        long index = (long) (address - pool) * portsPerAddress + (port - firstPort);
        if (index >= capacity) {
            return NONE;
        }
        int slot = (int) index;
        int v = (int) INTS.getAcquire(version, slot);
        if ((v & 1) != 0) {
            return NONE;
        }
        int p = protocol[slot];
        int a = internalAddress[slot];
        int ip = internalPort[slot];
        int r = remoteAddress[slot];
        int rp = this.remotePort[slot];
        VarHandle.acquireFence();
        if ((int) INTS.getVolatile(version, slot) != v || p != proto || r != remote || rp != remotePort || expired(slot, now, v, p)) {
            return NONE;
        }
        foundAddress = a;
        foundPort = ip;
        if (touch) {
            LONGS.setOpaque(seenReverse, slot, now);
            long st = (long) LONGS.getOpaque(reverseState, slot);
            int flags = (int) (st >>> 32) == v ? (int) st : 0;
            int want = flags | REPLIED | tcpFlags & (FIN | RST);
            if (want != flags || (int) (st >>> 32) != v) {
                LONGS.setOpaque(reverseState, slot, (long) v << 32 | want);
            }
        }
        return slot;
    }

    int foundAddress() {
        return foundAddress;
    }

    int foundPort() {
        return foundPort;
    }

    /** Either thread: whether the flow in {@code slot} (of version {@code v}, protocol {@code proto}) has been idle past its timeout. */
    private boolean expired(int slot, long now, int v, int proto) {
        long st = (long) LONGS.getOpaque(reverseState, slot);
        int back = (int) (st >>> 32) == v ? (int) st : 0;
        long last = (long) LONGS.getOpaque(seenForward, slot);
        if ((back & REPLIED) != 0) {
            long r = (long) LONGS.getOpaque(seenReverse, slot);
            if (r - last > 0) { // nanoTime: compared by difference, it may be negative or wrap
                last = r;
            }
        }
        long timeout;
        if (proto == IpPacket.PROTO_TCP) {
            int fwd = (int) INTS.getOpaque(forwardFlags, slot);
            if (((fwd | back) & RST) != 0 || ((fwd & back) & FIN) != 0) {
                timeout = TCP_CLOSED_NANOS;
            } else {
                timeout = (back & REPLIED) != 0 ? TCP_ESTABLISHED_NANOS : TCP_TRANSITORY_NANOS;
            }
        } else {
            timeout = proto == IpPacket.PROTO_UDP ? UDP_NANOS : ICMP_NANOS;
        }
        return now - last > timeout;
    }
}
