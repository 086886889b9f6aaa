package io.isthmus.ike;

import java.net.InetSocketAddress;

/**
 * Where one IKE SA's messages go and come from, and what NAT traversal does to that (RFC 7296
 * §2.23): whether IKE_SA_INIT's NAT detection saw a NAT and whether it is on our side, both ends
 * moving to port 4500 once one is seen, and the peer followed wherever its NAT maps it next.
 * libcharon keeps this on the IKE SA as its hosts and NAT conditions, Android's IKE library in
 * its connection controller. Every move is a change the observer hears of (the pair's record
 * holds the addresses).
 */
public final class NatTraversal {
    private final IkeSa sa;
    private InetSocketAddress local;
    private InetSocketAddress remote;
    private boolean natDetected;
    private boolean behindNat;

    NatTraversal(IkeSa sa, InetSocketAddress local, InetSocketAddress remote) {
        this.sa = sa;
        this.local = local;
        this.remote = remote;
    }

    InetSocketAddress local() {
        return local;
    }

    InetSocketAddress remote() {
        return remote;
    }

    boolean natDetected() {
        return natDetected;
    }

    boolean behindNat() {
        return behindNat;
    }

    /** IKE_SA_INIT's NAT detection (or the SA this one carries on): a NAT in between, and whether it rewrote our address. */
    void detected(boolean nat, boolean weAreBehindNat) {
        natDetected = nat;
        behindNat = weAreBehindNat;
    }

    /** Both ends use port 4500 from IKE_AUTH on once a NAT is seen (RFC 7296 §2.23). */
    public void moveToNatTraversalPort() {
        int port = sa.context().natTraversalPort();
        if (local.getPort() != port || remote.getPort() != port) {
            local = new InetSocketAddress(local.getAddress(), port);
            remote = new InetSocketAddress(remote.getAddress(), port);
            sa.touched();
        }
    }

    /** Follows the peer to port 4500 and wherever its NAT maps it next (RFC 7296 §2.23). */
    void peerSeenAt(InetSocketAddress from, InetSocketAddress to) {
        if ((natDetected || from.getPort() == sa.context().natTraversalPort()) && (!from.equals(remote) || !to.equals(local))) {
            remote = from;
            local = to;
            sa.touched();
        }
    }
}
