package io.isthmus.ike.exchange;

import io.isthmus.esp.Lifetime;
import io.isthmus.esp.SaParameters;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.ChildSa;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InboundSpi;
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
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.message.TsPayload;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A further child SA with the connection's selectors (RFC 7296 §1.3.1), with PFS when the
 * proposal has a key exchange method:
 *
 * <pre>
 *   HDR, SK {SA, Ni, [KEi], TSi, TSr}  -->
 *                                     <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *   or                                <--  HDR, SK {N(INVALID_KE_PAYLOAD)}   (again with that group)
 *   or                                <--  HDR, SK {N(TEMPORARY_FAILURE)}    (again a little later)
 * </pre>
 *
 * The negotiation itself is here for every child SA: our offer, the responder's choice and
 * narrowing, the initiator's check of it, and the keys (KEYMAT, §2.17). IKE_AUTH's first child SA
 * and {@link ChildRekey} use it.
 *
 * <p>The initiator reserves the inbound SPI it offers when it first builds the request and keeps
 * it through retries with another group; the child SA takes it over when it is installed, and
 * whatever else ends the exchange gives it back ({@link #ended}).
 */
final class ChildCreate implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final boolean initiator;
    /**
     * Initiator: child SAs negotiated with selectors the connection no longer has (a reload
     * changed them), which this one replaces: deleted once it is installed, kept if it is refused.
     */
    private final List<ChildSa> superseded;
    private KeyExchangeMethod group;
    /** Initiator: the inbound SPI we offer, ours until the child SA is installed with it. */
    private InboundSpi spi;
    private byte[] ni;
    private KeyExchange ke;
    private List<Payload> answer;
    /** Initiator: the selectors asked for (a reload may change the connection's while the request is out). */
    private List<TrafficSelector> askedLocal;
    private List<TrafficSelector> askedRemote;

    private ChildCreate(boolean initiator, KeyExchangeMethod group, List<ChildSa> superseded) {
        this.initiator = initiator;
        this.group = group;
        this.superseded = List.copyOf(superseded);
    }

    /** Starts a further child SA on {@code sa}'s turn (or its replacement's, after an IKE rekey). */
    static void start(IkeSa sa) {
        sa.window().queue(new ChildCreate(true, sa.connection().childProposals().getFirst().pfs(), List.of()));
    }

    /** Starts a child SA with the connection's selectors that replaces {@code outdated}, make-before-break. */
    static void replacing(IkeSa sa, List<ChildSa> outdated) {
        sa.window().queue(new ChildCreate(true, sa.connection().childProposals().getFirst().pfs(), outdated));
    }

    static ChildCreate responder() {
        return new ChildCreate(false, null, List.of());
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
        if (spi == null) {
            spi = sa.context().reserveInboundSpi(this);
        }
        ni = sa.context().nonce();
        ke = group == null ? null : group.generate();
        askedLocal = sa.connection().localSelectors();
        askedRemote = sa.connection().remoteSelectors();
        request(m, spi.value(), ni, ke, askedLocal, askedRemote);
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
        if (!superseded.isEmpty() && overtaken(sa) && newerReplacementQueued(sa)) {
            // A later reload changed the selectors while this was out, and its replacement is queued: that one brings the right ones.
            LOG.log(System.Logger.Level.INFO, "{0}: the child SA asked for with selectors {1} === {2} is not installed: the connection has {3} === {4}"
                    + " now, and a replacement with those is queued", sa, askedLocal, askedRemote, sa.connection().localSelectors(),
                    sa.connection().remoteSelectors());
            ChildDelete.unused(sa, this, spi);
            return Status.SUCCESS;
        }
        try {
            byte[] nr = m.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            accept(m, spi, ke, ni, nr, null, askedLocal, askedRemote);
        } catch (IkeProtocolException e) {
            unusable(sa, this, spi, e);
            keepSuperseded(sa);
            return Status.SUCCESS;
        }
        for (ChildSa old : superseded) {
            // On the IKE SA that holds it now (an IKE rekey moves child SAs); one already going is left alone.
            old.owner().children().delete(old, "replaced by a child SA with the connection's new selectors");
        }
        return Status.SUCCESS;
    }

    /** A replacement that did not come about: the child SAs with the old selectors carry on. */
    private void keepSuperseded(IkeSa sa) {
        if (superseded.isEmpty()) {
            return;
        }
        if (newerReplacementQueued(sa)) {
            LOG.log(System.Logger.Level.INFO, "{0}: no child SA with the selectors asked for {1} === {2}; a newer replacement is queued", sa,
                    askedLocal, askedRemote);
        } else {
            LOG.log(System.Logger.Level.WARNING, "{0}: no child SA with the new selectors {1} === {2}; the {3} with the old ones stay(s)", sa,
                    askedLocal, askedRemote, superseded.size());
        }
    }

    /** Whether the connection's selectors changed since this asked (a later reload). */
    private boolean overtaken(IkeSa sa) {
        return askedLocal != null && (!Set.copyOf(askedLocal).equals(Set.copyOf(sa.connection().localSelectors()))
                || !Set.copyOf(askedRemote).equals(Set.copyOf(sa.connection().remoteSelectors())));
    }

    /** Whether another replacement (a later reload's) waits on the IKE SA that holds the child SAs now. */
    private boolean newerReplacementQueued(IkeSa sa) {
        return sa.current().window().ours(ChildCreate.class).stream().anyMatch(c -> c != this && c.initiator && !c.superseded.isEmpty());
    }

    /** After a busy peer's TEMPORARY_FAILURE: the replacement again, of the outdated child SAs still there. */
    private void replaceAgain(IkeSa sa) {
        IkeSa now = sa.current();
        List<ChildSa> left = superseded.stream().filter(c -> c.owner() == now && now.children().contains(c)
                && (c.state() == ChildSa.State.INSTALLED || c.state() == ChildSa.State.REKEYING)).toList();
        if (now.isUp() && !left.isEmpty()) {
            now.context().exchanges().replaceChildren(now, left);
        }
    }

    /** Whether or not a child SA took it over, refused or gone with the IKE SA: the SPI goes back unless one did. */
    @Override
    public void ended() {
        if (spi != null) {
            spi.release(this);
        }
    }

    private Status refused(IkeSa sa, NotifyPayload error) {
        int type = error.notifyType();
        if (type == NotifyType.INVALID_KE_PAYLOAD) {
            KeyExchangeMethod m = KeyExchangeRetry.retryWith(error, sa.connection().childProposals().stream().map(ChildProposal::pfs).toList(),
                    group);
            if (m != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants PFS group {1}, asking again", sa, m.keyword());
                group = m;
                return Status.NEED_MORE;
            }
        }
        if (type == NotifyType.TEMPORARY_FAILURE) {
            // The peer is busy with an exchange of its own (§2.25); a little later it will not be.
            LOG.log(System.Logger.Level.INFO, "{0}: peer answered TEMPORARY_FAILURE, trying again shortly", sa);
            sa.context().scheduler().schedule(retryDelay(sa), superseded.isEmpty() ? () -> sa.current().createChild() : () -> replaceAgain(sa));
            return Status.SUCCESS;
        }
        LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA refused: {1}", sa, NotifyType.name(type));
        keepSuperseded(sa);
        return Status.SUCCESS;
    }

    /**
     * The peer installed what it answered: tell it to drop that again (§1.3.2 leaves the cleanup
     * to us). The delete holds {@code exchange}'s SPI until it ends, so no other child SA gets it
     * while the peer may still send on it.
     */
    static void unusable(IkeSa sa, Exchange exchange, InboundSpi spi, IkeProtocolException e) {
        LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA response unusable: {1}", sa, e.getMessage());
        ChildDelete.unused(sa, exchange, spi);
    }

    /**
     * Busy peers retry 2 to 5 s later, at random, so two busy ends seldom meet again; when an IKE
     * rekey met a child exchange, the IKE rekey does not wait for this (IkeRekey#rekeyAfterOurExchanges).
     */
    static Duration retryDelay(IkeSa sa) {
        return Duration.ofMillis(2000 + (long) (3000 * sa.context().randomFraction()));
    }

    private List<Payload> respond(IncomingMessage m) {
        IkeSa sa = m.sa();
        if (m.first(SaPayload.class).isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        if (sa.state() != IkeSaState.ESTABLISHED) {
            // Rekeying or deleting the IKE SA: no new child SAs on it (§2.25.2).
            return List.of(NotifyPayload.of(NotifyType.TEMPORARY_FAILURE));
        }
        Optional<NoncePayload> nonce = m.first(NoncePayload.class);
        if (nonce.isEmpty()) {
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        try {
            return answer(this, m, nonce.get().nonce(), sa.context().nonce(), null, true).payloads();
        } catch (IkeProtocolException e) {
            return refusal(sa, e);
        }
    }

    static List<Payload> refusal(IkeSa sa, IkeProtocolException e) {
        LOG.log(System.Logger.Level.WARNING, "{0}: CREATE_CHILD_SA refused: {1}", sa, e.getMessage());
        return List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
    }

    // ------------------------------------------------------------------------------------------
    // The negotiation, for every child SA
    // ------------------------------------------------------------------------------------------

    /** Our ESP proposals with our inbound SPI; KE transforms only in CREATE_CHILD_SA (IKE_AUTH has no KE payload). */
    static SaPayload offer(IkeSa sa, int spi, boolean withKeyExchange) {
        List<Proposal> proposals = new ArrayList<>();
        List<ChildProposal> mine = sa.connection().childProposals();
        for (int i = 0; i < mine.size(); i++) {
            proposals.add(mine.get(i).toProposal(i + 1, spi, withKeyExchange));
        }
        return new SaPayload(proposals);
    }

    /** The initiator's CREATE_CHILD_SA request: SA, Ni, [KEi], TSi, TSr. */
    static void request(OutgoingMessage m, int spi, byte[] ni, KeyExchange ke, List<TrafficSelector> tsi, List<TrafficSelector> tsr) {
        m.add(offer(m.sa(), spi, true)).add(new NoncePayload(ni));
        if (ke != null) {
            m.add(new KePayload(ke.method().ianaId(), ke.publicValue()));
        }
        m.add(new TsPayload(true, tsi)).add(new TsPayload(false, tsr));
    }

    /**
     * Initiator: the responder's choice of proposal and selectors, checked against what we
     * offered, then installed. {@code ke} is our PFS key exchange, if we offered one.
     */
    static ChildSa accept(IncomingMessage r, InboundSpi inboundSpi, KeyExchange ke, byte[] nonceI, byte[] nonceR, ChildSa replacing)
            throws IkeProtocolException {
        return accept(r, inboundSpi, ke, nonceI, nonceR, replacing, null, null);
    }

    /** {@code askedLocal}, {@code askedRemote}: the selectors the request carried, when it may have been the connection's before a reload. */
    static ChildSa accept(IncomingMessage r, InboundSpi inboundSpi, KeyExchange ke, byte[] nonceI, byte[] nonceR, ChildSa replacing,
                          List<TrafficSelector> askedLocal, List<TrafficSelector> askedRemote) throws IkeProtocolException {
        IkeSa sa = r.sa();
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
        List<TrafficSelector> tsi = r.selectors(true).orElse(List.of());
        List<TrafficSelector> tsr = r.selectors(false).orElse(List.of());
        if (tsi.isEmpty() || tsr.isEmpty() || !within(tsi, sa.connection().localSelectors()) || !within(tsr, sa.connection().remoteSelectors())) {
            String ours = sa.connection().localSelectors() + " === " + sa.connection().remoteSelectors();
            String asked = askedLocal == null ? ours : askedLocal + " === " + askedRemote;
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "responder's selectors " + tsi + " === " + tsr + " are not within "
                    + (asked.equals(ours) ? "ours, " + ours : "ours, " + ours + " (asked for " + asked + ")"));
        }
        return install(sa, chosen, inboundSpi, Proposal.spiInt(p.spi()), tsi, tsr, pfsSecret, nonceI, nonceR, true, replacing);
    }

    /** The responder's answer and the child SA it installed. */
    record Answer(List<Payload> payloads, ChildSa child) {
    }

    /**
     * Responder: choose a proposal by our order of preference, narrow the selectors (§2.9), run
     * the PFS key exchange if the proposal has one, install, and answer. {@code createChildSa}:
     * a CREATE_CHILD_SA (nonce and KE in the answer) rather than IKE_AUTH. {@code responder}
     * reserves the inbound SPI only once nothing can refuse the SA, and the child SA takes it at once.
     */
    static Answer answer(Exchange responder, IncomingMessage request, byte[] nonceI, byte[] nonceR, ChildSa replacing,
                         boolean createChildSa) throws IkeProtocolException {
        IkeSa sa = request.sa();
        Connection connection = sa.connection();
        SaPayload saPayload = request.first(SaPayload.class).orElseThrow(() -> new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no SA"));
        List<TrafficSelector> tsi = request.selectors(true).orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSi"));
        List<TrafficSelector> tsr = request.selectors(false).orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSr"));
        ProposalSelection.Choice<ChildProposal> choice = ProposalSelection.choose(connection.childProposals(), saPayload.proposals(),
                (mine, offered) -> mine.offeredBy(offered, createChildSa));
        if (choice == null) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no acceptable ESP proposal among "
                    + ProposalSelection.describe(saPayload));
        }
        ChildProposal chosen = choice.ours();
        // Their TSi is our remote side, their TSr our local side. A remote-access client's side is its
        // own virtual addresses, nothing else of the pool, and nothing at all when it was given none.
        List<TrafficSelector> remoteAllowed = connection.remoteAccess() == null ? connection.remoteSelectors()
                : sa.virtualAddresses().selectors();
        if (remoteAllowed.isEmpty()) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "the client holds no virtual address to bind a child SA to");
        }
        List<TrafficSelector> narrowedI = narrow(tsi, remoteAllowed);
        List<TrafficSelector> narrowedR = narrow(tsr, connection.localSelectors());
        if (narrowedI.isEmpty() || narrowedR.isEmpty()) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "selectors " + tsi + " === " + tsr + " outside "
                    + remoteAllowed + " === " + connection.localSelectors());
        }
        KeyExchangeMethod pfs = createChildSa ? chosen.pfs() : null;
        KeyExchange ke = null;
        byte[] pfsSecret = null;
        if (pfs != null) {
            Optional<KePayload> kei = request.first(KePayload.class);
            if (kei.isEmpty() || kei.get().group() != pfs.ianaId()) {
                throw new IkeProtocolException(NotifyType.INVALID_KE_PAYLOAD, KeyExchangeRetry.groupBytes(pfs),
                        "peer's KE is " + kei.map(k -> "group " + k.group()).orElse("missing") + ", we choose " + pfs.keyword());
            }
            ke = pfs.generate();
            pfsSecret = ke.sharedSecret(kei.get().data());
        }
        InboundSpi inboundSpi = sa.context().reserveInboundSpi(responder);
        int outboundSpi = Proposal.spiInt(choice.offered().spi());
        ChildProposal negotiated = new ChildProposal(chosen.cipher(), chosen.esn(), pfs);
        ChildSa child = install(sa, negotiated, inboundSpi, outboundSpi, narrowedR, narrowedI, pfsSecret, nonceI, nonceR, false, replacing);
        List<Payload> response = new ArrayList<>();
        response.add(new SaPayload(List.of(negotiated.toProposal(choice.offered().number(), inboundSpi.value(), createChildSa))));
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

    /**
     * KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr): the keys for the direction from the exchange's
     * initiator first, then the other (RFC 7296 §2.17). The child SA joins {@code sa} and is
     * announced; its keys travel once, to the listener, and our copies are wiped here. The child
     * SA takes {@code inboundSpi} over from the exchange that reserved it.
     */
    static ChildSa install(IkeSa sa, ChildProposal chosen, InboundSpi inboundSpi, int outboundSpi, List<TrafficSelector> localTs,
                           List<TrafficSelector> remoteTs, byte[] pfsSecret, byte[] nonceI, byte[] nonceR, boolean exchangeInitiator,
                           ChildSa replacing) {
        int e = chosen.cipher().encryptionKeyLength();
        int a = chosen.cipher().integrityKeyLength();
        byte[] keymat = sa.childKeymat(pfsSecret, nonceI, nonceR, 2 * (e + a));
        byte[] encI = Arrays.copyOfRange(keymat, 0, e);
        byte[] intI = Arrays.copyOfRange(keymat, e, e + a);
        byte[] encR = Arrays.copyOfRange(keymat, e + a, 2 * e + a);
        byte[] intR = Arrays.copyOfRange(keymat, 2 * e + a, 2 * (e + a));
        Arrays.fill(keymat, (byte) 0);
        if (pfsSecret != null) {
            Arrays.fill(pfsSecret, (byte) 0);
        }
        long kb = sa.connection().timers().childLifetimeKilobytes();
        Lifetime lifetime = kb <= 0 ? Lifetime.UNLIMITED : Lifetime.ofBytes(kb * 1024 - kb * 1024 / 10, kb * 1024);
        SaParameters in = SaParameters.builder(inboundSpi.value(), chosen.cipher()).encryptionKey(exchangeInitiator ? encR : encI)
                .integrityKey(exchangeInitiator ? intR : intI).esn(chosen.esn()).lifetime(lifetime).build();
        SaParameters out = SaParameters.builder(outboundSpi, chosen.cipher()).encryptionKey(exchangeInitiator ? encI : encR)
                .integrityKey(exchangeInitiator ? intI : intR).esn(chosen.esn()).lifetime(lifetime).build();
        for (byte[] k : new byte[][] {encI, intI, encR, intR}) {
            Arrays.fill(k, (byte) 0);
        }
        ChildSaKeys keys = new ChildSaKeys(in, out);
        ChildSaDescription description = ChildSaDescription.of(sa.connection().name(), keys, localTs, remoteTs, sa.localAddress(),
                sa.remoteAddress(), sa.natDetected());
        ChildSa child = new ChildSa(sa, description, chosen, sa.context().scheduler().now(), exchangeInitiator, inboundSpi);
        sa.children().add(child);
        if (replacing != null) {
            LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA rekeyed: {1} replaces {2}", sa, description,
                    HexFormat.of().toHexDigits(replacing.inboundSpi()) + "_i");
            if (!replacing.isReplaced()) {
                // Both ends rekeying it at once (RFC 7296 2.8.1) make two replacements of one SA: one rekey, counted once.
                sa.context().counters(sa).childRekeyed();
            }
            sa.context().emit(IkeEvent.Kind.CHILD_REKEYED, sa, description, "replaces " + HexFormat.of().toHexDigits(replacing.inboundSpi()) + "_i");
            replacing.markReplaced();
            sa.context().listener().rekeyed(replacing.description(), description, keys, exchangeInitiator);
        } else {
            LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA established: {1}", sa, description);
            sa.context().emit(IkeEvent.Kind.CHILD_UP, sa, description, null);
            boolean beside = sa.children().stream().anyMatch(c -> c != child && c.state() != ChildSa.State.DELETING);
            sa.context().listener().installed(description, keys, exchangeInitiator || !beside);
        }
        return child;
    }
}
