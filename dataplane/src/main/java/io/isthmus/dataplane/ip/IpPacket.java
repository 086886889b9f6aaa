package io.isthmus.dataplane.ip;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Reading and rewriting IPv4 and IPv6 packets in place, in the byte[] they arrived in: the
 * header fields the data plane looks at, TCP MSS clamping, and the ICMP messages that tell a
 * sender its packet was too big for the tunnel. Nothing here allocates.
 *
 * <pre>
 * IPv4 (RFC 791)                           IPv6 (RFC 8200)
 *  0      4      8             16      31   0      4           12              31
 * |Version| IHL |    TOS      | Total Length |  |Version| Traffic Class | Flow Label     |
 * |  Identification           |Flags| Frag   |  | Payload Length | Next Hdr | Hop Limit  |
 * |  TTL   | Protocol   | Header Checksum    |  | Source Address (16 bytes)             |
 * |  Source Address (12)                     |  | Destination Address (16 bytes, at 24) |
 * |  Destination Address (16)                |
 * </pre>
 */
public final class IpPacket {
    public static final int PROTO_ICMP = 1;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int PROTO_ICMPV6 = 58;
    private static final int TCP_SYN = 0x02;
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private IpPacket() {
    }

    /** 4, 6, or something else for garbage. */
    public static int version(byte[] p, int off) {
        return (p[off] & 0xFF) >>> 4;
    }

    /** Whether the bytes hold a whole IPv4 or IPv6 header and a length that fits. */
    public static boolean isValid(byte[] p, int off, int len) {
        if (len < 20) {
            return false;
        }
        int v = version(p, off);
        if (v == 4) {
            int ihl = (p[off] & 0x0F) << 2;
            return ihl >= 20 && ihl <= len && totalLength(p, off) <= len && totalLength(p, off) >= ihl;
        }
        return v == 6 && len >= 40 && 40 + u16(p, off + 4) <= len;
    }

    /**
     * Whether the destination never leaves the link: IPv6 interface- or link-local multicast
     * (ff01::/16, ff02::/16) or link-local unicast (fe80::/10), IPv4 224.0.0.0/24 (RFC 5771).
     * What the kernel itself sends on the TUN device (MLD reports when it comes up), never
     * traffic a tunnel could carry. A valid header ({@link #isValid}).
     */
    public static boolean linkScoped(byte[] p, int off) {
        int d = destinationOffset(p, off);
        if (version(p, off) == 4) {
            return (p[d] & 0xFF) == 224 && p[d + 1] == 0 && p[d + 2] == 0;
        }
        int first = p[d] & 0xFF;
        int second = p[d + 1] & 0xFF;
        return first == 0xFF ? (second & 0x0F) == 1 || (second & 0x0F) == 2 : first == 0xFE && (second & 0xC0) == 0x80;
    }

    public static int totalLength(byte[] p, int off) {
        return version(p, off) == 4 ? u16(p, off + 2) : 40 + u16(p, off + 4);
    }

    public static int addressLength(byte[] p, int off) {
        return version(p, off) == 4 ? 4 : 16;
    }

    public static int sourceOffset(byte[] p, int off) {
        return off + (version(p, off) == 4 ? 12 : 8);
    }

    public static int destinationOffset(byte[] p, int off) {
        return off + (version(p, off) == 4 ? 16 : 24);
    }

    /** The transport protocol; for IPv6 the Next Header of the fixed header (extension headers are not walked). */
    public static int protocol(byte[] p, int off) {
        return version(p, off) == 4 ? p[off + 9] & 0xFF : p[off + 6] & 0xFF;
    }

    public static int headerLength(byte[] p, int off) {
        return version(p, off) == 4 ? (p[off] & 0x0F) << 2 : 40;
    }

    /** IPv4 "don't fragment", or always for IPv6, where routers never fragment. */
    public static boolean dontFragment(byte[] p, int off) {
        return version(p, off) != 4 || (p[off + 6] & 0x40) != 0;
    }

    /** Whether this is a first (or only) fragment, so ports are present. */
    private static boolean firstFragment(byte[] p, int off) {
        return version(p, off) != 4 || (u16(p, off + 6) & 0x1FFF) == 0;
    }

    /** Source (or destination) port of TCP and UDP, -1 for other protocols and later fragments. */
    public static int port(byte[] p, int off, int len, boolean source) {
        int proto = protocol(p, off);
        int l4 = off + headerLength(p, off);
        if ((proto != PROTO_TCP && proto != PROTO_UDP) || !firstFragment(p, off) || l4 + 4 > off + len) {
            return -1;
        }
        return u16(p, l4 + (source ? 0 : 2));
    }

    public static int u16(byte[] p, int i) {
        return ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
    }

    public static void put16(byte[] p, int i, int v) {
        p[i] = (byte) (v >>> 8);
        p[i + 1] = (byte) v;
    }

    public static long u32(byte[] p, int i) {
        return ((long) u16(p, i) << 16) | u16(p, i + 2);
    }

    public static void put32(byte[] p, int i, long v) {
        put16(p, i, (int) (v >>> 16));
        put16(p, i + 2, (int) v);
    }

    // ------------------------------------------------------------------------------------------
    // TCP MSS clamping: a SYN's MSS option lowered to what fits the tunnel, checksum adjusted
    // (RFC 1624 incremental update), so TCP never sends segments the tunnel would have to drop.
    // ------------------------------------------------------------------------------------------

    /** Lowers the MSS option of a TCP SYN to {@code mss}; returns whether it changed anything. */
    public static boolean clampMss(byte[] p, int off, int len, int mss) {
        if (protocol(p, off) != PROTO_TCP || !firstFragment(p, off)) {
            return false;
        }
        int tcp = off + headerLength(p, off);
        if (tcp + 20 > off + len || (p[tcp + 13] & TCP_SYN) == 0) {
            return false;
        }
        int dataOffset = ((p[tcp + 12] & 0xFF) >>> 4) << 2;
        int end = Math.min(tcp + dataOffset, off + len);
        int i = tcp + 20;
        while (i < end) {
            int kind = p[i] & 0xFF;
            if (kind == 0) {
                break;
            }
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= end) {
                break;
            }
            int optionLength = p[i + 1] & 0xFF;
            if (optionLength < 2 || i + optionLength > end) {
                break;
            }
            if (kind == 2 && optionLength == 4) {
                int old = u16(p, i + 2);
                if (old <= mss) {
                    return false;
                }
                put16(p, i + 2, mss);
                int sum = u16(p, tcp + 16);
                put16(p, tcp + 16, adjust(sum, old, mss));
                return true;
            }
            i += optionLength;
        }
        return false;
    }

    /** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
    public static int adjust(int checksum, int oldWord, int newWord) {
        int sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return ~sum & 0xFFFF;
    }

    /**
     * The Internet checksum (RFC 1071) of {@code len} bytes, added to {@code initial}, folded to
     * 16 bits, not yet complemented. Eight bytes a step: a one's-complement sum of 32-bit words
     * folds to the same 16 bits (RFC 1071 §2(B)), and every segment the data plane cuts or merges
     * is summed, so this is on the hot path.
     */
    public static int sum(byte[] p, int off, int len, int initial) {
        long a = initial & 0xFFFFFFFFL;
        long b = 0;
        int i = off;
        int end = off + len;
        // Two accumulators, four words a step: the additions do not wait on each other.
        for (; i + 32 <= end; i += 32) {
            long v0 = (long) LONG.get(p, i);
            long v1 = (long) LONG.get(p, i + 8);
            long v2 = (long) LONG.get(p, i + 16);
            long v3 = (long) LONG.get(p, i + 24);
            a += (v0 >>> 32) + (v0 & 0xFFFFFFFFL) + (v2 >>> 32) + (v2 & 0xFFFFFFFFL);
            b += (v1 >>> 32) + (v1 & 0xFFFFFFFFL) + (v3 >>> 32) + (v3 & 0xFFFFFFFFL);
        }
        for (; i + 8 <= end; i += 8) {
            long v = (long) LONG.get(p, i);
            a += (v >>> 32) + (v & 0xFFFFFFFFL);
        }
        for (; i + 1 < end; i += 2) {
            b += ((p[i] & 0xFF) << 8) | (p[i + 1] & 0xFF);
        }
        if (i < end) {
            b += (p[i] & 0xFF) << 8;
        }
        long s = (a & 0xFFFFFFFFL) + (a >>> 32) + (b & 0xFFFFFFFFL) + (b >>> 32);
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /** The sum of the TCP/UDP pseudo-header (RFC 793, RFC 8200 §8.1) for {@code l4Length} bytes of {@code protocol}. */
    public static int pseudoHeaderSum(byte[] p, int off, int protocol, int l4Length) {
        boolean v4 = version(p, off) == 4;
        return sum(p, off + (v4 ? 12 : 8), v4 ? 8 : 32, protocol + l4Length);
    }

    // ------------------------------------------------------------------------------------------
    // Too big for the tunnel: ICMPv4 Destination Unreachable / Fragmentation Needed (RFC 1191)
    // or ICMPv6 Packet Too Big (RFC 4443), written into {@code out}, addressed back to the
    // sender from the packet's destination, so it comes back through the TUN device and passes
    // reverse-path filters (the destination routes through the tunnel, as the reply must).
    // ------------------------------------------------------------------------------------------

    /**
     * Writes the ICMP error for the packet at {@code off} into {@code out} at {@code outOff}.
     *
     * @return the ICMP packet's length
     */
    public static int tooBig(byte[] p, int off, int len, int mtu, byte[] out, int outOff) {
        return version(p, off) == 4 ? fragmentationNeeded(p, off, len, mtu, out, outOff) : packetTooBig(p, off, len, mtu, out, outOff);
    }

    private static int fragmentationNeeded(byte[] p, int off, int len, int mtu, byte[] out, int o) {
        // The offending packet's header and the first 8 bytes of its payload (RFC 792).
        int quoted = Math.min(len, headerLength(p, off) + 8);
        int total = 20 + 8 + quoted;
        java.util.Arrays.fill(out, o, o + 28, (byte) 0);
        out[o] = 0x45;
        put16(out, o + 2, total);
        out[o + 8] = 64;
        out[o + 9] = PROTO_ICMP;
        System.arraycopy(p, off + 16, out, o + 12, 4); // from the packet's destination
        System.arraycopy(p, off + 12, out, o + 16, 4); // to its source
        put16(out, o + 10, ~sum(out, o, 20, 0) & 0xFFFF);
        int icmp = o + 20;
        out[icmp] = 3; // destination unreachable
        out[icmp + 1] = 4; // fragmentation needed and DF set
        put16(out, icmp + 6, mtu);
        System.arraycopy(p, off, out, icmp + 8, quoted);
        put16(out, icmp + 2, ~sum(out, icmp, 8 + quoted, 0) & 0xFFFF);
        return total;
    }

    private static int packetTooBig(byte[] p, int off, int len, int mtu, byte[] out, int o) {
        // As much of the offending packet as fits in the minimum IPv6 MTU (RFC 4443 §3.2).
        int quoted = Math.min(len, 1280 - 40 - 8);
        int payload = 8 + quoted;
        java.util.Arrays.fill(out, o, o + 48, (byte) 0);
        out[o] = 0x60;
        put16(out, o + 4, payload);
        out[o + 6] = (byte) PROTO_ICMPV6;
        out[o + 7] = 64;
        System.arraycopy(p, off + 24, out, o + 8, 16);
        System.arraycopy(p, off + 8, out, o + 24, 16);
        int icmp = o + 40;
        out[icmp] = 2; // packet too big
        out[icmp + 4] = (byte) (mtu >>> 24);
        out[icmp + 5] = (byte) (mtu >>> 16);
        out[icmp + 6] = (byte) (mtu >>> 8);
        out[icmp + 7] = (byte) mtu;
        System.arraycopy(p, off, out, icmp + 8, quoted);
        // Pseudo-header: source, destination, upper-layer length, next header.
        int s = sum(out, o + 8, 32, 0);
        s += payload;
        s += PROTO_ICMPV6;
        s = sum(out, icmp, payload, s);
        put16(out, icmp + 2, ~s & 0xFFFF);
        return 40 + payload;
    }
}
