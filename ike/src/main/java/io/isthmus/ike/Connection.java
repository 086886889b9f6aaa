package io.isthmus.ike;

import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway is configured to negotiate with one peer: addresses and identities, how both
 * authenticate, proposals in order of preference, traffic selectors, lifetimes and liveness.
 * The defaults are Azure VPN Gateway's (IKE SA 28,800 s, child SA 27,000 s and
 * 102,400,000 KB, DPD timeout 45 s).
 *
 * @param remoteAddress null to accept the peer from any address (responder only)
 * @param remotePrefixLength how many leading bits of {@code remoteAddress} a peer's address must
 *                           share: the full length (32, 128) for one peer; shorter for peers
 *                           that come from a range (responder only, as strongSwan's
 *                           {@code remote_addrs = 10.80.0.0/16})
 * @param remoteId null to accept any identity the authentication proves
 * @param fragmentSize the largest IP datagram an IKE message may fill before it is sent in
 *                     RFC 7383 fragments (when the peer supports them)
 * @param forceUdpEncapsulation ESP in UDP even without a NAT (strongSwan's {@code encap = yes}):
 *                              for paths whose firewalls pass UDP but not IP protocol 50
 * @param remoteAccess null for a site; for road-warrior clients (responder only, any address):
 *                     their pool, DNS, routes and revoked certificates. The remote selectors are
 *                     then the pool's prefixes, and each client's child SAs are narrowed to its own address.
 * @param virtualIps as initiator, the virtual addresses to ask the responder for in a CFG_REQUEST
 *                   (strongSwan's {@code vips}; 0.0.0.0 or :: for any); empty for none
 * @param eap as responder, who decides a client that asks for EAP (IKE_AUTH without AUTH,
 *            RFC 7296 §2.16), or null to refuse EAP
 * @param eapPeer as initiator, authenticate with EAP through this instead of AUTH; null for none
 */
public record Connection(
        String name,
        InetAddress localAddress,
        InetAddress remoteAddress,
        int remotePrefixLength,
        Identity localId,
        Identity remoteId,
        Authentication authentication,
        List<IkeProposal> ikeProposals,
        List<ChildProposal> childProposals,
        List<TrafficSelector> localSelectors,
        List<TrafficSelector> remoteSelectors,
        Timers timers,
        Mode mode,
        int fragmentSize,
        boolean forceUdpEncapsulation,
        RemoteAccess remoteAccess,
        List<InetAddress> virtualIps,
        EapAuthenticator eap,
        EapPeer eapPeer) {

    public static final int DEFAULT_FRAGMENT_SIZE = 1280;

    /** Azure's connectionMode. */
    public enum Mode { DEFAULT, INITIATOR_ONLY, RESPONDER_ONLY }

    /**
     * Lifetimes, rekeying and liveness.
     *
     * @param rekeyMargin how long before a lifetime ends the rekey starts
     * @param rekeyJitter a further random part of the margin, 0 to 1, so two peers with the same
     *                    settings do not both rekey at the same moment
     * @param dpdDelay idle time after which an empty INFORMATIONAL checks the peer is alive
     * @param dpdTimeout how long any request may go unanswered before the peer is declared dead
     * @param retransmitBase first retransmission delay, growing by 1.8 each time (strongSwan's)
     * @param natKeepalive interval of NAT keepalives when this end is behind a NAT (RFC 3948)
     */
    public record Timers(Duration ikeLifetime, Duration childLifetime, long childLifetimeKilobytes,
                         Duration rekeyMargin, double rekeyJitter, Duration dpdDelay, Duration dpdTimeout,
                         Duration retransmitBase, int retransmitTries, Duration natKeepalive) {
        public static final Timers AZURE = new Timers(Duration.ofSeconds(28_800), Duration.ofSeconds(27_000), 102_400_000L,
                Duration.ofSeconds(540), 0.5, Duration.ofSeconds(15), Duration.ofSeconds(45),
                Duration.ofSeconds(4), 5, Duration.ofSeconds(20));

        public Timers {
            if (rekeyMargin.compareTo(ikeLifetime) >= 0 || rekeyMargin.compareTo(childLifetime) >= 0) {
                throw new IllegalArgumentException("the rekey margin " + rekeyMargin.toSeconds() + " s must be shorter than the IKE ("
                        + ikeLifetime.toSeconds() + " s) and child (" + childLifetime.toSeconds() + " s) lifetimes");
            }
            if (rekeyJitter < 0 || rekeyJitter > 1) {
                throw new IllegalArgumentException("rekey jitter is a fraction of the margin, 0 to 1, not " + rekeyJitter);
            }
        }

        /** Same settings, other lifetimes and margin. */
        public Timers withLifetimes(Duration ike, Duration child, Duration margin) {
            return new Timers(ike, child, childLifetimeKilobytes, margin, rekeyJitter, dpdDelay, dpdTimeout, retransmitBase,
                    retransmitTries, natKeepalive);
        }

        /** Same settings, other liveness checks and retransmissions. */
        public Timers withLiveness(Duration delay, Duration timeout, Duration retransmit, int tries) {
            return new Timers(ikeLifetime, childLifetime, childLifetimeKilobytes, rekeyMargin, rekeyJitter, delay, timeout, retransmit,
                    tries, natKeepalive);
        }
    }

    public Connection {
        if (ikeProposals.isEmpty() || childProposals.isEmpty()) {
            throw new IllegalArgumentException("connection " + name + ": at least one IKE and one ESP proposal");
        }
        if (localSelectors.isEmpty() || remoteSelectors.isEmpty()) {
            throw new IllegalArgumentException("connection " + name + ": traffic selectors are needed on both sides");
        }
        if (fragmentSize < 576) {
            throw new IllegalArgumentException("connection " + name + ": fragment size " + fragmentSize + " is below 576");
        }
        if (remoteAddress != null && (remotePrefixLength < 0 || remotePrefixLength > remoteAddress.getAddress().length * 8)) {
            throw new IllegalArgumentException("connection " + name + ": a prefix of " + remotePrefixLength + " bits for "
                    + remoteAddress.getHostAddress());
        }
        if (remoteAddress != null && remotePrefixLength < remoteAddress.getAddress().length * 8 && mode != Mode.RESPONDER_ONLY) {
            throw new IllegalArgumentException("connection " + name + ": peers from a range cannot be initiated to: responder only");
        }
        ikeProposals = List.copyOf(ikeProposals);
        childProposals = List.copyOf(childProposals);
        localSelectors = List.copyOf(localSelectors);
        remoteSelectors = List.copyOf(remoteSelectors);
        virtualIps = virtualIps == null ? List.of() : List.copyOf(virtualIps);
        if (remoteAccess != null && (remoteAddress != null || mode == Mode.INITIATOR_ONLY)) {
            throw new IllegalArgumentException("connection " + name + ": remote access answers clients from any address; it has no "
                    + "remote address and does not initiate");
        }
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Whether a peer at {@code address} may be this connection's: its address, one of its range, or any. */
    public boolean acceptsPeer(InetAddress address) {
        if (remoteAddress == null) {
            return true;
        }
        byte[] want = remoteAddress.getAddress();
        byte[] have = address.getAddress();
        if (want.length != have.length) {
            return false;
        }
        int full = remotePrefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (want[i] != have[i]) {
                return false;
            }
        }
        int rest = remotePrefixLength % 8;
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return rest == 0 || ((want[full] ^ have[full]) & mask) == 0;
    }

    /** Whether the peer is one address (not a range, not any): one the gateway can initiate to. */
    public boolean hasOnePeer() {
        return remoteAddress != null && remotePrefixLength == remoteAddress.getAddress().length * 8;
    }

    /** Never prints a secret. */
    @Override
    public String toString() {
        String peer = remoteAddress == null ? "%any" : remoteAddress.getHostAddress() + (hasOnePeer() ? "" : "/" + remotePrefixLength);
        return "connection " + name + " " + localAddress.getHostAddress() + "[" + localId + "] <-> "
                + peer + "[" + (remoteId == null ? "%any" : remoteId) + "] "
                + authentication + ", " + localSelectors + " === " + remoteSelectors;
    }

    /** Fills in Azure's defaults for whatever is not set. */
    public static final class Builder {
        private final String name;
        private InetAddress localAddress;
        private InetAddress remoteAddress;
        private int remotePrefixLength;
        private Identity localId;
        private Identity remoteId;
        private Authentication authentication;
        private final List<IkeProposal> ike = new ArrayList<>();
        private final List<ChildProposal> esp = new ArrayList<>();
        private final List<TrafficSelector> localTs = new ArrayList<>();
        private final List<TrafficSelector> remoteTs = new ArrayList<>();
        private Timers timers = Timers.AZURE;
        private Mode mode = Mode.DEFAULT;
        private int fragmentSize = DEFAULT_FRAGMENT_SIZE;
        private boolean forceUdpEncapsulation;
        private RemoteAccess remoteAccess;
        private final List<InetAddress> virtualIps = new ArrayList<>();
        private EapAuthenticator eap;
        private EapPeer eapPeer;

        private Builder(String name) {
            this.name = name;
        }

        /** Our address and identity; a null identity means the address itself. */
        public Builder local(InetAddress address, Identity id) {
            this.localAddress = address;
            this.localId = id != null ? id : Identity.of(address);
            return this;
        }

        /** The peer's address (null: any) and the identity it must prove (null: any). */
        public Builder remote(InetAddress address, Identity id) {
            this.remoteAddress = address;
            this.remotePrefixLength = address == null ? 0 : address.getAddress().length * 8;
            this.remoteId = id;
            return this;
        }

        /**
         * Peers from the range {@code network}/{@code prefixLength} (the network's host bits are
         * ignored), each proving the identity {@code id} (null: any the authentication proves).
         * Only a responder takes peers from a range.
         */
        public Builder remoteRange(InetAddress network, int prefixLength, Identity id) {
            this.remoteAddress = java.util.Objects.requireNonNull(network);
            this.remotePrefixLength = prefixLength;
            this.remoteId = id;
            return this;
        }

        /** The key is taken over, not copied (see {@link Authentication.PreSharedKey}); it is wiped when the connection is removed. */
        public Builder preSharedKey(byte[] key) {
            this.authentication = new Authentication.PreSharedKey(key);
            return this;
        }

        public Builder authentication(Authentication a) {
            this.authentication = a;
            return this;
        }

        /**
         * strongSwan syntax, e.g. {@code aes128gcm16-prfsha256-x25519}, several separated by commas;
         * call again for more, in order of preference.
         */
        public Builder ike(String proposals) {
            for (String p : proposals.split(",")) {
                ike.add(IkeProposal.parse(p));
            }
            return this;
        }

        /** strongSwan syntax, e.g. {@code aes256-sha256-modp2048-esn}, several separated by commas. */
        /** IKE proposals, most preferred first. */
        public Builder ike(List<IkeProposal> proposals) {
            ike.addAll(proposals);
            return this;
        }

        /** ESP proposals, most preferred first. */
        public Builder esp(List<ChildProposal> proposals) {
            esp.addAll(proposals);
            return this;
        }

        public Builder esp(String proposals) {
            for (String p : proposals.split(",")) {
                esp.add(ChildProposal.parse(p));
            }
            return this;
        }

        public Builder localTs(String prefix) {
            localTs.add(TrafficSelector.ofPrefix(prefix));
            return this;
        }

        public Builder remoteTs(String prefix) {
            remoteTs.add(TrafficSelector.ofPrefix(prefix));
            return this;
        }

        public Builder timers(Timers t) {
            this.timers = t;
            return this;
        }

        public Builder mode(Mode m) {
            this.mode = m;
            return this;
        }

        public Builder fragmentSize(int bytes) {
            this.fragmentSize = bytes;
            return this;
        }

        public Builder forceUdpEncapsulation(boolean force) {
            this.forceUdpEncapsulation = force;
            return this;
        }

        /** Serves road-warrior clients: responder only, from any address. */
        public Builder remoteAccess(RemoteAccess r) {
            this.remoteAccess = r;
            this.mode = Mode.RESPONDER_ONLY;
            return this;
        }

        /** As initiator, asks for a virtual address of this family (0.0.0.0 or :: for any, or the one wished for). */
        public Builder virtualIp(InetAddress wished) {
            virtualIps.add(wished);
            return this;
        }

        /** As responder, clients may authenticate with EAP, which {@code a} decides (a RADIUS server behind it). */
        public Builder eap(EapAuthenticator a) {
            this.eap = a;
            return this;
        }

        /** As initiator, authenticate with EAP through {@code p} (our certificate is then only sent if asked for: never). */
        public Builder eapPeer(EapPeer p) {
            this.eapPeer = p;
            return this;
        }

        public Connection build() {
            if (localAddress == null || authentication == null) {
                throw new IllegalArgumentException("connection " + name + ": a local address and an authentication are required");
            }
            return new Connection(name, localAddress, remoteAddress, remotePrefixLength, localId, remoteId, authentication, ike, esp, localTs,
                    remoteTs, timers, mode, fragmentSize, forceUdpEncapsulation, remoteAccess, virtualIps, eap, eapPeer);
        }
    }
}
