package io.isthmus.ike;

import java.net.InetSocketAddress;

/**
 * Where IKE messages go out. The transport adds the non-ESP marker itself when it sends from
 * port 4500 (RFC 3948 §2.2) and strips it from what it hands to its {@link Receiver}.
 */
public interface Transport {
    void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote);

    /** Where a transport hands the IKE datagrams it receives: the engine. */
    interface Receiver {
        /** {@code length} bytes at {@code offset}, without the non-ESP marker. Never throws. */
        void receive(byte[] datagram, int offset, int length, InetSocketAddress local, InetSocketAddress remote);
    }

    /** The one-byte 0xFF datagram that keeps a NAT mapping open (RFC 3948 §2.3), no marker. */
    default void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
    }
}
