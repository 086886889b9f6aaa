package io.isthmus.ike;

import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import io.isthmus.ike.crypto.SkProtection;
import io.isthmus.ike.message.IkeMessage;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * One IKE SA, on the engine's thread: the record of what was negotiated (SPIs, proposal, keys,
 * addresses, the peer's identity and what it supports), its child SAs ({@link ChildSas}), where
 * it is in its life (one {@link #transitionTo}), its own timers (liveness, rekey, expiry, NAT
 * keepalives: {@link IkeSaTimers}) and its {@link MessageWindow}. It runs no exchange itself: each
 * is a class of {@code io.isthmus.ike.exchange}, started through {@link Exchanges} and drawn there.
 *
 * <p>Its public methods come in three groups: what the daemon reads and asks for, what the
 * exchanges change (IKE_SA_INIT's outcome, IKE_AUTH's verdict; the child SAs are changed on
 * {@link ChildSas}, the succession of a rekey through {@link IkeSaSuccession}), and
 * {@link #receive} for the engine. Key arrays are wiped when it dies.
 */
public final class IkeSa {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeContext context;
    private final boolean initiator;
    private Connection connection;
    private List<Connection> candidates;
    private final long spiI;
    private long spiR;
    private IkeSaState state = IkeSaState.CONNECTING;

    private IkeProposal proposal;
    private IkeSaKeys keys;
    private final MessageWindow window = new MessageWindow(this);
    private final NatTraversal addresses;
    private boolean peerFragments;
    /** The peer said IKEV2_MESSAGE_ID_SYNC_SUPPORTED in IKE_AUTH (RFC 6311): {@link #syncMessageIds} may be used. */
    private boolean peerMessageIdSync;
    private Identity peerId;
    /** The observer was told of this SA ({@link IkeSaObserver#changed}) and not yet that it went. */
    private boolean observed;
    /** Handed to another instance ({@link IkeSaRecords#release}): gone from here without a word to anyone. */
    private boolean released;

    private Instant lastHeard;
    private final Instant createdAt;
    private Instant establishedAt;
    private final IkeSaTimers timers = new IkeSaTimers(this);
    private final ChildSas children = new ChildSas(this);
    /** The IKE SA that took over from this one after a rekey. */
    private IkeSa replacement;
    /**
     * The connection as it was when IKE_AUTH authenticated this SA (or the SA it was rekeyed
     * from): its credentials are the ones this SA proved. {@link #connection} follows reloads;
     * this does not.
     */
    private Connection authenticatedWith;
    /**
     * What {@link #authenticatedWith} authenticated with, taken when it did: the configuration a
     * reload replaces wipes its pre-shared key, which must not then look like a changed key.
     */
    private Credentials authenticatedCredentials;
    private final Reauthentication reauthentication = new Reauthentication(this);
    private VirtualAddresses virtual = new VirtualAddresses();

    /** Made by the engine: for a connection we initiate, or for an IKE_SA_INIT request that may be for any of {@code candidates}. */
    public IkeSa(IkeContext context, boolean initiator, List<Connection> candidates, long spiI, long spiR,
                 InetSocketAddress local, InetSocketAddress remote) {
        this.context = context;
        this.initiator = initiator;
        this.candidates = List.copyOf(candidates);
        this.connection = candidates.getFirst();
        this.spiI = spiI;
        this.spiR = spiR;
        this.addresses = new NatTraversal(this, local, remote);
        this.lastHeard = context.scheduler().now();
        this.createdAt = lastHeard;
    }

    /** Made by a rekey of {@code old} ({@link IkeSaSuccession#successor}): authenticated as old was, established now. */
    void inherit(IkeSa old) {
        peerMessageIdSync = old.peerMessageIdSync;
        peerId = old.peerId;
        authenticatedWith = old.authenticatedWith;
        authenticatedCredentials = old.authenticatedCredentials;
        virtual = old.virtual.carriedTo(ourSpi());
        establishedAt = context.scheduler().now();
    }

    /**
     * What another instance needs to carry this SA on ({@link IkeSaRecords#adopt}); IKE thread only, and only
     * while it is up. The keys in it are copies, the caller's to wipe ({@link IkeSaRecord#destroy()}).
     */
    public IkeSaRecord record() {
        return IkeSaRecords.take(this);
    }

    /**
     * Carried on from another instance's record ({@link IkeSaRecords#adopt}): who the peer proved to be, and
     * when. Both instances run one configuration: what authenticated the SA there is what
     * {@code c} holds here.
     */
    void adopted(Identity peer, Connection c, Instant at) {
        peerId = peer;
        authenticatedWith = c;
        authenticatedCredentials = Credentials.of(c);
        establishedAt = at;
    }

    IkeSaTimers timers() {
        return timers;
    }

    /** Its part in a reauthentication: the SA replacing it, or the one it is to replace. */
    public Reauthentication reauthentication() {
        return reauthentication;
    }

    boolean released() {
        return released;
    }

    /** Handed to another instance ({@link IkeSaRecords#release}): from now on the observer hears nothing of it. */
    void markReleased() {
        released = true;
    }

    boolean observed() {
        return observed;
    }

    void observed(boolean told) {
        observed = told;
    }

    /** Something a record of this SA holds changed: the observer hears of it before anything is sent. */
    void touched() {
        context.touched(this);
    }

    // ------------------------------------------------------------------------------------------
    // What the daemon reads
    // ------------------------------------------------------------------------------------------

    public IkeSaState state() {
        return state;
    }

    /** Whether this end was the original initiator (the I flag), which a rekey can change. */
    public boolean isInitiator() {
        return initiator;
    }

    public long initiatorSpi() {
        return spiI;
    }

    public long responderSpi() {
        return spiR;
    }

    /** The connection this SA follows now: the latest configuration of its name (see {@link #reconfigure}). */
    public Connection connection() {
        return connection;
    }

    /**
     * The connection as configured when this SA was authenticated (IKE_AUTH of this SA or of the
     * one it was rekeyed from), whose credentials and identities it proved; null before. A reload
     * changes {@link #connection()}, not this.
     */
    public Connection authenticatedWith() {
        return authenticatedWith;
    }

    /**
     * Whether the connection was replaced since this SA was authenticated by one that
     * authenticates otherwise (another key, certificate or identity): then its next rekey is a
     * reauthentication, a new IKE SA with IKE_AUTH, not a CREATE_CHILD_SA.
     */
    public boolean credentialsChanged() {
        return authenticatedCredentials != null && !authenticatedCredentials.equals(Credentials.of(connection));
    }

    /** Whether this SA was authenticated with the credentials {@code c} has now. */
    public boolean authenticatedAs(Connection c) {
        return authenticatedCredentials != null && authenticatedCredentials.equals(Credentials.of(c));
    }

    public IkeProposal proposal() {
        return proposal;
    }

    public InetSocketAddress localAddress() {
        return addresses.local();
    }

    public InetSocketAddress remoteAddress() {
        return addresses.remote();
    }

    public boolean natDetected() {
        return addresses.natDetected();
    }

    /** When the peer last sent an authenticated message on this SA (or it was made). */
    public Instant lastHeard() {
        return lastHeard;
    }

    /** When IKE_AUTH (or the rekey that made this SA) completed; null before. */
    public Instant establishedAt() {
        return establishedAt;
    }

    /** When this SA was made (our IKE_SA_INIT request, or the peer's): how long a CONNECTING one has been at it. */
    public Instant createdAt() {
        return createdAt;
    }

    /** When this SA's rekey starts, or null if none is due (not established, or being replaced). */
    public Instant rekeyAt() {
        return timers.rekeyAt();
    }

    /** When this SA is deleted unless a rekey replaced it first, or null. */
    public Instant expiresAt() {
        return timers.expiresAt();
    }

    /** Whether the peer takes IKE fragments (RFC 7383). */
    boolean peerFragments() {
        return peerFragments;
    }

    /** Whether a NAT rewrote our address, so this end sends keepalives. */
    public boolean behindNat() {
        return addresses.behindNat();
    }

    public Identity peerIdentity() {
        return peerId;
    }

    /** Whether the peer announced RFC 6311 message ID synchronisation in IKE_AUTH. */
    public boolean peerSupportsMessageIdSync() {
        return peerMessageIdSync;
    }

    /** IKE_AUTH: the peer said IKEV2_MESSAGE_ID_SYNC_SUPPORTED. */
    public void peerSupportsMessageIdSync(boolean supported) {
        peerMessageIdSync = supported;
    }

    public List<ChildSaDescription> childSas() {
        return children.stream().map(c -> c.description).toList();
    }

    /** The IKE SA that replaced this one in a rekey, if any. */
    public IkeSa replacement() {
        return replacement;
    }

    /** Its SPIs as swanctl writes them: {@code 5f0c..._i 9a31..._r}. */
    public String spis() {
        HexFormat hex = HexFormat.of();
        return hex.toHexDigits(spiI) + "_i " + hex.toHexDigits(spiR) + "_r";
    }

    @Override
    public String toString() {
        return connection.name() + "[" + spis() + "] "
                + localAddress().getAddress().getHostAddress() + "[" + connection.localId() + "]" + "..."
                + remoteAddress().getAddress().getHostAddress() + "[" + (peerId == null ? "?" : peerId) + "]";
    }

    // ------------------------------------------------------------------------------------------
    // What the daemon asks for
    // ------------------------------------------------------------------------------------------

    /** Starts a CREATE_CHILD_SA that replaces the child SA with this inbound SPI. */
    public void rekeyChild(int inboundSpi) {
        ChildSa c = children.byInboundSpi(inboundSpi);
        if (c == null) {
            throw new IllegalArgumentException("no child SA with inbound SPI " + HexFormat.of().toHexDigits(inboundSpi));
        }
        children.rekey(c);
    }

    /** Starts a CREATE_CHILD_SA for a further child SA with the connection's selectors. */
    public void createChild() {
        if (isUp()) {
            context.exchanges().createChild(this);
        }
    }

    /** Deletes one child SA, telling the peer. */
    public void deleteChild(int inboundSpi) {
        ChildSa c = children.byInboundSpi(inboundSpi);
        if (c != null) {
            children.delete(c, "deleted");
        }
    }

    /**
     * An empty INFORMATIONAL now, unless a request is already on its way (its answer says the
     * same): whether the peer still has this SA shows in {@link #lastHeard()}, or the SA fails
     * after the retransmissions.
     */
    public void probe() {
        if (isUp() && window.idle()) {
            context.exchanges().checkLiveness(this);
        }
    }

    /**
     * The IKE SA is due for its rekey: a CREATE_CHILD_SA that replaces it (RFC 7296 §2.18); or,
     * when the connection now authenticates otherwise than this SA did ({@link #credentialsChanged()}),
     * a reauthentication, make-before-break (§2.8.3): a new IKE SA with IKE_AUTH and its first
     * child SA, after which this one is deleted. Should the new one fail, this one is rekeyed as
     * usual and the next rekey tries again.
     */
    public void rekey() {
        if (state != IkeSaState.ESTABLISHED || reauthentication.replacedBy() != null) {
            return;
        }
        if (credentialsChanged() && connection.mode() != Connection.Mode.RESPONDER_ONLY && reauthentication.start()) {
            return;
        }
        context.exchanges().rekeyIkeSa(this);
    }

    /**
     * From now on this SA follows {@code next}, its connection configured anew (a reload): its
     * next exchanges (rekeys of itself and of its child SAs, new child SAs, liveness checks and
     * retransmissions) use next's proposals, selectors and timers, and a responder that has not
     * yet matched a candidate to the peer's identity matches among the new ones. What was
     * negotiated stays as it is: SPIs, keys, the proposal, the child SAs and their selectors
     * (see {@link ChildSas#renewSelectors()}); the timers already running keep their times.
     */
    public void reconfigure(Connection next) {
        boolean ours = connection.name().equals(next.name());
        if (!ours && candidates.stream().noneMatch(c -> c.name().equals(next.name()))) {
            throw new IllegalArgumentException(this + " is not an SA of connection " + next.name());
        }
        if (ours) {
            connection = next;
        }
        candidates = candidates.stream().map(c -> c.name().equals(next.name()) ? next : c).toList();
    }

    /**
     * RFC 6311 §4: agrees the message IDs of both directions with the peer, in an INFORMATIONAL of
     * message ID 0 outside the window: after a takeover from a record that may be behind (the
     * instance that died may have answered or sent a request since). False, and nothing sent,
     * when the SA is not up or the peer did not announce support in IKE_AUTH.
     */
    public boolean syncMessageIds() {
        if (!isUp() || !peerMessageIdSync) {
            return false;
        }
        context.exchanges().syncMessageIds(this);
        return true;
    }

    /** Deletes the IKE SA, and with it every child SA, telling the peer. */
    public void delete() {
        if (state == IkeSaState.DESTROYED || state == IkeSaState.DELETING) {
            return;
        }
        if (state == IkeSaState.CONNECTING) {
            destroy("deleted before it was established");
            return;
        }
        transitionTo(IkeSaState.DELETING);
        context.exchanges().deleteIkeSa(this);
    }

    // ------------------------------------------------------------------------------------------
    // Where it is in its life
    // ------------------------------------------------------------------------------------------

    /**
     * The one place the state changes; a move {@link IkeSaState} does not allow is a bug of ours,
     * not the peer's, and throws. Only the state changes here: what goes with it (timers, the
     * window, keys) is done by whoever moves the SA.
     */
    public void transitionTo(IkeSaState next) {
        if (!state.canBecome(next)) {
            throw new IllegalStateException(this + ": an IKE SA cannot go from " + state + " to " + next);
        }
        state = next;
        context.touched(this);
    }

    /** Whether it carries traffic and takes new exchanges. */
    public boolean isUp() {
        return state == IkeSaState.ESTABLISHED || state == IkeSaState.REKEYING;
    }

    /** Tears down locally: children announced deleted, timers and retransmissions stopped, keys wiped. */
    public void destroy(String why) {
        if (state == IkeSaState.DESTROYED) {
            return;
        }
        transitionTo(IkeSaState.DESTROYED);
        children.removeAll(why);
        window.stop();
        timers.cancel();
        if (keys != null) {
            keys.destroy();
        }
        if (establishedAt == null && !initiator) {
            // A responder's SA that never got past IKE_SA_INIT: anyone can make those, by the thousand.
            context.floodLog().log("half-open-destroyed", System.Logger.Level.INFO, "{0}: IKE SA destroyed: {1}", this, why);
        } else {
            LOG.log(System.Logger.Level.INFO, "{0}: IKE SA destroyed: {1}", this, why);
        }
        context.sas().remove(this);
        virtual.release(ourSpi());
        if (establishedAt != null && replacement == null) {
            // Up once, and not replaced by a rekey (whose IKE_REKEYED said it): it is down.
            context.emit(IkeEvent.Kind.IKE_DOWN, this, null, why);
        }
        reauthentication.ended(why);
    }

    public void fail(String why) {
        fail(why, IkeEvent.Kind.FAILED);
    }

    /** As {@link #fail(String)}, announced as {@code kind} (an authentication refused, a dead peer). */
    public void fail(String why, IkeEvent.Kind kind) {
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}", this, why);
        context.failed(this, kind, why);
        destroy(why);
    }

    // ------------------------------------------------------------------------------------------
    // What the exchanges change
    // ------------------------------------------------------------------------------------------

    public IkeContext context() {
        return context;
    }

    /** Where the exchanges queue our requests and find each other (collisions). */
    public MessageWindow window() {
        return window;
    }

    /**
     * IKE_SA_INIT's outcome, in either role: the proposal chosen, the keys, whether a NAT is in
     * between and whether the peer takes fragments. From here on this SA's messages are protected.
     */
    public void negotiated(long responderSpi, IkeProposal chosen, IkeSaKeys derived, boolean nat, boolean weAreBehindNat,
                           boolean peerTakesFragments) {
        spiR = responderSpi;
        proposal = chosen;
        keys = derived;
        addresses.detected(nat, weAreBehindNat);
        peerFragments = peerTakesFragments;
        window.protectWith(new SkProtection(chosen.cipher(), keys, initiator, peerFragments));
    }

    /** Its addresses, which NAT traversal moves (RFC 7296 §2.23). */
    public NatTraversal natTraversal() {
        return addresses;
    }

    /** The connections a responder may match the peer's identity to in IKE_AUTH (the first is used until then). */
    public List<Connection> candidates() {
        return candidates;
    }

    /** Whether an IKE SA other than this one exists for its connection: then we send no INITIAL_CONTACT. */
    public boolean hasOtherIkeSa() {
        return context.sas().hasOther(this);
    }

    /** The peer said INITIAL_CONTACT: our older IKE SAs with it are stale and go. */
    public void peerHasNoOtherSa() {
        context.sas().initialContact(this);
    }

    /** IKE_AUTH verified the peer as {@code peer}, for {@code matched}: the SA is up. */
    public void authenticated(Connection matched, Identity peer) {
        connection = matched;
        authenticatedWith = matched;
        authenticatedCredentials = Credentials.of(matched);
        peerId = peer;
        establishedAt = context.scheduler().now();
        transitionTo(IkeSaState.ESTABLISHED);
        context.sas().established(this);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA established, {1}, {2}", this, proposal, connection.authentication());
        context.emit(IkeEvent.Kind.IKE_UP, this, null, proposal + ", peer " + peer);
        timers.start();
    }

    /** The peer sent an authenticated message on this SA (or the response to our IKE_SA_INIT). */
    public void heard() {
        lastHeard = context.scheduler().now();
    }

    /** {@code next} takes over from this SA after a rekey ({@link IkeSaSuccession#handOver}). */
    void replacedBy(IkeSa next) {
        replacement = next;
    }

    /** This IKE SA, or the one that replaced it (and so on). */
    public IkeSa current() {
        IkeSa s = this;
        while (s.replacement != null && s.replacement != s) {
            s = s.replacement;
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------
    // Child SAs: kept in ChildSas, negotiated, rekeyed and deleted by the exchanges
    // ------------------------------------------------------------------------------------------

    /** KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) for a child SA of this IKE SA (RFC 7296 §2.17). */
    public byte[] childKeymat(byte[] pfsSecret, byte[] nonceI, byte[] nonceR, int length) {
        return KeyDerivation.childKeymat(proposal.prf(), keys.skD(), pfsSecret, nonceI, nonceR, length);
    }

    /** Our child SAs, for the exchanges (the daemon gets their descriptions from {@link #childSas()}). */
    public ChildSas children() {
        return children;
    }

    // ------------------------------------------------------------------------------------------
    // For the engine
    // ------------------------------------------------------------------------------------------

    /** Any message for this SA, from the engine (which hands new IKE_SA_INIT requests to the exchanges itself). */
    public void receive(IkeMessage message, InetSocketAddress from, InetSocketAddress to) {
        window.receive(message, from, to);
    }

    /** A remote-access client's virtual addresses (responder), or those the gateway gave us (initiator). */
    public VirtualAddresses virtualAddresses() {
        return virtual;
    }

    /** The SPI we chose, by which the engine finds this SA. */
    public long ourSpi() {
        return initiator ? spiI : spiR;
    }

    /** For tests that compare key derivation with a peer's log. */
    IkeSaKeys keys() {
        return keys;
    }
}
