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
 * <p>Keys travel once and are wiped by their consumer: the {@link ChildSaKeys} handed to
 * {@link #installed} and {@link #rekeyed} belong to the listener from then on, and it destroys
 * them as soon as it has built what it needs (the data plane: its ESP SAs), at the latest when
 * {@link #deleted} announces the SA gone. IKE has wiped its own KEYMAT by then and keeps only the
 * key-free {@link ChildSaDescription}.
 */
public interface ChildSaListener {
    /** A child SA from IKE_AUTH or a CREATE_CHILD_SA that replaces nothing, with its keys to consume. */
    void installed(ChildSaDescription sa, ChildSaKeys keys);

    /**
     * As {@link #installed(ChildSaDescription, ChildSaKeys)}, saying when outbound traffic may
     * take it. At once when we initiated its exchange, or it is its IKE SA's only child SA. When
     * the peer asked for it beside child SAs that carry traffic (a replacement with new selectors
     * after a reload, say), the peer has it only once our answer arrives: as after a rekey the peer
     * started, outbound traffic stays on the others until they are deleted.
     */
    default void installed(ChildSaDescription sa, ChildSaKeys keys, boolean outboundNow) {
        installed(sa, keys);
    }

    /**
     * {@code replacement} now exists for {@code old}, which stays until it is deleted; {@code keys}
     * are the replacement's, to consume.
     *
     * @param outboundNow send through the replacement at once (we initiated the rekey), or only
     *                    once the old SA is deleted (the peer did)
     */
    void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow);

    void deleted(ChildSaDescription sa);
}
