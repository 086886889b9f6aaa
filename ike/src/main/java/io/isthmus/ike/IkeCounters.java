package io.isthmus.ike;

import io.isthmus.ike.message.ExchangeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the IKE engine saw of one connection: for metrics, its messages by exchange, direction
 * and kind, rekeys, authentication failures and peers that stopped answering; for status, its
 * last failure.
 * Written on the IKE thread only; read from any thread (a scrape) without asking it. IKE
 * messages come at most some thousands a second, so an atomic add each costs nothing that
 * matters, and a reader never sees a torn value.
 *
 * <p>Counted by the engine only (the counting methods are public for its exchanges' package and
 * for tests). A message counts as received once it is taken up: an IKE_SA_INIT request
 * answered (nothing authenticates IKE_SA_INIT), any later message once its integrity check
 * passed. Datagrams dropped before that (forged, for an unknown SPI, retransmitted without
 * verifying) are not counted here. Whoever completes IKE_SA_INIT from a connection's peer
 * address can still move that connection's IKE_SA_INIT and IKE_AUTH counts and its local
 * authentication failures: that takes the peer's address and a full exchange, and it bounds
 * what a flood can do to these counters.
 */
public final class IkeCounters {
    /** The exchanges counted by name; any other goes under OTHER. */
    public enum Exchange {
        IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, OTHER;

        static Exchange of(int type) {
            return switch (type) {
                case ExchangeType.IKE_SA_INIT -> IKE_SA_INIT;
                case ExchangeType.IKE_AUTH -> IKE_AUTH;
                case ExchangeType.CREATE_CHILD_SA -> CREATE_CHILD_SA;
                case ExchangeType.INFORMATIONAL -> INFORMATIONAL;
                default -> OTHER;
            };
        }
    }

    public enum Direction { IN, OUT }

    /** A first transmission of a request or a response, or a copy of either sent or received again. */
    public enum Kind { REQUEST, RESPONSE, RETRANSMISSION }

    /** Who refused the authentication: we refused the peer's, or the peer refused ours. */
    public enum Refuser { LOCAL, PEER }

    private static final int EXCHANGES = Exchange.values().length;
    private static final int KINDS = Kind.values().length;

    private final AtomicLongArray messages = new AtomicLongArray(EXCHANGES * 2 * KINDS);
    private final AtomicLongArray timeouts = new AtomicLongArray(EXCHANGES);
    private final AtomicLongArray authenticationFailures = new AtomicLongArray(2);
    /** [0] IKE SA rekeys, [1] child SA rekeys. */
    private final AtomicLongArray rekeys = new AtomicLongArray(2);
    private volatile Failure lastFailure;

    /** Why the connection's last attempt failed (a refusal by the peer or by us, a peer that did not answer), and when. */
    public record Failure(String why, Instant at) {
    }

    public void message(int exchangeType, Direction d, Kind k) {
        messages.incrementAndGet((Exchange.of(exchangeType).ordinal() * 2 + d.ordinal()) * KINDS + k.ordinal());
    }

    /** Messages of {@code e} in {@code d} of kind {@code k}, so far. */
    public long messages(Exchange e, Direction d, Kind k) {
        return messages.get((e.ordinal() * 2 + d.ordinal()) * KINDS + k.ordinal());
    }

    /** Our request was retransmitted until the dead peer timeout: the peer counts as dead. */
    public void timedOut(int exchangeType) {
        timeouts.incrementAndGet(Exchange.of(exchangeType).ordinal());
    }

    /** Requests of {@code e} the peer never answered within the dead peer timeout; those of INFORMATIONAL are dead peer detection's own. */
    public long timeouts(Exchange e) {
        return timeouts.get(e.ordinal());
    }

    public void authenticationFailed(Refuser by) {
        authenticationFailures.incrementAndGet(by.ordinal());
    }

    public long authenticationFailures(Refuser by) {
        return authenticationFailures.get(by.ordinal());
    }

    public void ikeRekeyed() {
        rekeys.incrementAndGet(0);
    }

    public void childRekeyed() {
        rekeys.incrementAndGet(1);
    }

    /** An IKE SA of the connection failed, or its child SA was refused: what {@code isthmus status} says when it is not connected. */
    public void failed(String why, Instant at) {
        lastFailure = new Failure(why, at);
    }

    /** The last failure, or null if there was none since the gateway started. */
    public Failure lastFailure() {
        return lastFailure;
    }

    public long ikeRekeys() {
        return rekeys.get(0);
    }

    public long childRekeys() {
        return rekeys.get(1);
    }

    /**
     * The counters of every connection an engine has counted for, by name. A connection that a
     * reload removed is forgotten at {@link #retainOnly}; should it come back, it counts from zero
     * again, which Prometheus takes for what it is, a counter reset.
     */
    public static final class ByConnection {
        private final Map<String, IkeCounters> byName = new ConcurrentHashMap<>();

        public IkeCounters of(String connection) {
            return byName.computeIfAbsent(connection, n -> new IkeCounters());
        }

        /** The counters of {@code connection}, or null if nothing was counted for it. */
        public IkeCounters get(String connection) {
            return byName.get(connection);
        }

        /** Forgets connections no longer configured, so that a reload's removals do not accumulate. */
        public void retainOnly(List<String> connections) {
            // A set, not the list: keep-up calls this every round, and a list's contains made it 10^8 comparisons at 10,000 connections.
            byName.keySet().retainAll(new java.util.HashSet<>(connections));
        }
    }
}
