package io.isthmus.ike;

import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
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
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.message.TsPayload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * CREATE_CHILD_SA (RFC 7296 §1.3) in its three forms, for both roles: a further child SA, the
 * rekey of a child SA, and the rekey of the IKE SA; with or without PFS, and the simultaneous
 * rekeys of §2.8.1 and §2.8.2 resolved by the lowest nonce. The child SAs from IKE_AUTH come
 * through here too.
 */
final class CreateChildSa {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private CreateChildSa() {
    }

    /** Our ESP proposals with our inbound SPI; KE transforms only in CREATE_CHILD_SA. */
    static SaPayload proposals(IkeSa sa, int spi, boolean withKeyExchange) {
        List<Proposal> proposals = new ArrayList<>();
        List<ChildProposal> mine = sa.connection().childProposals();
        for (int i = 0; i < mine.size(); i++) {
            proposals.add(mine.get(i).toProposal(i + 1, spi, withKeyExchange));
        }
        return new SaPayload(proposals);
    }

    private static Duration retryDelay(IkeSa sa) {
        return Duration.ofMillis(2000 + (long) (3000 * sa.engine.context().randomFraction()));
    }

    // ------------------------------------------------------------------------------------------
    // A child SA, new or replacing one, as initiator
    //
    //   HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
    //                                                    <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
    //   or                                               <--  HDR, SK {N(INVALID_KE_PAYLOAD)}  (again with that group)
    //   or                                               <--  HDR, SK {N(TEMPORARY_FAILURE)}   (again a little later)
    // then, for a rekey, on the same IKE SA:
    //   HDR, SK {D(ESP, old inbound SPI)}                -->
    //                                                    <--  HDR, SK {D(ESP, the peer's old inbound SPI)}
    // ------------------------------------------------------------------------------------------

    static void startChild(IkeSa sa, ChildSa rekeyed) {
        if (rekeyed != null) {
            rekeyed.state = ChildSa.State.REKEYING;
            LOG.log(System.Logger.Level.INFO, "{0}: rekeying CHILD_SA {1}", sa, rekeyed);
        }
        KeyExchangeMethod group = sa.connection().childProposals().getFirst().pfs();
        new ChildInitiator(rekeyed, group).send(sa);
    }

    private static final class ChildInitiator {
        private final ChildSa rekeyed;
        private KeyExchangeMethod group;
        private int spi;
        private byte[] ni;
        private KeyExchange ke;

        ChildInitiator(ChildSa rekeyed, KeyExchangeMethod group) {
            this.rekeyed = rekeyed;
            this.group = group;
        }

        void send(IkeSa sa) {
            sa.request(ExchangeType.CREATE_CHILD_SA, this::build, this::process, false);
        }

        private List<Payload> build(IkeSa sa) {
            if (rekeyed != null && (rekeyed.owner != sa || rekeyed.state != ChildSa.State.REKEYING)) {
                return null; // deleted, or the peer's rekey won meanwhile
            }
            if (spi == 0) {
                spi = sa.engine.context().newChildSpi();
            }
            ni = sa.engine.context().nonce();
            ke = group == null ? null : group.generate();
            List<Payload> payloads = new ArrayList<>();
            if (rekeyed != null) {
                payloads.add(new NotifyPayload(Proposal.PROTOCOL_ESP, Proposal.spiBytes(rekeyed.inboundSpi()), NotifyType.REKEY_SA,
                        new byte[0]));
            }
            payloads.add(proposals(sa, spi, true));
            payloads.add(new NoncePayload(ni));
            if (ke != null) {
                payloads.add(new KePayload(ke.method().ianaId(), ke.publicValue()));
            }
            // A rekey keeps the selectors the old SA settled on (§2.9.2).
            payloads.add(new TsPayload(true, rekeyed != null ? rekeyed.description.localSelectors() : sa.connection().localSelectors()));
            payloads.add(new TsPayload(false, rekeyed != null ? rekeyed.description.remoteSelectors() : sa.connection().remoteSelectors()));
            return payloads;
        }

        private void process(IkeSa sa, IkeSa.Response r) {
            Optional<NotifyPayload> error = r.error();
            if (error.isPresent()) {
                refused(sa, error.get());
                return;
            }
            ChildSa created;
            byte[] nr;
            try {
                nr = r.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
                ChildSa replacing = rekeyed != null && rekeyed.owner == sa && sa.children.contains(rekeyed) ? rekeyed : null;
                created = installFromResponse(sa, r, spi, ke, ni, nr, replacing);
            } catch (IkeProtocolException e) {
                LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA response unusable: {1}", sa, e.getMessage());
                backToInstalled();
                // The peer installed what it answered; tell it to drop that again (§1.3.2 leaves the cleanup to us).
                sa.request(ExchangeType.INFORMATIONAL, s -> List.of(new io.isthmus.ike.message.DeletePayload(Proposal.PROTOCOL_ESP, 4,
                        List.of(Proposal.spiBytes(spi)))), (s, x) -> s.engine.context().releaseChildSpi(spi), false);
                return;
            }
            if (rekeyed != null) {
                completeRekey(sa, rekeyed, created, ni, nr);
            }
        }

        private void refused(IkeSa sa, NotifyPayload error) {
            int type = error.notifyType();
            if (rekeyed != null && rekeyed.peersReplacement != null && type != NotifyType.INVALID_KE_PAYLOAD) {
                // The peer rekeyed it at the same time and we answered: that replacement stands alone.
                LOG.log(System.Logger.Level.INFO, "{0}: our rekey of {1} was refused ({2}), the peer's replacement stands", sa, rekeyed,
                        NotifyType.name(type));
                sa.engine.context().releaseChildSpi(spi);
                rekeyed.state = ChildSa.State.REKEYED;
                rekeyed.cancelTimers();
                expectPeerToDelete(sa, rekeyed);
                return;
            }
            if (type == NotifyType.INVALID_KE_PAYLOAD) {
                KeyExchangeMethod m = KeyExchangeRetry.retryWith(error, sa.connection().childProposals().stream().map(ChildProposal::pfs).toList(),
                        group);
                if (m != null) {
                    LOG.log(System.Logger.Level.INFO, "{0}: peer wants PFS group {1}, asking again", sa, m.keyword());
                    group = m;
                    send(sa);
                    return;
                }
            }
            if (type == NotifyType.TEMPORARY_FAILURE) {
                // The peer is busy with an exchange of its own (§2.25); a little later it will not be.
                LOG.log(System.Logger.Level.INFO, "{0}: peer answered TEMPORARY_FAILURE, trying again shortly", sa);
                sa.engine.context().releaseChildSpi(spi);
                spi = 0;
                backToInstalled();
                if (rekeyed != null) {
                    sa.engine.context().scheduler().schedule(retryDelay(sa), () -> rekeyed.owner.rekeyChild(rekeyed));
                } else {
                    sa.engine.context().scheduler().schedule(retryDelay(sa), () -> sa.current().createChild());
                }
                return;
            }
            sa.engine.context().releaseChildSpi(spi);
            if (type == NotifyType.CHILD_SA_NOT_FOUND && rekeyed != null) {
                LOG.log(System.Logger.Level.WARNING, "{0}: peer does not know CHILD_SA {1}; replacing it with a new one", sa, rekeyed);
                rekeyed.owner.removeChild(rekeyed, "unknown to the peer");
                sa.current().createChild();
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA refused: {1}", sa, NotifyType.name(type));
            backToInstalled();
        }

        private void backToInstalled() {
            if (rekeyed != null && rekeyed.state == ChildSa.State.REKEYING) {
                rekeyed.state = ChildSa.State.INSTALLED;
            }
        }
    }

    /**
     * Our rekey of {@code old} made {@code created}. Unless the peer rekeyed {@code old} at the
     * same time, we delete {@code old}. If it did, the two exchanges' nonces decide (§2.8.1):
     * the replacement made by the exchange holding the lowest nonce is redundant and its
     * initiator deletes it; the other initiator deletes the old SA.
     */
    private static void completeRekey(IkeSa sa, ChildSa old, ChildSa created, byte[] ni, byte[] nr) {
        if (old.owner != sa || !sa.children.contains(old)) {
            return; // the peer deleted it meanwhile
        }
        ChildSa theirs = old.peersReplacement;
        old.state = ChildSa.State.REKEYED;
        old.cancelTimers();
        if (theirs != null && sa.children.contains(theirs)
                && Arrays.compareUnsigned(ChildSa.lower(ni, nr), old.peersExchangeLowestNonce) < 0) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous rekey of {1}: ours has the lowest nonce, deleting it", sa, old);
            sa.deleteChild(created, "redundant after a simultaneous rekey");
            expectPeerToDelete(sa, old);
            return;
        }
        if (theirs != null) {
            LOG.log(System.Logger.Level.INFO, "{0}: simultaneous rekey of {1}: the peer deletes its redundant replacement", sa, old);
        }
        sa.deleteChild(old, "rekeyed");
    }

    /** The rekey's initiator deletes the old SA; if it never does, we do it ourselves. */
    private static void expectPeerToDelete(IkeSa sa, ChildSa old) {
        sa.engine.context().scheduler().schedule(sa.connection().timers().dpdTimeout(), () -> {
            if (old.state == ChildSa.State.REKEYED && old.owner.children.contains(old)) {
                old.owner.deleteChild(old, "the peer did not delete it after the rekey");
            }
        });
    }

    /**
     * Initiator: the responder's choice of proposal and selectors, checked against what we
     * offered, then installed. {@code ke} is our PFS key exchange, if we offered one.
     */
    static ChildSa installFromResponse(IkeSa sa, IkeSa.Response r, int inboundSpi, KeyExchange ke, byte[] nonceI, byte[] nonceR,
                                       ChildSa replacing) throws IkeProtocolException {
        SaPayload saPayload = r.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
        if (saPayload.proposals().size() != 1) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose " + saPayload.proposals().size() + " proposals");
        }
        Proposal p = saPayload.proposals().getFirst();
        ChildProposal chosen = p.protocolId() == Proposal.PROTOCOL_ESP && p.spi().length == 4 ? ChildProposal.fromChosen(p) : null;
        boolean offered = chosen != null && sa.connection().childProposals().stream().anyMatch(m -> m.cipher().equals(chosen.cipher())
                && m.esn() == chosen.esn() && (chosen.pfs() == null ? ke == null || m.pfs() == null : chosen.pfs() == m.pfs()));
        if (!offered) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose an ESP proposal we did not offer: " + chosen);
        }
        byte[] pfsSecret = null;
        if (chosen.pfs() != null) {
            KePayload kr = r.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("PFS chosen but no KE payload"));
            if (ke == null || kr.group() != ke.method().ianaId() || chosen.pfs() != ke.method()) {
                throw IkeProtocolException.invalidSyntax("responder's KE group " + kr.group() + " is not the one we sent");
            }
            pfsSecret = ke.sharedSecret(kr.data());
        }
        List<TrafficSelector> tsi = r.payloads().stream().filter(x -> x instanceof TsPayload t && t.initiator())
                .map(x -> ((TsPayload) x).selectors()).findFirst().orElse(List.of());
        List<TrafficSelector> tsr = r.payloads().stream().filter(x -> x instanceof TsPayload t && !t.initiator())
                .map(x -> ((TsPayload) x).selectors()).findFirst().orElse(List.of());
        if (tsi.isEmpty() || tsr.isEmpty() || !within(tsi, sa.connection().localSelectors()) || !within(tsr, sa.connection().remoteSelectors())) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "responder's selectors " + tsi + " === " + tsr + " are not ours");
        }
        return sa.installChild(chosen, inboundSpi, Proposal.spiInt(p.spi()), tsi, tsr, pfsSecret, nonceI, nonceR, true, replacing);
    }

    // ------------------------------------------------------------------------------------------
    // Responder
    // ------------------------------------------------------------------------------------------

    /** A CREATE_CHILD_SA request from the peer; returns the response's payloads. */
    static List<Payload> respond(IkeSa sa, List<Payload> request) {
        Optional<SaPayload> saPayload = IkeSa.find(request, SaPayload.class);
        if (saPayload.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        if (saPayload.get().proposals().stream().anyMatch(p -> p.protocolId() == Proposal.PROTOCOL_IKE)) {
            return respondToIkeRekey(sa, request, saPayload.get());
        }
        if (sa.state() != IkeSaState.ESTABLISHED) {
            // Rekeying or deleting the IKE SA: no new child SAs on it (§2.25.2).
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        ChildSa old = null;
        Optional<NotifyPayload> rekey = IkeSa.notify(request, NotifyType.REKEY_SA);
        if (rekey.isPresent()) {
            byte[] spi = rekey.get().spi();
            old = spi.length == 4 ? sa.childByOutboundSpi(Proposal.spiInt(spi)) : null;
            if (old == null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer rekeys a CHILD_SA we do not have", sa);
                return List.of(new NotifyPayload(Proposal.PROTOCOL_ESP, spi, NotifyType.CHILD_SA_NOT_FOUND, new byte[0]));
            }
            if (old.state == ChildSa.State.DELETING || old.state == ChildSa.State.REKEYED) {
                return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
            }
        }
        Optional<NoncePayload> ni = IkeSa.find(request, NoncePayload.class);
        if (ni.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        byte[] nr = sa.engine.context().nonce();
        Answer answer;
        try {
            answer = answerChildRequest(sa, request, ni.get().nonce(), nr, old, true);
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA refused: {1}", sa, e.getMessage());
            return List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
        }
        if (old != null) {
            if (old.state == ChildSa.State.REKEYING) {
                // We are rekeying it too: which replacement survives is decided when ours completes.
                old.peersReplacement = answer.child();
                old.peersExchangeLowestNonce = ChildSa.lower(ni.get().nonce(), nr);
            } else {
                old.state = ChildSa.State.REKEYED;
                old.cancelTimers();
                expectPeerToDelete(sa, old);
            }
        }
        return answer.payloads();
    }

    record Answer(List<Payload> payloads, ChildSa child) {
    }

    /**
     * Responder: choose a proposal by our order of preference, narrow the selectors (§2.9),
     * run the PFS key exchange if the proposal has one, install, and answer.
     * {@code createChildSa}: a CREATE_CHILD_SA (nonce and KE in the answer) rather than IKE_AUTH.
     */
    static Answer answerChildRequest(IkeSa sa, List<Payload> request, byte[] nonceI, byte[] nonceR, ChildSa replacing,
                                     boolean createChildSa) throws IkeProtocolException {
        Connection connection = sa.connection();
        SaPayload saPayload = IkeSa.find(request, SaPayload.class)
                .orElseThrow(() -> new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no SA"));
        List<TrafficSelector> tsi = request.stream().filter(p -> p instanceof TsPayload t && t.initiator())
                .map(p -> ((TsPayload) p).selectors()).findFirst()
                .orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSi"));
        List<TrafficSelector> tsr = request.stream().filter(p -> p instanceof TsPayload t && !t.initiator())
                .map(p -> ((TsPayload) p).selectors()).findFirst()
                .orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSr"));
        ProposalSelection.Choice<ChildProposal> choice = ProposalSelection.choose(connection.childProposals(), saPayload.proposals(),
                (mine, offered) -> mine.offeredBy(offered, createChildSa));
        if (choice == null) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no acceptable ESP proposal among "
                    + ProposalSelection.describe(saPayload));
        }
        ChildProposal chosen = choice.ours();
        Proposal chosenFrom = choice.offered();
        // Their TSi is our remote side, their TSr our local side.
        List<TrafficSelector> narrowedI = narrow(tsi, connection.remoteSelectors());
        List<TrafficSelector> narrowedR = narrow(tsr, connection.localSelectors());
        if (narrowedI.isEmpty() || narrowedR.isEmpty()) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "selectors " + tsi + " === " + tsr + " outside "
                    + connection.remoteSelectors() + " === " + connection.localSelectors());
        }
        KeyExchangeMethod pfs = createChildSa ? chosen.pfs() : null;
        KeyExchange ke = null;
        byte[] pfsSecret = null;
        if (pfs != null) {
            Optional<KePayload> kei = IkeSa.find(request, KePayload.class);
            if (kei.isEmpty() || kei.get().group() != pfs.ianaId()) {
                throw new IkeProtocolException(NotifyType.INVALID_KE_PAYLOAD, KeyExchangeRetry.groupBytes(pfs),
                        "peer's KE is " + kei.map(k -> "group " + k.group()).orElse("missing") + ", we choose " + pfs.keyword());
            }
            ke = pfs.generate();
            pfsSecret = ke.sharedSecret(kei.get().data());
        }
        int inboundSpi = sa.engine.context().newChildSpi();
        int outboundSpi = Proposal.spiInt(chosenFrom.spi());
        ChildProposal negotiated = new ChildProposal(chosen.cipher(), chosen.esn(), pfs);
        ChildSa child = sa.installChild(negotiated, inboundSpi, outboundSpi, narrowedR, narrowedI, pfsSecret, nonceI, nonceR, false, replacing);
        List<Payload> response = new ArrayList<>();
        response.add(new SaPayload(List.of(negotiated.toProposal(chosenFrom.number(), inboundSpi, createChildSa))));
        if (createChildSa) {
            response.add(new NoncePayload(nonceR));
            if (ke != null) {
                response.add(new KePayload(ke.method().ianaId(), ke.publicValue()));
            }
        }
        response.add(new TsPayload(true, narrowedI));
        response.add(new TsPayload(false, narrowedR));
        return new Answer(response, child);
    }

    static List<TrafficSelector> narrow(List<TrafficSelector> proposed, List<TrafficSelector> allowed) {
        List<TrafficSelector> result = new ArrayList<>();
        for (TrafficSelector p : proposed) {
            for (TrafficSelector a : allowed) {
                p.intersect(a).filter(ts -> !result.contains(ts)).ifPresent(result::add);
            }
        }
        return result;
    }

    private static boolean within(List<TrafficSelector> got, List<TrafficSelector> offered) {
        return got.stream().allMatch(g -> offered.stream().anyMatch(g::isWithin));
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

        private void process(IkeSa sa, IkeSa.Response r) {
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

    private static List<Payload> respondToIkeRekey(IkeSa sa, List<Payload> request, SaPayload saPayload) {
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
