package io.isthmus.ike.message;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * One traffic selector (RFC 7296 §3.13.1): an address range, an IP protocol (0 = any) and a port
 * range (0-65535 = any), for IPv4 (type 7) or IPv6 (type 8). Addresses are in network order.
 */
public record TrafficSelector(int tsType, int ipProtocol, int startPort, int endPort, byte[] startAddress, byte[] endAddress) {
    public static final int TS_IPV4_ADDR_RANGE = 7;
    public static final int TS_IPV6_ADDR_RANGE = 8;

    public TrafficSelector {
        int length = tsType == TS_IPV4_ADDR_RANGE ? 4 : tsType == TS_IPV6_ADDR_RANGE ? 16 : -1;
        if (length < 0) {
            throw new IllegalArgumentException("traffic selector type " + tsType);
        }
        if (startAddress.length != length || endAddress.length != length) {
            throw new IllegalArgumentException("addresses of " + startAddress.length + "/" + endAddress.length + " bytes for type " + tsType);
        }
        if (ipProtocol < 0 || ipProtocol > 255 || startPort < 0 || startPort > 0xFFFF || endPort < 0 || endPort > 0xFFFF) {
            throw new IllegalArgumentException("protocol or port out of range");
        }
        startAddress = startAddress.clone();
        endAddress = endAddress.clone();
    }

    /** Every address, protocol and port of one family. */
    public static TrafficSelector any(boolean ipv6) {
        int n = ipv6 ? 16 : 4;
        byte[] ones = new byte[n];
        Arrays.fill(ones, (byte) 0xFF);
        return new TrafficSelector(ipv6 ? TS_IPV6_ADDR_RANGE : TS_IPV4_ADDR_RANGE, 0, 0, 0xFFFF, new byte[n], ones);
    }

    /** All protocols and ports of a prefix such as {@code 192.168.10.0/24} or {@code fd00::/64}. */
    public static TrafficSelector ofPrefix(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a prefix (address/length): " + cidr);
        }
        byte[] address = parseAddress(cidr.substring(0, slash));
        int bits = Integer.parseInt(cidr.substring(slash + 1).strip());
        if (bits < 0 || bits > address.length * 8) {
            throw new IllegalArgumentException("prefix length " + bits + " in " + cidr);
        }
        byte[] start = address.clone();
        byte[] end = address.clone();
        for (int i = 0; i < address.length * 8; i++) {
            if (i >= bits) {
                start[i / 8] &= (byte) ~(0x80 >>> (i % 8));
                end[i / 8] |= (byte) (0x80 >>> (i % 8));
            }
        }
        return new TrafficSelector(address.length == 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE, 0, 0, 0xFFFF, start, end);
    }

    private static byte[] parseAddress(String text) {
        String t = text.strip();
        if (!t.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an IP address: " + text);
        }
        try {
            return InetAddress.getByName(t).getAddress(); // a literal: no name lookup happens
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + text);
        }
    }

    @Override
    public byte[] startAddress() {
        return startAddress.clone();
    }

    @Override
    public byte[] endAddress() {
        return endAddress.clone();
    }

    public boolean isIpv6() {
        return tsType == TS_IPV6_ADDR_RANGE;
    }

    /** The selector covering what both cover, if anything (the basis of narrowing, §2.9). */
    public Optional<TrafficSelector> intersect(TrafficSelector other) {
        if (tsType != other.tsType) {
            return Optional.empty();
        }
        int protocol;
        if (ipProtocol == 0) {
            protocol = other.ipProtocol;
        } else if (other.ipProtocol == 0 || other.ipProtocol == ipProtocol) {
            protocol = ipProtocol;
        } else {
            return Optional.empty();
        }
        int lowPort = Math.max(startPort, other.startPort);
        int highPort = Math.min(endPort, other.endPort);
        byte[] lowAddress = max(startAddress, other.startAddress);
        byte[] highAddress = min(endAddress, other.endAddress);
        if (lowPort > highPort || Arrays.compareUnsigned(lowAddress, highAddress) > 0) {
            return Optional.empty();
        }
        return Optional.of(new TrafficSelector(tsType, protocol, lowPort, highPort, lowAddress, highAddress));
    }

    /** Whether every packet this selector matches is also matched by {@code other}. */
    public boolean isWithin(TrafficSelector other) {
        return intersect(other).map(this::equals).orElse(false);
    }

    private static byte[] max(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) >= 0 ? a : b;
    }

    private static byte[] min(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) <= 0 ? a : b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrafficSelector t && t.tsType == tsType && t.ipProtocol == ipProtocol && t.startPort == startPort
                && t.endPort == endPort && Arrays.equals(t.startAddress, startAddress) && Arrays.equals(t.endAddress, endAddress);
    }

    @Override
    public int hashCode() {
        return ((tsType * 31 + ipProtocol) * 31 + startPort) * 31 + Arrays.hashCode(startAddress);
    }

    /** {@code 192.168.10.0/24}, or a range, then {@code [proto/port]} when not everything. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int prefix = prefixLength();
        if (prefix >= 0) {
            sb.append(text(startAddress)).append('/').append(prefix);
        } else {
            sb.append(text(startAddress)).append("..").append(text(endAddress));
        }
        if (ipProtocol != 0 || startPort != 0 || endPort != 0xFFFF) {
            sb.append('[').append(ipProtocol == 0 ? "any" : Integer.toString(ipProtocol));
            if (startPort != 0 || endPort != 0xFFFF) {
                sb.append('/').append(startPort == endPort ? Integer.toString(startPort) : startPort + "-" + endPort);
            }
            sb.append(']');
        }
        return sb.toString();
    }

    /** The prefix length if the range is exactly one prefix, else -1. */
    public int prefixLength() {
        BigInteger start = new BigInteger(1, startAddress);
        BigInteger end = new BigInteger(1, endAddress);
        BigInteger size = end.subtract(start).add(BigInteger.ONE);
        if (size.bitCount() != 1 || start.mod(size).signum() != 0) {
            return -1;
        }
        return startAddress.length * 8 - (size.bitLength() - 1);
    }

    private static String text(byte[] address) {
        return AddressText.of(address);
    }
}
