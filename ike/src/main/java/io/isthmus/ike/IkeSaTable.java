package io.isthmus.ike;

/**
 * The engine's IKE SAs as one of them, or one of its exchanges, needs the others: the SA table is
 * the engine's (above the exchanges), and this is all an SA may ask of it.
 */
public interface IkeSaTable {
    /** A new IKE SA (a rekey made it) is found by its SPI from now on. */
    void add(IkeSa sa);

    /** {@code sa} is gone. */
    void remove(IkeSa sa);

    /** IKE_AUTH completed on {@code sa}: it no longer counts as half-open. */
    void established(IkeSa sa);

    /**
     * Whether an IKE SA other than {@code sa} exists for its connection, in any state but
     * destroyed; then {@code sa} sends no INITIAL_CONTACT.
     */
    boolean hasOther(IkeSa sa);

    /** The peer of {@code fresh} said INITIAL_CONTACT (RFC 7296 §2.4): our older IKE SAs with it are stale. */
    void initialContact(IkeSa fresh);

    /**
     * Starts a new IKE SA (IKE_SA_INIT, IKE_AUTH with the connection's current credentials, its
     * first child SA) to replace {@code old}, whose connection now authenticates otherwise; null
     * when none is started ({@link #hasReauthenticated}).
     */
    IkeSa reauthenticate(IkeSa old);

    /**
     * Whether another established IKE SA of {@code old}'s connection was authenticated with the
     * connection's current credentials: the peer reauthenticated first, and deletes {@code old}.
     */
    boolean hasReauthenticated(IkeSa old);
}
