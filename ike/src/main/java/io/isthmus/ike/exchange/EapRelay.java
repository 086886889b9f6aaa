package io.isthmus.ike.exchange;

import io.isthmus.ike.Connection;
import io.isthmus.ike.EapAuthenticator;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.message.AuthPayload;
import io.isthmus.ike.message.EapPayload;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * EAP in IKE_AUTH as a responder (RFC 7296 §2.16), relayed as strongSwan's eap-radius does: the
 * gateway runs no EAP method; each client message goes to the {@link EapAuthenticator} (a RADIUS
 * server behind it) and its answer back. Each round's answer waits off the IKE thread, the
 * exchange {@link Exchange.Status#PENDING} meanwhile (copies of the request dropped, the answer
 * then kept for its retransmissions as any other).
 *
 * <pre>
 *   HDR, SK {IDi, [CERTREQ,] [IDr,] [CP(CFG_REQUEST),] SAi2, TSi, TSr}  -->   (no AUTH: EAP)
 *                                <--  HDR, SK {IDr, [CERT,] AUTH, EAP}      (our certificate; the first EAP request)
 *   HDR, SK {EAP}  -->
 *                                <--  HDR, SK {EAP (request)}               (as many rounds as the method takes)
 *   HDR, SK {EAP}  -->
 *                                <--  HDR, SK {EAP (success)}
 *   HDR, SK {AUTH}  -->                                                     (keyed with the MSK)
 *                                <--  HDR, SK {AUTH, [CP(CFG_REPLY),] SAr2, TSi, TSr}
 *   or at any step               <--  HDR, SK {[EAP (failure),] N(AUTHENTICATION_FAILED)}
 * </pre>
 */
final class EapRelay {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeAuth exchange;
    private final IkeSa sa;
    private final Connection connection;
    private final Authenticator authenticator;
    /** The first request: its SA, TS, CP and notifies make the child SA once the client is authenticated. */
    private final IncomingMessage first;
    private final IdPayload idi;
    private final Identity claimed;
    private final IdPayload idr;
    private final EapAuthenticator.Conversation conversation;
    private boolean firstAnswered;
    private byte[] msk;
    private InetAddress framed;
    private boolean finished;

    private EapRelay(IkeAuth exchange, IkeSa sa, Connection connection, Authenticator authenticator, IncomingMessage first, IdPayload idi) {
        this.exchange = exchange;
        this.sa = sa;
        this.connection = connection;
        this.authenticator = authenticator;
        this.first = first;
        this.idi = idi;
        this.claimed = Identity.of(idi);
        this.idr = connection.localId().toPayload(false);
        this.conversation = connection.eap().begin(idi.data());
    }

    /**
     * The relay for a request without AUTH whose identity a connection taking EAP fits; null
     * when none does (the caller refuses it as before).
     */
    static EapRelay begin(IkeAuth exchange, IkeSa sa, IncomingMessage m, java.util.function.Function<Connection, Authenticator> authenticators) {
        Optional<IdPayload> idi = m.first(IdPayload.class).filter(IdPayload::initiator);
        if (idi.isEmpty() || PeerIdentity.malformed(idi.get()) != null || m.first(EapPayload.class).isPresent()) {
            return null;
        }
        Identity claimed = Identity.of(idi.get());
        Connection c = sa.candidates().stream().filter(x -> x.eap() != null && PeerIdentity.fit(x, claimed) != PeerIdentity.NO)
                .sorted(java.util.Comparator.comparingInt(x -> PeerIdentity.fit(x, claimed))).findFirst().orElse(null);
        if (c == null) {
            return null;
        }
        LOG.log(System.Logger.Level.INFO, "{0}: {1} asks for EAP: relaying it for {2}", sa, claimed, c.name());
        return new EapRelay(exchange, sa, c, authenticators.apply(c), m, idi.get());
    }

    /** The first step, from the client's identity alone. */
    Exchange.Status start() {
        relay(conversation.start());
        return Exchange.Status.PENDING;
    }

    /** A later IKE_AUTH request: the client's next EAP message, or its AUTH once EAP succeeded. */
    Exchange.Status next(IncomingMessage m) {
        if (finished) {
            exchange.answer(List.of(NotifyPayload.of(NotifyType.INVALID_SYNTAX)), true);
            return Exchange.Status.NEED_MORE;
        }
        if (msk == null) {
            Optional<EapPayload> eap = m.first(EapPayload.class);
            if (eap.isEmpty()) {
                exchange.answer(refusal("the client sent no EAP message in its turn", null), true);
                return Exchange.Status.NEED_MORE;
            }
            relay(conversation.respond(eap.get().message()));
            return Exchange.Status.PENDING;
        }
        finished = true;
        conversation.close();
        Optional<AuthPayload> auth = m.first(AuthPayload.class);
        try {
            if (auth.isEmpty() || auth.get().method() != AuthPayload.SHARED_KEY_MIC || !authenticator.eapVerifies(msk, idi, auth.get())) {
                exchange.answer(refusal("the client's AUTH after EAP does not verify with the MSK", null), true);
                return Exchange.Status.NEED_MORE;
            }
            List<Payload> response = new ArrayList<>();
            response.add(authenticator.eapAuth(msk, false, idr));
            // Keyed apart from certificate identities: an EAP user who claims a certificate's subject as IDi never gets its kept address.
            exchange.answer(exchange.admit(connection, claimed, first, response, framed, "eap:" + claimed), false);
            return Exchange.Status.NEED_MORE;
        } finally {
            Arrays.fill(msk, (byte) 0);
        }
    }

    boolean finished() {
        return finished;
    }

    void close() {
        conversation.close();
        if (msk != null) {
            Arrays.fill(msk, (byte) 0);
        }
    }

    /** The step completes on the authenticator's thread; the IKE SA is touched only on its own. */
    private void relay(CompletionStage<EapAuthenticator.Step> step) {
        step.whenComplete((s, error) -> sa.context().scheduler().schedule(Duration.ZERO, () -> stepped(s, error)));
    }

    private void stepped(EapAuthenticator.Step step, Throwable error) {
        if (sa.state() == IkeSaState.DESTROYED || finished) {
            return;
        }
        List<Payload> response = new ArrayList<>();
        if (!firstAnswered && !(step instanceof EapAuthenticator.Failure) && error == null) {
            // The gateway proves itself first, with its certificate, before the client gives anything away.
            response.add(idr);
            response.addAll(Authenticator.certificates(connection.authentication()));
            response.add(authenticator.sign(idr));
        }
        firstAnswered = true;
        switch (error != null ? new EapAuthenticator.Failure(Optional.empty(), "the authenticator failed: " + error, false) : step) {
            case EapAuthenticator.Request r -> {
                response.add(new EapPayload(r.eapMessage()));
                exchange.answered(response, false);
            }
            case EapAuthenticator.Success s -> {
                msk = s.msk() == null || s.msk().length == 0 ? null : s.msk().clone();
                if (msk == null) {
                    exchange.answered(refusal("EAP succeeded without an MSK, which the AUTH payloads need", s.eapMessage()), true);
                    return;
                }
                framed = s.address().orElse(null);
                LOG.log(System.Logger.Level.INFO, "{0}: EAP succeeded for {1}{2}", sa, claimed,
                        framed == null ? "" : ", the server gives it " + framed.getHostAddress());
                response.add(new EapPayload(s.eapMessage()));
                exchange.answered(response, false);
            }
            case EapAuthenticator.Failure f -> exchange.answered(refusal((f.unreachable() ? "no RADIUS server answered: " : "EAP failed: ")
                    + f.why(), f.eapMessage().orElse(null)), true);
        }
    }

    /** AUTHENTICATION_FAILED, after the EAP-Failure when there is one; counted and told. */
    private List<Payload> refusal(String why, byte[] eapFailure) {
        finished = true;
        sa.context().floodLog().log("auth-failed", System.Logger.Level.WARNING, "{0}: AUTHENTICATION_FAILED for {1}: {2}", sa, claimed, why);
        sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.LOCAL);
        sa.context().failed(sa, io.isthmus.ike.IkeEvent.Kind.AUTHENTICATION_FAILED,
                "AUTHENTICATION_FAILED: we refused the peer claiming " + claimed + ": " + why);
        List<Payload> out = new ArrayList<>();
        if (eapFailure != null) {
            out.add(new EapPayload(eapFailure));
        }
        out.add(NotifyPayload.of(NotifyType.AUTHENTICATION_FAILED));
        return out;
    }
}
