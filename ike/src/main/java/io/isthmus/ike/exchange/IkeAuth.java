package io.isthmus.ike.exchange;

import io.isthmus.ike.AnsweredInitRequest;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InboundSpi;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.message.AuthPayload;
import io.isthmus.ike.message.CertPayload;
import io.isthmus.ike.message.CpPayload;
import io.isthmus.ike.message.EapPayload;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.TsPayload;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.ConfigurationRequest;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * IKE_AUTH with the first child SA (RFC 7296 §1.2): identities, certificates and the AUTH
 * payloads over IKE_SA_INIT's messages; the IKE SA is up once the peer's AUTH verifies, the child
 * SA (negotiated as {@link ChildCreate} does) is installed with it, or refused on its own.
 *
 * <pre>
 *   Initiator                         Responder
 *   HDR, SK {IDi, [CERT+], [CERTREQ], [IDr], AUTH, [N(INITIAL_CONTACT)], SAi2, TSi, TSr}  -->
 *                                <--  HDR, SK {IDr, [CERT+], AUTH, SAr2, TSi, TSr}
 *   or                           <--  HDR, SK {N(AUTHENTICATION_FAILED)}
 *   or                           <--  HDR, SK {IDr, AUTH, N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE)}
 *                                     (IKE SA up, no child SA)
 * </pre>
 *
 * Either message may travel as SKF fragments (RFC 7383) when it is too big for one datagram.
 * INITIAL_CONTACT is sent only by an end that holds no other IKE SA for the connection, and when
 * the peer says it, our older IKE SAs with it go once the new child SA is in.
 */
final class IkeAuth implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    /**
     * What IKE_SA_INIT leaves for IKE_AUTH: both its messages and nonces (each end signs its own
     * message and the other's nonce), the keys, and the signature hashes the peer accepts; for a
     * responder, the request with its retry the initiator may have signed instead (null for an initiator).
     */
    record Signed(byte[] request, byte[] response, byte[] ni, byte[] nr, IkeSaKeys keys, List<Integer> peerSignatureHashes,
                  AnsweredInitRequest answered) {
    }

    private final IkeSa sa;
    private final boolean initiator;
    private final Signed init;
    /**
     * Initiator: the inbound SPI offered for the first child SA, reserved when IKE_AUTH is queued;
     * ours until the child SA is installed with it, given back when IKE_AUTH ends without one.
     */
    private InboundSpi childSpi;
    /** Responder: the answer, and whether the IKE SA ends once it is out. */
    private List<Payload> answer;
    /** How long an address-less remote-access IKE SA lives after its IKE_AUTH answer. */
    static final java.time.Duration ADDRESSLESS_DELETE = java.time.Duration.ofSeconds(2);
    private boolean refused;
    /** Responder: a remote-access client was authenticated but got no address, so its IKE SA can carry nothing. */
    private boolean addressless;
    /** Responder: the EAP conversation with a client that authenticates with EAP, across this exchange's rounds. */
    private EapRelay eap;
    /** Initiator with EAP: 0 before the first response, 1 while EAP runs, 2 once it succeeded (our AUTH with the MSK is next). */
    private int eapPhase;
    private byte[] eapReply;
    private byte[] msk;
    private IdPayload ourIdi;
    private IdPayload peerIdr;

    IkeAuth(IkeSa sa, boolean initiator, Signed init) {
        this.sa = sa;
        this.initiator = initiator;
        this.init = init;
    }

    static void start(IkeSa sa, Signed init) {
        IkeAuth auth = new IkeAuth(sa, true, init);
        auth.childSpi = sa.context().reserveInboundSpi(auth);
        sa.window().queue(auth);
    }

    Authenticator authenticator(Connection c) {
        return new Authenticator(c, sa.proposal(), init.keys(), initiator, init.request(), init.response(), init.ni(), init.nr(),
                init.peerSignatureHashes(), init.answered());
    }

    @Override
    public int exchangeType() {
        return ExchangeType.IKE_AUTH;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (!initiator) {
            m.addAll(answer);
            if (refused) {
                m.endsSa("IKE_AUTH refused");
            } else if (addressless) {
                // Up, yet nothing can flow and no pool address will come to it later: it would hold its place (and its
                // memory) until the client let go. Deleted once the client had the answer and a moment to delete it itself.
                sa.context().scheduler().schedule(ADDRESSLESS_DELETE, sa::delete);
            } else if (eap != null && !eap.finished()) {
                // The client's next IKE_AUTH request is this exchange's next round.
                sa.window().await(this);
            }
            return Status.SUCCESS;
        }
        Connection connection = sa.connection();
        if (eapPhase == 1) {
            m.add(new EapPayload(eapReply));
            return Status.NEED_MORE;
        }
        if (eapPhase == 2) {
            m.add(authenticator(connection).eapAuth(msk, true, ourIdi));
            return Status.NEED_MORE;
        }
        IdPayload idi = connection.localId().toPayload(true);
        ourIdi = idi;
        m.add(idi);
        m.addAll(Authenticator.certificates(connection.authentication()));
        if (connection.authentication() instanceof Authentication.Certificates c) {
            m.add(Authenticator.certificateRequest(c));
        }
        // IDr is optional (RFC 7296 §3.5), and a distinguished name is sent as we parsed it from the configuration: a peer
        // that selects its configuration by comparing IDr with its own subject byte for byte (strongSwan 5.9 as responder,
        // measured in IdentityLabTest) refuses a name an operator wrote with other spacing or case, or one its CA encoded as
        // PrintableString. So no IDr for a DN (nor for a CN=* pattern); the peer's IDr is still checked against it.
        if (connection.remoteId() != null && connection.remoteId().type() != IdPayload.ID_DER_ASN1_DN) {
            m.add(connection.remoteId().toPayload(false));
        }
        if (connection.eapPeer() == null) {
            // With EAP, no AUTH: the responder starts EAP (RFC 7296 §2.16).
            m.add(authenticator(connection).sign(idi));
        }
        if (!sa.hasOtherIkeSa()) {
            m.add(NotifyPayload.of(NotifyType.INITIAL_CONTACT));
        }
        m.add(NotifyPayload.of(NotifyType.IKEV2_MESSAGE_ID_SYNC_SUPPORTED));
        if (!connection.virtualIps().isEmpty()) {
            m.add(ConfigurationRequest.payload(connection.virtualIps()));
        }
        m.add(ChildCreate.offer(sa, childSpi.value(), false));
        m.add(new TsPayload(true, connection.localSelectors())).add(new TsPayload(false, connection.remoteSelectors()));
        return Status.NEED_MORE;
    }

    @Override
    public Status process(IncomingMessage m) {
        if (!initiator) {
            if (eap != null) {
                return eap.next(m);
            }
            if (m.first(AuthPayload.class).isEmpty()) {
                eap = EapRelay.begin(this, sa, m, this::authenticator);
                if (eap != null) {
                    return eap.start();
                }
            }
            answer = respond(m);
            return Status.NEED_MORE;
        }
        Connection connection = sa.connection();
        Optional<NotifyPayload> error = m.error();
        if (connection.eapPeer() != null && eapPhase == 2) {
            return eapEstablished(connection, m, error);
        }
        if (connection.eapPeer() != null && eapPhase == 1) {
            return eapRound(connection, m);
        }
        Optional<IdPayload> idr = m.first(IdPayload.class).filter(id -> !id.initiator());
        Optional<AuthPayload> auth = m.first(AuthPayload.class);
        if (idr.isEmpty() || auth.isEmpty()) {
            if (error.filter(n -> n.notifyType() == NotifyType.AUTHENTICATION_FAILED).isPresent()) {
                sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.PEER);
            }
            sa.fail("IKE_AUTH refused: " + error.map(n -> NotifyType.name(n.notifyType())).orElse("no IDr and AUTH"),
                    error.filter(n -> n.notifyType() == NotifyType.AUTHENTICATION_FAILED).isPresent() ? IkeEvent.Kind.AUTHENTICATION_FAILED
                            : IkeEvent.Kind.FAILED);
            return Status.SUCCESS;
        }
        Identity claimed = Identity.of(idr.get());
        String refusal = authenticator(connection).verify(idr.get(), auth.get(), m.all(CertPayload.class));
        if (refusal == null && connection.eapPeer() != null) {
            peerIdr = idr.get();
            return eapRound(connection, m);
        }
        if (refusal != null) {
            // The responder thinks the SA is up: tell it, then go (RFC 7296 §2.21.2).
            LOG.log(System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED: {1}", sa, refusal);
            sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.LOCAL);
            failed("AUTHENTICATION_FAILED: we refused the peer's: " + refusal);
            sa.transitionTo(IkeSaState.DELETING);
            IkeDelete.authenticationFailed(sa, refusal);
            return Status.SUCCESS;
        }
        return established(connection, claimed, m, error);
    }

    /** Initiator with EAP: the responder's next EAP message answered, or after EAP-Success our AUTH with the MSK next. */
    private Status eapRound(Connection connection, IncomingMessage m) {
        eapPhase = 1;
        Optional<EapPayload> e = m.first(EapPayload.class);
        byte[] message = e.map(EapPayload::message).orElse(new byte[0]);
        int code = message.length >= 4 ? message[0] & 0xFF : 0;
        if (code == 1) {
            eapReply = connection.eapPeer().respond(message);
            if (eapReply != null) {
                return Status.NEED_MORE;
            }
        } else if (code == 3) {
            msk = connection.eapPeer().msk();
            if (msk != null) {
                eapPhase = 2;
                return Status.NEED_MORE;
            }
        }
        Optional<NotifyPayload> error = m.error();
        if (error.filter(n -> n.notifyType() == NotifyType.AUTHENTICATION_FAILED).isPresent() || code == 4) {
            sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.PEER);
        }
        sa.fail("IKE_AUTH refused: EAP " + (code == 4 ? "failure" : code == 3 ? "succeeded without an MSK" : code == 1 ? "request we cannot answer"
                : "ended: " + error.map(n -> NotifyType.name(n.notifyType())).orElse("no EAP message")), IkeEvent.Kind.AUTHENTICATION_FAILED);
        return Status.SUCCESS;
    }

    /** Initiator with EAP: the responder's AUTH, keyed with the MSK, over its IDr of the first response. */
    private Status eapEstablished(Connection connection, IncomingMessage m, Optional<NotifyPayload> error) {
        Optional<AuthPayload> auth = m.first(AuthPayload.class);
        boolean verifies = auth.isPresent() && authenticator(connection).eapVerifies(msk, peerIdr, auth.get());
        java.util.Arrays.fill(msk, (byte) 0);
        if (!verifies) {
            sa.fail("IKE_AUTH refused: " + (auth.isEmpty() ? error.map(n -> NotifyType.name(n.notifyType())).orElse("no AUTH")
                    : "the responder's AUTH does not verify with the MSK"), IkeEvent.Kind.AUTHENTICATION_FAILED);
            return Status.SUCCESS;
        }
        return established(connection, Identity.of(peerIdr), m, error);
    }

    /** Initiator: the responder is authenticated; the IKE SA is up, with the child SA of its answer unless it refused that. */
    private Status established(Connection connection, Identity claimed, IncomingMessage m, Optional<NotifyPayload> error) {
        sa.peerSupportsMessageIdSync(m.notify(NotifyType.IKEV2_MESSAGE_ID_SYNC_SUPPORTED).isPresent());
        sa.authenticated(connection, claimed);
        m.first(CpPayload.class).map(ConfigurationReply::read).ifPresent(sa.virtualAddresses()::received);
        if (!connection.virtualIps().isEmpty() && sa.virtualAddresses().addresses().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: asked for a virtual address, the responder gave none", sa);
        }
        if (error.isPresent()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: established, but the child SA was refused: {1}", sa,
                    NotifyType.name(error.get().notifyType()));
            failed("the peer refused the child SA: " + NotifyType.name(error.get().notifyType()));
            return Status.SUCCESS;
        }
        try {
            ChildCreate.accept(m, childSpi, null, init.ni(), init.nr(), null);
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: child SA from IKE_AUTH unusable: {1}", sa, e.getMessage());
        }
        if (m.notify(NotifyType.INITIAL_CONTACT).isPresent()) {
            sa.peerHasNoOtherSa();
        }
        return Status.SUCCESS;
    }

    /** Refused either way, unanswered, or gone with the IKE SA: the SPI goes back unless the child SA holds it. */
    @Override
    public void ended() {
        if (childSpi != null) {
            childSpi.release(this);
        }
        if (eap != null && (eap.finished() || sa.state() == IkeSaState.DESTROYED)) {
            eap.close();
        }
        if (msk != null) {
            java.util.Arrays.fill(msk, (byte) 0);
        }
    }

    /** Responder: the answer to send for this round (built by {@link #build}), and whether the IKE SA ends with it. */
    void answer(List<Payload> payloads, boolean refuse) {
        this.answer = payloads;
        this.refused = refuse;
    }

    /** Responder: this round's answer came off the IKE thread's wait ({@link Status#PENDING}): sent now. */
    void answered(List<Payload> payloads, boolean refuse) {
        answer(payloads, refuse);
        sa.window().resume(this);
    }

    /** Responder: the initiator's identity and AUTH checked against each connection that may be its, then ours and the child SA. */
    private List<Payload> respond(IncomingMessage m) {
        if (m.first(EapPayload.class).isPresent() || m.first(AuthPayload.class).isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: EAP is not supported (gateways authenticate with a key or a certificate)", sa);
            sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.LOCAL);
            failed("AUTHENTICATION_FAILED: we refused the peer's: it asked for EAP");
            return refuse(NotifyType.AUTHENTICATION_FAILED);
        }
        Optional<IdPayload> idi = m.first(IdPayload.class).filter(IdPayload::initiator);
        AuthPayload auth = m.first(AuthPayload.class).get();
        if (idi.isEmpty()) {
            return refuse(NotifyType.INVALID_SYNTAX);
        }
        Identity claimed = Identity.of(idi.get());
        List<CertPayload> certs = m.all(CertPayload.class);
        Connection matched = null;
        String refusal = PeerIdentity.malformed(idi.get());
        if (refusal == null) {
            refusal = "no connection accepts identity " + claimed;
            // The closest fit first: a connection naming this peer wins over a CN=* one and one open to any identity.
            List<Connection> fitting = sa.candidates().stream().filter(c -> PeerIdentity.fit(c, claimed) != PeerIdentity.NO)
                    .sorted(java.util.Comparator.comparingInt(c -> PeerIdentity.fit(c, claimed))).toList();
            String closest = null;
            for (Connection c : fitting) {
                String why = authenticator(c).verify(idi.get(), auth, certs);
                if (why == null) {
                    matched = c;
                    break;
                }
                // The closest fit's reason: a site whose key is wrong is not to be told it is no road warrior.
                closest = closest == null ? why : closest;
            }
            refusal = closest != null ? closest : refusal;
        }
        if (matched == null) {
            sa.context().floodLog().log("auth-failed", System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED for peer claiming {1}: {2}",
                    sa, claimed, refusal);
            sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.LOCAL);
            failed("AUTHENTICATION_FAILED: we refused the peer claiming " + claimed + ": " + refusal);
            return refuse(NotifyType.AUTHENTICATION_FAILED);
        }
        IdPayload idr = matched.localId().toPayload(false);
        List<Payload> response = new ArrayList<>();
        response.add(idr);
        response.addAll(Authenticator.certificates(matched.authentication()));
        response.add(authenticator(matched).sign(idr));
        return admit(matched, claimed, m, response, null, claimed.toString());
    }

    /**
     * Responder: the peer proved to be {@code claimed} for {@code matched}: the IKE SA is up, and
     * {@code response} gets the client's address (a remote-access connection's; {@code fixed} one
     * the RADIUS server chose, else from the pool) and the child SA of {@code m}, the request that
     * carried SA, TS and CP (IKE_AUTH's first, with EAP).
     */
    List<Payload> admit(Connection matched, Identity claimed, IncomingMessage m, List<Payload> response, java.net.InetAddress fixed,
                        String leaseKey) {
        // Both ends say so (RFC 6311 §3): either may be a pair that asks to synchronise message IDs after a takeover.
        response.add(NotifyPayload.of(NotifyType.IKEV2_MESSAGE_ID_SYNC_SUPPORTED));
        sa.peerSupportsMessageIdSync(m.notify(NotifyType.IKEV2_MESSAGE_ID_SYNC_SUPPORTED).isPresent());
        sa.authenticated(matched, claimed);
        if (matched.remoteAccess() != null) {
            ConfigurationRequest asked = m.first(CpPayload.class).map(ConfigurationRequest::of).orElse(null);
            if (asked != null && asked.malformed() > 0) {
                sa.context().floodLog().log("cp-malformed", System.Logger.Level.INFO, "{0}: {1} CFG_REQUEST attribute(s) of a wrong length skipped",
                        sa, asked.malformed());
            }
            RemoteAccess.Lease lease = matched.remoteAccess().lease(asked, leaseKey, sa.ourSpi(), fixed);
            if (!lease.granted()) {
                // The client is who it says, but gets no address, so no child SA (RFC 7296 §3.15.4); the IKE SA is up, for a moment.
                LOG.log(System.Logger.Level.WARNING, "{0}: established, no address for {1}: {2}", sa, claimed, lease.why());
                failed("no virtual address for " + claimed + ": " + NotifyType.name(lease.refusal()) + ": " + lease.why());
                response.add(NotifyPayload.of(lease.refusal()));
                addressless = true;
                return response;
            }
            sa.virtualAddresses().leased(matched.remoteAccess(), leaseKey, lease.addresses());
            LOG.log(System.Logger.Level.INFO, "{0}: client {1} gets {2}", sa, claimed, sa.virtualAddresses());
            response.add(lease.reply());
        }
        try {
            response.addAll(ChildCreate.answer(this, m, init.ni(), init.nr(), null, false).payloads());
        } catch (IkeProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: established, child SA refused: {1}", sa, e.getMessage());
            failed("we refused the peer's child SA: " + NotifyType.name(e.notifyType()) + ": " + e.getMessage());
            response.add(NotifyPayload.of(e.notifyType()));
        }
        // After the new child SA is in, so the tunnel is never without one while the old SAs go.
        if (m.notify(NotifyType.INITIAL_CONTACT).isPresent()) {
            sa.peerHasNoOtherSa();
        }
        return response;
    }

    private void failed(String why) {
        sa.context().failed(sa, why.startsWith("AUTHENTICATION_FAILED") ? IkeEvent.Kind.AUTHENTICATION_FAILED : IkeEvent.Kind.FAILED, why);
    }

    /** The answer that refuses IKE_AUTH; the IKE SA ends once it is out. */
    private List<Payload> refuse(int notifyType) {
        refused = true;
        return List.of(NotifyPayload.of(notifyType));
    }
}
