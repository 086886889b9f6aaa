package io.isthmus.dataplane.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** rtnetlink route messages as the kernel writes them, and every way one can lie about its lengths. */
class RouteMessagesTest {

    /** What the parser reported, in order, as text. */
    static final class Seen implements RouteMessages.Handler {
        final List<String> events = new ArrayList<>();
        final List<KernelRoute> routes = new ArrayList<>();
        final List<String> malformed = new ArrayList<>();

        @Override
        public void route(boolean added, int flags, int seq, int pid, KernelRoute route) {
            events.add((added ? "new " : "del ") + route);
            routes.add(route);
        }

        @Override
        public void done(int flags, int seq, int pid, int status) {
            events.add("done seq " + seq + " status " + status + ((flags & RouteMessages.NLM_F_DUMP_INTR) != 0 ? " interrupted" : ""));
        }

        @Override
        public void error(int seq, int pid, int errno) {
            events.add("error seq " + seq + " errno " + errno);
        }

        @Override
        public void ignored(String what) {
            events.add("ignored " + what);
        }

        @Override
        public void malformed(String why) {
            events.add("malformed");
            malformed.add(why);
        }
    }

    /** Writes messages in the host's byte order, as the kernel does. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        static ByteBuffer buf(int n) {
            return ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
        }

        static byte[] attr(int type, byte[] payload) {
            int len = 4 + payload.length;
            ByteBuffer b = buf((len + 3) & ~3);
            b.putShort((short) len).putShort((short) type).put(payload);
            return b.array();
        }

        static byte[] u32(int v) {
            return buf(4).putInt(v).array();
        }

        static byte[] ip(String address) {
            return InetAddress.ofLiteral(address).getAddress();
        }

        static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            for (byte[] p : parts) {
                o.writeBytes(p);
            }
            return o.toByteArray();
        }

        static byte[] rtmsg(int family, int dstLen, int table, int protocol, int type) {
            return buf(12).put((byte) family).put((byte) dstLen).put((byte) 0).put((byte) 0).put((byte) table).put((byte) protocol)
                    .put((byte) 0).put((byte) type).putInt(0).array();
        }

        static byte[] header(int len, int type, int flags, int seq, int pid) {
            return buf(16).putInt(len).putShort((short) type).putShort((short) flags).putInt(seq).putInt(pid).array();
        }

        /** A message of {@code type} with this body, its length true. */
        Writer message(int type, int flags, int seq, int pid, byte[] body) {
            out.writeBytes(header(16 + body.length, type, flags, seq, pid));
            out.writeBytes(body);
            int pad = ((16 + body.length + 3) & ~3) - (16 + body.length);
            out.writeBytes(new byte[pad]);
            return this;
        }

        Writer raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    static byte[] birdRoute(String dst, int len, String gateway, int table) {
        return Writer.concat(Writer.rtmsg(Libc.AF_INET, len, table > 255 ? 252 : table, KernelRoute.RTPROT_BIRD, KernelRoute.RTN_UNICAST),
                Writer.attr(RouteMessages.RTA_TABLE, Writer.u32(table)), Writer.attr(RouteMessages.RTA_DST, Writer.ip(dst)),
                Writer.attr(RouteMessages.RTA_PRIORITY, Writer.u32(32)), Writer.attr(RouteMessages.RTA_GATEWAY, Writer.ip(gateway)),
                Writer.attr(RouteMessages.RTA_OIF, Writer.u32(7)));
    }

    static Seen parse(byte[] b) {
        Seen s = new Seen();
        RouteMessages.parse(b, 0, b.length, s);
        return s;
    }

    @Test
    void aNewAndADeletedRouteWithTheirAttributes() {
        byte[] b = new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, birdRoute("10.99.0.0", 24, "169.254.21.2", 201))
                .message(RouteMessages.RTM_DELROUTE, 0, 0, 0, birdRoute("10.99.0.0", 24, "169.254.21.2", 201)).bytes();
        Seen s = parse(b);
        assertEquals(List.of("new 10.99.0.0/24 via 169.254.21.2 dev#7 table 201 proto 12 metric 32",
                "del 10.99.0.0/24 via 169.254.21.2 dev#7 table 201 proto 12 metric 32"), s.events);
        KernelRoute r = s.routes.getFirst();
        assertEquals("10.99.0.0/24", r.prefix());
        assertEquals(201, r.table());
        assertEquals(KernelRoute.RTPROT_BIRD, r.protocol());
        assertEquals(InetAddress.ofLiteral("169.254.21.2"), r.nextHops().getFirst().gateway());
        assertEquals("201 10.99.0.0/24 tos 0 metric 32", r.key());
    }

    @Test
    void aTableAbove255IsReadFromRtaTable() {
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, birdRoute("10.1.0.0", 16, "169.254.21.2", 70000)).bytes());
        assertEquals(70000, s.routes.getFirst().table());
    }

    @Test
    void multipathHasEveryNextHop() {
        byte[] hops = Writer.concat(nextHop(3, Writer.attr(RouteMessages.RTA_GATEWAY, Writer.ip("169.254.21.2"))),
                nextHop(4, Writer.attr(RouteMessages.RTA_GATEWAY, Writer.ip("169.254.22.2"))));
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 8, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, Writer.ip("10.0.0.0")),
                Writer.attr(RouteMessages.RTA_MULTIPATH, hops));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        assertEquals(List.of(new KernelRoute.NextHop(InetAddress.ofLiteral("169.254.21.2"), 3),
                new KernelRoute.NextHop(InetAddress.ofLiteral("169.254.22.2"), 4)), s.routes.getFirst().nextHops());
    }

    static byte[] nextHop(int ifindex, byte[] attrs) {
        return Writer.concat(Writer.buf(8).putShort((short) (8 + attrs.length)).put((byte) 0).put((byte) 0).putInt(ifindex).array(), attrs);
    }

    @Test
    void anIpv6RouteThroughAnIpv4NextHop() {
        byte[] via = Writer.concat(Writer.buf(2).putShort((short) Libc.AF_INET).array(), Writer.ip("169.254.21.2"));
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET6, 32, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, Writer.ip("2001:db8::")),
                Writer.attr(RouteMessages.RTA_VIA, via));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        KernelRoute r = s.routes.getFirst();
        assertTrue(r.ipv6());
        assertEquals("2001:db8:0:0:0:0:0:0/32", r.prefix());
        assertEquals(InetAddress.ofLiteral("169.254.21.2"), r.nextHops().getFirst().gateway());
    }

    @Test
    void unknownAttributesAreSkipped() {
        byte[] body = Writer.concat(birdRoute("10.99.0.0", 24, "169.254.21.2", 201), Writer.attr(200, new byte[] {1, 2, 3}),
                Writer.attr(RouteMessages.RTA_DST + 0x8000 + 50, new byte[9]));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        assertEquals(1, s.routes.size());
        assertEquals(List.of(), s.malformed);
    }

    @Test
    void doneErrorAndOtherTypesInOneMultipartBuffer() {
        byte[] b = new Writer()
                .message(RouteMessages.RTM_NEWROUTE, RouteMessages.NLM_F_MULTI, 9, 1234, birdRoute("10.1.0.0", 16, "169.254.21.2", 201))
                .message(RouteMessages.RTM_NEWROUTE, RouteMessages.NLM_F_MULTI | RouteMessages.NLM_F_DUMP_INTR, 9, 1234,
                        birdRoute("10.2.0.0", 16, "169.254.21.2", 201))
                .message(RouteMessages.NLMSG_DONE, RouteMessages.NLM_F_MULTI | RouteMessages.NLM_F_DUMP_INTR, 9, 1234, Writer.u32(0))
                .message(RouteMessages.NLMSG_ERROR, 0, 10, 1234, Writer.concat(Writer.u32(-16), Writer.header(28, 26, 0x301, 10, 0)))
                .message(RouteMessages.NLMSG_ERROR, 0, 11, 1234, Writer.u32(0))
                .message(RouteMessages.NLMSG_NOOP, 0, 0, 0, new byte[0])
                .message(16 /* RTM_NEWLINK */, 0, 0, 0, new byte[20])
                .message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, Writer.rtmsg(128 /* RTNL_FAMILY_IPMR */, 0, 0, 0, 1)).bytes();
        Seen s = parse(b);
        assertEquals(List.of("new 10.1.0.0/16 via 169.254.21.2 dev#7 table 201 proto 12 metric 32",
                "new 10.2.0.0/16 via 169.254.21.2 dev#7 table 201 proto 12 metric 32",
                "done seq 9 status 0 interrupted", "error seq 10 errno 16", "error seq 11 errno 0",
                "ignored message type 16", "ignored route of family 128"), s.events);
    }

    @Test
    void aDumpThatFailedSaysSoInItsDone() {
        Seen s = parse(new Writer().message(RouteMessages.NLMSG_DONE, RouteMessages.NLM_F_MULTI, 3, 1, Writer.u32(-22)).bytes());
        assertEquals(List.of("done seq 3 status -22"), s.events);
    }

    @Test
    void aDefaultRouteHasNoRtaDst() {
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 0, 201, 12, 1), Writer.attr(RouteMessages.RTA_GATEWAY, Writer.ip("169.254.21.2")));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        assertEquals("0.0.0.0/0", s.routes.getFirst().prefix());
    }

    // ---------------------------------------------------------------------------------------
    // Malformed: each dropped and counted, the messages around it still read where they can be
    // ---------------------------------------------------------------------------------------

    static final byte[] GOOD = birdRoute("10.7.0.0", 16, "169.254.21.2", 201);

    @Test
    void aTruncatedHeaderEndsTheBuffer() {
        byte[] b = new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, GOOD).raw(new byte[] {40, 0, 0, 0, 24, 0, 0}).bytes();
        Seen s = parse(b);
        assertEquals(1, s.routes.size());
        assertEquals(List.of("truncated nlmsghdr: need 16 bytes, 7 left"), s.malformed);
    }

    @Test
    void anNlmsgLenPastTheEndIsNotFollowed() {
        byte[] b = new Writer().raw(Writer.header(4000, RouteMessages.RTM_NEWROUTE, 0, 0, 0)).raw(GOOD).bytes();
        Seen s = parse(b);
        assertEquals(List.of(), s.routes);
        assertEquals(List.of("nlmsg_len 4000 with " + b.length + " bytes left (a header is 16)"), s.malformed);
    }

    @Test
    void anNlmsgLenBelowTheHeaderAndANegativeOne() {
        assertEquals(List.of("nlmsg_len 8 with 16 bytes left (a header is 16)"),
                parse(Writer.header(8, RouteMessages.RTM_NEWROUTE, 0, 0, 0)).malformed);
        assertEquals(List.of("nlmsg_len 4294967295 with 16 bytes left (a header is 16)"),
                parse(Writer.header(-1, RouteMessages.RTM_NEWROUTE, 0, 0, 0)).malformed);
    }

    @Test
    void anNlmsgLenThatCutsTheRtmsgDropsThatMessageOnly() {
        byte[] b = new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, new byte[8])
                .message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, GOOD).bytes();
        Seen s = parse(b);
        assertEquals(1, s.routes.size(), "the next message is still read");
        assertEquals(List.of("RTM_NEWROUTE: truncated struct rtmsg: need 12 bytes, 8 left"), s.malformed);
    }

    @Test
    void rtaLenZero() {
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 16, 201, 12, 1), new byte[] {0, 0, 1, 0});
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).message(RouteMessages.RTM_DELROUTE, 0, 0, 0, GOOD).bytes());
        assertEquals(List.of("RTM_NEWROUTE: rta_len 0 of attribute 1 with 4 bytes left"), s.malformed);
        assertEquals(1, s.routes.size());
    }

    @Test
    void rtaLenPastTheEndOfItsMessage() {
        byte[] attr = Writer.attr(RouteMessages.RTA_DST, Writer.ip("10.7.0.0"));
        attr[0] = 40; // says 40 bytes, has 8
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 16, 201, 12, 1), attr);
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        assertEquals(List.of("RTM_NEWROUTE: rta_len " + (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 40 : 40 << 8)
                + " of attribute 1 with 8 bytes left"), s.malformed);
    }

    @Test
    void aTruncatedAttributeHeader() {
        byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 0, 201, 12, 1), new byte[] {8, 0});
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
        assertEquals(List.of("RTM_NEWROUTE: truncated struct rtattr: need 4 bytes, 2 left"), s.malformed);
    }

    @Test
    void addressesOfTheWrongSize() {
        byte[] shortDst = Writer.concat(Writer.rtmsg(Libc.AF_INET, 16, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, new byte[] {10, 7}));
        byte[] v6Gateway = Writer.concat(Writer.rtmsg(Libc.AF_INET, 0, 201, 12, 1), Writer.attr(RouteMessages.RTA_GATEWAY, Writer.ip("fe80::1")));
        byte[] shortOif = Writer.concat(Writer.rtmsg(Libc.AF_INET, 0, 201, 12, 1), Writer.attr(RouteMessages.RTA_OIF, new byte[2]));
        byte[] shortTable = Writer.concat(Writer.rtmsg(Libc.AF_INET, 0, 201, 12, 1), Writer.attr(RouteMessages.RTA_TABLE, new byte[1]));
        byte[] badVia = Writer.concat(Writer.rtmsg(Libc.AF_INET6, 0, 201, 12, 1),
                Writer.attr(RouteMessages.RTA_VIA, Writer.concat(Writer.buf(2).putShort((short) 99).array(), new byte[4])));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, shortDst).message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, v6Gateway)
                .message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, shortOif).message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, shortTable)
                .message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, badVia).bytes());
        assertEquals(List.of("RTM_NEWROUTE: RTA_DST of 2 bytes, not 4", "RTM_NEWROUTE: RTA_GATEWAY of 16 bytes, not 4",
                "RTM_NEWROUTE: RTA_OIF of 2 bytes, not 4", "RTM_NEWROUTE: RTA_TABLE of 1 bytes, not 4", "RTM_NEWROUTE: RTA_VIA of family 99"),
                s.malformed);
        assertEquals(List.of(), s.routes);
    }

    @Test
    void aPrefixLengthLongerThanTheAddressOrWithoutDestinationOrWithHostBits() {
        byte[] tooLong = Writer.concat(Writer.rtmsg(Libc.AF_INET, 33, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, Writer.ip("10.0.0.0")));
        byte[] noDst = Writer.rtmsg(Libc.AF_INET, 24, 201, 12, 1);
        byte[] hostBits = Writer.concat(Writer.rtmsg(Libc.AF_INET, 8, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, Writer.ip("10.0.0.1")));
        Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, tooLong).message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, noDst)
                .message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, hostBits).bytes());
        assertEquals(List.of("RTM_NEWROUTE: rtm_dst_len 33 in an IPv4 route", "RTM_NEWROUTE: rtm_dst_len 24 without RTA_DST",
                "RTM_NEWROUTE: RTA_DST has bits set past rtm_dst_len 8"), s.malformed);
    }

    @Test
    void multipathWithLyingNextHops() {
        byte[] zeroLen = Writer.buf(8).putShort((short) 0).put((byte) 0).put((byte) 0).putInt(3).array();
        byte[] pastEnd = Writer.buf(8).putShort((short) 64).put((byte) 0).put((byte) 0).putInt(3).array();
        byte[] cut = new byte[5];
        byte[] innerAttr = nextHop(3, new byte[] {0, 0, 5, 0});
        for (byte[] hops : List.of(zeroLen, pastEnd, cut, innerAttr)) {
            byte[] body = Writer.concat(Writer.rtmsg(Libc.AF_INET, 8, 201, 12, 1), Writer.attr(RouteMessages.RTA_DST, Writer.ip("10.0.0.0")),
                    Writer.attr(RouteMessages.RTA_MULTIPATH, hops));
            Seen s = parse(new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, body).bytes());
            assertEquals(1, s.malformed.size(), s.events.toString());
            assertEquals(List.of(), s.routes);
        }
    }

    @Test
    void anErrorMessageWithoutItsCode() {
        Seen s = parse(new Writer().message(RouteMessages.NLMSG_ERROR, 0, 1, 0, new byte[2]).bytes());
        assertEquals(List.of("NLMSG_ERROR: truncated the error code: need 4 bytes, 2 left"), s.malformed);
    }

    @Test
    void randomBytesNeverThrow() {
        java.util.Random random = new java.util.Random(14);
        byte[] good = new Writer().message(RouteMessages.RTM_NEWROUTE, 0, 0, 0, GOOD).message(RouteMessages.NLMSG_DONE, 2, 1, 1, Writer.u32(0))
                .bytes();
        for (int i = 0; i < 20_000; i++) {
            byte[] b = good.clone();
            int flips = 1 + random.nextInt(6);
            for (int f = 0; f < flips; f++) {
                b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            }
            int len = random.nextInt(b.length + 1);
            RouteMessages.parse(b, 0, len, new Seen());
        }
    }

    @Test
    void theDumpRequest() {
        ByteBuffer b = ByteBuffer.wrap(RouteMessages.dumpRequest(77)).order(ByteOrder.nativeOrder());
        assertEquals(28, b.getInt(0));
        assertEquals(RouteMessages.RTM_GETROUTE, b.getShort(4));
        assertEquals(RouteMessages.NLM_F_REQUEST | RouteMessages.NLM_F_DUMP, b.getShort(6));
        assertEquals(77, b.getInt(8));
        assertEquals(0, b.get(16), "every family");
    }
}
