package io.isthmus.dataplane;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.Arrays;

/**
 * A traffic selector as the data plane checks it (RFC 7296 §3.13.1): an address range, an IP
 * protocol (0 for any) and a port range. The control plane translates IKE's selectors into these.
 */
public record Selector(byte[] start, byte[] end, int protocol, int startPort, int endPort) {

    public Selector {
        if (start.length != end.length || (start.length != 4 && start.length != 16)) {
            throw new IllegalArgumentException("selector addresses must both be IPv4 or both IPv6");
        }
        start = start.clone();
        end = end.clone();
    }

    /** Any address of that family, any protocol and port. */
    public static Selector any(int ipVersion) {
        byte[] zero = new byte[ipVersion == 4 ? 4 : 16];
        byte[] ones = new byte[zero.length];
        Arrays.fill(ones, (byte) 0xFF);
        return new Selector(zero, ones, 0, 0, 0xFFFF);
    }

    public int ipVersion() {
        return start.length == 4 ? 4 : 6;
    }

    /** Whether the packet's source (or destination) address, protocol and port fall in this selector. */
    boolean matches(byte[] p, int off, int len, boolean source) {
        int v = IpPacket.version(p, off);
        if ((v == 4) != (start.length == 4)) {
            return false;
        }
        int a = source ? IpPacket.sourceOffset(p, off) : IpPacket.destinationOffset(p, off);
        if (Arrays.compareUnsigned(p, a, a + start.length, start, 0, start.length) < 0
                || Arrays.compareUnsigned(p, a, a + end.length, end, 0, end.length) > 0) {
            return false;
        }
        if (protocol != 0 && protocol != IpPacket.protocol(p, off)) {
            return false;
        }
        if (startPort == 0 && endPort == 0xFFFF) {
            return true;
        }
        int port = IpPacket.port(p, off, len, source);
        return port >= startPort && port <= endPort;
    }

    static boolean anyMatches(Selector[] selectors, byte[] p, int off, int len, boolean source) {
        for (Selector s : selectors) {
            if (s.matches(p, off, len, source)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return io.isthmus.dataplane.PrefixTrie.text(start) + ".." + io.isthmus.dataplane.PrefixTrie.text(end)
                + (protocol == 0 ? "" : "[" + protocol + "/" + startPort + "-" + endPort + "]");
    }
}
