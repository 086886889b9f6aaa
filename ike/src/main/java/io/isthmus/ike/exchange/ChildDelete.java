package io.isthmus.ike.exchange;

import io.isthmus.ike.ChildSa;
import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InboundSpi;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.message.DeletePayload;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.Proposal;
import java.util.ArrayList;
import java.util.List;

/**
 * The end of a child SA told to the peer (RFC 7296 §1.4.1): each end names the SPI it receives
 * on, and answers with its own for the same SA. Also the cleanup of a child SA the peer installed
 * but we could not use (§1.3.2 leaves that to us).
 *
 * <pre>
 *   HDR, SK {D(ESP, our inbound SPI)}  -->
 *                                      <--  HDR, SK {D(ESP, the peer's inbound SPI)}
 * </pre>
 */
final class ChildDelete implements Exchange {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    /** Ours: the child SA to delete (or null), and its SPI. */
    private final ChildSa child;
    private final int spi;
    /** Ours, for a child SA only the peer installed: its SPI, held until this exchange ends so no other child SA gets it first. */
    private InboundSpi unused;
    private final String why;
    private final boolean initiator;
    /** Responder: ours for the SAs the peer's Deletes named, one Delete for each of its. */
    private final List<DeletePayload> answer = new ArrayList<>();

    private ChildDelete(ChildSa child, int spi, String why, boolean initiator) {
        this.child = child;
        this.spi = spi;
        this.why = why;
        this.initiator = initiator;
    }

    /** Deletes {@code c} (already DELETING) once its IKE SA's turn comes; it is gone on the answer. */
    static void start(IkeSa sa, ChildSa c, String why) {
        LOG.log(System.Logger.Level.INFO, "{0}: deleting CHILD_SA {1}: {2}", sa, c, why);
        sa.window().queue(new ChildDelete(c, c.inboundSpi(), why, true));
    }

    /**
     * The peer installed a child SA on our inbound SPI {@code spi} that {@code from} did not: the
     * peer drops it, and the SPI, taken over from {@code from}, is free again once this ends.
     */
    static void unused(IkeSa sa, Exchange from, InboundSpi spi) {
        ChildDelete d = new ChildDelete(null, spi.value(), null, true);
        spi.handTo(from, d);
        d.unused = spi;
        sa.window().queue(d);
    }

    static ChildDelete responder() {
        return new ChildDelete(null, 0, null, false);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.INFORMATIONAL;
    }

    @Override
    public boolean followsIkeRekey() {
        return initiator;
    }

    @Override
    public Status build(OutgoingMessage m) {
        if (initiator) {
            m.add(new DeletePayload(Proposal.PROTOCOL_ESP, 4, List.of(Proposal.spiBytes(spi))));
            return Status.NEED_MORE;
        }
        m.addAll(answer);
        return Status.SUCCESS;
    }

    @Override
    public Status process(IncomingMessage m) {
        IkeSa sa = m.sa();
        if (initiator) {
            if (child != null) {
                child.owner().children().remove(child, why);
            }
            return Status.SUCCESS;
        }
        for (DeletePayload d : m.all(DeletePayload.class)) {
            if (d.protocolId() != Proposal.PROTOCOL_ESP) {
                continue;
            }
            List<byte[]> ours = new ArrayList<>();
            for (byte[] peers : d.spis()) {
                ChildSa c = sa.children().byOutboundSpi(Proposal.spiInt(peers));
                if (c == null) {
                    continue;
                }
                // Both deleting at once: it is gone either way, and our own request names it (§2.25.1).
                if (c.state() != ChildSa.State.DELETING) {
                    ours.add(Proposal.spiBytes(c.inboundSpi()));
                }
                sa.children().remove(c, "deleted by the peer");
            }
            if (!ours.isEmpty()) {
                answer.add(new DeletePayload(Proposal.PROTOCOL_ESP, 4, ours));
            }
        }
        return Status.NEED_MORE;
    }

    /** Answered, or gone with the IKE SA: the SPI of a child SA only the peer installed is free again. */
    @Override
    public void ended() {
        if (unused != null) {
            unused.release(this);
        }
    }
}
