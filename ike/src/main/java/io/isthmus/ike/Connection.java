package io.isthmus.ike;

import io.isthmus.ike.message.TrafficSelector;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * What the gateway is configured to negotiate with one peer: addresses and identities, the
 * pre-shared key, proposals in order of preference, traffic selectors, lifetimes and liveness.
 * The defaults are Azure VPN Gateway's (IKE SA 28,800 s, child SA 27,000 s and
 * 102,400,000 KB, DPD timeout 45 s).
 */
public record Connection(
        String name,
        InetAddress localAddress,
        InetAddress remoteAddress,
        Identity localId,
        Identity remoteId,
        byte[] preSharedKey,
        List<IkeProposal> ikeProposals,
        List<ChildProposal> childProposals,
        List<TrafficSelector> localSelectors,
        List<TrafficSelector> remoteSelectors,
        Timers timers,
        Mode mode) {

    /** Azure's connectionMode. */
    public enum Mode { DEFAULT, INITIATOR_ONLY, RESPONDER_ONLY }

    /** Lifetimes, rekey margins and liveness checks. */
    public record Timers(Duration ikeLifetime, Duration childLifetime, long childLifetimeKilobytes,
                         Duration rekeyMargin, double rekeyJitter, Duration dpdDelay, Duration dpdTimeout,
                         Duration retransmitBase, int retransmitTries) {
        public static final Timers AZURE = new Timers(Duration.ofSeconds(28_800), Duration.ofSeconds(27_000), 102_400_000L,
                Duration.ofSeconds(540), 0.1, Duration.ofSeconds(15), Duration.ofSeconds(45),
                Duration.ofSeconds(4), 5);
    }

    public Connection {
        if (preSharedKey == null || preSharedKey.length == 0) {
            throw new IllegalArgumentException("connection " + name + ": a pre-shared key is required");
        }
        if (ikeProposals.isEmpty() || childProposals.isEmpty()) {
            throw new IllegalArgumentException("connection " + name + ": at least one IKE and one ESP proposal");
        }
        preSharedKey = preSharedKey.clone();
        ikeProposals = List.copyOf(ikeProposals);
        childProposals = List.copyOf(childProposals);
        localSelectors = List.copyOf(localSelectors);
        remoteSelectors = List.copyOf(remoteSelectors);
    }

    @Override
    public byte[] preSharedKey() {
        return preSharedKey.clone();
    }

    /** Never prints the key. */
    @Override
    public String toString() {
        return "connection " + name + " " + localAddress.getHostAddress() + "[" + localId + "] <-> "
                + (remoteAddress == null ? "%any" : remoteAddress.getHostAddress()) + "[" + (remoteId == null ? "%any" : remoteId) + "] "
                + localSelectors + " === " + remoteSelectors;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Connection c && c.name.equals(name) && Arrays.equals(c.preSharedKey, preSharedKey);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }
}
