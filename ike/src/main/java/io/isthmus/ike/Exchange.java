package io.isthmus.ike;

/**
 * One IKE exchange as this end runs it, after strongSwan's tasks (libcharon's
 * {@code task_manager_v2.c}): the initiator builds the request and processes the response; the
 * responder processes the request and builds the response. The {@link MessageWindow} numbers,
 * protects, sends, retransmits and matches the messages; an exchange only reads and writes
 * payloads and changes its IKE SA.
 *
 * <pre>
 *   initiator                              responder
 *   build(request)      --- request --->   process(request)
 *   process(response)   <-- response ---   build(response)
 * </pre>
 *
 * Our requests go out one at a time (window size 1, RFC 7296 §2.3), each built only when its turn
 * comes, so it sees the state of that moment: a rekey queued behind a delete finds its SA gone.
 */
public interface Exchange {
    /** What the window does next with this exchange. */
    enum Status {
        /**
         * Initiator, after {@code build}: send the request. Initiator, after {@code process}: send
         * the request again, built anew (after INVALID_KE_PAYLOAD), behind whatever else is queued
         * (a COOKIE is {@link #retryAsked}). Responder, after {@code process}: build the answer.
         */
        NEED_MORE,
        /** Done; for a responder's {@code build}: send the answer. */
        SUCCESS,
        /** Initiator, after {@code build}: the request is no longer needed; nothing is sent. */
        CANCELLED,
        /**
         * Responder, after {@code process}: the answer waits for something outside the engine (a
         * RADIUS round trip for EAP); the exchange calls {@link MessageWindow#resume} on the IKE
         * thread when it has it. Meanwhile copies of the request are dropped, not processed again.
         */
        PENDING
    }

    /** The exchange type (RFC 7296 §3.1) its messages carry. */
    int exchangeType();

    Status build(OutgoingMessage message);

    Status process(IncomingMessage message);

    /** What an answer to an IKE_SA_INIT request says of sending it again ({@link #retryAsked}). */
    enum Retry {
        /** Nothing: it is the response, to process. */
        NONE,
        /** Send it again with what the answer asks for (a cookie), which the exchange takes for its next {@code build}. */
        ASKED,
        /** What it asks for, the request on the wire carries already: it answers a copy sent before, or is a replay. */
        HONOURED
    }

    /**
     * Initiator, unprotected IKE_SA_INIT only: whether {@code response} asks for the request again
     * with something added (a COOKIE). The window decides when (see {@link MessageWindow}).
     */
    default Retry retryAsked(io.isthmus.ike.message.IkeMessage response) {
        return Retry.NONE;
    }

    /**
     * Whether a request of ours still queued when the IKE SA is rekeyed goes with the child SAs
     * to the new IKE SA (child exchanges), or stays with this one (exchanges about the IKE SA
     * itself). libcharon migrates its tasks the same way.
     */
    default boolean followsIkeRekey() {
        return false;
    }

    /**
     * The window is done with it, however it ended: answered ({@code SUCCESS}), no longer needed
     * ({@code CANCELLED}), answered as a responder, or dropped, queued or on the wire, because its
     * IKE SA was deleted or destroyed. Called once, from one place ({@link MessageWindow}), so
     * what an exchange holds for its own life, the {@link InboundSpi} it reserved unless a child
     * SA took it over, goes back here rather than at each of its refusals.
     */
    default void ended() {
    }
}
