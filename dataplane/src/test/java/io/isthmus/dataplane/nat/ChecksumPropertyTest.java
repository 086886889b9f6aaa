package io.isthmus.dataplane.nat;

import static io.isthmus.dataplane.nat.NatPackets.ICMP;
import static io.isthmus.dataplane.nat.NatPackets.TCP;
import static io.isthmus.dataplane.nat.NatPackets.UDP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.isthmus.dataplane.ip.IpPacket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Incremental checksum updates (RFC 1624) against checksums summed again in full, for random
 * IPv4 TCP, UDP (with and without a checksum) and ICMP echo packets of odd and even lengths, with
 * and without IPv4 options, through random static and dynamic rules both ways; and ICMP errors
 * quoting any of them, cut anywhere after the 8 bytes RFC 792 promises: translated back, the
 * quoted bytes must be exactly the packet as first sent, checksums and all.
 */
class ChecksumPropertyTest {
    static final int[] PROTOCOLS = {TCP, UDP, ICMP};

    /** A rule of random prefixes (and maybe port ranges) around {@code host}, with {@code remote} outside both. */
    record Setup(NatRule rule, TunnelNat nat, int host, int remote, boolean egress) {
        /** Where a packet from the rule's internal side is translated: outbound for EgressSnat. */
        int forward(byte[] p) {
            return egress ? nat.outbound(p, 0, p.length) : nat.inbound(p, 0, p.length);
        }

        int reverse(byte[] p) {
            return egress ? nat.inbound(p, 0, p.length) : nat.outbound(p, 0, p.length);
        }
    }

    static Setup setup(boolean dynamic, boolean egress, int bits, int internalNet, int externalNet, int hostBits, int remote,
                       boolean ports, int portFirst, int externalFirst, int portCount) {
        int mask = NatRule.mask(bits);
        int in = internalNet & mask;
        int ex = externalNet & (dynamic ? NatRule.mask(30) : mask);
        int host = in | hostBits & ~mask;
        Assume.that((remote & mask) != in && (remote & mask) != (ex & mask) && (remote & NatRule.mask(30)) != (ex & NatRule.mask(30)));
        NatRule.PortRange ip = ports ? new NatRule.PortRange(portFirst, Math.min(0xFFFF, portFirst + portCount - 1)) : null;
        Assume.that(!ports || externalFirst + ip.size() - 1 <= 0xFFFF);
        NatRule.PortRange ep = ports ? new NatRule.PortRange(externalFirst, externalFirst + ip.size() - 1) : null;
        NatRule rule = new NatRule("r", egress ? NatRule.Mode.EGRESS_SNAT : NatRule.Mode.INGRESS_SNAT,
                dynamic ? NatRule.Type.DYNAMIC : NatRule.Type.STATIC, new NatRule.Mapping(NatPackets.text(in) + "/" + bits, dynamic ? null : ip),
                new NatRule.Mapping(NatPackets.text(ex) + "/" + (dynamic ? 30 : bits), dynamic ? null : ep), 64);
        AtomicLong clock = new AtomicLong(1_000);
        return new Setup(rule, TunnelNat.of(List.of(rule), null, clock::get), host, remote, egress);
    }

    static void assertChecksumsRight(byte[] p, boolean udpChecksum, String what) {
        assertEquals(NatPackets.ipChecksum(p), IpPacket.u16(p, 10), what + ": IPv4 header checksum");
        int at = NatPackets.checksumAt(p);
        if (NatPackets.proto(p) == UDP && !udpChecksum) {
            assertEquals(0, IpPacket.u16(p, at), what + ": no UDP checksum stays none");
        } else {
            assertEquals(NatPackets.transportChecksum(p), IpPacket.u16(p, at), what + ": transport checksum");
        }
    }

    @Property(tries = 3000)
    void staticTranslationBothWaysKeepsEveryChecksumExact(@ForAll boolean egress, @ForAll @IntRange(min = 0, max = 2) int protocol,
                                                          @ForAll @IntRange(min = 1, max = 32) int bits, @ForAll int internalNet,
                                                          @ForAll int externalNet, @ForAll int hostBits, @ForAll int remote,
                                                          @ForAll boolean ports, @ForAll @IntRange(min = 0, max = 65535) int portFirst,
                                                          @ForAll @IntRange(min = 0, max = 65535) int externalFirst,
                                                          @ForAll @IntRange(min = 1, max = 5000) int portCount,
                                                          @ForAll @IntRange(min = 0, max = 65535) int rport,
                                                          @ForAll @IntRange(min = 0, max = 1500) int payload,
                                                          @ForAll @IntRange(min = 0, max = 10) int options, @ForAll boolean udpChecksum,
                                                          @ForAll long seed) {
        int proto = PROTOCOLS[protocol];
        boolean withPorts = ports && proto != ICMP;
        Setup s = setup(false, egress, bits, internalNet, externalNet, hostBits, remote, withPorts, portFirst, externalFirst, portCount);
        int sport = withPorts ? portFirst + (int) Math.floorMod(seed, Math.min(portCount, 65536 - portFirst)) : (int) (seed >>> 20) & 0xFFFF;
        byte[] p = NatPackets.packet(proto, s.host(), s.remote(), sport, rport, payload, options, udpChecksum, seed);
        byte[] original = p.clone();
        assertEquals(TunnelNat.PASS, s.forward(p));
        int external = s.rule().external().network() | s.host() & ~NatRule.mask(bits);
        assertEquals(external, NatPackets.src(p, 0), "source translated, host bits kept");
        if (withPorts) {
            assertEquals(s.rule().external().ports().first() + sport - portFirst, IpPacket.u16(p, NatPackets.ihl(p)));
        }
        assertChecksumsRight(p, udpChecksum, "forward");
        // The answer comes back to the external address and is translated to the original host.
        byte[] answer = NatPackets.packet(proto, s.remote(), external, rport, IpPacket.u16(p, NatPackets.ihl(p) + (proto == ICMP ? 4 : 0)),
                payload, options, udpChecksum, ~seed);
        if (proto == ICMP) {
            IpPacket.put16(answer, NatPackets.ihl(answer) + 4, sport);
            answer[NatPackets.ihl(answer)] = 0; // echo reply
            NatPackets.fill(answer, true);
        }
        assertEquals(TunnelNat.PASS, s.reverse(answer));
        assertEquals(s.host(), NatPackets.dst(answer, 0));
        if (proto != ICMP) {
            assertEquals(sport, IpPacket.u16(answer, NatPackets.ihl(answer) + 2));
        }
        assertChecksumsRight(answer, udpChecksum, "reverse");
        assertEquals(original.length, p.length, "nothing added or cut");
    }

    @Property(tries = 2000)
    void dynamicTranslationBothWaysKeepsEveryChecksumExact(@ForAll boolean egress, @ForAll @IntRange(min = 0, max = 2) int protocol,
                                                           @ForAll @IntRange(min = 8, max = 32) int bits, @ForAll int internalNet,
                                                           @ForAll int externalNet, @ForAll int hostBits, @ForAll int remote,
                                                           @ForAll @IntRange(min = 0, max = 65535) int sport,
                                                           @ForAll @IntRange(min = 0, max = 65535) int rport,
                                                           @ForAll @IntRange(min = 0, max = 1500) int payload,
                                                           @ForAll @IntRange(min = 0, max = 10) int options, @ForAll boolean udpChecksum,
                                                           @ForAll long seed) {
        int proto = PROTOCOLS[protocol];
        Setup s = setup(true, egress, bits, internalNet, externalNet, hostBits, remote, false, 0, 0, 0);
        byte[] p = NatPackets.packet(proto, s.host(), s.remote(), sport, rport, payload, options, udpChecksum, seed);
        assertEquals(TunnelNat.PASS, s.forward(p));
        int l4 = NatPackets.ihl(p);
        int external = NatPackets.src(p, 0);
        int port = IpPacket.u16(p, l4 + (proto == ICMP ? 4 : 0));
        assertEquals(s.rule().external().network(), external & NatRule.mask(30), "from the pool");
        assertEquals(NatPackets.dst(p, 0), s.remote());
        assertChecksumsRight(p, udpChecksum, "forward");
        byte[] answer = NatPackets.packet(proto, s.remote(), external, rport, port, payload, options, udpChecksum, ~seed);
        if (proto == ICMP) {
            IpPacket.put16(answer, NatPackets.ihl(answer) + 4, port);
            answer[NatPackets.ihl(answer)] = 0;
            NatPackets.fill(answer, true);
        }
        assertEquals(TunnelNat.PASS, s.reverse(answer));
        assertEquals(s.host(), NatPackets.dst(answer, 0));
        assertEquals(sport, IpPacket.u16(answer, NatPackets.ihl(answer) + (proto == ICMP ? 4 : 2)));
        assertChecksumsRight(answer, udpChecksum, "reverse");
    }

    /**
     * A packet P crosses the rule (either way); the far end answers with an ICMP error quoting P as
     * it arrived, cut at {@code cut}; the error crossing back must quote P exactly as first sent.
     */
    @Property(tries = 3000)
    void anIcmpErrorQuotesThePacketAsItsSenderSentIt(@ForAll boolean dynamic, @ForAll boolean egress, @ForAll boolean fromInside,
                                                     @ForAll @IntRange(min = 0, max = 2) int protocol,
                                                     @ForAll @IntRange(min = 8, max = 32) int bits, @ForAll int internalNet,
                                                     @ForAll int externalNet, @ForAll int hostBits, @ForAll int remote,
                                                     @ForAll @IntRange(min = 0, max = 65535) int sport,
                                                     @ForAll @IntRange(min = 0, max = 65535) int rport,
                                                     @ForAll @IntRange(min = 0, max = 600) int payload,
                                                     @ForAll @IntRange(min = 0, max = 4) int options, @ForAll boolean udpChecksum,
                                                     @ForAll @IntRange(min = 0, max = 3) int errorKind, @ForAll int cut, @ForAll long seed) {
        int proto = PROTOCOLS[protocol];
        Setup s = setup(dynamic, egress, bits, internalNet, externalNet, hostBits, remote, false, 0, 0, 0);
        byte[] sent;
        byte[] arrived;
        if (fromInside) {
            sent = NatPackets.packet(proto, s.host(), s.remote(), sport, rport, payload, options, udpChecksum, seed);
            arrived = sent.clone();
            assertEquals(TunnelNat.PASS, s.forward(arrived));
        } else {
            // From outside to the host's external address (for a dynamic rule, in answer to a flow of the host's).
            byte[] opening = NatPackets.packet(proto, s.host(), s.remote(), sport, rport, 10, 0, true, seed);
            assertEquals(TunnelNat.PASS, s.forward(opening));
            int l4 = NatPackets.ihl(opening);
            int externalPort = IpPacket.u16(opening, l4 + (proto == ICMP ? 4 : 0));
            sent = NatPackets.packet(proto, s.remote(), NatPackets.src(opening, 0), rport, externalPort, payload, options, udpChecksum, seed);
            if (proto == ICMP) {
                IpPacket.put16(sent, NatPackets.ihl(sent) + 4, externalPort);
                sent[NatPackets.ihl(sent)] = 0;
                NatPackets.fill(sent, true);
            }
            arrived = sent.clone();
            assertEquals(TunnelNat.PASS, s.reverse(arrived));
        }
        int[][] kinds = {{3, 3}, {3, 4}, {11, 0}, {12, 0}};
        int least = NatPackets.ihl(arrived) + 8;
        int quoted = least + Math.floorMod(cut, arrived.length - least + 1);
        if (quoted == NatPackets.checksumAt(arrived) + 1) {
            // Half a quoted TCP checksum cannot be updated (its other byte carries into it): such a cut is left as it is.
            quoted++;
        }
        // From the host (or the remote end) that got P, back to P's sender as P's receiver knows it.
        byte[] error = NatPackets.icmpError(kinds[errorKind][0], kinds[errorKind][1], NatPackets.dst(arrived, 0), NatPackets.src(arrived, 0),
                arrived, quoted);
        int verdict = fromInside ? s.reverse(error) : s.forward(error);
        assertEquals(TunnelNat.PASS, verdict);
        assertArrayEquals(Arrays.copyOf(sent, quoted), Arrays.copyOfRange(error, 28, 28 + quoted), "the quoted packet as its sender sent it");
        assertEquals(NatPackets.dst(sent, 0), NatPackets.src(error, 0), "from the address the sender sent to");
        assertEquals(NatPackets.src(sent, 0), NatPackets.dst(error, 0), "to the sender");
        assertEquals(NatPackets.ipChecksum(error), IpPacket.u16(error, 10));
        assertEquals(NatPackets.transportChecksum(error), IpPacket.u16(error, 22), "ICMP checksum");
    }

    /** Whatever bytes arrive, translation returns a verdict and never throws. */
    @Property(tries = 5000)
    void noInputMakesTranslationThrow(@ForAll byte[] bytes, @ForAll @IntRange(min = 0, max = 3) int shape, @ForAll int cut) {
        Assume.that(bytes.length > 0);
        byte[] p = bytes.clone();
        if (shape > 0) {
            p = Arrays.copyOf(p, Math.max(p.length, 48));
            p[0] = 0x45;
            IpPacket.put16(p, 2, p.length);
            p[9] = (byte) (shape == 1 ? ICMP : shape == 2 ? TCP : UDP);
            p[6] &= 0x1F; // a first fragment, mostly
            if (shape == 1) {
                p[20] = 3;
                p[28] = 0x45;
            }
        }
        int len = Math.floorMod(cut, p.length + 1);
        int out = ANYTHING.outbound(p, 0, len);
        int in = ANYTHING.inbound(p.clone(), 0, len);
        for (int v : new int[] {out, in}) {
            assertEquals(true, v == TunnelNat.PASS || NatDrop.fromCode(v) != null);
        }
    }

    /** Rules that hold every address, static and dynamic, with and without ports. */
    static final TunnelNat ANYTHING = TunnelNat.of(List.of(
                new NatRule("d", NatRule.Mode.EGRESS_SNAT, NatRule.Type.DYNAMIC, new NatRule.Mapping("0.0.0.0/0"), new NatRule.Mapping("0.0.0.0/24"),
                        256),
                new NatRule("s", NatRule.Mode.INGRESS_SNAT, NatRule.Type.STATIC, new NatRule.Mapping("0.0.0.0/1"), new NatRule.Mapping("128.0.0.0/1")),
                new NatRule("p", NatRule.Mode.INGRESS_SNAT, NatRule.Type.STATIC, new NatRule.Mapping("128.0.0.0/1", new NatRule.PortRange(0, 30000)),
                        new NatRule.Mapping("0.0.0.0/1", new NatRule.PortRange(30000, 60000)))), null, new AtomicLong()::get);
}
