package io.isthmus.ike;

import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import java.net.InetAddress;
import java.util.List;

/**
 * The virtual addresses (RFC 7296 §3.15) of one IKE SA. As a remote-access responder: the
 * client's, leased from its connection's pool, and the only addresses its child SAs may carry
 * from it (their TSi is narrowed to them); given back when the IKE SA dies, or carried to the SA
 * that replaces it in an IKE rekey. As an initiator that asked for one: what the CFG_REPLY gave us.
 * IKE thread only.
 */
public final class VirtualAddresses {
    private RemoteAccess leasedFrom;
    private String identity;
    private List<InetAddress> addresses = List.of();
    private ConfigurationReply.Received received;

    /** Responder: the client {@code identity} holds {@code given} from {@code pool} through this IKE SA. */
    public void leased(RemoteAccess pool, String identity, List<InetAddress> given) {
        this.leasedFrom = pool;
        this.identity = identity;
        this.addresses = List.copyOf(given);
    }

    /** Initiator: what the gateway's CFG_REPLY gave us. */
    public void received(ConfigurationReply.Received reply) {
        this.received = reply;
        this.addresses = reply.addresses();
    }

    /** The client's addresses (responder) or ours (initiator); empty when none were given. */
    public List<InetAddress> addresses() {
        return addresses;
    }

    /** Initiator: the CFG_REPLY as read, or null. */
    public ConfigurationReply.Received reply() {
        return received;
    }

    /** Whether this IKE SA serves a remote-access client: its child SAs are bound to {@link #addresses()}. */
    public boolean ofClient() {
        return leasedFrom != null;
    }

    /** The client's addresses as selectors, one host each: all its child SAs may carry from it. */
    public List<TrafficSelector> selectors() {
        return addresses.stream().map(a -> TrafficSelector.ofPrefix(a.getHostAddress() + (a.getAddress().length == 4 ? "/32" : "/128")))
                .toList();
    }

    /** For the IKE SA {@code spi} that replaces this one after an IKE rekey: the same addresses, owned by it too. */
    VirtualAddresses carriedTo(long spi) {
        VirtualAddresses next = new VirtualAddresses();
        next.received = received;
        next.addresses = addresses;
        if (leasedFrom != null) {
            leasedFrom.carryOver(identity, spi);
            next.leasedFrom = leasedFrom;
            next.identity = identity;
        }
        return next;
    }

    /** The IKE SA {@code spi} is gone: the pool keeps its addresses for the identity's return, for its grace time. */
    void release(long spi) {
        if (leasedFrom != null) {
            leasedFrom.release(spi);
        }
    }

    @Override
    public String toString() {
        return addresses.stream().map(InetAddress::getHostAddress).toList().toString();
    }
}
