package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One direction of an ESP SA, used by any number of packet threads at once without locks.
 *
 * <p>Each thread gets its own {@link PacketTransform} (cipher objects are not thread-safe), made
 * on its first packet. Shared state is only what ESP requires to be shared: the sequence counter,
 * the replay window, the volume counters; all atomics.
 *
 * <p>{@link #destroy()} may race with threads still inside seal or open: it raises the flag, then
 * wipes the keys of every thread's transform. A thread that read a wiped key checks the flag
 * after its cryptography and discards the packet, so no packet goes out encrypted under a
 * zeroed key. The data plane should still remove an SA from its tables before destroying it.
 */
public abstract sealed class SecurityAssociation permits InboundSa, OutboundSa {
    private static final VarHandle BYTES;
    private static final VarHandle FIRED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            BYTES = lookup.findVarHandle(SecurityAssociation.class, "bytes", long.class);
            FIRED = lookup.findVarHandle(SecurityAssociation.class, "fired", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int spi;
    final CipherSuite suite;
    final boolean esn;
    final Lifetime lifetime;
    private final SaListener listener;
    private final byte[] encryptionKey;
    private final byte[] integrityKey;
    private final ThreadLocal<PacketTransform> transforms = ThreadLocal.withInitial(this::newTransform);
    private final ConcurrentLinkedQueue<PacketTransform> allTransforms = new ConcurrentLinkedQueue<>();

    private volatile boolean destroyed;
    /** Set once a hard limit is reached; the code seal or open then answers with. */
    volatile int refusal;
    @SuppressWarnings("unused") // through BYTES
    private volatile long bytes;
    @SuppressWarnings("unused") // through FIRED: one bit per SaEvent already reported
    private volatile int fired;

    SecurityAssociation(SaParameters parameters, SaListener listener) {
        this.spi = parameters.spi();
        this.suite = parameters.suite();
        this.esn = parameters.esn();
        this.lifetime = parameters.lifetime();
        this.listener = listener == null ? SaListener.NONE : listener;
        this.encryptionKey = parameters.encryptionKey();
        this.integrityKey = parameters.integrityKey();
        // Fail now, on the control thread, rather than on the first packet.
        suite.newTransform(encryptionKey, integrityKey).destroy();
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
        return bytes;
    }

    /** Packets carried so far. */
    public abstract long packets();

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
        for (PacketTransform t : allTransforms) {
            t.destroy();
        }
    }

    final PacketTransform transform() {
        return transforms.get();
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
    final boolean countBytes(int length) {
        long total = (long) BYTES.getAndAdd(this, (long) length) + length;
        long before = total - length;
        if (before < lifetime.softBytes() && total >= lifetime.softBytes()) {
            fire(SaEvent.SOFT_LIFETIME_BYTES);
        }
        if (total > lifetime.hardBytes()) {
            expire(SaEvent.HARD_LIFETIME_BYTES, hardRefusalCode());
            return false;
        }
        return true;
    }

    abstract int hardRefusalCode();

    /** Records a hard limit: every later packet is refused with {@code code}. */
    final void expire(SaEvent event, int code) {
        if (refusal == 0) {
            refusal = code;
        }
        fire(event);
    }

    /** Tells the owner about {@code event}, once per SA whichever thread gets there first. */
    final void fire(SaEvent event) {
        int bit = 1 << event.ordinal();
        int seen;
        do {
            seen = fired;
            if ((seen & bit) != 0) {
                return;
            }
        } while (!FIRED.compareAndSet(this, seen, seen | bit));
        listener.onEvent(this, event);
    }

    private PacketTransform newTransform() {
        PacketTransform t = suite.newTransform(encryptionKey, integrityKey);
        allTransforms.add(t);
        return t;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " SPI 0x" + HexFormat.of().toHexDigits(spi) + " " + suite + (esn ? " ESN" : "");
    }
}
