package io.isthmus.ike;

import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.exchange.IncomingMessage;
import io.isthmus.ike.exchange.KeyExchangeRetry;
import io.isthmus.ike.exchange.ProposalSelection;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The rekey of the IKE SA, for both roles, until it is an exchange class of its own. */
final class CreateChildSa {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private CreateChildSa() {
    }

    private static Duration retryDelay(IkeSa sa) {
        return Duration.ofMillis(2000 + (long) (3000 * sa.engine.context().randomFraction()));
    }

    // ------------------------------------------------------------------------------------------
    // The IKE SA's rekey (§2.18)
    //
    //   HDR, SK {SA(IKE, new SPIi), Ni, KEi}   -->
    //                                         <--  HDR, SK {SA(IKE, new SPIr), Nr, KEr}
    //   the child SAs move to the new IKE SA; then, on the old one:
    //   HDR, SK {D(IKE)}                       -->
    //                                         <--  HDR, SK {}
    // Simultaneous rekeys (§2.8.2): the new IKE SA made by the exchange with the lowest nonce is
    // deleted by its initiator; the other initiator deletes the old IKE SA.
    // ------------------------------------------------------------------------------------------

    static void startIkeRekey(IkeSa sa) {
        new IkeRekeyInitiator(sa.proposal().keyExchange()).send(sa);
    }

    private static final class IkeRekeyInitiator {
        private KeyExchangeMethod group;
        private long spi;
        private byte[] ni;
        private KeyExchange ke;

        IkeRekeyInitiator(KeyExchangeMethod group) {
            this.group = group;
        }

        void send(IkeSa sa) {
            sa.request(ExchangeType.CREATE_CHILD_SA, this::build, this::process, true);
        }

        private List<Payload> build(IkeSa sa) {
            // Only now, with nothing of ours in flight, does the IKE SA count as rekeying.
            if (sa.state() == IkeSaState.ESTABLISHED) {
                LOG.log(System.Logger.Level.INFO, "{0}: rekeying IKE SA", sa);
                sa.rekeying(true);
            } else if (sa.state() != IkeSaState.REKEYING) {
                return null;
            }
            if (spi == 0) {
                spi = sa.engine.context().newIkeSpi();
            }
            ni = sa.engine.context().nonce();
            ke = group.generate();
            List<Proposal> proposals = new ArrayList<>();
            List<IkeProposal> mine = sa.connection().ikeProposals();
            for (int i = 0; i < mine.size(); i++) {
                proposals.add(mine.get(i).toProposal(i + 1, Proposal.spiBytes(spi)));
            }
            return List.of(new SaPayload(proposals), new NoncePayload(ni), new KePayload(ke.method().ianaId(), ke.publicValue()));
        }

        private void process(IkeSa sa, IncomingMessage r) {
            Optional<NotifyPayload> error = r.error();
            if (error.isPresent()) {
                refused(sa, error.get());
                return;
            }
            IkeSa next;
            byte[] nr;
            try {
                SaPayload saPayload = r.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
                KePayload kr = r.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
                nr = r.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
                if (saPayload.proposals().size() != 1 || saPayload.proposals().getFirst().spi().length != 8) {
                    throw IkeProtocolException.invalidSyntax("responder's IKE rekey proposal is malformed");
                }
                Proposal p = saPayload.proposals().getFirst();
                IkeProposal chosen = IkeProposal.fromChosen(p);
                if (chosen == null || !sa.connection().ikeProposals().contains(chosen) || chosen.keyExchange() != ke.method()
                        || kr.group() != ke.method().ianaId()) {
                    throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose " + chosen + " with KE " + kr.group());
                }
                next = IkeSa.rekeyed(sa, true, spi, Proposal.spiLong(p.spi()), chosen, ni, nr, ke.sharedSecret(kr.data()));
            } catch (IkeProtocolException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: IKE rekey response unusable: {1}", sa, e.getMessage());
                giveUp(sa);
                return;
            }
            IkeSa theirs = sa.peersReplacement;
            if (theirs != null && theirs.state() != IkeSaState.DESTROYED
                    && Arrays.compareUnsigned(ChildSa.lower(ni, nr), sa.peersRekeyLowestNonce) < 0) {
                LOG.log(System.Logger.Level.INFO, "{0}: simultaneous IKE rekey: ours has the lowest nonce, deleting {1}", sa, next);
                sa.handOver(theirs);
                sa.expectDeleteOfReplaced();
                next.handOver(theirs);
                next.deleteReplaced("redundant after a simultaneous IKE rekey");
                return;
            }
            if (theirs != null && theirs.state() != IkeSaState.DESTROYED) {
                LOG.log(System.Logger.Level.INFO, "{0}: simultaneous IKE rekey: the peer deletes its redundant {1}", sa, theirs);
                theirs.handOver(next);
                theirs.expectDeleteOfReplaced();
            }
            sa.handOver(next);
            sa.deleteReplaced("rekeyed");
        }

        private void refused(IkeSa sa, NotifyPayload error) {
            int type = error.notifyType();
            if (type == NotifyType.INVALID_KE_PAYLOAD) {
                KeyExchangeMethod m = KeyExchangeRetry.retryWith(error, sa.connection().ikeProposals().stream().map(IkeProposal::keyExchange)
                        .toList(), group);
                if (m != null) {
                    LOG.log(System.Logger.Level.INFO, "{0}: peer wants {1} for the IKE rekey, asking again", sa, m.keyword());
                    group = m;
                    send(sa);
                    return;
                }
            }
            if (type == NotifyType.TEMPORARY_FAILURE && sa.peersReplacement == null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer answered TEMPORARY_FAILURE to the IKE rekey, trying again shortly", sa);
                sa.rekeying(false);
                sa.engine.context().scheduler().schedule(retryDelay(sa), sa::rekey);
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "{0}: IKE rekey refused: {1}", sa, NotifyType.name(type));
            giveUp(sa);
        }

        private void giveUp(IkeSa sa) {
            if (sa.peersReplacement != null && sa.peersReplacement.state() != IkeSaState.DESTROYED) {
                sa.handOver(sa.peersReplacement); // the peer's rekey stands alone
                sa.expectDeleteOfReplaced();
            } else {
                sa.rekeying(false);
            }
        }
    }

    static List<Payload> respondToIkeRekey(IkeSa sa, IncomingMessage m) {
        List<Payload> request = m.payloads();
        SaPayload saPayload = m.first(SaPayload.class).orElseThrow();
        if (sa.state() != IkeSaState.ESTABLISHED && sa.state() != IkeSaState.REKEYING) {
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        if (sa.state() == IkeSaState.ESTABLISHED && sa.busyWithRequests()) {
            // Our own child exchanges must finish on this SA first (§2.25.2).
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        ProposalSelection.Choice<IkeProposal> choice = ProposalSelection.choose(sa.connection().ikeProposals(), saPayload.proposals(),
                (mine, p) -> p.spi().length == 8 && mine.offeredBy(p));
        if (choice == null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: no acceptable proposal for the IKE rekey among {1}", sa,
                    ProposalSelection.describe(saPayload));
            return List.of(NotifyPayload.of(NotifyType.NO_PROPOSAL_CHOSEN));
        }
        IkeProposal chosen = choice.ours();
        Proposal chosenFrom = choice.offered();
        Optional<KePayload> kei = IkeSa.find(request, KePayload.class);
        if (kei.isEmpty() || kei.get().group() != chosen.keyExchange().ianaId()) {
            return List.of(KeyExchangeRetry.askFor(chosen.keyExchange()));
        }
        Optional<NoncePayload> ni = IkeSa.find(request, NoncePayload.class);
        if (ni.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        byte[] nr = sa.engine.context().nonce();
        KeyExchange ke = chosen.keyExchange().generate();
        long spiR = sa.engine.context().newIkeSpi();
        IkeSa next;
        try {
            next = IkeSa.rekeyed(sa, false, Proposal.spiLong(chosenFrom.spi()), spiR, chosen, ni.get().nonce(), nr,
                    ke.sharedSecret(kei.get().data()));
        } catch (IkeProtocolException e) {
            return List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
        }
        if (sa.state() == IkeSaState.REKEYING) {
            sa.peersReplacement = next;
            sa.peersRekeyLowestNonce = ChildSa.lower(ni.get().nonce(), nr);
        } else {
            sa.handOver(next);
            sa.expectDeleteOfReplaced();
        }
        return List.of(new SaPayload(List.of(chosen.toProposal(chosenFrom.number(), Proposal.spiBytes(spiR)))), new NoncePayload(nr),
                new KePayload(ke.method().ianaId(), ke.publicValue()));
    }
}
