package io.isthmus.ike;

import java.util.HexFormat;

/**
 * An inbound ESP SPI of ours (the one the peer puts on what it sends us), reserved from the
 * {@link IkeContext} so that no other child SA of the engine gets it, and handed back once, when
 * the state of whoever holds it ends (Android's IKE library closes its SPI resources the same
 * way). Who holds it is always explicit, and only the holder's release counts:
 *
 * <pre>
 *   reserved by an exchange ──(its child SA installed)──> held by that {@link ChildSa} ──(removed)──> released
 *     │                                                   (it moves with the child SA to the IKE SA of a rekey)
 *     ├──(the response is unusable)──> held by the ChildDelete telling the peer to drop it ──(ends)──> released
 *     └──(the exchange ends without a child SA: refused, also when the peer's rekey won a collision;
 *         cancelled; lost with its IKE SA)──> released where the {@link MessageWindow} ends it
 * </pre>
 *
 * So the refusals need not each remember it: an exchange gives back what it still holds when it
 * {@link Exchange#ended ends}, and after its child SA was installed that is nothing. Releasing is
 * idempotent, and a second release never frees the value after the engine handed it out again.
 * Engine thread only, like the rest of the IKE SA.
 */
public final class InboundSpi {
    private final IkeContext context;
    private final int value;
    /** Holds it until a child SA is installed with it (or it is released). */
    private Exchange exchange;
    /** Holds it from its installation until it is removed. */
    private ChildSa child;
    private boolean released;

    InboundSpi(IkeContext context, int value, Exchange reservedBy) {
        this.context = context;
        this.value = value;
        this.exchange = reservedBy;
    }

    /** The SPI, as the SA payload carries it and the peer's ESP packets name it. */
    public int value() {
        return value;
    }

    /** The exchange that gives it back when it ends, or null once a child SA holds it or it is released. */
    public Exchange exchange() {
        return exchange;
    }

    public boolean isReleased() {
        return released;
    }

    /**
     * The peer installed a child SA on this SPI that we did not ({@code from}'s response was
     * unusable): {@code to}, the exchange that tells the peer to drop it, holds it until it ends.
     */
    public void handTo(Exchange from, Exchange to) {
        if (released || child != null || exchange != from) {
            throw new IllegalStateException(this + " is not " + from + "'s to hand on");
        }
        exchange = to;
    }

    /** The child SA made with it holds it from now on: the exchange that reserved it ends without giving it back. */
    void installedIn(ChildSa c) {
        if (released || child != null) {
            throw new IllegalStateException(this + " cannot be installed in " + c);
        }
        exchange = null;
        child = c;
    }

    /** {@code holder} ended: the SPI may be handed out again, if {@code holder} still held it. */
    public void release(Exchange holder) {
        if (holder != null && holder == exchange) {
            free();
        }
    }

    /** {@code holder} was removed: the SPI may be handed out again, if it was {@code holder}'s. */
    void release(ChildSa holder) {
        if (holder != null && holder == child) {
            free();
        }
    }

    /** Claimed for an adopted child SA that is not made after all (another of its SPIs was taken): held by no one, freed. */
    void releaseUnheld() {
        if (exchange == null && child == null) {
            free();
        }
    }

    private void free() {
        if (!released) {
            released = true;
            exchange = null;
            context.free(value);
        }
    }

    @Override
    public String toString() {
        return "inbound SPI " + HexFormat.of().toHexDigits(value) + (released ? " (released)" : "");
    }
}
