package io.isthmus.ike.exchange;

import io.isthmus.ike.ChildSa;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.Exchanges;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.message.DeletePayload;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import java.util.List;
import java.util.Optional;

/**
 * The exchanges of IKEv2 (RFC 7296) as this package implements them: what each action on an
 * IKE SA starts, and the one switch that picks the responder's exchange for a request (libcharon's
 * {@code process_request}): on the exchange type and, where one type serves several exchanges,
 * on what the request carries.
 */
public final class Ikev2Exchanges implements Exchanges {

    @Override
    public void rekeyIkeSa(IkeSa sa) {
        IkeRekey.start(sa);
    }

    @Override
    public void deleteIkeSa(IkeSa sa) {
        IkeDelete.start(sa);
    }

    @Override
    public void createChild(IkeSa sa) {
        ChildCreate.start(sa);
    }

    @Override
    public void replaceChildren(IkeSa sa, List<ChildSa> outdated) {
        ChildCreate.replacing(sa, outdated);
    }

    @Override
    public void rekeyChild(IkeSa sa, ChildSa c) {
        ChildRekey.start(sa, c);
    }

    @Override
    public void deleteChild(IkeSa sa, ChildSa c, String why) {
        ChildDelete.start(sa, c, why);
    }

    @Override
    public void checkLiveness(IkeSa sa) {
        Liveness.check(sa);
    }

    @Override
    public void syncMessageIds(IkeSa sa) {
        MessageIdSync.start(sa);
    }

    @Override
    public Exchange messageIdSyncResponder(IkeSa sa) {
        return MessageIdSync.responder(sa);
    }

    @Override
    public Exchange responderFor(IncomingMessage request) {
        IkeSa sa = request.sa();
        return switch (request.exchangeType()) {
            // IKE_SA_INIT requests make new SAs; the engine hands them to IkeSaInit itself.
            case ExchangeType.IKE_AUTH -> sa.state() == IkeSaState.CONNECTING && !sa.isInitiator()
                    ? sa.window().awaited(ExchangeType.IKE_AUTH) : null;
            case ExchangeType.CREATE_CHILD_SA -> sa.state() == IkeSaState.CONNECTING ? null : createChildSa(request);
            case ExchangeType.INFORMATIONAL -> informational(request);
            default -> null;
        };
    }

    private static Exchange createChildSa(IncomingMessage request) {
        Optional<SaPayload> offer = request.first(SaPayload.class);
        if (offer.isPresent() && offer.get().proposals().stream().anyMatch(p -> p.protocolId() == Proposal.PROTOCOL_IKE)) {
            return IkeRekey.responder();
        }
        if (offer.isPresent() && request.notify(NotifyType.REKEY_SA).isPresent()) {
            return ChildRekey.responder();
        }
        return ChildCreate.responder(); // which refuses a request without an SA payload
    }

    private static Exchange informational(IncomingMessage request) {
        List<DeletePayload> deletes = request.all(DeletePayload.class);
        if (request.notify(NotifyType.AUTHENTICATION_FAILED).isPresent()
                || deletes.stream().anyMatch(d -> d.protocolId() == Proposal.PROTOCOL_IKE)) {
            return IkeDelete.responder();
        }
        if (deletes.stream().anyMatch(d -> d.protocolId() == Proposal.PROTOCOL_ESP)) {
            return ChildDelete.responder();
        }
        return Liveness.responder();
    }
}
