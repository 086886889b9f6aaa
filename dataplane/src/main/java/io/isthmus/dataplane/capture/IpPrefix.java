package io.isthmus.dataplane.capture;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix, {@code 192.168.10.0/24}, matched against an address inside a packet. */
public record IpPrefix(byte[] network, int bits) {
    public IpPrefix {
        network = network.clone();
        if (bits < 0 || bits > network.length * 8) {
            throw new IllegalArgumentException("a /" + bits + " prefix of an IPv" + (network.length == 4 ? 4 : 6) + " address");
        }
    }

    /** {@code ADDRESS/BITS}, or an address alone (a host); an IllegalArgumentException says what is wrong. */
    public static IpPrefix parse(String text) {
        String t = text.strip();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        byte[] a;
        try {
            if (!address.matches("[0-9a-fA-F:.]+")) {
                throw new UnknownHostException(address);
            }
            a = InetAddress.ofLiteral(address).getAddress();
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP prefix such as 192.168.10.0/24");
        }
        int bits;
        try {
            bits = slash < 0 ? a.length * 8 : Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits < 0 || bits > a.length * 8) {
            throw new IllegalArgumentException("'" + text + "' is not an IP prefix such as 192.168.10.0/24");
        }
        return new IpPrefix(a, bits);
    }

    /** Whether the address of {@code length} bytes at {@code p[off]} (4 or 16) is in this prefix. */
    public boolean contains(byte[] p, int off, int length) {
        if (length != network.length) {
            return false;
        }
        int whole = bits / 8;
        for (int i = 0; i < whole; i++) {
            if (p[off + i] != network[i]) {
                return false;
            }
        }
        int rest = bits % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return ((p[off + whole] ^ network[whole]) & mask) == 0;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + bits;
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpPrefix other && other.bits == bits && java.util.Arrays.equals(other.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + bits;
    }
}
