package io.isthmus.ike;

/**
 * The only coupling between IKE and the data plane: child SAs coming and going. Called on the
 * IKE thread; implementations hand the work over and return.
 *
 * <p>A rekey is make-before-break: {@link #rekeyed} announces the new SA while the old one still
 * works, and the data plane keeps accepting inbound packets on the old one until
 * {@link #deleted} says it is gone. Outbound traffic moves to the new SA at once when we
 * initiated the rekey (the peer installed the new SA before it answered); when the peer
 * initiated, it installs the new SA only once our answer arrives, so outbound traffic stays on
 * the old SA until the peer deletes it, as strongSwan does. After simultaneous rekeys (RFC 7296
 * §2.8.1) two replacements may be announced and the redundant one deleted shortly after: when
 * the SA carrying outbound traffic is deleted, traffic moves to the newest remaining SA of the
 * same connection.
 *
 * <p>Keys travel once and are wiped by their consumer. The {@link io.isthmus.esp.SaParameters}
 * of a description announced by {@link #installed} or {@link #rekeyed} belong to the listener
 * from then on: IKE has already wiped its own KEYMAT and never reads those keys again (it keeps
 * the description only for its SPIs, suite and selectors). The listener destroys both
 * directions' parameters once it has what it needs, at the latest when {@link #deleted}
 * announces the SA gone; the data plane does it as soon as it has built its SAs. A listener that
 * keeps them longer (a test comparing keys with strongSwan's) wipes them itself in the end.
 */
public interface ChildSaListener {
    /** A child SA from IKE_AUTH or a CREATE_CHILD_SA that replaces nothing. */
    void installed(ChildSaDescription sa);

    /**
     * {@code replacement} now exists for {@code old}, which stays until it is deleted.
     *
     * @param outboundNow send through the replacement at once (we initiated the rekey), or only
     *                    once the old SA is deleted (the peer did)
     */
    void rekeyed(ChildSaDescription old, ChildSaDescription replacement, boolean outboundNow);

    void deleted(ChildSaDescription sa);
}
