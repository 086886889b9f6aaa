package io.isthmus.ike;

import io.isthmus.ike.IkeCounters.Direction;
import io.isthmus.ike.IkeCounters.Kind;
import io.isthmus.ike.crypto.SkProtection;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.SkfPayload;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * The message IDs of one IKE SA in both directions (RFC 7296 §2.3), libcharon's task manager:
 * our requests queued and sent one at a time, each on the wire with its {@link Retransmitter}
 * until the response comes; the peer's requests checked against the next expected ID, answered
 * by the exchange {@link Exchanges#responderFor one switch} picks, and the last answer kept for the
 * peer's retransmissions.
 *
 * <p>What arrives is checked in this order, and nothing unauthenticated moves the window or gets
 * an answer: the message ID, then the ICV ({@link SkProtection#open}), then the payloads. A
 * retransmission of the request answered last is answered again only once its own ICV verified
 * (anyone who saw our SPIs could otherwise make us send the peer a response per forged datagram);
 * one of IKE_SA_INIT, which has no ICV, only when it is byte for byte the request answered, or
 * that request with our cookie first ({@link AnsweredInitRequest}).
 *
 * <p>Every exchange leaves the window once, through one method, however it ended: answered,
 * cancelled, or dropped, queued or on the wire, when the IKE SA is deleted or destroyed. What it
 * holds for its own life ({@link Exchange#ended}: the inbound SPI it reserved) goes back there.
 */
public final class MessageWindow {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");
    private final IkeSa sa;
    private SkProtection protection;
    private int nextRequestId;
    private int expectedRequestId;
    private List<byte[]> lastResponse;
    /** Responder: the IKE_SA_INIT request {@link #lastResponse} answers, while it is the last one. */
    private AnsweredInitRequest initRequest;
    private Exchange active;
    private Retransmitter retransmitter;
    private final Deque<Exchange> queued = new ArrayDeque<>();
    /** A responder's exchange left by an earlier one for the peer's next request of its type (IKE_AUTH after IKE_SA_INIT). */
    private Exchange awaited;
    /** Responder: the exchange whose answer waits for something outside the engine ({@link Exchange.Status#PENDING}), and its request. */
    private Exchange pending;
    private IkeHeader pendingRequest;
    private final MessageIdSyncLane sync;

    MessageWindow(IkeSa sa) {
        this.sa = sa;
        this.sync = new MessageIdSyncLane(this, sa);
    }

    /** From IKE_SA_INIT (or the rekey that made the SA) on, messages are protected with these keys. */
    void protectWith(SkProtection p) {
        this.protection = p;
    }

    /**
     * An adopted SA's window as its record left it (active-active): the request it answered
     * last is answered again with the very same bytes, and nothing of ours is on the wire (a
     * request the other instance had sent is lost with it; {@link IkeSa#syncMessageIds} agrees
     * the IDs with the peer when that matters).
     */
    void restore(int nextRequest, int expectedRequest, List<byte[]> lastAnswer) {
        this.nextRequestId = nextRequest;
        this.expectedRequestId = expectedRequest;
        this.lastResponse = lastAnswer.isEmpty() ? null : List.copyOf(lastAnswer);
    }

    /** The message ID our next request takes (our request on the wire has the one before). */
    public int nextRequestId() {
        return nextRequestId;
    }

    /** The message ID the peer's next request must have. */
    public int expectedRequestId() {
        return expectedRequestId;
    }

    /** The datagrams that answered the peer's last request, for its retransmission; empty before any. */
    public List<byte[]> lastResponse() {
        return lastResponse == null ? List.of() : lastResponse.stream().map(byte[]::clone).toList();
    }

    /** Our request, sent when those before it are answered. */
    public void queue(Exchange e) {
        if (sa.state() == IkeSaState.DESTROYED) {
            end(e);
            return;
        }
        if (sa.replacement() != null && e.followsIkeRekey()) {
            sa.replacement().window().queue(e);
            return;
        }
        queued.add(e);
        sendNext();
    }

    /** Responder: copies of this IKE_SA_INIT request get the answer again ({@link AnsweredInitRequest#isCopy}). */
    public void answerCopiesOf(AnsweredInitRequest request) {
        this.initRequest = request;
    }

    /** Leaves {@code e} to answer the peer's next request of its exchange type. */
    public void await(Exchange e) {
        this.awaited = e;
    }

    /** Drops our requests not yet sent (the IKE SA is being deleted: they would only delay it). */
    public void dropQueued() {
        while (!queued.isEmpty()) {
            end(queued.poll());
        }
    }

    /** After an IKE rekey: the requests that follow the child SAs go to the new IKE SA's window. */
    void handOver(MessageWindow next) {
        List<Exchange> waiting = new ArrayList<>(queued);
        queued.clear();
        for (Exchange e : waiting) {
            if (e.followsIkeRekey()) {
                next.queue(e);
            } else {
                queued.add(e);
            }
        }
    }

    /** Whether anything of ours other than a liveness check or delete is queued or on the wire. */
    public boolean busyWithRequests() {
        return !queued.isEmpty() || (retransmitter != null && retransmitter.exchangeType != ExchangeType.INFORMATIONAL);
    }

    /** Nothing of ours queued or on the wire. */
    boolean idle() {
        return retransmitter == null && queued.isEmpty();
    }

    /** Our exchanges of this kind, on the wire or queued. */
    public <E extends Exchange> List<E> ours(Class<E> kind) {
        List<E> all = new ArrayList<>();
        if (kind.isInstance(active)) {
            all.add(kind.cast(active));
        }
        queued.stream().filter(kind::isInstance).map(kind::cast).forEach(all::add);
        return all;
    }

    /** The SA is gone: the retransmissions stop, nothing more is sent, the keys are wiped, and every exchange left ends. */
    void stop() {
        Exchange outstanding = settle();
        if (outstanding != null) {
            end(outstanding);
        }
        dropQueued();
        if (awaited != null) {
            end(awaited);
            awaited = null;
        }
        if (pending != null) {
            Exchange p = pending;
            pending = null;
            end(p);
        }
        sync.stop();
        if (protection != null) {
            protection.destroy();
        }
    }

    /** Stops the request on the wire (its response came, or the SA goes): the one place a retransmitter stops. */
    private Exchange settle() {
        Exchange e = active;
        if (retransmitter != null) {
            retransmitter.stop();
        }
        retransmitter = null;
        active = null;
        return e;
    }

    void sendNext() {
        // While the message IDs are being agreed (RFC 6311), a request would go out under one the peer may drop.
        while (retransmitter == null && !sync.syncing() && !queued.isEmpty() && sa.state() != IkeSaState.DESTROYED) {
            Exchange e = queued.poll();
            if (sa.replacement() != null && e.followsIkeRekey()) {
                sa.replacement().window().queue(e);
                continue;
            }
            OutgoingMessage request = new OutgoingMessage(sa);
            if (e.build(request) == Exchange.Status.CANCELLED) {
                end(e);
                continue;
            }
            int id;
            List<byte[]> datagrams;
            if (request.plain() != null) {
                id = 0;
                nextRequestId = 1;
                datagrams = List.of(request.plain());
            } else {
                id = nextRequestId++;
                sa.touched();
                datagrams = protect(e.exchangeType(), false, id, request.payloads());
                LOG.log(System.Logger.Level.DEBUG, "{0}: sending {1} request {2} {3}", sa, ExchangeType.name(e.exchangeType()), id,
                        labels(request.payloads(), datagrams.size()));
            }
            active = e;
            retransmitter = new Retransmitter(sa, id, e.exchangeType(), datagrams);
            retransmitter.start();
        }
    }

    /**
     * Tells the peer something once, without waiting for an answer (a Delete for an IKE SA the
     * peer has forgotten, RFC 7296 §2.4): a request with the next message ID, no retransmissions.
     */
    public void sendOnce(int exchangeType, List<Payload> payloads) {
        if (protection == null) {
            return;
        }
        int id = nextRequestId++;
        sa.touched();
        count(exchangeType, Direction.OUT, Kind.REQUEST);
        send(protect(exchangeType, false, id, payloads));
    }

    // ------------------------------------------------------------------------------------------
    // What arrives
    // ------------------------------------------------------------------------------------------

    /** Responder: the IKE_SA_INIT request that made this SA (the engine has checked its cookie). */
    public void respond(IkeMessage request, Exchange init) {
        count(ExchangeType.IKE_SA_INIT, Direction.IN, Kind.REQUEST);
        respond(new IncomingMessage(sa, request, request.payloads()), init);
    }

    /** Any message for this SA, from the engine. Never throws for what the peer sends. */
    void receive(IkeMessage message, InetSocketAddress from, InetSocketAddress to) {
        IkeHeader h = message.header();
        if (h.exchangeType() == ExchangeType.IKE_SA_INIT) {
            receiveInit(message);
            return;
        }
        if (!message.isProtected() || protection == null) {
            sa.context().floodLog().log("unprotected", System.Logger.Level.DEBUG, "{0}: dropping unprotected {1}", sa, message);
            return;
        }
        boolean fragment = message.payloads().getLast() instanceof SkfPayload;
        if (h.messageId() == 0 && h.exchangeType() == ExchangeType.INFORMATIONAL && !fragment && sa.isUp()
                && sync.receive(message, h.isResponse())) {
            return;
        }
        if (h.isResponse()) {
            if (retransmitter == null || h.messageId() != retransmitter.messageId) {
                return; // late or unexpected: RFC 7296 §2.3 says drop
            }
        } else if (h.messageId() == expectedRequestId - 1 && lastResponse != null) {
            // The same answer again; of a fragmented request only its first fragment asks for it (RFC 7383 §2.6.1).
            if ((!fragment || ((SkfPayload) message.payloads().getLast()).fragmentNumber() == 1) && verifies(message)) {
                count(h.exchangeType(), Direction.IN, Kind.RETRANSMISSION);
                count(h.exchangeType(), Direction.OUT, Kind.RETRANSMISSION);
                send(lastResponse);
            }
            return;
        } else if (h.messageId() != expectedRequestId) {
            return;
        } else if (pending != null && pendingRequest.messageId() == h.messageId()) {
            // A copy of the request whose answer is on its way: answered once it is, from lastResponse.
            count(h.exchangeType(), Direction.IN, Kind.RETRANSMISSION);
            return;
        }
        byte[] inner;
        try {
            inner = protection.open(message);
        } catch (IkeProtocolException e) {
            // Whatever is wrong before the ICV verified (a wrong length included) is anyone's forgery:
            // no answer, and the message window stays where it is (RFC 7296 §2.21.2).
            sa.context().floodLog().log("does-not-verify", System.Logger.Level.DEBUG, "{0}: dropping {1}: {2}", sa, message, e.getMessage());
            return;
        }
        List<Payload> payloads;
        try {
            payloads = protection.decode(message, inner);
            if (payloads == null) {
                sa.heard();
                return; // more fragments to come
            }
        } catch (IkeProtocolException e) {
            // Authenticated, yet malformed: the peer's own bug, worth an answer and a line.
            LOG.log(System.Logger.Level.WARNING, "{0}: malformed {1}: {2}", sa, message, e.getMessage());
            if (!h.isResponse()) {
                answer(h, List.of(new NotifyPayload(0, new byte[0], e.notifyType(), e.notifyData())));
            }
            return;
        }
        sa.heard();
        sa.natTraversal().peerSeenAt(from, to);
        count(h.exchangeType(), Direction.IN, h.isResponse() ? Kind.RESPONSE : Kind.REQUEST);
        LOG.log(System.Logger.Level.DEBUG, "{0}: received {1} {2} {3} {4}", sa, ExchangeType.name(h.exchangeType()),
                h.isResponse() ? "response" : "request", h.messageId(), labels(payloads, 1));
        IncomingMessage in = new IncomingMessage(sa, message, payloads);
        if (h.isResponse()) {
            complete(settle(), in);
        } else {
            respond(in, sa.context().exchanges().responderFor(in));
        }
    }

    private void receiveInit(IkeMessage message) {
        IkeHeader h = message.header();
        // Of IKE_SA_INIT only: a rekeyed IKE SA's first protected request has message ID 0 too, and must not be
        // taken as answered by an unprotected message anyone who saw the SPIs can send.
        if (h.isResponse() && sa.isInitiator() && retransmitter != null && retransmitter.messageId == 0
                && retransmitter.exchangeType == ExchangeType.IKE_SA_INIT) {
            sa.heard();
            count(ExchangeType.IKE_SA_INIT, Direction.IN, Kind.RESPONSE);
            Exchange init = active;
            // A cookie asked of one copy of our request while others may be out: the responder may yet
            // answer one of those in full (it made its SA from a later copy once its load fell, or
            // decides cookies before it looks for the SA, as strongSwan does). The retry replaces the
            // request when no such answer can come any more, or at its next transmission; an answer taken
            // after that is signed with the retry, which the responder is to accept as well (ours does).
            switch (init.retryAsked(message)) {
                case NONE -> complete(settle(), new IncomingMessage(sa, message, message.payloads()));
                case ASKED -> retransmitter.retryAsked(() -> {
                    OutgoingMessage retry = new OutgoingMessage(sa);
                    init.build(retry);
                    return List.of(retry.plain());
                });
                case HONOURED -> {
                    // The retry on the wire has what it asks for: it answers a copy sent before, or is a replay.
                }
            }
        } else if (!h.isResponse() && !sa.isInitiator() && lastResponse != null && expectedRequestId == 1
                && initRequest != null && initRequest.isCopy(message)) {
            // A retransmitted IKE_SA_INIT request: it cannot be authenticated, but it must be the very same bytes, or
            // those with the cookie we asked of another copy first: answered alike, as our answer may already be taken.
            count(ExchangeType.IKE_SA_INIT, Direction.IN, Kind.RETRANSMISSION);
            count(ExchangeType.IKE_SA_INIT, Direction.OUT, Kind.RETRANSMISSION);
            send(List.of(lastResponse.getFirst()));
        }
    }

    /** Whether the message's SK or SKF payload verifies under the peer's keys. */
    private boolean verifies(IkeMessage message) {
        try {
            Arrays.fill(protection.open(message), (byte) 0);
            return true;
        } catch (IkeProtocolException e) {
            sa.context().floodLog().log("forged-retransmission", System.Logger.Level.DEBUG,
                    "{0}: dropping a copy of request {1} that does not verify: {2}", sa, message.header().messageId(), e.getMessage());
            return false;
        }
    }

    private void complete(Exchange e, IncomingMessage response) {
        Exchange.Status status = Exchange.Status.SUCCESS; // a bug that throws in process ends it too
        try {
            status = e.process(response);
        } finally {
            if (status == Exchange.Status.NEED_MORE) {
                queue(e);
            } else {
                end(e);
            }
        }
        sendNext();
    }

    /**
     * The one place an exchange leaves the window for good, once, however it ended (see
     * {@link Exchange#ended}): it gives back what it still holds. Not for one handed to the
     * replacement of an IKE rekey, which goes on there.
     */
    private static void end(Exchange e) {
        e.ended();
    }

    /** The exchange an earlier one left for this request (IkeSaInit leaves IkeAuth), taken once. */
    public Exchange awaited(int exchangeType) {
        Exchange e = awaited;
        if (e == null || e.exchangeType() != exchangeType) {
            return null;
        }
        awaited = null;
        return e;
    }

    private void respond(IncomingMessage request, Exchange responder) {
        if (responder == null) {
            return;
        }
        OutgoingMessage response = new OutgoingMessage(sa);
        boolean later = false;
        try {
            Exchange.Status status = responder.process(request);
            if (status == Exchange.Status.PENDING && sa.state() != IkeSaState.DESTROYED) {
                later = true;
                pending = responder;
                pendingRequest = request.header();
                return;
            }
            if (status != Exchange.Status.NEED_MORE) {
                return;
            }
            responder.build(response);
        } finally {
            if (!later) {
                end(responder);
            }
        }
        IkeHeader h = request.header();
        if (response.plain() != null) {
            lastResponse = List.of(response.plain());
            expectedRequestId = h.messageId() + 1;
            count(ExchangeType.IKE_SA_INIT, Direction.OUT, Kind.RESPONSE);
            send(lastResponse);
        } else {
            answer(h, response.payloads());
        }
        if (response.endsSa() != null) {
            sa.destroy(response.endsSa());
        }
    }

    /**
     * The answer of {@code e}, whose {@code process} said {@link Exchange.Status#PENDING}, is
     * ready: built and sent now. Nothing when the exchange is no longer the pending one (its IKE
     * SA went meanwhile). IKE thread only.
     */
    public void resume(Exchange e) {
        if (pending != e || sa.state() == IkeSaState.DESTROYED) {
            return;
        }
        pending = null;
        OutgoingMessage response = new OutgoingMessage(sa);
        try {
            e.build(response);
        } finally {
            end(e);
        }
        answer(pendingRequest, response.payloads());
        if (response.endsSa() != null) {
            sa.destroy(response.endsSa());
        }
    }

    private void answer(IkeHeader request, List<Payload> payloads) {
        initRequest = null; // no copy of it is answered any more, and an SA lives for hours
        lastResponse = protect(request.exchangeType(), true, request.messageId(), payloads);
        expectedRequestId = request.messageId() + 1;
        sa.touched();
        LOG.log(System.Logger.Level.DEBUG, "{0}: sending {1} response {2} {3}", sa, ExchangeType.name(request.exchangeType()),
                request.messageId(), labels(payloads, lastResponse.size()));
        count(request.exchangeType(), Direction.OUT, Kind.RESPONSE);
        send(lastResponse);
    }

    // ------------------------------------------------------------------------------------------
    // RFC 6311 message ID synchronisation: message ID 0, beside the window (MessageIdSyncLane)
    // ------------------------------------------------------------------------------------------

    /**
     * Sends {@code e}'s IKEV2_MESSAGE_ID_SYNC request under message ID 0, retransmitted as any
     * request, while the window holds back our other requests. One of ours already on the wire
     * went out under an ID the peer may never take: it is built anew once the IDs are agreed.
     */
    public void syncOutsideWindow(Exchange e) {
        sync.start(e);
    }

    /**
     * Both directions as agreed: our next request takes {@code nextSend}, the peer's next must
     * have {@code expectedReceive}. The answer kept for the peer's last request stays only if that
     * request is still the last one.
     */
    public void resynchronize(int nextSend, int expectedReceive) {
        nextRequestId = nextSend;
        if (expectedReceive != expectedRequestId) {
            expectedRequestId = expectedReceive;
            lastResponse = null;
        }
        sa.touched();
    }

    /** The message ID of our request on the wire, or -1. */
    public int outstandingRequestId() {
        return retransmitter == null ? -1 : retransmitter.messageId;
    }

    /** Our request on the wire will never be taken under its ID: built anew under the next one. */
    public void rebuildOutstanding() {
        if (retransmitter != null) {
            queued.addFirst(settle());
        }
    }

    /** The keys messages are protected with from IKE_SA_INIT on; null before. */
    SkProtection protection() {
        return protection;
    }

    void count(int exchangeType, Direction d, Kind k) {
        sa.context().counters(sa).message(exchangeType, d, k);
    }

    void send(List<byte[]> datagrams) {
        for (byte[] d : datagrams) {
            sa.context().transport().send(d, sa.localAddress(), sa.remoteAddress());
        }
    }

    List<byte[]> protect(int exchangeType, boolean response, int messageId, List<Payload> payloads) {
        int flags = (sa.isInitiator() ? IkeHeader.FLAG_INITIATOR : 0) | (response ? IkeHeader.FLAG_RESPONSE : 0);
        IkeHeader header = new IkeHeader(sa.initiatorSpi(), sa.responderSpi(), 0, 2, 0, exchangeType, flags, messageId, 0);
        return protection.protect(header, payloads, messageLimit());
    }

    /** The IKE message size that fits the connection's fragment size in one IP datagram. */
    private int messageLimit() {
        int ipHeader = sa.remoteAddress().getAddress() instanceof Inet6Address ? 40 : 20;
        int marker = sa.localAddress().getPort() == sa.context().natTraversalPort() ? io.isthmus.esp.UdpEncapsulation.MARKER_LENGTH : 0;
        return sa.connection().fragmentSize() - ipHeader - 8 - marker;
    }

    /** As strongSwan logs a message's contents: "[ N(REKEY_SA) SA No KE TSi TSr ]". */
    private static String labels(List<Payload> payloads, int fragments) {
        StringBuilder s = new StringBuilder("[ ");
        for (Payload p : payloads) {
            s.append(p instanceof NotifyPayload n ? "N(" + NotifyType.name(n.notifyType()) + ")" : PayloadType.name(p.type())).append(' ');
        }
        s.append(']');
        return fragments > 1 ? s + " in " + fragments + " fragments" : s.toString();
    }
}
