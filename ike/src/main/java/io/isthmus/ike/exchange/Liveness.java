package io.isthmus.ike.exchange;

import io.isthmus.ike.Exchange;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IncomingMessage;
import io.isthmus.ike.OutgoingMessage;
import io.isthmus.ike.message.ExchangeType;

/**
 * An empty INFORMATIONAL (RFC 7296 §1.4): dead peer detection. The answer, or its absence once
 * the {@link Retransmitter} gives up, says whether the peer still has the IKE SA; the window
 * notes when the peer was last heard. As responder it answers every INFORMATIONAL that asks for
 * nothing else, with nothing.
 *
 * <pre>
 *   HDR, SK {}  -->
 *              <--  HDR, SK {}
 * </pre>
 */
final class Liveness implements Exchange {
    private final boolean initiator;

    private Liveness(boolean initiator) {
        this.initiator = initiator;
    }

    /** Asks the peer whether it is alive. */
    static void check(IkeSa sa) {
        sa.window().queue(new Liveness(true));
    }

    static Liveness responder() {
        return new Liveness(false);
    }

    @Override
    public int exchangeType() {
        return ExchangeType.INFORMATIONAL;
    }

    @Override
    public Status build(OutgoingMessage m) {
        return initiator ? Status.NEED_MORE : Status.SUCCESS;
    }

    @Override
    public Status process(IncomingMessage m) {
        return initiator ? Status.SUCCESS : Status.NEED_MORE;
    }
}
