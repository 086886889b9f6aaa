package io.isthmus.ike.exchange;

import io.isthmus.ike.ChildSa;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InboundSpi;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.Proposal;
import java.util.List;
import java.util.Optional;

/**
 * The rekey of a child SA (RFC 7296 §2.8): a {@link ChildCreate} naming the SA it replaces, then,
 * make-before-break, the delete of the old one on the same IKE SA:
 *
 * <pre>
 *   HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}  -->
 *                                                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *   HDR, SK {D(ESP, old inbound SPI)}              -->
 *                                                  <--  HDR, SK {D(ESP, the peer's old inbound SPI)}
 * </pre>
 *
 * When both ends rekey the same SA at once (§2.8.1) each answers the other's request first; the
 * {@link RekeyCollision} lives on our exchange until our response decides which replacement stays.
 * The inbound SPI our request offers is held as {@link ChildCreate}'s is: by the exchange until
 * the replacement takes it, given back when the exchange ends without one.
 */
final class ChildRekey implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final boolean initiator;
    /** Initiator: the SA we replace. */
    private final ChildSa rekeyed;
    private KeyExchangeMethod group;
    /** Initiator: the inbound SPI we offer for the replacement, ours until it is installed with it. */
    private InboundSpi spi;
    private byte[] ni;
    private KeyExchange ke;
    /** Initiator: set when the peer's rekey of the same SA came in while ours was under way. */
    private RekeyCollision<ChildSa> collision;
    private List<Payload> answer;

    private ChildRekey(boolean initiator, ChildSa rekeyed, KeyExchangeMethod group) {
        this.initiator = initiator;
        this.rekeyed = rekeyed;
        this.group = group;
    }

    /** Starts the rekey of {@code c} (INSTALLED, on {@code sa}). */
    static void start(IkeSa sa, ChildSa c) {
        c.state(ChildSa.State.REKEYING);
        LOG.log(System.Logger.Level.INFO, "{0}: rekeying CHILD_SA {1}", sa, c);
        sa.window().queue(new ChildRekey(true, c, sa.connection().childProposals().getFirst().pfs()));
    }

    static ChildRekey responder() {
        return new ChildRekey(false, null, null);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.CREATE_CHILD_SA;
    }

    @Override
    public boolean followsIkeRekey() {
        return initiator;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (!initiator) {
            m.addAll(answer);
            return Status.SUCCESS;
        }
        IkeSa sa = m.sa();
        if (rekeyed.owner() != sa || rekeyed.state() != ChildSa.State.REKEYING) {
            return Status.CANCELLED; // deleted, or the peer's rekey won meanwhile
        }
        if (spi == null) {
            spi = sa.context().reserveInboundSpi(this);
        }
        ni = sa.context().nonce();
        ke = group == null ? null : group.generate();
        m.add(new NotifyPayload(Proposal.PROTOCOL_ESP, Proposal.spiBytes(rekeyed.inboundSpi()), NotifyType.REKEY_SA, new byte[0]));
        // A rekey keeps the selectors the old SA settled on (§2.9.2).
        ChildCreate.request(m, spi.value(), ni, ke, rekeyed.description().localSelectors(), rekeyed.description().remoteSelectors());
        return Status.NEED_MORE;
    }

    @Override
    public Status process(IncomingMessage m) {
        if (!initiator) {
            answer = respond(m);
            return Status.NEED_MORE;
        }
        IkeSa sa = m.sa();
        Optional<NotifyPayload> error = m.error();
        if (error.isPresent()) {
            return refused(sa, error.get());
        }
        ChildSa created;
        byte[] nr;
        try {
            nr = m.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            ChildSa replacing = rekeyed.owner() == sa && sa.children().contains(rekeyed) ? rekeyed : null;
            created = ChildCreate.accept(m, spi, ke, ni, nr, replacing);
        } catch (IkeProtocolException e) {
            backToInstalled();
            ChildCreate.unusable(sa, this, spi, e);
            return Status.SUCCESS;
        }
        complete(sa, created, nr);
        return Status.SUCCESS;
    }

    /** Refused, cancelled, gone with the IKE SA, or beaten in a collision: the SPI goes back unless the replacement holds it. */
    @Override
    public void ended() {
        if (spi != null) {
            spi.release(this);
        }
    }

    /** Whether this is our rekey of {@code c}. */
    boolean replaces(ChildSa c) {
        return initiator && rekeyed == c;
    }

    /** The peer rekeyed the same SA and we answered: its replacement and its exchange's lower nonce. */
    void collided(ChildSa theirs, byte[] theirLowestNonce) {
        collision = new RekeyCollision<>(theirs, theirLowestNonce);
    }

    /**
     * Our rekey made {@code created}. Unless the peer rekeyed the old SA at the same time, we
     * delete the old one. If it did, the replacement made by the exchange holding the lowest
     * nonce is redundant and its initiator deletes it; the other initiator deletes the old SA.
     */
    private void complete(IkeSa sa, ChildSa created, byte[] nr) {
        if (rekeyed.owner() != sa || !sa.children().contains(rekeyed)) {
            return; // the peer deleted it meanwhile
        }
        rekeyed.state(ChildSa.State.REKEYED);
        rekeyed.cancelTimers();
        if (collision != null && sa.children().contains(collision.peersReplacement()) && collision.oursHasLowest(ni, nr)) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous rekey of {1}: ours has the lowest nonce, deleting it", sa, rekeyed);
            sa.children().delete(created, "redundant after a simultaneous rekey");
            expectPeerToDelete(sa, rekeyed);
            return;
        }
        if (collision != null) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous rekey of {1}: the peer deletes its redundant replacement", sa, rekeyed);
        }
        sa.children().delete(rekeyed, "rekeyed");
    }

    private Status refused(IkeSa sa, NotifyPayload error) {
        int type = error.notifyType();
        if (collision != null && type != NotifyType.INVALID_KE_PAYLOAD) {
            // The peer rekeyed it at the same time and we answered: that replacement stands alone.
            LOG.log(System.Logger.Level.INFO, "{0}: our rekey of {1} was refused ({2}), the peer's replacement stands", sa, rekeyed,
                    NotifyType.name(type));
            rekeyed.state(ChildSa.State.REKEYED);
            rekeyed.cancelTimers();
            expectPeerToDelete(sa, rekeyed);
            return Status.SUCCESS;
        }
        if (type == NotifyType.INVALID_KE_PAYLOAD) {
            KeyExchangeMethod m = KeyExchangeRetry.retryWith(error,
                    sa.connection().childProposals().stream().map(io.isthmus.ike.ChildProposal::pfs).toList(), group);
            if (m != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants PFS group {1}, asking again", sa, m.keyword());
                group = m;
                return Status.NEED_MORE;
            }
        }
        if (type == NotifyType.TEMPORARY_FAILURE) {
            LOG.log(System.Logger.Level.INFO, "{0}: peer answered TEMPORARY_FAILURE, trying again shortly", sa);
            backToInstalled();
            sa.context().scheduler().schedule(ChildCreate.retryDelay(sa), () -> rekeyed.owner().children().rekey(rekeyed));
            return Status.SUCCESS;
        }
        if (type == NotifyType.CHILD_SA_NOT_FOUND) {
            LOG.log(System.Logger.Level.WARNING, "{0}: peer does not know CHILD_SA {1}; replacing it with a new one", sa, rekeyed);
            rekeyed.owner().children().remove(rekeyed, "unknown to the peer");
            sa.current().createChild();
            return Status.SUCCESS;
        }
        LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA refused: {1}", sa, NotifyType.name(type));
        backToInstalled();
        return Status.SUCCESS;
    }

    private void backToInstalled() {
        if (rekeyed.state() == ChildSa.State.REKEYING) {
            rekeyed.state(ChildSa.State.INSTALLED);
        }
    }

    /** The rekey's initiator deletes the old SA; if it never does, we do it ourselves. */
    private static void expectPeerToDelete(IkeSa sa, ChildSa old) {
        sa.context().scheduler().schedule(sa.connection().timers().dpdTimeout(), () -> {
            if (old.state() == ChildSa.State.REKEYED && old.owner().children().contains(old)) {
                old.owner().children().delete(old, "the peer did not delete it after the rekey");
            }
        });
    }

    private List<Payload> respond(IncomingMessage m) {
        IkeSa sa = m.sa();
        if (sa.state() != IkeSaState.ESTABLISHED) {
            // Rekeying or deleting the IKE SA: no new child SAs on it (§2.25.2).
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        byte[] spi = m.notify(NotifyType.REKEY_SA).orElseThrow().spi();
        ChildSa old = spi.length == 4 ? sa.children().byOutboundSpi(Proposal.spiInt(spi)) : null;
        if (old == null) {
            LOG.log(System.Logger.Level.INFO, "{0}: peer rekeys a CHILD_SA we do not have", sa);
            return List.of(new NotifyPayload(Proposal.PROTOCOL_ESP, spi, NotifyType.CHILD_SA_NOT_FOUND, new byte[0]));
        }
        if (old.state() == ChildSa.State.DELETING || old.state() == ChildSa.State.REKEYED) {
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        Optional<NoncePayload> nonce = m.first(NoncePayload.class);
        if (nonce.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        byte[] nr = sa.context().nonce();
        ChildCreate.Answer answer;
        try {
            answer = ChildCreate.answer(this, m, nonce.get().nonce(), nr, old, true);
        } catch (IkeProtocolException e) {
            return ChildCreate.refusal(sa, e);
        }
        ChildRekey ours = old.state() == ChildSa.State.REKEYING
                ? sa.window().ours(ChildRekey.class).stream().filter(r -> r.replaces(old)).findFirst().orElse(null) : null;
        if (ours != null) {
            // We are rekeying it too: which replacement survives is decided when ours completes.
            ours.collided(answer.child(), RekeyCollision.lower(nonce.get().nonce(), nr));
        } else {
            old.state(ChildSa.State.REKEYED);
            old.cancelTimers();
            expectPeerToDelete(sa, old);
        }
        return answer.payloads();
    }
}
