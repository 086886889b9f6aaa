package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One direction of an ESP SA, used by any number of packet threads at once without locks.
 *
 * <p>Each thread gets its own {@link PerThread} state, made on its first packet: its
 * {@link PacketTransform} (cipher objects are not thread-safe) and its share of the volume
 * counts. Shared state is only what ESP requires to be shared (the sequence counter, the replay
 * window) plus the volume totals, and each thread adds to those once per {@link #byteQuantum}
 * bytes or {@link #packetQuantum} packets rather than per packet: on a tunnel carried by several
 * cores every shared write is a cache line moving between them. The shared counters sit on cache
 * lines of their own, away from the fields every packet reads.
 *
 * <p>{@link #destroy()} may race with threads still inside seal or open: it raises the flag, then
 * wipes the keys of every thread's transform. A thread that read a wiped key checks the flag
 * after its cryptography and discards the packet, so no packet goes out encrypted under a
 * zeroed key. The data plane should still remove an SA from its tables before destroying it.
 */
public abstract sealed class SecurityAssociation permits InboundSa, OutboundSa {
    private static final VarHandle FIRED;
    private static final VarHandle LOCAL_BYTES;
    private static final VarHandle LOCAL_PACKETS;
    static final VarHandle SHARED = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs per slot of {@link #shared}: 128 bytes, a cache line and the one its prefetcher pairs it with. */
    private static final int LINE = 16;
    static final int SEQUENCE = LINE;
    static final int PACKETS = 2 * LINE;
    static final int BYTES = 3 * LINE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            FIRED = lookup.findVarHandle(SecurityAssociation.class, "fired", int.class);
            LOCAL_BYTES = lookup.findVarHandle(PerThread.class, "bytes", long.class);
            LOCAL_PACKETS = lookup.findVarHandle(PerThread.class, "packets", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One thread's state for this SA; only that thread writes it. */
    static final class PerThread {
        final PacketTransform transform;
        /** Counted here, not yet added to the shared totals. */
        @SuppressWarnings("unused") // through LOCAL_BYTES
        private long bytes;
        @SuppressWarnings("unused") // through LOCAL_PACKETS
        private long packets;

        PerThread(PacketTransform transform) {
            this.transform = transform;
        }
    }

    final int spi;
    final CipherSuite suite;
    final boolean esn;
    final Lifetime lifetime;
    private final SaListener listener;
    private final byte[] encryptionKey;
    private final byte[] integrityKey;
    private final long byteQuantum;
    private final long packetQuantum;
    private final ThreadLocal<PerThread> threads = ThreadLocal.withInitial(this::newThreadState);
    private final ConcurrentLinkedQueue<PerThread> allThreads = new ConcurrentLinkedQueue<>();
    /** Sequence number, packet and byte totals, each alone on its cache lines; see {@link #SHARED}. */
    final long[] shared = new long[4 * LINE + LINE];

    private volatile boolean destroyed;
    /** Set once a hard limit is reached; the code seal or open then answers with. */
    volatile int refusal;
    /** One bit per SaEvent already reported; written under {@link #firing}. */
    private volatile int fired;
    private final Object firing = new Object();

    SecurityAssociation(SaParameters parameters, SaListener listener) {
        this.spi = parameters.spi();
        this.suite = parameters.suite();
        this.esn = parameters.esn();
        this.lifetime = parameters.lifetime();
        this.listener = listener == null ? SaListener.NONE : listener;
        this.encryptionKey = parameters.encryptionKey();
        this.integrityKey = parameters.integrityKey();
        // Fine enough that soft and hard limits are met within a sixty-fourth of the soft one.
        this.byteQuantum = Math.max(1, Math.min(64 * 1024, lifetime.softBytes() / 64));
        this.packetQuantum = Math.max(1, Math.min(64, lifetime.softPackets() / 64));
        // Fail now, on the control thread, rather than on the first packet.
        suite.newTransform(encryptionKey, integrityKey).destroy();
    }

    /**
     * Copies of this SA's encryption key (with its salt, for AEAD suites) and integrity key (empty
     * for AEAD): for an operator's packet capture that Wireshark is to decrypt, asked for by name
     * and logged by whoever asks. Empty arrays once the SA is destroyed.
     */
    public final byte[][] keysForExport() {
        if (destroyed) {
            return new byte[][] {new byte[0], new byte[0]};
        }
        return new byte[][] {encryptionKey.clone(), integrityKey.clone()};
    }

    public final int spi() {
        return spi;
    }

    public final CipherSuite suite() {
        return suite;
    }

    public final boolean esn() {
        return esn;
    }

    public final Lifetime lifetime() {
        return lifetime;
    }

    /** Bytes of inner packets carried so far. */
    public final long bytes() {
        long total = (long) SHARED.getVolatile(shared, BYTES);
        for (PerThread t : allThreads) {
            total += (long) LOCAL_BYTES.getOpaque(t);
        }
        return total;
    }

    /** Packets carried so far. */
    public abstract long packets();

    /**
     * Counts {@code packets} and {@code bytes} the SA carried elsewhere before this copy of it (the
     * other instance of a gateway pair, before a takeover), so that its lifetime and its totals
     * go on from there: a limit already crossed is not reported again. Before the SA carries
     * traffic here.
     */
    public void carryOver(long packets, long bytes) {
        if (packets < 0 || bytes < 0) {
            throw new IllegalArgumentException("carried " + packets + " packets, " + bytes + " bytes: neither may be negative");
        }
        SHARED.getAndAdd(shared, BYTES, bytes);
        SHARED.getAndAdd(shared, PACKETS, packets);
    }

    /** SPI and sequence number plus IV: where the inner packet begins. */
    public final int headerLength() {
        return suite.headerLength();
    }

    public final boolean isDestroyed() {
        return destroyed;
    }

    /** Stops the SA and wipes its keys; packets after this are refused. */
    public final void destroy() {
        destroyed = true;
        // Nothing below may be reordered before the flag: a thread that sees a wiped key must see it.
        VarHandle.fullFence();
        Arrays.fill(encryptionKey, (byte) 0);
        Arrays.fill(integrityKey, (byte) 0);
        for (PerThread t : allThreads) {
            t.transform.destroy();
        }
    }

    /** This thread's state for this SA. */
    final PerThread thread() {
        return threads.get();
    }

    /** Whether the SA was destroyed while this thread worked on a packet. */
    final boolean destroyedMeanwhile() {
        VarHandle.loadLoadFence();
        return destroyed;
    }

    /**
     * Adds a packet's inner bytes to the volume count and reports the limits it crosses.
     * Returns false if the packet goes past the hard limit.
     */
    final boolean countBytes(PerThread t, int length) {
        long local = (long) LOCAL_BYTES.get(t) + length;
        if (local < byteQuantum) {
            LOCAL_BYTES.setOpaque(t, local);
            return true;
        }
        long total = (long) SHARED.getAndAdd(shared, BYTES, local) + local;
        LOCAL_BYTES.setOpaque(t, 0L);
        long before = total - local;
        if (before < lifetime.softBytes() && total >= lifetime.softBytes()) {
            fire(SaEvent.SOFT_LIFETIME_BYTES);
        }
        if (total > lifetime.hardBytes()) {
            expire(SaEvent.HARD_LIFETIME_BYTES, hardRefusalCode());
            return false;
        }
        return true;
    }

    /** As {@link #countBytes} for packets; OutboundSa counts with its sequence numbers instead. */
    final boolean countPacket(PerThread t) {
        long local = (long) LOCAL_PACKETS.get(t) + 1;
        if (local < packetQuantum) {
            LOCAL_PACKETS.setOpaque(t, local);
            return true;
        }
        long total = (long) SHARED.getAndAdd(shared, PACKETS, local) + local;
        LOCAL_PACKETS.setOpaque(t, 0L);
        if (total - local < lifetime.softPackets() && total >= lifetime.softPackets()) {
            fire(SaEvent.SOFT_LIFETIME_PACKETS);
        }
        if (total > lifetime.hardPackets()) {
            expire(SaEvent.HARD_LIFETIME_PACKETS, hardRefusalCode());
            return false;
        }
        return true;
    }

    /** Packets counted by {@link #countPacket}, shared and not yet shared. */
    final long countedPackets() {
        long total = (long) SHARED.getVolatile(shared, PACKETS);
        for (PerThread t : allThreads) {
            total += (long) LOCAL_PACKETS.getOpaque(t);
        }
        return total;
    }

    abstract int hardRefusalCode();

    /** Records a hard limit: every later packet is refused with {@code code}. */
    final void expire(SaEvent event, int code) {
        if (refusal == 0) {
            refusal = code;
        }
        fire(event);
    }

    /**
     * Tells the owner about {@code event}, once per SA whichever thread gets there first, and a
     * hard event never before its warning: one thread may cross the soft limit and another the
     * hard one a moment later, and the owner must hear "rekey" before "gone" (it was seen the
     * other way round in a test with four threads). Events are a handful per SA's life, so a
     * lock here costs nothing on the packet path, which only reads {@link #fired}.
     */
    final void fire(SaEvent event) {
        if ((fired & (1 << event.ordinal())) != 0) {
            return;
        }
        synchronized (firing) {
            SaEvent warning = switch (event) {
                case HARD_LIFETIME_BYTES -> SaEvent.SOFT_LIFETIME_BYTES;
                case HARD_LIFETIME_PACKETS -> SaEvent.SOFT_LIFETIME_PACKETS;
                default -> null;
            };
            if (warning != null) {
                report(warning);
            }
            report(event);
        }
    }

    private void report(SaEvent event) {
        int bit = 1 << event.ordinal();
        if ((fired & bit) == 0) {
            FIRED.setVolatile(this, fired | bit);
            listener.onEvent(this, event);
        }
    }

    private PerThread newThreadState() {
        PerThread t = new PerThread(suite.newTransform(encryptionKey, integrityKey));
        allThreads.add(t);
        return t;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " SPI 0x" + HexFormat.of().toHexDigits(spi) + " " + suite + (esn ? " ESN" : "");
    }
}
