package io.isthmus.ike.exchange;

import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeCounters;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.message.DeletePayload;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.Proposal;
import java.util.List;

/**
 * The end of an IKE SA told to the peer (RFC 7296 §1.4.1), and with it every child SA: a Delete,
 * or after IKE_AUTH the initiator's refusal of the responder's authentication (§2.21.2), which
 * ends it the same way.
 *
 * <pre>
 *   HDR, SK {D(IKE)}                  -->
 *                                    <--  HDR, SK {}
 *   or HDR, SK {N(AUTHENTICATION_FAILED)}  -->
 *                                    <--  HDR, SK {}
 * </pre>
 *
 * The responder destroys its SA as soon as its answer is out.
 */
public final class IkeDelete implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    /** Ours: what the request carries. */
    private final Payload request;
    /** Why the IKE SA ends: once our request is answered, or once our answer is out. */
    private String why;

    private IkeDelete(Payload request, String why) {
        this.request = request;
        this.why = why;
    }

    private static DeletePayload deleteIke() {
        return new DeletePayload(Proposal.PROTOCOL_IKE, 0, List.of());
    }

    /** Deletes {@code sa} (already DELETING), telling the peer; our requests not yet sent are dropped. */
    static void start(IkeSa sa) {
        LOG.log(System.Logger.Level.INFO, "{0}: deleting IKE SA", sa);
        sa.window().dropQueued();
        sa.window().queue(new IkeDelete(deleteIke(), "deleted"));
    }

    /** The old IKE SA after a rekey: nothing of it survives but the keys' wiping. */
    static void replaced(IkeSa sa, String why) {
        sa.window().queue(new IkeDelete(deleteIke(), why));
    }

    /** The responder thinks the SA is up: tell it its AUTH did not verify, then go (RFC 7296 §2.21.2). */
    static void authenticationFailed(IkeSa sa, String refusal) {
        sa.window().queue(new IkeDelete(NotifyPayload.of(NotifyType.AUTHENTICATION_FAILED), "AUTHENTICATION_FAILED: " + refusal));
    }

    /**
     * Tells the peer once, without waiting for an answer, that {@code sa} is gone, and destroys
     * it. For an SA made obsolete by the peer's INITIAL_CONTACT: if the peer restarted, it will
     * not answer. Best effort otherwise: with a request of ours still on the wire, a peer that
     * keeps a window of one drops this Delete, and its own dead peer detection ends the SA.
     * (INITIAL_CONTACT is only sent by an end that holds no other IKE SA with us, so a live peer
     * meeting this is the exception.)
     */
    public static void abandon(IkeSa sa, String why) {
        if (sa.state() == IkeSaState.DESTROYED) {
            return;
        }
        if (sa.state() != IkeSaState.CONNECTING) {
            sa.window().sendOnce(ExchangeType.INFORMATIONAL, List.of(deleteIke()));
        }
        sa.destroy(why);
    }

    /** The peer's Delete, or its refusal of our AUTH. */
    static IkeDelete responder() {
        return new IkeDelete(null, null);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.INFORMATIONAL;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (request == null) {
            m.endsSa(why);
            return Status.SUCCESS;
        }
        m.add(request);
        return Status.NEED_MORE;
    }

    @Override
    public Status process(IncomingMessage m) {
        IkeSa sa = m.sa();
        if (request != null) {
            sa.destroy(why);
            return Status.SUCCESS;
        }
        if (m.notify(NotifyType.AUTHENTICATION_FAILED).isPresent()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: the peer refuses our authentication", sa);
            why = "the peer refused our authentication";
            // As responder, this is how we learn it: the initiator refuses our AUTH after IKE_AUTH.
            sa.context().counters(sa).authenticationFailed(IkeCounters.Refuser.PEER);
            sa.context().failed(sa, IkeEvent.Kind.AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED: the peer refused ours");
        } else {
            LOG.log(System.Logger.Level.INFO, "{0}: peer deletes the IKE SA", sa);
            why = sa.state() == IkeSaState.REKEYED ? "rekeyed" : "deleted by the peer";
        }
        return Status.NEED_MORE;
    }
}
