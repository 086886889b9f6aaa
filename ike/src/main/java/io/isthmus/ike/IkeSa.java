package io.isthmus.ike;

import io.isthmus.esp.Lifetime;
import io.isthmus.esp.SaParameters;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import io.isthmus.ike.crypto.KeyExchange;
import io.isthmus.ike.crypto.SkCipher;
import io.isthmus.ike.message.AuthPayload;
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
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import io.isthmus.ike.message.SkPayload;
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.message.TsPayload;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One IKE SA and its child SAs, on the engine's thread. The exchanges are written as pairs of
 * build and process steps for each role (strongSwan's tasks); the flow of each is drawn in the
 * comments of the method that starts it.
 */
public final class IkeSa {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");
    private static final byte[] KEY_PAD = "Key Pad for IKEv2".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE_LENGTH = 32;

    private final IkeEngine engine;
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
    private SkCipher outbound;
    private SkCipher inbound;
    private byte[] initRequest;
    private byte[] initResponse;
    private boolean natDetected;
    private Identity peerId;

    private int nextRequestId;
    private int expectedRequestId;
    private byte[] lastResponse;
    private Outstanding outstanding;
    private Instant lastHeard;
    private Scheduler.Cancellable livenessTimer;
    private Scheduler.Cancellable rekeyTimer;
    private final List<ChildSa> children = new ArrayList<>();
    /** Set when a request was refused in a way that ends the IKE SA once the answer is out. */
    private boolean closeAfterAnswer;

    /** A request waiting for its response. */
    private record Outstanding(int messageId, byte[] datagram, Consumer<Response> onResponse, int tries, Scheduler.Cancellable timer) {
    }

    /** A response, with its payloads decrypted when the message was protected. */
    record Response(IkeMessage message, List<Payload> payloads) {
        <P extends Payload> Optional<P> first(Class<P> kind) {
            return payloads.stream().filter(kind::isInstance).map(kind::cast).findFirst();
        }

        Optional<NotifyPayload> notify(int type) {
            return payloads.stream().filter(p -> p instanceof NotifyPayload n && n.notifyType() == type)
                    .map(NotifyPayload.class::cast).findFirst();
        }

        Optional<NotifyPayload> error() {
            return payloads.stream().filter(p -> p instanceof NotifyPayload n && n.isError()).map(NotifyPayload.class::cast).findFirst();
        }
    }

    /** A child SA as this IKE SA keeps it. */
    static final class ChildSa {
        final ChildSaDescription description;
        final ChildProposal proposal;
        final Instant established;
        Scheduler.Cancellable rekeyTimer;

        ChildSa(ChildSaDescription description, ChildProposal proposal, Instant established) {
            this.description = description;
            this.proposal = proposal;
            this.established = established;
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
        this.lastHeard = engine.scheduler().now();
    }

    public IkeSaState state() {
        return state;
    }

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

    public List<ChildSaDescription> childSas() {
        return children.stream().map(c -> c.description).toList();
    }

    long ourSpi() {
        return initiator ? spiI : spiR;
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
    //   HDR, SAi1, KEi, Ni,
    //     N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)  -->
    //                                <--  HDR, SAr1, KEr, Nr, N(NAT_*)
    //   or                           <--  HDR, N(INVALID_KE_PAYLOAD)   (retry with that group)
    //   or                           <--  HDR, N(COOKIE)               (retry with the cookie first)
    // ------------------------------------------------------------------------------------------

    void startInitiator() {
        ni = engine.randomBytes(NONCE_LENGTH);
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
        payloads.add(NotifyPayload.of(NotifyType.NAT_DETECTION_SOURCE_IP, natHash(spiI, 0, local)));
        payloads.add(NotifyPayload.of(NotifyType.NAT_DETECTION_DESTINATION_IP, natHash(spiI, 0, remote)));
        IkeHeader header = new IkeHeader(spiI, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR, 0, 0);
        initRequest = IkeMessage.encode(header, payloads);
        nextRequestId = 1;
        sendRequest(0, initRequest, this::processInitResponse);
    }

    private void processInitResponse(Response r) {
        Optional<NotifyPayload> cookieNotify = r.notify(NotifyType.COOKIE);
        if (cookieNotify.isPresent()) {
            cookie = cookieNotify.get().data();
            LOG.log(System.Logger.Level.INFO, "{0}: responder asks for a cookie, retrying IKE_SA_INIT", this);
            sendInitRequest();
            return;
        }
        Optional<NotifyPayload> invalidKe = r.notify(NotifyType.INVALID_KE_PAYLOAD);
        if (invalidKe.isPresent() && invalidKe.get().data().length == 2) {
            int group = ((invalidKe.get().data()[0] & 0xFF) << 8) | (invalidKe.get().data()[1] & 0xFF);
            var wanted = connection.ikeProposals().stream().map(IkeProposal::keyExchange).filter(k -> k.ianaId() == group).findFirst();
            if (wanted.isPresent() && wanted.get() != keyExchange.method()) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer wants key exchange {1}, retrying IKE_SA_INIT", this, wanted.get().keyword());
                keyExchange = wanted.get().generate();
                sendInitRequest();
                return;
            }
            fail("peer asked for key exchange method " + group + ", which is not in our proposals");
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
            deriveKeys(keyExchange.sharedSecret(ke.data()));
        } catch (IkeProtocolException e) {
            fail("IKE_SA_INIT response unusable: " + e.getMessage());
            return;
        }
        engine.register(this);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE_SA_INIT done, {1}{2}", this, proposal, natDetected ? ", NAT detected" : "");
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
            IkeProposal chosen = null;
            Proposal chosenFrom = null;
            for (IkeProposal mine : connection.ikeProposals()) {
                for (Proposal offered : sa.proposals()) {
                    if (mine.offeredBy(offered)) {
                        chosen = mine;
                        chosenFrom = offered;
                        break;
                    }
                }
                if (chosen != null) {
                    break;
                }
            }
            if (chosen == null) {
                LOG.log(System.Logger.Level.WARNING, "{0}: no acceptable IKE proposal among {1}", this, describe(sa));
                answerInitWith(NotifyPayload.of(NotifyType.NO_PROPOSAL_CHOSEN));
                state = IkeSaState.DESTROYED;
                return;
            }
            if (ke.group() != chosen.keyExchange().ianaId()) {
                int group = chosen.keyExchange().ianaId();
                LOG.log(System.Logger.Level.INFO, "{0}: peer sent KE {1}, asking for {2}", this, ke.group(), chosen.keyExchange().keyword());
                answerInitWith(NotifyPayload.of(NotifyType.INVALID_KE_PAYLOAD, new byte[] {(byte) (group >>> 8), (byte) group}));
                state = IkeSaState.DESTROYED;
                return;
            }
            proposal = chosen;
            keyExchange = chosen.keyExchange().generate();
            nr = engine.randomBytes(NONCE_LENGTH);
            detectNat(payloads, spiI, 0);
            byte[] secret = keyExchange.sharedSecret(ke.data());
            List<Payload> response = new ArrayList<>();
            response.add(new SaPayload(List.of(chosen.toProposal(chosenFrom.number(), new byte[0]))));
            response.add(new KePayload(keyExchange.method().ianaId(), keyExchange.publicValue()));
            response.add(new NoncePayload(nr));
            response.add(NotifyPayload.of(NotifyType.NAT_DETECTION_SOURCE_IP, natHash(spiI, spiR, local)));
            response.add(NotifyPayload.of(NotifyType.NAT_DETECTION_DESTINATION_IP, natHash(spiI, spiR, remote)));
            IkeHeader header = new IkeHeader(spiI, spiR, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
            initResponse = IkeMessage.encode(header, response);
            deriveKeys(secret);
            expectedRequestId = 1;
            lastResponse = initResponse;
            engine.transport().send(initResponse, local, remote);
            LOG.log(System.Logger.Level.INFO, "{0}: IKE_SA_INIT answered, {1}{2}", this, proposal, natDetected ? ", NAT detected" : "");
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: IKE_SA_INIT request refused: {1}", this, e.getMessage());
            answerInitWith(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData()));
            state = IkeSaState.DESTROYED;
        }
    }

    private void answerInitWith(NotifyPayload notify) {
        IkeHeader header = new IkeHeader(spiI, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        engine.transport().send(IkeMessage.encode(header, List.of(notify)), local, remote);
    }

    private void deriveKeys(byte[] sharedSecret) {
        byte[] skeyseed = KeyDerivation.skeyseed(proposal.prf(), ni, nr, sharedSecret);
        keys = KeyDerivation.ikeSaKeys(proposal.prf(), skeyseed, ni, nr, spiI, spiR,
                proposal.cipher().integrityKeyLength(), proposal.cipher().encryptionKeyLength());
        java.util.Arrays.fill(skeyseed, (byte) 0);
        java.util.Arrays.fill(sharedSecret, (byte) 0);
        SkCipher i2r = new SkCipher(proposal.cipher(), keys.skEi(), keys.skAi());
        SkCipher r2i = new SkCipher(proposal.cipher(), keys.skEr(), keys.skAr());
        outbound = initiator ? i2r : r2i;
        inbound = initiator ? r2i : i2r;
    }

    private void detectNat(List<Payload> payloads, long hashSpiI, long hashSpiR) {
        // The peer's view of its own address must match where its packets come from, and its view
        // of ours where they arrive; otherwise someone in between rewrote them (RFC 7296 §2.23).
        boolean sourceSeen = false;
        boolean sourceMatches = false;
        boolean destinationMatches = true;
        byte[] expectedSource = natHash(hashSpiI, hashSpiR, remote);
        byte[] expectedDestination = natHash(hashSpiI, hashSpiR, local);
        for (Payload p : payloads) {
            if (p instanceof NotifyPayload n && n.notifyType() == NotifyType.NAT_DETECTION_SOURCE_IP) {
                sourceSeen = true;
                sourceMatches |= MessageDigest.isEqual(n.data(), expectedSource);
            } else if (p instanceof NotifyPayload n && n.notifyType() == NotifyType.NAT_DETECTION_DESTINATION_IP) {
                destinationMatches = MessageDigest.isEqual(n.data(), expectedDestination);
            }
        }
        natDetected = sourceSeen && (!sourceMatches || !destinationMatches);
    }

    private void moveToNatTraversalPort() {
        if (local.getPort() != IkeEngine.NAT_T_PORT || remote.getPort() != IkeEngine.NAT_T_PORT) {
            local = new InetSocketAddress(local.getAddress(), IkeEngine.NAT_T_PORT);
            remote = new InetSocketAddress(remote.getAddress(), IkeEngine.NAT_T_PORT);
        }
    }

    static byte[] natHash(long spiI, long spiR, InetSocketAddress address) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] ip = address.getAddress().getAddress();
            sha1.update(KeyDerivation.concat(longBytes(spiI), longBytes(spiR), ip,
                    new byte[] {(byte) (address.getPort() >>> 8), (byte) address.getPort()}));
            return sha1.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    // ------------------------------------------------------------------------------------------
    // IKE_AUTH with the first child SA
    //
    //   Initiator                         Responder
    //   HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr, N(INITIAL_CONTACT)}  -->
    //                                <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
    //   or                           <--  HDR, SK {N(AUTHENTICATION_FAILED)}
    //   or                           <--  HDR, SK {IDr, AUTH, N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE)}
    //                                     (IKE SA up, no child SA)
    // ------------------------------------------------------------------------------------------

    private void sendAuthRequest() {
        IdPayload idi = connection.localId().toPayload(true);
        int childSpi = engine.newChildSpi();
        List<Payload> payloads = new ArrayList<>();
        payloads.add(idi);
        if (connection.remoteId() != null) {
            payloads.add(connection.remoteId().toPayload(false));
        }
        payloads.add(new AuthPayload(AuthPayload.SHARED_KEY_MIC, pskAuth(true, idi)));
        payloads.add(NotifyPayload.of(NotifyType.INITIAL_CONTACT));
        payloads.add(childSaPayload(childSpi, false));
        payloads.add(new TsPayload(true, connection.localSelectors()));
        payloads.add(new TsPayload(false, connection.remoteSelectors()));
        int id = nextRequestId++;
        sendRequest(id, protect(ExchangeType.IKE_AUTH, false, id, payloads), r -> processAuthResponse(r, childSpi));
    }

    private SaPayload childSaPayload(int spi, boolean withKeyExchange) {
        List<Proposal> proposals = new ArrayList<>();
        for (int i = 0; i < connection.childProposals().size(); i++) {
            proposals.add(connection.childProposals().get(i).toProposal(i + 1, spi, withKeyExchange));
        }
        return new SaPayload(proposals);
    }

    private void processAuthResponse(Response r, int childSpi) {
        Optional<NotifyPayload> error = r.error();
        Optional<IdPayload> idr = r.first(IdPayload.class).filter(id -> !id.initiator());
        Optional<AuthPayload> auth = r.first(AuthPayload.class);
        if (idr.isEmpty() || auth.isEmpty()) {
            fail("IKE_AUTH refused: " + error.map(n -> NotifyType.name(n.notifyType())).orElse("no IDr and AUTH"));
            return;
        }
        if (connection.remoteId() != null && !connection.remoteId().equals(Identity.of(idr.get()))) {
            fail("peer identifies as " + idr.get() + ", expected " + connection.remoteId());
            return;
        }
        if (auth.get().method() != AuthPayload.SHARED_KEY_MIC
                || !MessageDigest.isEqual(auth.get().data(), pskAuth(false, idr.get()))) {
            fail("AUTHENTICATION_FAILED: the responder's AUTH does not verify with our pre-shared key");
            return;
        }
        peerId = Identity.of(idr.get());
        established();
        if (error.isPresent()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: established, but the child SA was refused: {1}", this,
                    NotifyType.name(error.get().notifyType()));
            return;
        }
        try {
            installChildFromResponse(r, childSpi, null, ni, nr);
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: child SA from IKE_AUTH unusable: {1}", this, e.getMessage());
        }
    }

    /** Responder: IKE_AUTH request. */
    private List<Payload> processAuthRequest(List<Payload> payloads) {
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
        Identity claimed = Identity.of(idi.get());
        Connection matched = null;
        for (Connection c : candidates) {
            if (c.remoteId() == null || c.remoteId().equals(claimed)) {
                connection = c;
                if (auth.method() == AuthPayload.SHARED_KEY_MIC && MessageDigest.isEqual(auth.data(), pskAuth(true, idi.get()))) {
                    matched = c;
                    break;
                }
            }
        }
        if (matched == null) {
            LOG.log(System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED for peer claiming {1}", this, claimed);
            closeAfterAnswer = true;
            return List.of(NotifyPayload.of(NotifyType.AUTHENTICATION_FAILED));
        }
        connection = matched;
        peerId = claimed;
        IdPayload idr = connection.localId().toPayload(false);
        List<Payload> response = new ArrayList<>();
        response.add(idr);
        response.add(new AuthPayload(AuthPayload.SHARED_KEY_MIC, pskAuth(false, idr)));
        established();
        try {
            response.addAll(answerChildRequest(payloads, null, ni, nr));
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: established, child SA refused: {1}", this, e.getMessage());
            response.add(NotifyPayload.of(e.notifyType()));
        }
        return response;
    }

    private byte[] pskAuth(boolean ofInitiator, IdPayload id) {
        byte[] realMessage = ofInitiator ? initRequest : initResponse;
        byte[] nonce = ofInitiator ? nr : ni;
        byte[] macedId = proposal.prf().compute(ofInitiator ? keys.skPi() : keys.skPr(), id.body());
        byte[] keyPad = proposal.prf().compute(connection.preSharedKey(), KEY_PAD);
        return proposal.prf().compute(keyPad, KeyDerivation.concat(realMessage, nonce, macedId));
    }

    private void established() {
        state = IkeSaState.ESTABLISHED;
        engine.established(this);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA established, {1}", this, proposal);
        scheduleLiveness();
    }

    // ------------------------------------------------------------------------------------------
    // Child SAs
    // ------------------------------------------------------------------------------------------

    /** Responder: choose a proposal, narrow the selectors, answer with SA, TSi, TSr. */
    private List<Payload> answerChildRequest(List<Payload> request, byte[] pfsSecret, byte[] nonceI, byte[] nonceR)
            throws IkeProtocolException {
        SaPayload sa = find(request, SaPayload.class).orElseThrow(() -> new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no SA"));
        List<TrafficSelector> tsi = find(request, TsPayload.class).filter(TsPayload::initiator).map(TsPayload::selectors)
                .orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSi"));
        List<TrafficSelector> tsr = request.stream().filter(p -> p instanceof TsPayload t && !t.initiator())
                .map(p -> ((TsPayload) p).selectors()).findFirst()
                .orElseThrow(() -> new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "no TSr"));
        ChildProposal chosen = null;
        Proposal chosenFrom = null;
        for (ChildProposal mine : connection.childProposals()) {
            for (Proposal offered : sa.proposals()) {
                if (mine.offeredBy(offered, false)) {
                    chosen = mine;
                    chosenFrom = offered;
                    break;
                }
            }
            if (chosen != null) {
                break;
            }
        }
        if (chosen == null) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "no acceptable ESP proposal among " + describe(sa));
        }
        // Their TSi is our remote side, their TSr our local side (§2.9).
        List<TrafficSelector> narrowedI = narrow(tsi, connection.remoteSelectors());
        List<TrafficSelector> narrowedR = narrow(tsr, connection.localSelectors());
        if (narrowedI.isEmpty() || narrowedR.isEmpty()) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "selectors " + tsi + " === " + tsr + " outside "
                    + connection.remoteSelectors() + " === " + connection.localSelectors());
        }
        int inboundSpi = engine.newChildSpi();
        int outboundSpi = ProposalWords.spiInt(chosenFrom.spi());
        ChildProposal negotiated = new ChildProposal(chosen.cipher(), chosen.esn(), null);
        install(negotiated, inboundSpi, outboundSpi, narrowedR, narrowedI, pfsSecret, nonceI, nonceR);
        return List.of(new SaPayload(List.of(negotiated.toProposal(chosenFrom.number(), inboundSpi, false))),
                new TsPayload(true, narrowedI), new TsPayload(false, narrowedR));
    }

    /** Initiator: the responder's choice of proposal and selectors, checked against what we offered. */
    private void installChildFromResponse(Response r, int inboundSpi, byte[] pfsSecret, byte[] nonceI, byte[] nonceR)
            throws IkeProtocolException {
        SaPayload sa = r.first(SaPayload.class).orElseThrow(() -> IkeProtocolException.invalidSyntax("no SA payload"));
        if (sa.proposals().size() != 1 || sa.proposals().getFirst().spi().length != 4) {
            throw IkeProtocolException.invalidSyntax("responder's child SA choice is malformed");
        }
        ChildProposal chosen = ChildProposal.fromChosen(sa.proposals().getFirst());
        if (chosen == null || connection.childProposals().stream().noneMatch(p -> p.cipher().equals(chosen.cipher()) && p.esn() == chosen.esn())) {
            throw new IkeProtocolException(NotifyType.NO_PROPOSAL_CHOSEN, "responder chose an ESP proposal we did not offer");
        }
        List<TrafficSelector> tsi = r.first(TsPayload.class).filter(TsPayload::initiator).map(TsPayload::selectors).orElse(List.of());
        List<TrafficSelector> tsr = r.payloads().stream().filter(p -> p instanceof TsPayload t && !t.initiator())
                .map(p -> ((TsPayload) p).selectors()).findFirst().orElse(List.of());
        if (tsi.isEmpty() || tsr.isEmpty() || !within(tsi, connection.localSelectors()) || !within(tsr, connection.remoteSelectors())) {
            throw new IkeProtocolException(NotifyType.TS_UNACCEPTABLE, "responder's selectors " + tsi + " === " + tsr + " are not ours");
        }
        install(chosen, inboundSpi, ProposalWords.spiInt(sa.proposals().getFirst().spi()), tsi, tsr, pfsSecret, nonceI, nonceR);
    }

    /**
     * KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr): initiator-to-responder encryption and integrity keys,
     * then responder-to-initiator (RFC 7296 §2.17).
     */
    private ChildSa install(ChildProposal chosen, int inboundSpi, int outboundSpi, List<TrafficSelector> localTs,
                            List<TrafficSelector> remoteTs, byte[] pfsSecret, byte[] nonceI, byte[] nonceR) {
        int e = chosen.cipher().encryptionKeyLength();
        int a = chosen.cipher().integrityKeyLength();
        byte[] keymat = KeyDerivation.childKeymat(proposal.prf(), keys.skD(), pfsSecret, nonceI, nonceR, 2 * (e + a));
        byte[] encI = java.util.Arrays.copyOfRange(keymat, 0, e);
        byte[] intI = java.util.Arrays.copyOfRange(keymat, e, e + a);
        byte[] encR = java.util.Arrays.copyOfRange(keymat, e + a, 2 * e + a);
        byte[] intR = java.util.Arrays.copyOfRange(keymat, 2 * e + a, 2 * (e + a));
        java.util.Arrays.fill(keymat, (byte) 0);
        Connection.Timers t = connection.timers();
        long kb = t.childLifetimeKilobytes();
        Lifetime lifetime = kb <= 0 ? Lifetime.UNLIMITED
                : Lifetime.ofBytes(kb * 1024 - kb * 1024 / 10, kb * 1024);
        SaParameters in = SaParameters.builder(inboundSpi, chosen.cipher()).encryptionKey(initiator ? encR : encI)
                .integrityKey(initiator ? intR : intI).esn(chosen.esn()).lifetime(lifetime).build();
        SaParameters out = SaParameters.builder(outboundSpi, chosen.cipher()).encryptionKey(initiator ? encI : encR)
                .integrityKey(initiator ? intI : intR).esn(chosen.esn()).lifetime(lifetime).build();
        for (byte[] k : new byte[][] {encI, intI, encR, intR}) {
            java.util.Arrays.fill(k, (byte) 0);
        }
        ChildSaDescription description = new ChildSaDescription(connection.name(), spiI, in, out, localTs, remoteTs, local, remote, natDetected);
        ChildSa child = new ChildSa(description, chosen, engine.scheduler().now());
        children.add(child);
        LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA established: {1}", this, description);
        engine.listener().installed(description);
        return child;
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
    // INFORMATIONAL: liveness and deletes
    //
    //   HDR, SK {}              -->            (dead peer detection)
    //                          <--  HDR, SK {}
    //   HDR, SK {D(IKE)}        -->
    //                          <--  HDR, SK {}
    // ------------------------------------------------------------------------------------------

    private void scheduleLiveness() {
        if (livenessTimer != null) {
            livenessTimer.cancel();
        }
        Duration delay = connection.timers().dpdDelay();
        livenessTimer = engine.scheduler().schedule(delay, this::checkLiveness);
    }

    private void checkLiveness() {
        if (state != IkeSaState.ESTABLISHED) {
            return;
        }
        Duration idle = Duration.between(lastHeard, engine.scheduler().now());
        if (idle.compareTo(connection.timers().dpdDelay()) >= 0 && outstanding == null) {
            int id = nextRequestId++;
            LOG.log(System.Logger.Level.DEBUG, "{0}: idle {1}s, checking the peer is alive", this, idle.toSeconds());
            sendRequest(id, protect(ExchangeType.INFORMATIONAL, false, id, List.of()), r -> { });
        }
        scheduleLiveness();
    }

    /** Deletes the IKE SA, and with it every child SA, telling the peer. */
    public void delete() {
        if (state == IkeSaState.DESTROYED || state == IkeSaState.DELETING) {
            return;
        }
        if (state != IkeSaState.ESTABLISHED) {
            destroy("deleted before it was established");
            return;
        }
        state = IkeSaState.DELETING;
        int id = nextRequestId++;
        LOG.log(System.Logger.Level.INFO, "{0}: deleting IKE SA", this);
        sendRequest(id, protect(ExchangeType.INFORMATIONAL, false, id,
                List.of(new DeletePayload(Proposal.PROTOCOL_IKE, 0, List.of()))), r -> destroy("deleted"));
    }

    private List<Payload> processInformational(List<Payload> payloads) {
        List<Payload> response = new ArrayList<>();
        for (Payload p : payloads) {
            if (p instanceof DeletePayload d && d.protocolId() == Proposal.PROTOCOL_IKE) {
                LOG.log(System.Logger.Level.INFO, "{0}: peer deletes the IKE SA", this);
                engine.scheduler().schedule(Duration.ZERO, () -> destroy("deleted by the peer"));
                return List.of();
            }
            if (p instanceof DeletePayload d && d.protocolId() == Proposal.PROTOCOL_ESP) {
                List<byte[]> ours = new ArrayList<>();
                for (byte[] spi : d.spis()) {
                    int outboundSpi = ProposalWords.spiInt(spi);
                    children.stream().filter(c -> c.description.outbound().spi() == outboundSpi).findFirst().ifPresent(c -> {
                        ours.add(ProposalWords.spiBytes(c.description.inbound().spi()));
                        removeChild(c, "deleted by the peer");
                    });
                }
                if (!ours.isEmpty()) {
                    response.add(new DeletePayload(Proposal.PROTOCOL_ESP, 4, ours));
                }
            }
        }
        return response;
    }

    private void removeChild(ChildSa c, String why) {
        children.remove(c);
        if (c.rekeyTimer != null) {
            c.rekeyTimer.cancel();
        }
        LOG.log(System.Logger.Level.INFO, "{0}: CHILD_SA {1} closed: {2}", this, c.description, why);
        engine.listener().deleted(c.description);
    }

    /** Tears down locally: children announced deleted, timers stopped, keys wiped. */
    void destroy(String why) {
        if (state == IkeSaState.DESTROYED) {
            return;
        }
        state = IkeSaState.DESTROYED;
        for (ChildSa c : List.copyOf(children)) {
            removeChild(c, why);
        }
        if (outstanding != null) {
            outstanding.timer().cancel();
            outstanding = null;
        }
        if (livenessTimer != null) {
            livenessTimer.cancel();
        }
        if (rekeyTimer != null) {
            rekeyTimer.cancel();
        }
        if (keys != null) {
            keys.destroy();
        }
        if (outbound != null) {
            outbound.destroy();
            inbound.destroy();
        }
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA destroyed: {1}", this, why);
        engine.unregister(this);
    }

    private void fail(String why) {
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}", this, why);
        destroy(why);
    }

    // ------------------------------------------------------------------------------------------
    // Message IDs, retransmission, protection
    // ------------------------------------------------------------------------------------------

    private void sendRequest(int messageId, byte[] datagram, Consumer<Response> onResponse) {
        if (outstanding != null) {
            outstanding.timer().cancel();
        }
        outstanding = new Outstanding(messageId, datagram, onResponse, 0, null);
        transmit();
    }

    private void transmit() {
        Outstanding o = outstanding;
        engine.transport().send(o.datagram(), local, remote);
        Connection.Timers t = connection.timers();
        // strongSwan's schedule: base * 1.8^n
        Duration delay = Duration.ofMillis((long) (t.retransmitBase().toMillis() * Math.pow(1.8, o.tries())));
        Scheduler.Cancellable timer = engine.scheduler().schedule(delay, () -> retransmit(o));
        outstanding = new Outstanding(o.messageId(), o.datagram(), o.onResponse(), o.tries(), timer);
    }

    private void retransmit(Outstanding o) {
        if (outstanding == null || outstanding.messageId() != o.messageId() || state == IkeSaState.DESTROYED) {
            return;
        }
        if (o.tries() + 1 >= connection.timers().retransmitTries()) {
            fail("peer " + remote + " did not answer request " + o.messageId()
                    + " after " + (o.tries() + 1) + " transmissions: giving up");
            return;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: retransmitting request {1} ({2})", this, o.messageId(), o.tries() + 1);
        outstanding = new Outstanding(o.messageId(), o.datagram(), o.onResponse(), o.tries() + 1, null);
        transmit();
    }

    private byte[] protect(int exchangeType, boolean response, int messageId, List<Payload> payloads) {
        byte[] plaintext = PayloadCodec.encodeChain(payloads);
        int contentLength = outbound.contentLength(plaintext.length);
        int flags = (initiator ? IkeHeader.FLAG_INITIATOR : 0) | (response ? IkeHeader.FLAG_RESPONSE : 0);
        IkeHeader header = new IkeHeader(spiI, spiR, 0, 2, 0, exchangeType, flags, messageId, 0);
        byte[] datagram = IkeMessage.encodeProtected(header, payloads.isEmpty() ? PayloadType.NONE : payloads.getFirst().type(),
                contentLength, null);
        outbound.seal(datagram, datagram.length - contentLength, plaintext);
        return datagram;
    }

    /** Any message for this SA after IKE_SA_INIT, from the engine. */
    void receive(IkeMessage message, InetSocketAddress from, InetSocketAddress to) {
        IkeHeader h = message.header();
        if (h.exchangeType() == ExchangeType.IKE_SA_INIT) {
            if (h.isResponse() && initiator && outstanding != null && outstanding.messageId() == 0) {
                Outstanding o = outstanding;
                o.timer().cancel();
                outstanding = null;
                lastHeard = engine.scheduler().now();
                o.onResponse().accept(new Response(message, message.payloads()));
            } else if (!h.isResponse() && !initiator && lastResponse != null && expectedRequestId == 1) {
                engine.transport().send(lastResponse, local, remote); // a retransmitted IKE_SA_INIT request
            }
            return;
        }
        if (!message.isProtected() || inbound == null) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: dropping unprotected {1}", this, message);
            return;
        }
        if (h.isResponse()) {
            if (outstanding == null || h.messageId() != outstanding.messageId()) {
                return; // late or unexpected: RFC 7296 §2.3 says drop
            }
        } else if (h.messageId() == expectedRequestId - 1 && lastResponse != null) {
            engine.transport().send(lastResponse, local, remote); // retransmitted request: same answer
            return;
        } else if (h.messageId() != expectedRequestId) {
            return;
        }
        List<Payload> payloads;
        try {
            byte[] inner = inbound.open(message.raw(), message.protectedContentOffset());
            SkPayload sk = (SkPayload) message.payloads().getLast();
            payloads = PayloadCodec.decodeChain(sk.firstInnerPayload(), inner, 0, inner.length);
        } catch (IkeProtocolException e) {
            if (e.notifyType() == NotifyType.AUTHENTICATION_FAILED) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: dropping {1}: {2}", this, message, e.getMessage());
                return; // what does not authenticate gets no answer
            }
            if (!h.isResponse()) {
                answer(h, List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData())));
            }
            return;
        } catch (ClassCastException e) {
            return;
        }
        lastHeard = engine.scheduler().now();
        if (natDetected || from.getPort() == IkeEngine.NAT_T_PORT) {
            // Follow the peer if its NAT mapping moved (RFC 7296 §2.23).
            remote = from;
        }
        if (h.isResponse()) {
            Outstanding o = outstanding;
            o.timer().cancel();
            outstanding = null;
            o.onResponse().accept(new Response(message, payloads));
            return;
        }
        List<Payload> response = switch (h.exchangeType()) {
            case ExchangeType.IKE_AUTH -> state == IkeSaState.CONNECTING && !initiator ? processAuthRequest(payloads) : null;
            case ExchangeType.INFORMATIONAL -> processInformational(payloads);
            case ExchangeType.CREATE_CHILD_SA -> List.of(NotifyPayload.of(NotifyType.NO_ADDITIONAL_SAS));
            default -> null;
        };
        if (response == null) {
            return;
        }
        answer(h, response);
        if (closeAfterAnswer) {
            destroy("IKE_AUTH refused");
        }
    }

    private void answer(IkeHeader request, List<Payload> payloads) {
        lastResponse = protect(request.exchangeType(), true, request.messageId(), payloads);
        expectedRequestId = request.messageId() + 1;
        engine.transport().send(lastResponse, local, remote);
    }

    private static <P extends Payload> Optional<P> find(List<Payload> payloads, Class<P> kind) {
        return payloads.stream().filter(kind::isInstance).map(kind::cast).findFirst();
    }

    private static String describe(SaPayload sa) {
        return sa.proposals().stream().map(p -> {
            IkeProposal ike = p.protocolId() == Proposal.PROTOCOL_IKE ? IkeProposal.fromChosen(firstOfEach(p)) : null;
            ChildProposal esp = p.protocolId() == Proposal.PROTOCOL_ESP ? ChildProposal.fromChosen(firstOfEach(p)) : null;
            return ike != null ? ike.toString() : esp != null ? esp.toString() : "proposal " + p.number();
        }).toList().toString();
    }

    private static Proposal firstOfEach(Proposal p) {
        List<io.isthmus.ike.message.Transform> one = new ArrayList<>();
        for (int type = 1; type <= 5; type++) {
            p.transformsOfType(type).stream().findFirst().ifPresent(one::add);
        }
        return new Proposal(p.number(), p.protocolId(), p.spi(), one);
    }
}
