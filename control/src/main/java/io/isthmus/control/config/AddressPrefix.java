package io.isthmus.control.config;

import io.isthmus.dataplane.TunnelTable;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

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

    /** A prefix of {@code network}'s first {@code length} bits (the rest cleared), written the usual way. */
    static AddressPrefix of(byte[] network, int length) {
        byte[] n = network.clone();
        for (int bit = length; bit < n.length * 8; bit++) {
            n[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        try {
            return new AddressPrefix(java.net.InetAddress.getByAddress(n).getHostAddress() + "/" + length, n, length);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address: " + n.length + " bytes", e);
        }
    }

    /** The network's bytes: its first address (host bits are refused by {@link #parse}). */
    public byte[] firstAddress() {
        return network.clone();
    }

    public int length() {
        return length;
    }

    /** The network's bytes (4 or 16), host bits clear: the caller's to read, not to change. */
    byte[] network() {
        return network;
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    /** Whether every address of {@code other} is in this one. */
    public boolean covers(AddressPrefix other) {
        return other.network.length == network.length && other.length >= length && samePrefix(other.network, length);
    }

    /**
     * {@code inner}, a part of {@code from}, moved into {@code to} (of {@code from}'s length) as
     * a static 1:1 NAT moves each address: {@code to}'s network bits, then {@code inner}'s own.
     * 10.0.1.0/25 in 10.0.0.0/16 moved to 100.64.0.0/16 is 100.64.1.0/25.
     */
    static AddressPrefix moved(AddressPrefix inner, AddressPrefix from, AddressPrefix to) {
        if (!from.covers(inner) || from.length != to.length || from.network.length != to.network.length) {
            throw new IllegalArgumentException(inner + " in " + from + " cannot move to " + to);
        }
        byte[] n = inner.network.clone();
        for (int bit = 0; bit < to.length; bit++) {
            int mask = 0x80 >>> (bit & 7);
            n[bit >>> 3] = (byte) ((n[bit >>> 3] & ~mask) | (to.network[bit >>> 3] & mask));
        }
        return of(n, inner.length);
    }

    /**
     * This prefix without {@code hole} (a part of it): the prefixes, one of each length from
     * this one's + 1 to the hole's, that hold the rest. 10.0.0.0/22 without 10.0.1.0/24 is
     * 10.0.2.0/23 and 10.0.0.0/24.
     */
    List<AddressPrefix> without(AddressPrefix hole) {
        if (!covers(hole)) {
            throw new IllegalArgumentException(hole + " is not inside " + this);
        }
        List<AddressPrefix> rest = new ArrayList<>();
        for (int len = length + 1; len <= hole.length; len++) {
            // The sibling at this length: the hole's first len bits with the last one flipped.
            byte[] n = hole.network.clone();
            int bit = len - 1;
            n[bit >>> 3] ^= (byte) (0x80 >>> (bit & 7));
            rest.add(of(n, len));
        }
        return rest;
    }

    /**
     * The lower ({@code which} 0) or upper (1) half of this prefix, one bit longer: what each
     * instance of an active-active gateway leases point-to-site addresses from.
     */
    public AddressPrefix half(int which) {
        if (which != 0 && which != 1 || length >= network.length * 8) {
            throw new IllegalArgumentException("no half " + which + " of " + this);
        }
        byte[] n = network.clone();
        if (which == 1) {
            n[length >>> 3] |= (byte) (0x80 >>> (length & 7));
        }
        // Written as an operator writes it (fd00:201::8000/113), for the warning and the log that name the halves.
        return new AddressPrefix(io.isthmus.ike.message.AddressText.of(n) + "/" + (length + 1), n, length + 1);
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
