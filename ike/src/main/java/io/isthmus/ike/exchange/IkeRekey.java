package io.isthmus.ike.exchange;

import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IkeSaSuccession;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import java.security.PublicKey;
import java.util.List;
import java.util.Optional;

/**
 * The rekey of the IKE SA (RFC 7296 §2.18): IKE_SA_INIT's negotiation ({@link IkeSaInit}'s offer,
 * choice and check) inside CREATE_CHILD_SA, with new SPIs in the proposals and keys from the old
 * SK_d. The child SAs move to the new IKE SA; the initiator then deletes the old one:
 *
 * <pre>
 *   HDR, SK {SA(IKE, new SPIi), Ni, KEi}   -->
 *                                         <--  HDR, SK {SA(IKE, new SPIr), Nr, KEr}
 *   HDR, SK {D(IKE)}                       -->     (on the old IKE SA)
 *                                         <--  HDR, SK {}
 * </pre>
 *
 * When both ends rekey at once (§2.8.2) the {@link RekeyCollision} lives on our exchange: the new
 * IKE SA made by the exchange holding the lowest nonce is deleted by its initiator, the other
 * initiator deletes the old IKE SA. When the peer's rekey meets a child exchange of ours instead,
 * each end refuses the other's request (§2.25.2), and the IKE rekey goes first: we make it
 * ourselves once our exchange is done ({@link #rekeyAfterOurExchanges}).
 */
final class IkeRekey implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final boolean initiator;
    private KeyExchangeMethod group;
    private long spi;
    private byte[] ni;
    private KeyExchange ke;
    /** Initiator: set when the peer's rekey came in while ours was under way. */
    private RekeyCollision<IkeSa> collision;
    private List<Payload> answer;

    private IkeRekey(boolean initiator, KeyExchangeMethod group) {
        this.initiator = initiator;
        this.group = group;
    }

    /** Starts the rekey of {@code sa} (ESTABLISHED), with the key exchange method it uses now. */
    static void start(IkeSa sa) {
        sa.window().queue(new IkeRekey(true, sa.proposal().keyExchange()));
    }

    static IkeRekey responder() {
        return new IkeRekey(false, null);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.CREATE_CHILD_SA;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (!initiator) {
            m.addAll(answer);
            return Status.SUCCESS;
        }
        IkeSa sa = m.sa();
        // Only now, with nothing of ours in flight, does the IKE SA count as rekeying.
        if (sa.state() == IkeSaState.ESTABLISHED) {
            LOG.log(System.Logger.Level.INFO, "{0}: rekeying IKE SA", sa);
            sa.transitionTo(IkeSaState.REKEYING);
        } else if (sa.state() != IkeSaState.REKEYING) {
            return Status.CANCELLED;
        }
        if (spi == 0) {
            spi = sa.context().newIkeSpi();
        }
        ni = sa.context().nonce();
        ke = group.generate();
        m.add(IkeSaInit.offer(sa.connection().ikeProposals(), Proposal.spiBytes(spi))).add(new NoncePayload(ni))
                .add(new KePayload(ke.method().ianaId(), ke.publicValue()));
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
        IkeSa next;
        byte[] nr;
        try {
            SaPayload chosenSa = m.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
            KePayload kr = m.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
            nr = m.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            IkeProposal chosen = IkeSaInit.chosenBy(chosenSa, kr, sa.connection().ikeProposals(), ke, true);
            long spiR = Proposal.spiLong(chosenSa.proposals().getFirst().spi());
            next = IkeSaSuccession.successor(sa, true, spi, spiR, chosen, ni, nr, ke.sharedSecret(kr.data()));
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: IKE rekey response unusable: {1}", sa, e.getMessage());
            giveUp(sa);
            return Status.SUCCESS;
        }
        IkeSa theirs = peersReplacement();
        if (sa.state() == IkeSaState.DELETING) {
            deletedMeanwhile(sa, next, theirs);
            return Status.SUCCESS;
        }
        if (theirs != null && collision.oursHasLowest(ni, nr)) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous IKE rekey: ours has the lowest nonce, deleting {1}", sa, next);
            IkeSaSuccession.handOver(sa, theirs);
            expectDeleteOfReplaced(sa);
            IkeSaSuccession.handOverRedundant(next, theirs);
            IkeDelete.replaced(next, "redundant after a simultaneous IKE rekey");
            return Status.SUCCESS;
        }
        if (theirs != null) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous IKE rekey: the peer deletes its redundant {1}", sa, theirs);
            IkeSaSuccession.handOverRedundant(theirs, next);
            expectDeleteOfReplaced(theirs);
        }
        IkeSaSuccession.handOver(sa, next);
        IkeDelete.replaced(sa, "rekeyed");
        return Status.SUCCESS;
    }

    /** The peer rekeyed the IKE SA too and we answered: its new IKE SA and its exchange's lower nonce. */
    void collided(IkeSa theirs, byte[] theirLowestNonce) {
        collision = new RekeyCollision<>(theirs, theirLowestNonce);
    }

    private Status refused(IkeSa sa, NotifyPayload error) {
        int type = error.notifyType();
        if (type == NotifyType.INVALID_KE_PAYLOAD) {
            KeyExchangeMethod m = KeyExchangeRetry.retryWith(error, IkeSaInit.groups(sa.connection()), group);
            if (m != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants {1} for the IKE rekey, asking again", sa, m.keyword());
                group = m;
                return Status.NEED_MORE;
            }
        }
        if (type == NotifyType.TEMPORARY_FAILURE && collision == null) {
            LOG.log(System.Logger.Level.INFO, "{0}: peer answered TEMPORARY_FAILURE to the IKE rekey, trying again shortly", sa);
            backToEstablished(sa);
            sa.context().scheduler().schedule(ChildCreate.retryDelay(sa), sa::rekey);
            return Status.SUCCESS;
        }
        LOG.log(System.Logger.Level.WARNING, "{0}: IKE rekey refused: {1}", sa, NotifyType.name(type));
        giveUp(sa);
        return Status.SUCCESS;
    }

    /**
     * The IKE SA was deleted while our rekey was on the wire: the peer has made the new IKE SA
     * (and the one of its own rekey, if it rekeyed too) and moved its child SAs there, so those
     * go as well; the old one's delete, queued behind the rekey, takes our child SAs with it.
     */
    private static void deletedMeanwhile(IkeSa sa, IkeSa next, IkeSa theirs) {
        LOG.log(System.Logger.Level.INFO, "{0}: deleted while its rekey was under way; deleting {1} too", sa, next);
        next.delete();
        if (theirs != null) {
            theirs.delete();
        }
    }

    private void giveUp(IkeSa sa) {
        IkeSa theirs = peersReplacement();
        if (theirs != null && sa.state() == IkeSaState.DELETING) {
            theirs.delete();
        } else if (theirs != null) {
            IkeSaSuccession.handOver(sa, theirs); // the peer's rekey stands alone
            expectDeleteOfReplaced(sa);
        } else {
            backToEstablished(sa);
        }
    }

    /** The new IKE SA the peer's simultaneous rekey made, unless there was none or it is gone. */
    private IkeSa peersReplacement() {
        return collision == null || collision.peersReplacement().state() == IkeSaState.DESTROYED ? null : collision.peersReplacement();
    }

    private static void backToEstablished(IkeSa sa) {
        if (sa.state() == IkeSaState.REKEYING) {
            sa.transitionTo(IkeSaState.ESTABLISHED);
        }
    }

    /** After the peer's rekey replaced {@code old}: the peer deletes it, and if it never does, we do. */
    private static void expectDeleteOfReplaced(IkeSa old) {
        old.context().scheduler().schedule(old.connection().timers().dpdTimeout(), () -> {
            if (old.state() == IkeSaState.REKEYED) {
                IkeDelete.replaced(old, "the peer did not delete the old IKE SA after rekeying");
            }
        });
    }

    /**
     * We hold up the peer's rekey with our own exchanges, and the peer refuses our child exchanges
     * while it rekeys (§2.25.2): both ends are refused, and if each retried only its own exchange
     * the retries could meet, and be refused, again and again until an SA's lifetime ran out. So
     * the IKE rekey goes first: we queue it behind our exchanges, to go as soon as they are done.
     * Our refused child exchanges, retried later, go on the new IKE SA; the peer's own retry finds
     * the IKE SA rekeyed, or meets ours as a simultaneous rekey (§2.8.2).
     */
    private static void rekeyAfterOurExchanges(IkeSa sa) {
        if (sa.window().ours(IkeRekey.class).isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "{0}: peer rekeys the IKE SA while exchanges of ours are under way; rekeying it after them", sa);
            start(sa);
        }
    }

    private List<Payload> respond(IncomingMessage m) {
        IkeSa sa = m.sa();
        if (sa.state() != IkeSaState.ESTABLISHED && sa.state() != IkeSaState.REKEYING) {
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        if (sa.state() == IkeSaState.ESTABLISHED && sa.window().busyWithRequests()) {
            // Our own child exchanges must finish on this SA first (§2.25.2); then we rekey it.
            rekeyAfterOurExchanges(sa);
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        SaPayload offered = m.first(SaPayload.class).orElseThrow();
        ProposalSelection.Choice<IkeProposal> choice = IkeSaInit.choose(sa.connection().ikeProposals(), offered, true);
        if (choice == null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: no acceptable proposal for the IKE rekey among {1}", sa,
                    ProposalSelection.describe(offered));
            return List.of(NotifyPayload.of(NotifyType.NO_PROPOSAL_CHOSEN));
        }
        IkeProposal chosen = choice.ours();
        Optional<KePayload> kei = m.first(KePayload.class);
        if (kei.isEmpty() || kei.get().group() != chosen.keyExchange().ianaId()) {
            return List.of(KeyExchangeRetry.askFor(chosen.keyExchange()));
        }
        Optional<NoncePayload> nonce = m.first(NoncePayload.class);
        if (nonce.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        IkeSa next;
        long spiR;
        KeyExchange ours;
        byte[] nr;
        try {
            // As in IKE_SA_INIT, the peer's value first: a broken one must not cost us a key pair.
            PublicKey peerValue = chosen.keyExchange().peerPublicValue(kei.get().data());
            nr = sa.context().nonce();
            ours = chosen.keyExchange().generate();
            spiR = sa.context().newIkeSpi();
            next = IkeSaSuccession.successor(sa, false, Proposal.spiLong(choice.offered().spi()), spiR, chosen, nonce.get().nonce(), nr,
                    ours.sharedSecret(peerValue));
        } catch (IkeProtocolException e) {
            return List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
        }
        IkeRekey mine = sa.state() == IkeSaState.REKEYING ? sa.window().ours(IkeRekey.class).stream().filter(r -> r.initiator).findFirst()
                .orElse(null) : null;
        if (mine != null) {
            // We are rekeying it too: which new IKE SA survives is decided when our response comes.
            mine.collided(next, RekeyCollision.lower(nonce.get().nonce(), nr));
        } else {
            IkeSaSuccession.handOver(sa, next);
            expectDeleteOfReplaced(sa);
        }
        return List.of(new SaPayload(List.of(chosen.toProposal(choice.offered().number(), Proposal.spiBytes(spiR)))), new NoncePayload(nr),
                new KePayload(ours.method().ianaId(), ours.publicValue()));
    }
}
