package io.isthmus.ike.exchange;

import io.isthmus.ike.AnsweredInitRequest;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * IKE_SA_INIT (RFC 7296 §1.2): the proposal, the key exchange, the nonces, NAT detection and what
 * each end supports; unprotected, so its two messages are signed in IKE_AUTH, which it hands over
 * to. {@link IkeRekey} reuses its negotiation (offer, choice, check, key exchange value).
 *
 * <pre>
 *   Initiator                         Responder
 *   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
 *     N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)  -->
 *                                <--  HDR, SAr1, KEr, Nr, [CERTREQ], N(NAT_*), N(...)
 *   or                           <--  HDR, N(INVALID_KE_PAYLOAD)   (again with that group)
 *   or                           <--  HDR, N(COOKIE)               (again with the cookie first)
 * </pre>
 *
 * A responder that refuses answers with the notify and keeps nothing: such requests come from
 * anyone, so their log lines go through the rate-limited log.
 */
public final class IkeSaInit implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeSa sa;
    private final boolean initiator;
    private KeyExchange keyExchange;
    private byte[] ni;
    private byte[] nr;
    /** Initiator: the cookie the responder asked for. Responder: the one the engine asks of the request. */
    private byte[] cookie;
    /** Initiator: the cookie of the request on the wire (null before one was asked for). */
    private byte[] cookieSent;
    /** Initiator: the NAT detection source hash faked to force UDP encapsulation, the same in every retry (RFC 7296 §2.6). */
    private byte[] fakeNatSource;
    private byte[] request;
    /** Responder: the answer, encoded (IKE_AUTH signs it), or the refusal. */
    private byte[] response;

    private IkeSaInit(IkeSa sa, boolean initiator) {
        this.sa = sa;
        this.initiator = initiator;
    }

    /** Starts a new IKE SA as initiator, offering our proposals with a key share for the first one's method. */
    public static void initiate(IkeSa sa) {
        IkeSaInit init = new IkeSaInit(sa, true);
        init.ni = sa.context().nonce();
        init.keyExchange = sa.context().initiatorKeyShare(sa.connection().ikeProposals().getFirst().keyExchange());
        init.fakeNatSource = init.fakeNatSource();
        sa.window().queue(init);
    }

    /**
     * Answers the IKE_SA_INIT request that made {@code sa} (the engine has checked its cookie);
     * {@code cookie} is the one the engine asks of it when it asks one, with which the initiator may
     * retry it ({@link AnsweredInitRequest}).
     */
    public static void respond(IkeSa sa, IkeMessage request, byte[] cookie) {
        IkeSaInit init = new IkeSaInit(sa, false);
        init.cookie = cookie;
        sa.window().respond(request, init);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.IKE_SA_INIT;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (!initiator) {
            m.plain(response);
            return Status.SUCCESS;
        }
        List<Payload> payloads = new ArrayList<>();
        cookieSent = cookie;
        if (cookie != null) {
            payloads.add(NotifyPayload.of(NotifyType.COOKIE, cookie));
        }
        payloads.add(offer(sa.connection().ikeProposals(), new byte[0]));
        payloads.add(new KePayload(keyExchange.method().ianaId(), keyExchange.publicValue()));
        payloads.add(new NoncePayload(ni));
        payloads.addAll(NatDetection.notifies(sa.initiatorSpi(), 0, sa.localAddress(), sa.remoteAddress(), fakeNatSource));
        payloads.add(NotifyPayload.of(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
        payloads.add(NotifyPayload.of(NotifyType.SIGNATURE_HASH_ALGORITHMS, Authenticator.SIGNATURE_HASHES));
        IkeHeader header = new IkeHeader(sa.initiatorSpi(), 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR, 0, 0);
        request = IkeMessage.encode(header, payloads);
        m.plain(request);
        return Status.NEED_MORE;
    }

    @Override
    public Retry retryAsked(IkeMessage response) {
        NotifyPayload n = initiator ? response.payloads().stream().filter(p -> p instanceof NotifyPayload c && c.notifyType() == NotifyType.COOKIE)
                .map(NotifyPayload.class::cast).findFirst().orElse(null) : null;
        if (n == null) {
            return Retry.NONE;
        }
        // A responder does not ask a request for the cookie it brings (it would have been valid): this answers a copy sent without.
        if (Arrays.equals(n.data(), cookieSent)) {
            return Retry.HONOURED;
        }
        cookie = n.data();
        LOG.log(System.Logger.Level.INFO, "{0}: responder asks for a cookie; retrying IKE_SA_INIT with it", sa);
        return Retry.ASKED;
    }

    @Override
    public Status process(IncomingMessage m) {
        if (!initiator) {
            response = answer(m);
            return Status.NEED_MORE;
        }
        Optional<NotifyPayload> invalidKe = m.notify(NotifyType.INVALID_KE_PAYLOAD);
        if (invalidKe.isPresent() && KeyExchangeRetry.requested(invalidKe.get()) >= 0) {
            KeyExchangeMethod wanted = KeyExchangeRetry.retryWith(invalidKe.get(), groups(sa.connection()), keyExchange.method());
            if (wanted != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants key exchange {1}, retrying IKE_SA_INIT", sa, wanted.keyword());
                keyExchange = wanted.generate();
                return Status.NEED_MORE;
            }
            sa.fail("peer asked for key exchange method " + KeyExchangeRetry.requested(invalidKe.get()) + ", which is not in our proposals");
            return Status.SUCCESS;
        }
        Optional<NotifyPayload> error = m.error();
        if (error.isPresent()) {
            sa.fail("IKE_SA_INIT refused: " + NotifyType.name(error.get().notifyType()));
            return Status.SUCCESS;
        }
        IkeSaKeys keys;
        NatDetection.Result nat;
        List<Integer> peerHashes;
        try {
            SaPayload chosenSa = m.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
            KePayload ke = m.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
            nr = m.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            IkeProposal chosen = chosenBy(chosenSa, ke, sa.connection().ikeProposals(), keyExchange, false);
            long spiR = m.header().responderSpi();
            response = m.message().raw();
            nat = NatDetection.detect(m.payloads(), sa.initiatorSpi(), spiR, sa.localAddress(), sa.remoteAddress(), forced());
            peerHashes = peerSignatureHashes(m);
            keys = keys(chosen, spiR, keyExchange.sharedSecret(ke.data()));
            sa.negotiated(spiR, chosen, keys, nat.natDetected(), nat.behindNat(), m.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED).isPresent());
        } catch (IkeProtocolException e) {
            sa.fail("IKE_SA_INIT response unusable: " + e.getMessage());
            return Status.SUCCESS;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: IKE_SA_INIT done, {1}{2}", sa, sa.proposal(), nat.note());
        if (nat.natDetected()) {
            sa.natTraversal().moveToNatTraversalPort();
        }
        IkeAuth.start(sa, new IkeAuth.Signed(request, response, ni, nr, keys, peerHashes, null));
        return Status.SUCCESS;
    }

    /** Responder: our answer, or the notify that refuses the request (the SA is then gone). */
    private byte[] answer(IncomingMessage m) {
        Connection connection = sa.connection();
        try {
            SaPayload offered = m.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
            KePayload ke = m.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
            ni = m.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            ProposalSelection.Choice<IkeProposal> choice = choose(connection.ikeProposals(), offered, false);
            if (choice == null) {
                sa.context().floodLog().log("init-no-proposal", System.Logger.Level.WARNING, "{0}: no acceptable IKE proposal among {1}", sa,
                        ProposalSelection.describe(offered));
                failed("we answered NO_PROPOSAL_CHOSEN to " + sa.remoteAddress() + ", which offered " + ProposalSelection.describe(offered));
                return refuse(NotifyPayload.of(NotifyType.NO_PROPOSAL_CHOSEN));
            }
            IkeProposal chosen = choice.ours();
            if (ke.group() != chosen.keyExchange().ianaId()) {
                sa.context().floodLog().log("init-invalid-ke", System.Logger.Level.INFO, "{0}: peer sent KE {1}, asking for {2}", sa, ke.group(),
                        chosen.keyExchange().keyword());
                return refuse(KeyExchangeRetry.askFor(chosen.keyExchange()));
            }
            // The peer's value first: a forged or broken one must not cost us a key pair.
            PublicKey peerValue = chosen.keyExchange().peerPublicValue(ke.data());
            keyExchange = chosen.keyExchange().generate();
            nr = sa.context().nonce();
            NatDetection.Result nat = NatDetection.detect(m.payloads(), sa.initiatorSpi(), 0, sa.localAddress(), sa.remoteAddress(), forced());
            boolean peerFragments = m.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED).isPresent();
            byte[] secret = keyExchange.sharedSecret(peerValue);
            List<Payload> payloads = new ArrayList<>();
            payloads.add(new SaPayload(List.of(chosen.toProposal(choice.offered().number(), new byte[0]))));
            payloads.add(new KePayload(keyExchange.method().ianaId(), keyExchange.publicValue()));
            payloads.add(new NoncePayload(nr));
            if (connection.authentication() instanceof Authentication.Certificates c) {
                payloads.add(Authenticator.certificateRequest(c));
            }
            payloads.addAll(NatDetection.notifies(sa.initiatorSpi(), sa.responderSpi(), sa.localAddress(), sa.remoteAddress(), fakeNatSource()));
            if (peerFragments) {
                payloads.add(NotifyPayload.of(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
            }
            payloads.add(NotifyPayload.of(NotifyType.SIGNATURE_HASH_ALGORITHMS, Authenticator.SIGNATURE_HASHES));
            IkeHeader header = new IkeHeader(sa.initiatorSpi(), sa.responderSpi(), 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE,
                    0, 0);
            byte[] answer = IkeMessage.encode(header, payloads);
            IkeSaKeys keys = keys(chosen, sa.responderSpi(), secret);
            sa.negotiated(sa.responderSpi(), chosen, keys, nat.natDetected(), nat.behindNat(), peerFragments);
            AnsweredInitRequest answered = new AnsweredInitRequest(m.message(), cookie);
            sa.window().answerCopiesOf(answered);
            // The initiator's IKE_AUTH goes to the exchange that knows both messages and nonces.
            sa.window().await(new IkeAuth(sa, false, new IkeAuth.Signed(answered.request(), answer, ni, nr, keys, peerSignatureHashes(m),
                    answered)));
            sa.context().floodLog().log("init-answered", System.Logger.Level.INFO, "{0}: IKE_SA_INIT answered, {1}{2}", sa, chosen, nat.note());
            return answer;
        } catch (IkeProtocolException e) {
            sa.context().floodLog().log("init-refused", System.Logger.Level.WARNING, "{0}: IKE_SA_INIT request refused: {1}", sa,
                    e.getMessage());
            failed("we refused the IKE_SA_INIT of " + sa.remoteAddress() + ": " + e.getMessage());
            return refuse(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
        }
    }

    /**
     * For status. Not authenticated (nothing in IKE_SA_INIT is), but it came from the address of a
     * connection's peer, and a mismatch of proposals is what the operator then has to see.
     */
    private void failed(String why) {
        sa.context().failed(sa, IkeEvent.Kind.FAILED, why);
    }

    /** The refusal, with a zero responder SPI: we keep nothing for it. */
    private byte[] refuse(NotifyPayload notify) {
        sa.transitionTo(IkeSaState.DESTROYED);
        IkeHeader header = new IkeHeader(sa.initiatorSpi(), 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        return IkeMessage.encode(header, List.of(notify));
    }

    private IkeSaKeys keys(IkeProposal chosen, long spiR, byte[] sharedSecret) {
        byte[] skeyseed = KeyDerivation.skeyseed(chosen.prf(), ni, nr, sharedSecret);
        IkeSaKeys keys = KeyDerivation.ikeSaKeys(chosen.prf(), skeyseed, ni, nr, sa.initiatorSpi(), spiR,
                chosen.cipher().integrityKeyLength(), chosen.cipher().encryptionKeyLength());
        Arrays.fill(skeyseed, (byte) 0);
        Arrays.fill(sharedSecret, (byte) 0);
        return keys;
    }

    private boolean forced() {
        return sa.connection().forceUdpEncapsulation();
    }

    /** To force UDP encapsulation, a source hash that cannot match. */
    private byte[] fakeNatSource() {
        return forced() ? sa.context().randomBytes(20) : null;
    }

    private static List<Integer> peerSignatureHashes(IncomingMessage m) {
        return m.notify(NotifyType.SIGNATURE_HASH_ALGORITHMS).map(n -> Authenticator.hashList(n.data())).orElse(List.of());
    }

    // ------------------------------------------------------------------------------------------
    // The negotiation IKE_SA_INIT and the IKE SA's rekey share
    // ------------------------------------------------------------------------------------------

    /** Our IKE proposals in order of preference, with our SPI (empty in IKE_SA_INIT, 8 bytes in a rekey). */
    static SaPayload offer(List<IkeProposal> ours, byte[] spi) {
        List<Proposal> proposals = new ArrayList<>();
        for (int i = 0; i < ours.size(); i++) {
            proposals.add(ours.get(i).toProposal(i + 1, spi));
        }
        return new SaPayload(proposals);
    }

    static List<KeyExchangeMethod> groups(Connection c) {
        return c.ikeProposals().stream().map(IkeProposal::keyExchange).toList();
    }

    /** Responder: the first of ours the offer accepts; in a rekey the offer must carry the new SPI. */
    static ProposalSelection.Choice<IkeProposal> choose(List<IkeProposal> ours, SaPayload offered, boolean rekey) {
        return ProposalSelection.choose(ours, offered.proposals(), (mine, p) -> (!rekey || p.spi().length == 8) && mine.offeredBy(p));
    }

    /** Initiator: the responder's choice must be one proposal, one of ours, with the method we sent a value for. */
    static IkeProposal chosenBy(SaPayload answer, KePayload ke, List<IkeProposal> ours, KeyExchange sent, boolean rekey)
            throws IkeProtocolException {
        if (answer.proposals().size() != 1 || (rekey && answer.proposals().getFirst().spi().length != 8)) {
            throw IkeProtocolException.invalidSyntax("responder chose " + answer.proposals().size() + " proposals"
                    + (rekey ? " (and a rekey needs one with an 8-byte SPI)" : ""));
        }
        IkeProposal chosen = IkeProposal.fromChosen(answer.proposals().getFirst());
        if (chosen == null || !ours.contains(chosen)) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose a proposal we did not offer");
        }
        if (ke.group() != sent.method().ianaId() || chosen.keyExchange() != sent.method()) {
            throw IkeProtocolException.invalidSyntax("responder's KE group " + ke.group() + " is not the one chosen");
        }
        return chosen;
    }
}
