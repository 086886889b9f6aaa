package io.isthmus.dataplane.linux;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * rtnetlink's route messages (netlink(7), rtnetlink(7)) read from what one recv returned, and the
 * dump request written. Everything is in the host's byte order and 4-byte aligned:
 *
 * <pre>
 *  0               1               2               3
 *  +---------------+---------------+---------------+---------------+
 *  |                      nlmsg_len (header included)              |  struct nlmsghdr
 *  |         nlmsg_type            |         nlmsg_flags           |
 *  |                           nlmsg_seq                           |
 *  |                           nlmsg_pid                           |
 *  +---------------+---------------+---------------+---------------+
 *  |  rtm_family   |  rtm_dst_len  |  rtm_src_len  |    rtm_tos    |  struct rtmsg
 *  |  rtm_table    | rtm_protocol  |   rtm_scope   |   rtm_type    |  (RTM_NEWROUTE,
 *  |                           rtm_flags                           |   RTM_DELROUTE)
 *  +---------------+---------------+---------------+---------------+
 *  |           rta_len             |           rta_type            |  struct rtattr,
 *  |              payload (rta_len - 4), padded to 4 ...           |  repeated
 *  +---------------+---------------+---------------+---------------+
 * </pre>
 *
 * RTA_MULTIPATH holds struct rtnexthop (rtnh_len u16, flags u8, hops u8, ifindex s32) each
 * followed by its own attributes. The kernel writes all of this, but anything on this socket is
 * checked as if a stranger had: every length is checked against what is left before it is read,
 * and a message that fails is dropped and reported ({@link Handler#malformed}), never thrown.
 * A header whose length cannot be trusted ends the buffer: where the next message starts is
 * unknown.
 */
public final class RouteMessages {
    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLMSG_OVERRUN = 4;
    public static final int RTM_NEWROUTE = 24;
    public static final int RTM_DELROUTE = 25;
    public static final int RTM_GETROUTE = 26;

    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    /** The dump changed under the kernel while it was being written: it may be inconsistent, so it is made again. */
    public static final int NLM_F_DUMP_INTR = 0x10;
    public static final int NLM_F_REPLACE = 0x100;
    public static final int NLM_F_DUMP = 0x300;

    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PRIORITY = 6;
    static final int RTA_MULTIPATH = 9;
    static final int RTA_TABLE = 15;
    static final int RTA_VIA = 18;
    /** Routes the kernel made itself (IPv6's cache): not the routing table's. */
    static final int RTM_F_CLONED = 0x200;

    static final int HEADER = 16;
    static final int RTMSG = 12;

    private static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.nativeOrder());
    private static final VarHandle S32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private RouteMessages() {
    }

    /** What the messages of one buffer are, in order. */
    public interface Handler {
        /** An RTM_NEWROUTE ({@code added}) or RTM_DELROUTE of an IPv4 or IPv6 route. */
        void route(boolean added, int flags, int seq, int pid, KernelRoute route);

        /** NLMSG_DONE: the end of a dump; {@code status} is 0 or minus errno if the dump failed. */
        void done(int flags, int seq, int pid, int status);

        /** NLMSG_ERROR: {@code errno} 0 is an acknowledgement. */
        void error(int seq, int pid, int errno);

        /** A well-formed message this reader has no use for (another family, another type). */
        void ignored(String what);

        /** A message that breaks its own lengths, dropped; {@code why} says which and by how much. */
        void malformed(String why);
    }

    /** The message's lengths do not add up. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** RTM_GETROUTE with NLM_F_DUMP for every family: the kernel answers with every route of every table. */
    public static byte[] dumpRequest(int seq) {
        byte[] m = new byte[HEADER + RTMSG];
        S32.set(m, 0, m.length);
        U16.set(m, 4, (short) RTM_GETROUTE);
        U16.set(m, 6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
        S32.set(m, 8, seq);
        return m;
    }

    /**
     * The dump of one table only, with RTA_TABLE: a kernel that checks dump requests strictly
     * (the socket option NETLINK_GET_STRICT_CHK, Linux 4.20) filters by it, so a host that also
     * carries a full Internet table does not send it all; others ignore it.
     */
    public static byte[] dumpRequest(int seq, int table) {
        byte[] m = new byte[HEADER + RTMSG + 8];
        byte[] plain = dumpRequest(seq);
        System.arraycopy(plain, 0, m, 0, plain.length);
        S32.set(m, 0, m.length);
        m[HEADER + 4] = (byte) (Integer.compareUnsigned(table, 255) < 0 ? table : 0);
        U16.set(m, HEADER + RTMSG, (short) 8);
        U16.set(m, HEADER + RTMSG + 2, (short) RTA_TABLE);
        S32.set(m, HEADER + RTMSG + 4, table);
        return m;
    }

    /** Every message in {@code buf[offset, offset + length)}, each to {@code h}; never throws for what the buffer holds. */
    public static void parse(byte[] buf, int offset, int length, Handler h) {
        int at = offset;
        int end = offset + length;
        while (at < end) {
            int left = end - at;
            if (left < HEADER) {
                h.malformed("truncated nlmsghdr: need " + HEADER + " bytes, " + left + " left");
                return;
            }
            int len = (int) S32.get(buf, at);
            if (len < HEADER || len > left) {
                h.malformed("nlmsg_len " + Integer.toUnsignedString(len) + " with " + left + " bytes left (a header is " + HEADER + ")");
                return;
            }
            int type = Short.toUnsignedInt((short) U16.get(buf, at + 4));
            int flags = Short.toUnsignedInt((short) U16.get(buf, at + 6));
            int seq = (int) S32.get(buf, at + 8);
            int pid = (int) S32.get(buf, at + 12);
            try {
                message(buf, at + HEADER, at + len, type, flags, seq, pid, h);
            } catch (Malformed e) {
                h.malformed(typeName(type) + ": " + e.getMessage());
            }
            at += Math.min(align(len), left);
        }
    }

    private static void message(byte[] buf, int body, int end, int type, int flags, int seq, int pid, Handler h) throws Malformed {
        switch (type) {
            case NLMSG_NOOP -> {
            }
            case NLMSG_ERROR -> {
                need(4, end - body, "the error code");
                h.error(seq, pid, -(int) S32.get(buf, body));
            }
            case NLMSG_DONE -> h.done(flags, seq, pid, end - body >= 4 ? (int) S32.get(buf, body) : 0);
            case RTM_NEWROUTE, RTM_DELROUTE -> {
                KernelRoute r = route(buf, body, end, h);
                if (r != null) {
                    h.route(type == RTM_NEWROUTE, flags, seq, pid, r);
                }
            }
            default -> h.ignored("message type " + type);
        }
    }

    /** struct rtmsg and its attributes; null (and told to {@code h}) for a route this reader does not follow. */
    private static KernelRoute route(byte[] buf, int at, int end, Handler h) throws Malformed {
        need(RTMSG, end - at, "struct rtmsg");
        int family = buf[at] & 0xFF;
        int dstLen = buf[at + 1] & 0xFF;
        int tos = buf[at + 3] & 0xFF;
        int table = buf[at + 4] & 0xFF;
        int protocol = buf[at + 5] & 0xFF;
        int type = buf[at + 7] & 0xFF;
        int rtmFlags = (int) S32.get(buf, at + 8);
        if (family != Libc.AF_INET && family != Libc.AF_INET6) {
            h.ignored("route of family " + family);
            return null;
        }
        boolean v6 = family == Libc.AF_INET6;
        int addressBytes = v6 ? 16 : 4;
        if (dstLen > addressBytes * 8) {
            throw new Malformed("rtm_dst_len " + dstLen + " in an IPv" + (v6 ? 6 : 4) + " route");
        }
        byte[] dst = null;
        InetAddress gateway = null;
        int oif = 0;
        int priority = 0;
        List<KernelRoute.NextHop> multipath = null;
        for (int a = at + RTMSG; a < end; ) {
            int left = end - a;
            need(4, left, "struct rtattr");
            int rtaLen = Short.toUnsignedInt((short) U16.get(buf, a));
            int rtaType = Short.toUnsignedInt((short) U16.get(buf, a + 2)) & 0x3FFF;
            if (rtaLen < 4 || rtaLen > left) {
                throw new Malformed("rta_len " + rtaLen + " of attribute " + rtaType + " with " + left + " bytes left");
            }
            int p = a + 4;
            int n = rtaLen - 4;
            switch (rtaType) {
                case RTA_DST -> {
                    exactly(addressBytes, n, "RTA_DST");
                    dst = java.util.Arrays.copyOfRange(buf, p, p + n);
                }
                case RTA_GATEWAY -> {
                    exactly(addressBytes, n, "RTA_GATEWAY");
                    gateway = address(buf, p, n);
                }
                case RTA_VIA -> gateway = via(buf, p, n);
                case RTA_OIF -> {
                    exactly(4, n, "RTA_OIF");
                    oif = (int) S32.get(buf, p);
                }
                case RTA_PRIORITY -> {
                    exactly(4, n, "RTA_PRIORITY");
                    priority = (int) S32.get(buf, p);
                }
                case RTA_TABLE -> {
                    // Tables above 255 do not fit rtm_table (it says RT_TABLE_COMPAT, 252): this is the real one.
                    exactly(4, n, "RTA_TABLE");
                    table = (int) S32.get(buf, p);
                }
                case RTA_MULTIPATH -> multipath = nextHops(buf, p, p + n, addressBytes);
                default -> {
                    // Metrics, preferred source, cache info, expiry...: not needed to steer a prefix.
                }
            }
            a += Math.min(align(rtaLen), left);
        }
        if (dst == null) {
            if (dstLen != 0) {
                throw new Malformed("rtm_dst_len " + dstLen + " without RTA_DST");
            }
            dst = new byte[addressBytes];
        }
        for (int bit = dstLen; bit < addressBytes * 8; bit++) {
            if ((dst[bit >>> 3] & (0x80 >>> (bit & 7))) != 0) {
                throw new Malformed("RTA_DST has bits set past rtm_dst_len " + dstLen);
            }
        }
        if ((rtmFlags & RTM_F_CLONED) != 0) {
            h.ignored("cloned (cache) route");
            return null;
        }
        List<KernelRoute.NextHop> hops;
        if (multipath != null) {
            hops = multipath;
        } else if (gateway != null || oif != 0) {
            hops = List.of(new KernelRoute.NextHop(gateway, oif));
        } else {
            hops = List.of();
        }
        return new KernelRoute(v6, dst, dstLen, table, protocol, type, tos, priority, hops);
    }

    private static List<KernelRoute.NextHop> nextHops(byte[] buf, int at, int end, int addressBytes) throws Malformed {
        List<KernelRoute.NextHop> hops = new ArrayList<>();
        while (at < end) {
            int left = end - at;
            need(8, left, "struct rtnexthop");
            int len = Short.toUnsignedInt((short) U16.get(buf, at));
            int ifindex = (int) S32.get(buf, at + 4);
            if (len < 8 || len > left) {
                throw new Malformed("rtnh_len " + len + " with " + left + " bytes left in RTA_MULTIPATH");
            }
            InetAddress gateway = null;
            for (int a = at + 8; a < at + len; ) {
                int aLeft = at + len - a;
                need(4, aLeft, "struct rtattr in a next hop");
                int rtaLen = Short.toUnsignedInt((short) U16.get(buf, a));
                int rtaType = Short.toUnsignedInt((short) U16.get(buf, a + 2)) & 0x3FFF;
                if (rtaLen < 4 || rtaLen > aLeft) {
                    throw new Malformed("rta_len " + rtaLen + " of next-hop attribute " + rtaType + " with " + aLeft + " bytes left");
                }
                if (rtaType == RTA_GATEWAY) {
                    exactly(addressBytes, rtaLen - 4, "RTA_GATEWAY of a next hop");
                    gateway = address(buf, a + 4, rtaLen - 4);
                } else if (rtaType == RTA_VIA) {
                    gateway = via(buf, a + 4, rtaLen - 4);
                }
                a += Math.min(align(rtaLen), aLeft);
            }
            hops.add(new KernelRoute.NextHop(gateway, ifindex));
            at += Math.min(align(len), left);
        }
        return hops;
    }

    /** struct rtvia: a family then its address, as an IPv6 route through an IPv4 next hop has it (BGP's IPv6 over an IPv4 session). */
    private static InetAddress via(byte[] buf, int p, int n) throws Malformed {
        need(2, n, "RTA_VIA's family");
        int family = Short.toUnsignedInt((short) U16.get(buf, p));
        int bytes = family == Libc.AF_INET ? 4 : family == Libc.AF_INET6 ? 16 : -1;
        if (bytes < 0) {
            throw new Malformed("RTA_VIA of family " + family);
        }
        exactly(bytes, n - 2, "RTA_VIA's address");
        return address(buf, p + 2, bytes);
    }

    private static InetAddress address(byte[] buf, int p, int n) {
        try {
            return InetAddress.getByAddress(java.util.Arrays.copyOfRange(buf, p, p + n));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes, checked before
        }
    }

    private static void need(int n, int left, String what) throws Malformed {
        if (n > left) {
            throw new Malformed("truncated " + what + ": need " + n + " bytes, " + left + " left");
        }
    }

    private static void exactly(int n, int got, String what) throws Malformed {
        if (n != got) {
            throw new Malformed(what + " of " + got + " bytes, not " + n);
        }
    }

    static int align(int length) {
        return (length + 3) & ~3;
    }

    private static String typeName(int type) {
        return switch (type) {
            case NLMSG_ERROR -> "NLMSG_ERROR";
            case NLMSG_DONE -> "NLMSG_DONE";
            case RTM_NEWROUTE -> "RTM_NEWROUTE";
            case RTM_DELROUTE -> "RTM_DELROUTE";
            default -> "message type " + type;
        };
    }
}
