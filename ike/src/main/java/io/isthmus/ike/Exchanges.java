package io.isthmus.ike;

import java.util.List;

/**
 * The exchanges IKE SAs run, as the layer above implements them ({@code io.isthmus.ike.exchange},
 * one class per exchange). An {@link IkeSa} and its {@link MessageWindow} sit below the exchanges,
 * as libcharon keeps {@code ike_sa} and its task manager under {@code sa/} and the tasks in
 * {@code sa/ikev2/tasks/}: they start exchanges and have a request's responder picked through
 * this interface, never naming a class of that layer. The engine, above both, wires them.
 */
public interface Exchanges {
    /** The IKE SA's rekey (RFC 7296 §2.18); {@code sa} is ESTABLISHED. */
    void rekeyIkeSa(IkeSa sa);

    /** The IKE SA's delete, telling the peer; {@code sa} is already DELETING. */
    void deleteIkeSa(IkeSa sa);

    /** A further child SA with the connection's selectors. */
    void createChild(IkeSa sa);

    /**
     * A further child SA with the connection's selectors, which replaces {@code outdated} (child
     * SAs negotiated with selectors the connection no longer has): they are deleted once it is installed.
     */
    void replaceChildren(IkeSa sa, List<ChildSa> outdated);

    /** The rekey of {@code c}, an INSTALLED child SA of {@code sa}. */
    void rekeyChild(IkeSa sa, ChildSa c);

    /** The delete of {@code c}, already DELETING, telling the peer. */
    void deleteChild(IkeSa sa, ChildSa c, String why);

    /** An empty INFORMATIONAL: is the peer still there? */
    void checkLiveness(IkeSa sa);

    /** RFC 6311's message ID synchronisation, as its initiator; the peer announced support. */
    void syncMessageIds(IkeSa sa);

    /** The responder of a verified N(IKEV2_MESSAGE_ID_SYNC) request of message ID 0 (the window picks those itself). */
    Exchange messageIdSyncResponder(IkeSa sa);

    /** The exchange that answers {@code request}, or null when it gets no answer at all. */
    Exchange responderFor(IncomingMessage request);
}
