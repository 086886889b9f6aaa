package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IpPacketTest {

    /** The word-at-a-time checksum against RFC 1071's definition, 16 bits at a time, at every length and offset parity. */
    @Test
    void theChecksumIsRfc1071s() {
        java.util.Random random = new java.util.Random(1071);
        for (int round = 0; round < 20_000; round++) {
            int len = random.nextInt(round < 2000 ? 80 : 3000);
            int off = random.nextInt(9);
            byte[] p = new byte[off + len + 3];
            random.nextBytes(p);
            if (round % 7 == 0) {
                Arrays.fill(p, (byte) 0xFF);
            }
            int initial = random.nextInt(0x20000);
            long reference = initial;
            for (int i = 0; i < len; i += 2) {
                reference += ((p[off + i] & 0xFF) << 8) | (i + 1 < len ? p[off + i + 1] & 0xFF : 0);
            }
            while ((reference >>> 16) != 0) {
                reference = (reference & 0xFFFF) + (reference >>> 16);
            }
            assertEquals(reference, IpPacket.sum(p, off, len, initial), "length " + len + " at " + off);
        }
    }

    @Test
    void headersAreRead() {
        byte[] p = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 10);
        assertTrue(IpPacket.isValid(p, 0, p.length));
        assertEquals(4, IpPacket.version(p, 0));
        assertEquals(38, IpPacket.totalLength(p, 0));
        assertEquals(IpPacket.PROTO_UDP, IpPacket.protocol(p, 0));
        assertEquals(5000, IpPacket.port(p, 0, p.length, true));
        assertEquals(53, IpPacket.port(p, 0, p.length, false));
        assertTrue(IpPacket.dontFragment(p, 0));
        byte[] q = Packets.udp6("fd10::5", "fd20::7", 1, 2, 0);
        assertTrue(IpPacket.isValid(q, 0, q.length));
        assertEquals(48, IpPacket.totalLength(q, 0));
        assertFalse(IpPacket.isValid(q, 0, 40), "a truncated packet");
        assertFalse(IpPacket.isValid(new byte[40], 0, 40), "version 0");
    }

    @Test
    void aSynsMssIsClampedAndItsChecksumStaysRight() {
        byte[] p = Packets.syn4("192.168.10.5", "192.168.20.7", 1460);
        assertEquals(0xFFFF, Packets.tcpSum(p), "valid before");
        assertTrue(IpPacket.clampMss(p, 0, p.length, 1350));
        assertEquals(1350, IpPacket.u16(p, 20 + 22));
        assertEquals(0xFFFF, Packets.tcpSum(p), "valid after");
        assertFalse(IpPacket.clampMss(p, 0, p.length, 1400), "never raised");
        assertFalse(IpPacket.clampMss(Packets.udp4("1.1.1.1", "2.2.2.2", 1, 2, 30), 0, 58, 1350));
    }

    @Test
    void fragmentationNeededQuotesTheHeaderAndIsChecksummed() {
        byte[] p = Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 1460);
        byte[] out = new byte[2048];
        int n = IpPacket.tooBig(p, 0, p.length, 1380, out, 0);
        assertEquals(20 + 8 + 28, n);
        assertEquals(0xFFFF, IpPacket.sum(out, 0, 20, 0), "IP header checksum");
        assertEquals(0xFFFF, IpPacket.sum(out, 20, n - 20, 0), "ICMP checksum");
        assertEquals(3, out[20]);
        assertEquals(4, out[21]);
        assertEquals(1380, IpPacket.u16(out, 26));
        assertArrayEquals(Packets.address("192.168.20.7"), Arrays.copyOfRange(out, 12, 16), "from the destination");
        assertArrayEquals(Packets.address("192.168.10.5"), Arrays.copyOfRange(out, 16, 20), "to the sender");
        assertArrayEquals(Arrays.copyOf(p, 28), Arrays.copyOfRange(out, 28, 56));
    }

    @Test
    void packetTooBigForIpv6() {
        byte[] p = Packets.udp6("fd10::5", "fd20::7", 5000, 53, 1452);
        byte[] out = new byte[2048];
        int n = IpPacket.tooBig(p, 0, p.length, 1360, out, 0);
        assertEquals(1280, n, "as much as fits in the minimum MTU");
        assertEquals(2, out[40]);
        int s = IpPacket.sum(out, 8, 32, 0) + (n - 40) + IpPacket.PROTO_ICMPV6;
        assertEquals(0xFFFF, IpPacket.sum(out, 40, n - 40, s), "ICMPv6 checksum with the pseudo-header");
        assertEquals(1360, ((out[44] & 0xFF) << 24) | ((out[45] & 0xFF) << 16) | ((out[46] & 0xFF) << 8) | (out[47] & 0xFF));
    }

    @Test
    void longestPrefixWins() {
        Tunnel a = new Tunnel("a", false, new Counters(), 0);
        Tunnel b = new Tunnel("b", false, new Counters(), 1);
        Tunnel c = new Tunnel("c", false, new Counters(), 2);
        TunnelTable t = new TunnelTable(java.util.List.of(TunnelTable.route("10.0.0.0/8", a), TunnelTable.route("10.20.0.0/16", b),
                TunnelTable.route("0.0.0.0/0", c), TunnelTable.route("fd20::/64", b), TunnelTable.route("fd20:0:0:0:8000::/65", a)));
        assertEquals(b, t.lookup(Packets.udp4("1.1.1.1", "10.20.3.4", 1, 2, 0), 0));
        assertEquals(a, t.lookup(Packets.udp4("1.1.1.1", "10.21.3.4", 1, 2, 0), 0));
        assertEquals(c, t.lookup(Packets.udp4("1.1.1.1", "11.0.0.1", 1, 2, 0), 0));
        assertEquals(b, t.lookup(Packets.udp6("fd10::1", "fd20::1", 1, 2, 0), 0));
        assertEquals(a, t.lookup(Packets.udp6("fd10::1", "fd20::8000:0:0:1", 1, 2, 0), 0));
        assertEquals(null, t.lookup(Packets.udp6("fd10::1", "fd30::1", 1, 2, 0), 0));
    }

    /** Two tunnels to one site (a pair's, one per instance): of the same prefix, the later route wins; the control plane orders them. */
    @Test
    void ofTheSamePrefixTheLaterRouteWins() {
        Tunnel partners = new Tunnel("gw1-to-branch", false, new Counters(), 0);
        Tunnel own = new Tunnel("gw2-to-branch", false, new Counters(), 1);
        TunnelTable t = new TunnelTable(java.util.List.of(TunnelTable.route("192.168.10.0/24", partners), TunnelTable.route("192.168.10.0/24", own)));
        assertEquals(own, t.lookup(Packets.udp4("10.1.0.1", "192.168.10.7", 1, 2, 0), 0));
        TunnelTable swapped = new TunnelTable(java.util.List.of(TunnelTable.route("192.168.10.0/24", own), TunnelTable.route("192.168.10.0/24", partners)));
        assertEquals(partners, swapped.lookup(Packets.udp4("10.1.0.1", "192.168.10.7", 1, 2, 0), 0));
    }

    @Test
    void prefixesWithHostBitsAreRefused() {
        Tunnel a = new Tunnel("a", false, new Counters(), 0);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> TunnelTable.route("10.1.2.3/16", a));
        assertTrue(e.getMessage().contains("host bits"), e.getMessage());
    }
}
