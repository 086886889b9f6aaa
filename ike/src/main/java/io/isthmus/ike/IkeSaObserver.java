package io.isthmus.ike;

/**
 * Who keeps a copy of the engine's established IKE SAs elsewhere (the daemon of an active-active
 * pair, which sends {@link IkeSa#record()} to its partner). Called on the IKE thread; set with
 * {@code IkeEngine.observer}.
 *
 * <p>The promise: whenever what an {@link IkeSaRecord} holds changes (the SA became established,
 * a message ID moved, an answer was kept for the peer's retransmission, a child SA came, was
 * rekeyed or went, an IKE rekey made a new SA, the peer moved behind a NAT), {@link #changed} is
 * called before any datagram leaves for the Transport, so the daemon can take the record and hold
 * those datagrams until its partner acknowledged it: a peer never sees a state the partner could
 * not carry on. Several changes between two datagrams come as one call.
 *
 * <p>Only SAs that are up (established or being rekeyed by us) are observed. A half-open SA
 * (IKE_SA_INIT answered, IKE_AUTH not yet done) is not: it cannot be carried on anyway, since
 * IKE_AUTH needs both IKE_SA_INIT messages and the nonces, which no record holds, and anyone can
 * make such SAs by the thousand with forged IKE_SA_INIT requests, which must not flood the pair
 * link. An SA that stops being up (rekeyed, being deleted, destroyed) is {@link #removed}: an
 * exchange that only finishes it is not worth carrying over; the peer ends it on its own.
 */
public interface IkeSaObserver {
    /** {@code sa}'s record changed; take it with {@link IkeSa#record()} now, before anything is sent. */
    void changed(IkeSa sa);

    /** {@code sa}, announced by {@link #changed} before, is gone from this engine. */
    void removed(IkeSa sa);
}
