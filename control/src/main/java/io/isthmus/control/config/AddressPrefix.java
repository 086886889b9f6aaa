package io.isthmus.control.config;

import io.isthmus.dataplane.TunnelTable;
import java.net.InetAddress;

/**
 * An address prefix as configured ({@code 10.1.0.0/16}, {@code fd20::/64}): what the kernel's
 * routes and the tunnel table are made of, compared here before either is touched.
 */
public final class AddressPrefix {
    private final String text;
    private final byte[] network;
    private final int length;

    private AddressPrefix(String text, byte[] network, int length) {
        this.text = text;
        this.network = network;
        this.length = length;
    }

    /** Parses as the tunnel table does, so that what passes here is what it will hold. */
    public static AddressPrefix parse(String text) {
        TunnelTable.Route r = TunnelTable.route(text, null);
        return new AddressPrefix(text, r.prefix(), r.length());
    }

    public int length() {
        return length;
    }

    /** 0.0.0.0/0 or ::/0: every destination of its family. */
    public boolean isDefault() {
        return length == 0;
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && samePrefix(a, length);
    }

    /** Whether some address is in both: one of the two contains the other. */
    public boolean overlaps(AddressPrefix other) {
        return other.network.length == network.length && samePrefix(other.network, Math.min(length, other.length));
    }

    private boolean samePrefix(byte[] a, int bits) {
        for (int bit = 0; bit < bits; bit++) {
            int mask = 0x80 >>> (bit & 7);
            if ((a[bit >>> 3] & mask) != (network[bit >>> 3] & mask)) {
                return false;
            }
        }
        return true;
    }

    /** The same network and length, however written ({@code fd20::/64} and {@code fd20:0::/64} are one prefix). */
    @Override
    public boolean equals(Object o) {
        return o instanceof AddressPrefix p && p.length == length && java.util.Arrays.equals(p.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + length;
    }

    @Override
    public String toString() {
        return text;
    }
}
