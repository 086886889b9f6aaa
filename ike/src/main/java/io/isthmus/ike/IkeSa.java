package io.isthmus.ike;

import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.exchange.KeyExchangeRetry;
import io.isthmus.ike.exchange.Liveness;
import io.isthmus.ike.exchange.NatDetection;
import io.isthmus.ike.exchange.ProposalSelection;
import io.isthmus.ike.exchange.ChildCreate;
import io.isthmus.ike.exchange.ChildDelete;
import io.isthmus.ike.exchange.ChildRekey;
import io.isthmus.ike.exchange.Exchange;
import io.isthmus.ike.exchange.IkeDelete;
import io.isthmus.ike.exchange.IncomingMessage;
import io.isthmus.ike.exchange.MessageWindow;
import io.isthmus.ike.exchange.OutgoingMessage;
import io.isthmus.ike.exchange.SkProtection;
import io.isthmus.ike.message.AuthPayload;
import io.isthmus.ike.message.CertPayload;
import io.isthmus.ike.message.CertReqPayload;
import io.isthmus.ike.message.DeletePayload;
import io.isthmus.ike.message.EapPayload;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IdPayload;
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
import io.isthmus.ike.message.TsPayload;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * One IKE SA and its child SAs, on the engine's thread. IKE_SA_INIT, IKE_AUTH and INFORMATIONAL
 * are here, CREATE_CHILD_SA in {@link CreateChildSa}; each exchange is drawn in the comment of
 * the method that starts it. Requests go out one at a time (window size 1, RFC 7296 §2.3) from
 * a queue, so a rekey, a delete and a liveness check never trip over each other.
 */
public final class IkeSa {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    final IkeEngine engine;
    private final boolean initiator;
    private Connection connection;
    private final List<Connection> candidates;
    private final long spiI;
    private long spiR;
    private InetSocketAddress local;
    private InetSocketAddress remote;
    private IkeSaState state = IkeSaState.CONNECTING;

    private IkeProposal proposal;
    private KeyExchange keyExchange;
    private byte[] ni;
    private byte[] nr;
    private byte[] cookie;
    private IkeSaKeys keys;
    private final MessageWindow window = new MessageWindow(this);
    private byte[] initRequest;
    private byte[] initResponse;
    private boolean natDetected;
    private boolean behindNat;
    private boolean peerFragments;
    private List<Integer> peerSignatureHashes = List.of();
    private List<byte[]> peerCertificateRequests = List.of();
    private Identity peerId;

    private Instant lastHeard;
    private Instant establishedAt;
    private Scheduler.Cancellable livenessTimer;
    private Scheduler.Cancellable rekeyTimer;
    private Scheduler.Cancellable expiryTimer;
    private Scheduler.Cancellable keepaliveTimer;
    final List<ChildSa> children = new ArrayList<>();
    /** Set when a request was refused in a way that ends the IKE SA once the answer is out. */
    private boolean closeAfterAnswer;

    /** The IKE SA that took over from this one after a rekey. */
    IkeSa replacement;
    /**
     * While our IKE rekey is under way and the peer rekeys too (RFC 7296 §2.8.2): the SA the
     * peer's exchange made and the lower of its two nonces.
     */
    IkeSa peersReplacement;
    byte[] peersRekeyLowestNonce;

    /**
     * Until every exchange is its own class: a request of ours as two functions, built when its
     * turn comes and handed to whichever IKE SA is current then; {@code pinned} ones belong to this SA only.
     */
    private record Legacy(int exchangeType, Function<IkeSa, List<Payload>> build, BiConsumer<IkeSa, IncomingMessage> onResponse, boolean pinned,
                          byte[] plain) implements Exchange {
        @Override
        public Status build(OutgoingMessage m) {
            if (plain != null) {
                m.plain(plain);
                return Status.NEED_MORE;
            }
            List<Payload> payloads = build.apply(m.sa());
            if (payloads == null) {
                return Status.CANCELLED;
            }
            m.addAll(payloads);
            return Status.NEED_MORE;
        }

        @Override
        public Status process(IncomingMessage m) {
            onResponse.accept(m.sa(), m);
            return Status.SUCCESS;
        }

        @Override
        public boolean followsIkeRekey() {
            return !pinned;
        }
    }

    /** Until every exchange is its own class: the responder's answer as a function. */
    private final class LegacyResponder implements Exchange {
        private final Function<IncomingMessage, List<Payload>> answer;
        private final byte[] plain;
        private List<Payload> response;

        LegacyResponder(Function<IncomingMessage, List<Payload>> answer, byte[] plain) {
            this.answer = answer;
            this.plain = plain;
        }

        @Override
        public int exchangeType() {
            return 0;
        }

        @Override
        public Status process(IncomingMessage m) {
            if (plain != null) {
                return Status.NEED_MORE;
            }
            response = answer.apply(m);
            return response == null ? Status.CANCELLED : Status.NEED_MORE;
        }

        @Override
        public Status build(OutgoingMessage m) {
            if (plain != null) {
                m.plain(plain);
                return Status.SUCCESS;
            }
            m.addAll(response);
            return closeAfterAnswer ? Status.DESTROY : Status.SUCCESS;
        }
    }

    IkeSa(IkeEngine engine, boolean initiator, List<Connection> candidates, long spiI, long spiR,
          InetSocketAddress local, InetSocketAddress remote) {
        this.engine = engine;
        this.initiator = initiator;
        this.candidates = List.copyOf(candidates);
        this.connection = candidates.getFirst();
        this.spiI = spiI;
        this.spiR = spiR;
        this.local = local;
        this.remote = remote;
        this.lastHeard = engine.context().scheduler().now();
    }

    /**
     * The IKE SA a rekey creates (RFC 7296 §2.18): new SPIs, keys from the old SK_d, message IDs
     * from zero; identities, addresses and what the peer supports carry over. The initiator of
     * the rekey is the new SA's original initiator.
     */
    static IkeSa rekeyed(IkeSa old, boolean initiator, long spiI, long spiR, IkeProposal chosen, byte[] ni, byte[] nr, byte[] sharedSecret) {
        IkeSa sa = new IkeSa(old.engine, initiator, List.of(old.connection), spiI, spiR, old.local, old.remote);
        sa.proposal = chosen;
        sa.ni = ni;
        sa.nr = nr;
        sa.natDetected = old.natDetected;
        sa.behindNat = old.behindNat;
        sa.peerFragments = old.peerFragments;
        sa.peerSignatureHashes = old.peerSignatureHashes;
        sa.peerId = old.peerId;
        sa.keys = KeyDerivation.rekeyedIkeSaKeys(old.proposal.prf(), old.keys.skD(), chosen.prf(), sharedSecret, ni, nr, spiI, spiR,
                chosen.cipher().integrityKeyLength(), chosen.cipher().encryptionKeyLength());
        Arrays.fill(sharedSecret, (byte) 0);
        sa.installCiphers();
        sa.state = IkeSaState.ESTABLISHED;
        sa.establishedAt = old.engine.context().scheduler().now();
        old.engine.register(sa);
        sa.startTimers();
        return sa;
    }

    public IkeSaState state() {
        return state;
    }

    /** Whether this end was the original initiator (the I flag), which a rekey can change. */
    public boolean isInitiator() {
        return initiator;
    }

    public long initiatorSpi() {
        return spiI;
    }

    public long responderSpi() {
        return spiR;
    }

    public Connection connection() {
        return connection;
    }

    public IkeProposal proposal() {
        return proposal;
    }

    public InetSocketAddress localAddress() {
        return local;
    }

    public InetSocketAddress remoteAddress() {
        return remote;
    }

    public boolean natDetected() {
        return natDetected;
    }

    /** When the peer last sent an authenticated message on this SA (or it was made). */
    public Instant lastHeard() {
        return lastHeard;
    }

    /** When IKE_AUTH (or the rekey that made this SA) completed; null before. */
    public Instant establishedAt() {
        return establishedAt;
    }

    /** When the child SA with this inbound SPI was made, or null. */
    public Instant childEstablishedAt(int inboundSpi) {
        ChildSa c = child(inboundSpi);
        return c == null ? null : c.established;
    }

    /** Whether a NAT rewrote our address, so this end sends keepalives. */
    public boolean behindNat() {
        return behindNat;
    }

    public Identity peerIdentity() {
        return peerId;
    }

    public List<ChildSaDescription> childSas() {
        return children.stream().map(c -> c.description).toList();
    }

    /** The IKE SA that replaced this one in a rekey, if any. */
    public IkeSa replacement() {
        return replacement;
    }

    /** This IKE SA, or the one that replaced it (and so on). */
    public IkeSa current() {
        IkeSa s = this;
        while (s.replacement != null && s.replacement != s) {
            s = s.replacement;
        }
        return s;
    }

    long ourSpi() {
        return initiator ? spiI : spiR;
    }

    boolean isUp() {
        return state == IkeSaState.ESTABLISHED || state == IkeSaState.REKEYING;
    }

    /** For tests that compare key derivation with a peer's log. */
    IkeSaKeys keys() {
        return keys;
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return connection.name() + "[" + hex.toHexDigits(spiI) + "_i " + hex.toHexDigits(spiR) + "_r] "
                + local.getAddress().getHostAddress() + "[" + connection.localId() + "]" + "..."
                + remote.getAddress().getHostAddress() + "[" + (peerId == null ? "?" : peerId) + "]";
    }

    // ------------------------------------------------------------------------------------------
    // IKE_SA_INIT
    //
    //   Initiator                         Responder
    //   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
    //     N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)  -->
    //                                <--  HDR, SAr1, KEr, Nr, [CERTREQ], N(NAT_*), N(...)
    //   or                           <--  HDR, N(INVALID_KE_PAYLOAD)   (retry with that group)
    //   or                           <--  HDR, N(COOKIE)               (retry with the cookie first)
    // ------------------------------------------------------------------------------------------

    void startInitiator() {
        ni = engine.context().nonce();
        keyExchange = connection.ikeProposals().getFirst().keyExchange().generate();
        sendInitRequest();
    }

    private void sendInitRequest() {
        List<Payload> payloads = new ArrayList<>();
        if (cookie != null) {
            payloads.add(NotifyPayload.of(NotifyType.COOKIE, cookie));
        }
        List<Proposal> proposals = new ArrayList<>();
        for (int i = 0; i < connection.ikeProposals().size(); i++) {
            proposals.add(connection.ikeProposals().get(i).toProposal(i + 1, new byte[0]));
        }
        payloads.add(new SaPayload(proposals));
        payloads.add(new KePayload(keyExchange.method().ianaId(), keyExchange.publicValue()));
        payloads.add(new NoncePayload(ni));
        payloads.addAll(NatDetection.notifies(spiI, 0, local, remote, fakeNatSource()));
        payloads.add(NotifyPayload.of(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
        payloads.add(NotifyPayload.of(NotifyType.SIGNATURE_HASH_ALGORITHMS, Authenticator.SIGNATURE_HASHES));
        IkeHeader header = new IkeHeader(spiI, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR, 0, 0);
        initRequest = IkeMessage.encode(header, payloads);
        window.queue(new Legacy(ExchangeType.IKE_SA_INIT, null, (sa, r) -> processInitResponse(r), true, initRequest));
    }

    private void processInitResponse(IncomingMessage r) {
        Optional<NotifyPayload> cookieNotify = r.notify(NotifyType.COOKIE);
        if (cookieNotify.isPresent()) {
            cookie = cookieNotify.get().data();
            LOG.log(System.Logger.Level.INFO, "{0}: responder asks for a cookie, retrying IKE_SA_INIT", this);
            sendInitRequest();
            return;
        }
        Optional<NotifyPayload> invalidKe = r.notify(NotifyType.INVALID_KE_PAYLOAD);
        if (invalidKe.isPresent() && KeyExchangeRetry.requested(invalidKe.get()) >= 0) {
            KeyExchangeMethod wanted = KeyExchangeRetry.retryWith(invalidKe.get(),
                    connection.ikeProposals().stream().map(IkeProposal::keyExchange).toList(), keyExchange.method());
            if (wanted != null) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants key exchange {1}, retrying IKE_SA_INIT", this, wanted.keyword());
                keyExchange = wanted.generate();
                sendInitRequest();
                return;
            }
            fail("peer asked for key exchange method " + KeyExchangeRetry.requested(invalidKe.get()) + ", which is not in our proposals");
            return;
        }
        Optional<NotifyPayload> error = r.error();
        if (error.isPresent()) {
            fail("IKE_SA_INIT refused: " + NotifyType.name(error.get().notifyType()));
            return;
        }
        try {
            SaPayload sa = r.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
            KePayload ke = r.first(KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
            nr = r.first(NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            if (sa.proposals().size() != 1) {
                throw IkeProtocolException.invalidSyntax("responder chose " + sa.proposals().size() + " proposals");
            }
            IkeProposal chosen = IkeProposal.fromChosen(sa.proposals().getFirst());
            if (chosen == null || !connection.ikeProposals().contains(chosen)) {
                throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose a proposal we did not offer");
            }
            if (ke.group() != keyExchange.method().ianaId() || chosen.keyExchange() != keyExchange.method()) {
                throw IkeProtocolException.invalidSyntax("responder's KE group " + ke.group() + " is not the one chosen");
            }
            proposal = chosen;
            spiR = r.message().header().responderSpi();
            initResponse = r.message().raw();
            detectNat(r.payloads(), spiI, spiR);
            learnPeerCapabilities(r.payloads());
            deriveKeys(keyExchange.sharedSecret(ke.data()));
        } catch (IkeProtocolException e) {
            fail("IKE_SA_INIT response unusable: " + e.getMessage());
            return;
        }
        engine.register(this);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE_SA_INIT done, {1}{2}", this, proposal, natNote());
        if (natDetected) {
            moveToNatTraversalPort();
        }
        sendAuthRequest();
    }

    /** Responder: an IKE_SA_INIT request, already checked for cookies by the engine. */
    void processInitRequest(IkeMessage request) {
        initRequest = request.raw();
        List<Payload> payloads = request.payloads();
        try {
            SaPayload sa = find(payloads, SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
            KePayload ke = find(payloads, KePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no KE payload"));
            ni = find(payloads, NoncePayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no Nonce payload")).nonce();
            ProposalSelection.Choice<IkeProposal> choice = ProposalSelection.choose(connection.ikeProposals(), sa.proposals(),
                    IkeProposal::offeredBy);
            if (choice == null) {
                engine.context().floodLog().log("init-no-proposal", System.Logger.Level.WARNING, "{0}: no acceptable IKE proposal among {1}", this,
                        ProposalSelection.describe(sa));
                answerInitWith(NotifyPayload.of(NotifyType.NO_PROPOSAL_CHOSEN));
                state = IkeSaState.DESTROYED;
                return;
            }
            IkeProposal chosen = choice.ours();
            if (ke.group() != chosen.keyExchange().ianaId()) {
                engine.context().floodLog().log("init-invalid-ke", System.Logger.Level.INFO, "{0}: peer sent KE {1}, asking for {2}", this, ke.group(),
                        chosen.keyExchange().keyword());
                answerInitWith(KeyExchangeRetry.askFor(chosen.keyExchange()));
                state = IkeSaState.DESTROYED;
                return;
            }
            proposal = chosen;
            // The peer's value first: a forged or broken one must not cost us a key pair.
            java.security.PublicKey peerValue = chosen.keyExchange().peerPublicValue(ke.data());
            keyExchange = chosen.keyExchange().generate();
            nr = engine.context().nonce();
            detectNat(payloads, spiI, 0);
            learnPeerCapabilities(payloads);
            byte[] secret = keyExchange.sharedSecret(peerValue);
            List<Payload> response = new ArrayList<>();
            response.add(new SaPayload(List.of(chosen.toProposal(choice.offered().number(), new byte[0]))));
            response.add(new KePayload(keyExchange.method().ianaId(), keyExchange.publicValue()));
            response.add(new NoncePayload(nr));
            if (connection.authentication() instanceof Authentication.Certificates c) {
                response.add(Authenticator.certificateRequest(c));
            }
            response.addAll(NatDetection.notifies(spiI, spiR, local, remote, fakeNatSource()));
            if (peerFragments) {
                response.add(NotifyPayload.of(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
            }
            response.add(NotifyPayload.of(NotifyType.SIGNATURE_HASH_ALGORITHMS, Authenticator.SIGNATURE_HASHES));
            IkeHeader header = new IkeHeader(spiI, spiR, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
            initResponse = IkeMessage.encode(header, response);
            deriveKeys(secret);
            window.respond(request, new LegacyResponder(null, initResponse));
            engine.context().floodLog().log("init-answered", System.Logger.Level.INFO, "{0}: IKE_SA_INIT answered, {1}{2}", this, proposal, natNote());
        } catch (IkeProtocolException e) {
            engine.context().floodLog().log("init-refused", System.Logger.Level.WARNING, "{0}: IKE_SA_INIT request refused: {1}", this, e.getMessage());
            answerInitWith(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
            state = IkeSaState.DESTROYED;
        }
    }

    private void answerInitWith(NotifyPayload notify) {
        IkeHeader header = new IkeHeader(spiI, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        engine.context().transport().send(IkeMessage.encode(header, List.of(notify)), local, remote);
    }

    /** From IKE_SA_INIT: what the peer supports. */
    private void learnPeerCapabilities(List<Payload> payloads) {
        peerFragments = notify(payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED).isPresent();
        peerSignatureHashes = notify(payloads, NotifyType.SIGNATURE_HASH_ALGORITHMS).map(n -> Authenticator.hashList(n.data()))
                .orElse(List.of());
        learnCertificateRequests(payloads);
    }

    /** CERTREQ may come in IKE_SA_INIT (from a responder) or IKE_AUTH (from an initiator). */
    private void learnCertificateRequests(List<Payload> payloads) {
        List<byte[]> requests = new ArrayList<>(peerCertificateRequests);
        payloads.stream().filter(p -> p instanceof CertReqPayload).map(p -> ((CertReqPayload) p).authorities()).forEach(requests::add);
        peerCertificateRequests = requests;
    }

    private void deriveKeys(byte[] sharedSecret) {
        byte[] skeyseed = KeyDerivation.skeyseed(proposal.prf(), ni, nr, sharedSecret);
        keys = KeyDerivation.ikeSaKeys(proposal.prf(), skeyseed, ni, nr, spiI, spiR,
                proposal.cipher().integrityKeyLength(), proposal.cipher().encryptionKeyLength());
        Arrays.fill(skeyseed, (byte) 0);
        Arrays.fill(sharedSecret, (byte) 0);
        installCiphers();
    }

    private void installCiphers() {
        window.protectWith(new SkProtection(proposal.cipher(), keys, initiator, peerFragments));
    }

    /** To force UDP encapsulation, a source hash that cannot match. */
    private byte[] fakeNatSource() {
        return connection.forceUdpEncapsulation() ? engine.context().randomBytes(20) : null;
    }

    private void detectNat(List<Payload> payloads, long hashSpiI, long hashSpiR) {
        NatDetection.Result nat = NatDetection.detect(payloads, hashSpiI, hashSpiR, local, remote, connection.forceUdpEncapsulation());
        natDetected = nat.natDetected();
        behindNat = nat.behindNat();
    }

    private String natNote() {
        return behindNat ? ", we are behind a NAT" : natDetected ? ", NAT detected" : "";
    }

    private void moveToNatTraversalPort() {
        if (local.getPort() != engine.context().natTraversalPort() || remote.getPort() != engine.context().natTraversalPort()) {
            local = new InetSocketAddress(local.getAddress(), engine.context().natTraversalPort());
            remote = new InetSocketAddress(remote.getAddress(), engine.context().natTraversalPort());
        }
    }

    // ------------------------------------------------------------------------------------------
    // IKE_AUTH with the first child SA
    //
    //   Initiator                         Responder
    //   HDR, SK {IDi, [CERT+], [CERTREQ], [IDr], AUTH, N(INITIAL_CONTACT), SAi2, TSi, TSr}  -->
    //                                <--  HDR, SK {IDr, [CERT+], AUTH, SAr2, TSi, TSr}
    //   or                           <--  HDR, SK {N(AUTHENTICATION_FAILED)}
    //   or                           <--  HDR, SK {IDr, AUTH, N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE)}
    //                                     (IKE SA up, no child SA)
    // Either message may travel as SKF fragments (RFC 7383) when it is too big for one datagram.
    // ------------------------------------------------------------------------------------------

    private void sendAuthRequest() {
        int childSpi = engine.context().newChildSpi();
        request(ExchangeType.IKE_AUTH, sa -> {
            IdPayload idi = connection.localId().toPayload(true);
            List<Payload> payloads = new ArrayList<>();
            payloads.add(idi);
            payloads.addAll(Authenticator.certificates(connection.authentication()));
            if (connection.authentication() instanceof Authentication.Certificates c) {
                payloads.add(Authenticator.certificateRequest(c));
            }
            if (connection.remoteId() != null) {
                payloads.add(connection.remoteId().toPayload(false));
            }
            payloads.add(authenticator().sign(idi));
            if (!engine.hasOtherIkeSa(this)) {
                payloads.add(NotifyPayload.of(NotifyType.INITIAL_CONTACT));
            }
            payloads.add(ChildCreate.offer(this, childSpi, false));
            payloads.add(new TsPayload(true, connection.localSelectors()));
            payloads.add(new TsPayload(false, connection.remoteSelectors()));
            return payloads;
        }, (sa, r) -> processAuthResponse(r, childSpi), true);
    }

    Authenticator authenticator() {
        return new Authenticator(connection, proposal, keys, initiator, initRequest, initResponse, ni, nr, peerSignatureHashes);
    }

    private void processAuthResponse(IncomingMessage r, int childSpi) {
        Optional<NotifyPayload> error = r.error();
        Optional<IdPayload> idr = r.first(IdPayload.class).filter(id -> !id.initiator());
        Optional<AuthPayload> auth = r.first(AuthPayload.class);
        if (idr.isEmpty() || auth.isEmpty()) {
            engine.context().releaseChildSpi(childSpi);
            fail("IKE_AUTH refused: " + error.map(n -> NotifyType.name(n.notifyType())).orElse("no IDr and AUTH"));
            return;
        }
        Identity claimed = Identity.of(idr.get());
        String refusal = connection.remoteId() != null && !connection.remoteId().equals(claimed)
                ? "peer identifies as " + claimed + ", expected " + connection.remoteId()
                : authenticator().verify(idr.get(), auth.get(), certificates(r.payloads()));
        if (refusal != null) {
            engine.context().releaseChildSpi(childSpi);
            // The responder thinks the SA is up: tell it, then go (RFC 7296 §2.21.2).
            LOG.log(System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED: {1}", this, refusal);
            state = IkeSaState.DELETING;
            IkeDelete.authenticationFailed(this, refusal);
            return;
        }
        peerId = claimed;
        established();
        if (error.isPresent()) {
            engine.context().releaseChildSpi(childSpi);
            LOG.log(System.Logger.Level.WARNING, "{0}: established, but the child SA was refused: {1}", this,
                    NotifyType.name(error.get().notifyType()));
            return;
        }
        try {
            ChildCreate.accept(r, childSpi, null, ni, nr, null);
        } catch (IkeProtocolException e) {
            engine.context().releaseChildSpi(childSpi);
            LOG.log(System.Logger.Level.WARNING, "{0}: child SA from IKE_AUTH unusable: {1}", this, e.getMessage());
        }
        if (r.notify(NotifyType.INITIAL_CONTACT).isPresent()) {
            engine.initialContact(this);
        }
    }

    /** Responder: IKE_AUTH request. */
    private List<Payload> processAuthRequest(IncomingMessage request) {
        List<Payload> payloads = request.payloads();
        if (find(payloads, EapPayload.class).isPresent() || find(payloads, AuthPayload.class).isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: EAP is not supported (gateways authenticate with a key or a certificate)", this);
            closeAfterAnswer = true;
            return List.of(NotifyPayload.of(NotifyType.AUTHENTICATION_FAILED));
        }
        Optional<IdPayload> idi = find(payloads, IdPayload.class).filter(IdPayload::initiator);
        AuthPayload auth = find(payloads, AuthPayload.class).get();
        if (idi.isEmpty()) {
            closeAfterAnswer = true;
            return List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX));
        }
        learnCertificateRequests(payloads);
        Identity claimed = Identity.of(idi.get());
        List<CertPayload> certs = certificates(payloads);
        Connection matched = null;
        String refusal = "no connection accepts identity " + claimed;
        for (Connection c : candidates) {
            if (c.remoteId() == null || c.remoteId().equals(claimed)) {
                connection = c;
                refusal = authenticator().verify(idi.get(), auth, certs);
                if (refusal == null) {
                    matched = c;
                    break;
                }
            }
        }
        if (matched == null) {
            engine.context().floodLog().log("auth-failed", System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED for peer claiming {1}: {2}", this,
                    claimed, refusal);
            closeAfterAnswer = true;
            return List.of(NotifyPayload.of(NotifyType.AUTHENTICATION_FAILED));
        }
        connection = matched;
        peerId = claimed;
        IdPayload idr = connection.localId().toPayload(false);
        List<Payload> response = new ArrayList<>();
        response.add(idr);
        response.addAll(Authenticator.certificates(connection.authentication()));
        response.add(authenticator().sign(idr));
        established();
        try {
            response.addAll(ChildCreate.answer(request, ni, nr, null, false).payloads());
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: established, child SA refused: {1}", this, e.getMessage());
            response.add(NotifyPayload.of(e.notifyType()));
        }
        // After the new child SA is in, so the tunnel is never without one while the old SAs go.
        if (notify(payloads, NotifyType.INITIAL_CONTACT).isPresent()) {
            engine.initialContact(this);
        }
        return response;
    }

    private static List<CertPayload> certificates(List<Payload> payloads) {
        return payloads.stream().filter(p -> p instanceof CertPayload).map(CertPayload.class::cast).toList();
    }

    private void established() {
        establishedAt = engine.context().scheduler().now();
        state = IkeSaState.ESTABLISHED;
        engine.established(this);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA established, {1}, {2}", this, proposal, connection.authentication());
        startTimers();
    }

    // ------------------------------------------------------------------------------------------
    // Child SAs: kept, rekeyed, deleted; the exchanges are in io.isthmus.ike.exchange
    // ------------------------------------------------------------------------------------------

    /** KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) for a child SA of this IKE SA (RFC 7296 §2.17). */
    public byte[] childKeymat(byte[] pfsSecret, byte[] nonceI, byte[] nonceR, int length) {
        return KeyDerivation.childKeymat(proposal.prf(), keys.skD(), pfsSecret, nonceI, nonceR, length);
    }

    /** A new child SA of ours: kept, and rekeyed before its lifetime ends. */
    public void addChild(ChildSa child) {
        children.add(child);
        Connection.Timers t = connection.timers();
        child.rekeyTimer = engine.context().scheduler().schedule(rekeyDelay(t.childLifetime()), () -> child.owner.rekeyChild(child));
        child.expiryTimer = engine.context().scheduler().schedule(t.childLifetime(), () -> child.owner.deleteChild(child, "lifetime expired"));
    }

    /** Our child SAs, for the exchanges (the daemon gets their descriptions from {@link #childSas()}). */
    public List<ChildSa> children() {
        return java.util.Collections.unmodifiableList(children);
    }

    /** lifetime - margin - a random part of the margin: when a rekey starts. */
    private Duration rekeyDelay(Duration lifetime) {
        Connection.Timers t = connection.timers();
        long marginMillis = t.rekeyMargin().toMillis();
        long jitterMillis = (long) (marginMillis * t.rekeyJitter() * engine.context().randomFraction());
        return lifetime.minusMillis(marginMillis + jitterMillis);
    }

    public ChildSa child(int inboundSpi) {
        return children.stream().filter(c -> c.inboundSpi() == inboundSpi).findFirst().orElse(null);
    }

    public ChildSa childByOutboundSpi(int outboundSpi) {
        return children.stream().filter(c -> c.outboundSpi() == outboundSpi).findFirst().orElse(null);
    }

    /** Starts a CREATE_CHILD_SA that replaces the child SA with this inbound SPI. */
    public void rekeyChild(int inboundSpi) {
        ChildSa c = child(inboundSpi);
        if (c == null) {
            throw new IllegalArgumentException("no child SA with inbound SPI " + HexFormat.of().toHexDigits(inboundSpi));
        }
        rekeyChild(c);
    }

    public void rekeyChild(ChildSa c) {
        if (!isUp() || c.owner != this || c.state != ChildSa.State.INSTALLED || !children.contains(c)) {
            return;
        }
        if (state == IkeSaState.REKEYING) {
            // RFC 7296 §2.25.2 would have the peer refuse it anyway; try once the new IKE SA is up.
            engine.context().scheduler().schedule(Duration.ofSeconds(2), () -> c.owner.rekeyChild(c));
            return;
        }
        ChildRekey.start(this, c);
    }

    /** Starts a CREATE_CHILD_SA for a further child SA with the connection's selectors. */
    public void createChild() {
        if (isUp()) {
            ChildCreate.start(this);
        }
    }

    /** Deletes one child SA, telling the peer. */
    public void deleteChild(int inboundSpi) {
        ChildSa c = child(inboundSpi);
        if (c != null) {
            deleteChild(c, "deleted");
        }
    }

    /** Deletes {@code c} through {@link ChildDelete}, or at once when this SA can no longer tell the peer. */
    public void deleteChild(ChildSa c, String why) {
        if (c.owner != this || c.state == ChildSa.State.DELETING || !children.contains(c)) {
            return;
        }
        if (!isUp()) {
            removeChild(c, why);
            return;
        }
        c.state = ChildSa.State.DELETING;
        c.cancelTimers();
        ChildDelete.start(this, c, why);
    }

    /** {@code c} is gone: announced deleted, its SPI free again. */
    public void removeChild(ChildSa c, String why) {
        if (!children.remove(c)) {
            return;
        }
        c.cancelTimers();
        engine.context().releaseChildSpi(c.inboundSpi());
        LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA {1} closed: {2}", this, c, why);
        engine.context().listener().deleted(c.description);
    }

    // ------------------------------------------------------------------------------------------
    // The IKE SA's own timers: liveness, rekey, expiry, NAT keepalives
    // ------------------------------------------------------------------------------------------

    private void startTimers() {
        Connection.Timers t = connection.timers();
        scheduleLiveness();
        rekeyTimer = engine.context().scheduler().schedule(rekeyDelay(t.ikeLifetime()), this::rekey);
        expiryTimer = engine.context().scheduler().schedule(t.ikeLifetime(), () -> {
            LOG.log(System.Logger.Level.WARNING, "{0}: IKE SA lifetime over without a rekey", this);
            delete();
        });
        if (behindNat) {
            scheduleKeepalive();
        }
    }

    private void cancelTimers() {
        for (Scheduler.Cancellable c : new Scheduler.Cancellable[] {livenessTimer, rekeyTimer, expiryTimer, keepaliveTimer}) {
            if (c != null) {
                c.cancel();
            }
        }
        livenessTimer = rekeyTimer = expiryTimer = keepaliveTimer = null;
    }

    private void scheduleKeepalive() {
        keepaliveTimer = engine.context().scheduler().schedule(connection.timers().natKeepalive(), () -> {
            if (isUp()) {
                engine.context().transport().sendNatKeepalive(local, remote);
                scheduleKeepalive();
            }
        });
    }

    private void scheduleLiveness() {
        livenessTimer = engine.context().scheduler().schedule(connection.timers().dpdDelay(), this::checkLiveness);
    }

    private void checkLiveness() {
        if (!isUp()) {
            return;
        }
        Duration idle = Duration.between(lastHeard, engine.context().scheduler().now());
        if (idle.compareTo(connection.timers().dpdDelay()) >= 0 && window.idle()) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: idle {1}s, checking the peer is alive", this, idle.toSeconds());
            Liveness.check(this);
        }
        scheduleLiveness();
    }

    /**
     * An empty INFORMATIONAL now, unless a request is already on its way (its answer says the
     * same): whether the peer still has this SA shows in {@link #lastHeard()}, or the SA fails
     * after the retransmissions.
     */
    public void probe() {
        if (isUp() && window.idle()) {
            Liveness.check(this);
        }
    }

    /** Starts a CREATE_CHILD_SA that replaces this IKE SA (RFC 7296 §2.18). */
    public void rekey() {
        if (state != IkeSaState.ESTABLISHED) {
            return;
        }
        CreateChildSa.startIkeRekey(this);
    }

    void rekeying(boolean underWay) {
        if (state == IkeSaState.ESTABLISHED || state == IkeSaState.REKEYING) {
            state = underWay ? IkeSaState.REKEYING : IkeSaState.ESTABLISHED;
        }
    }

    /**
     * Gives our child SAs and queued requests to the IKE SA that replaces us; this one then only
     * waits for its delete.
     */
    void handOver(IkeSa next) {
        replacement = next;
        state = IkeSaState.REKEYED;
        cancelTimers();
        for (ChildSa c : children) {
            c.owner = next;
            next.children.add(c);
        }
        children.clear();
        window.handOver(next.window);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA rekeyed, replaced by {1}", this, next);
    }

    /** The initiator of a rekey deletes the old IKE SA on it; nothing of it survives but the keys' wiping. */
    void deleteReplaced(String why) {
        IkeDelete.replaced(this, why);
    }

    /** After answering a rekey: if the peer never deletes this old SA, we do. */
    void expectDeleteOfReplaced() {
        engine.context().scheduler().schedule(connection.timers().dpdTimeout(), () -> {
            if (state == IkeSaState.REKEYED) {
                deleteReplaced("the peer did not delete the old IKE SA after rekeying");
            }
        });
    }

    /** Deletes the IKE SA, and with it every child SA, telling the peer. */
    public void delete() {
        if (state == IkeSaState.DESTROYED || state == IkeSaState.DELETING) {
            return;
        }
        if (state == IkeSaState.CONNECTING) {
            destroy("deleted before it was established");
            return;
        }
        state = IkeSaState.DELETING;
        IkeDelete.start(this);
    }

    /** Tears down locally: children announced deleted, timers stopped, keys wiped. */
    public void destroy(String why) {
        if (state == IkeSaState.DESTROYED) {
            return;
        }
        state = IkeSaState.DESTROYED;
        for (ChildSa c : List.copyOf(children)) {
            removeChild(c, why);
        }
        window.stop();
        cancelTimers();
        if (keys != null) {
            keys.destroy();
        }
        if (establishedAt == null && !initiator) {
            // A responder's SA that never got past IKE_SA_INIT: anyone can make those, by the thousand.
            engine.context().floodLog().log("half-open-destroyed", System.Logger.Level.INFO, "{0}: IKE SA destroyed: {1}", this, why);
        } else {
            LOG.log(System.Logger.Level.INFO, "{0}: IKE SA destroyed: {1}", this, why);
        }
        engine.unregister(this);
    }

    public void fail(String why) {
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}", this, why);
        destroy(why);
    }

    // ------------------------------------------------------------------------------------------
    // Requests, message IDs, retransmission
    // ------------------------------------------------------------------------------------------

    void request(int exchangeType, Function<IkeSa, List<Payload>> build, BiConsumer<IkeSa, IncomingMessage> onResponse, boolean pinned) {
        window.queue(new Legacy(exchangeType, build, onResponse, pinned, null));
    }

    /** Whether anything of ours other than a liveness check is queued or on the wire. */
    boolean busyWithRequests() {
        return window.busyWithRequests();
    }

    /** Any message for this SA after IKE_SA_INIT, from the engine. */
    void receive(IkeMessage message, InetSocketAddress from, InetSocketAddress to) {
        window.receive(message, from, to);
    }

    /** The peer sent an authenticated message on this SA (or the response to our IKE_SA_INIT). */
    public void heard() {
        lastHeard = engine.context().scheduler().now();
    }

    /** Follows the peer to port 4500 and wherever its NAT maps it next (RFC 7296 §2.23). */
    public void peerSeenAt(InetSocketAddress from, InetSocketAddress to) {
        if (natDetected || from.getPort() == engine.context().natTraversalPort()) {
            remote = from;
            local = to;
        }
    }

    /** Until every exchange is its own class. */
    public Exchange legacyResponder(IncomingMessage in) {
        Function<IncomingMessage, List<Payload>> answer = switch (in.exchangeType()) {
            case ExchangeType.IKE_AUTH -> state == IkeSaState.CONNECTING && !initiator ? this::processAuthRequest : null;
            case ExchangeType.CREATE_CHILD_SA -> m -> CreateChildSa.respondToIkeRekey(this, m);
            default -> null;
        };
        return answer == null ? null : new LegacyResponder(answer, null);
    }

    public IkeContext context() {
        return engine.context();
    }

    public MessageWindow window() {
        return window;
    }

    // ------------------------------------------------------------------------------------------

    static <P extends Payload> Optional<P> find(List<Payload> payloads, Class<P> kind) {
        return payloads.stream().filter(kind::isInstance).map(kind::cast).findFirst();
    }

    static Optional<NotifyPayload> notify(List<Payload> payloads, int type) {
        return payloads.stream().filter(p -> p instanceof NotifyPayload n && n.notifyType() == type)
                .map(NotifyPayload.class::cast).findFirst();
    }
}
