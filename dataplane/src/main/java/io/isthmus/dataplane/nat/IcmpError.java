package io.isthmus.dataplane.nat;

import io.isthmus.dataplane.ip.IpPacket;

/**
 * An ICMPv4 error through NAT (RFC 5508 §7, RFC 3022 §4.3): the packet it quotes went the other
 * way, so the rule that translates this error's source (internal to external) translates the
 * quoted packet's destination, and the one that translates this error's destination translates
 * the quoted packet's source. Rewritten: the outer addresses and IPv4 checksum; the quoted
 * header's addresses, ports or echo identifier, its IPv4 checksum and, where quoted, its
 * transport checksum; and the ICMP checksum over all of it, each incrementally.
 *
 * <pre>
 *  outer IPv4 | type code checksum | unused / MTU | quoted IPv4 header | first 8+ bytes of its payload
 *             ^ l4                                ^ l4 + 8
 * </pre>
 *
 * The outer address is translated with the quoted one when a rule holds it: the host itself
 * answering, or a router on the same side (Linux's masquerade does the same). For a dynamic rule
 * the flow comes from the quoted header and is neither made nor refreshed by an error.
 */
final class IcmpError {
    private IcmpError() {
    }

    /** @param hiding the destination side's rules by internal prefix, as {@link TunnelNat#hidden} takes them */
    static int translate(TunnelNat nat, byte[] p, int ip, int end, int l4, int src, int dst, TunnelNat.Rule[] sources,
                         TunnelNat.Rule[] destinations, TunnelNat.Rule[] hiding) {
        int e = l4 + 8;
        int eihl = e < end ? (p[e] & 0x0F) << 2 : 0;
        if (e + 20 > end || IpPacket.version(p, e) != 4 || eihl < 20 || e + eihl > end) {
            if (TunnelNat.matchExternal(destinations, dst, IpPacket.PROTO_ICMP, -1, true) == -1
                    && TunnelNat.hidden(hiding, dst, IpPacket.PROTO_ICMP, -1, true)) {
                return NatDrop.UNTRANSLATED.code();
            }
            boolean ours = TunnelNat.matchInternal(sources, src, IpPacket.PROTO_ICMP, -1, true) != -1
                    || TunnelNat.matchExternal(destinations, dst, IpPacket.PROTO_ICMP, -1, true) != -1;
            return ours ? NatDrop.MALFORMED.code() : TunnelNat.PASS;
        }
        int eproto = p[e + 9] & 0xFF;
        boolean efirst = (IpPacket.u16(p, e + 6) & 0x1FFF) == 0;
        int esrc = Checksum.u32(p, e + 12);
        int edst = Checksum.u32(p, e + 16);
        int el4 = e + eihl;
        boolean icmp = eproto == IpPacket.PROTO_ICMP;
        int esport = -1;
        int edport = -1;
        if (efirst && (eproto == IpPacket.PROTO_TCP || eproto == IpPacket.PROTO_UDP) && el4 + 4 <= end) {
            esport = IpPacket.u16(p, el4);
            edport = IpPacket.u16(p, el4 + 2);
        } else if (efirst && icmp && el4 + 6 <= end && TunnelNat.isQuery(p[el4] & 0xFF)) {
            esport = IpPacket.u16(p, el4 + 4);
            edport = esport;
        }

        // This error's source side: the quoted packet's destination, internal to external.
        int nsrc = src;
        int nedst = edst;
        int nedport = edport;
        long now = 0;
        int si = TunnelNat.matchInternal(sources, edst, eproto, edport, efirst);
        if (si < -1) {
            return si;
        }
        if (si >= 0) {
            TunnelNat.Rule r = sources[si];
            if (r.dynamic) {
                now = nat.now();
                int slot = r.flows.existing(edst, edport, eproto, esrc, icmp ? 0 : esport, now);
                if (slot < 0) {
                    return NatDrop.NO_FLOW.code();
                }
                nedst = r.flows.externalAddress(slot);
                nedport = r.flows.externalPort(slot);
                nsrc = r.internalHas(src) ? nedst : src;
            } else {
                nedst = r.toExternal(edst);
                nedport = edport < 0 ? edport : r.portToExternal(edport);
                nsrc = r.internalHas(src) ? r.toExternal(src) : src;
            }
        } else {
            int oi = TunnelNat.matchInternal(sources, src, IpPacket.PROTO_ICMP, -1, true);
            if (oi >= 0 && !sources[oi].dynamic) {
                nsrc = sources[oi].toExternal(src);
            } else if (oi != -1) {
                return NatDrop.NO_FLOW.code(); // from a dynamic rule's addresses, about nothing it translated
            }
        }

        // This error's destination side: the quoted packet's source, external to internal.
        int ndst = dst;
        int nesrc = esrc;
        int nesport = esport;
        int di = TunnelNat.matchExternal(destinations, esrc, eproto, esport, efirst);
        if (di < -1) {
            return di;
        }
        if (di >= 0) {
            TunnelNat.Rule r = destinations[di];
            if (r.dynamic) {
                if (now == 0) {
                    now = nat.now();
                }
                int slot = r.flows.reverse(esrc, esport, eproto, nedst, icmp ? 0 : nedport, 0, now, false);
                if (slot < 0) {
                    return NatDrop.NO_FLOW.code();
                }
                nesrc = r.flows.foundAddress();
                nesport = r.flows.foundPort();
                ndst = r.externalHas(dst) ? nesrc : dst;
            } else {
                nesrc = r.toInternal(esrc);
                nesport = esport < 0 ? esport : r.portToInternal(esport);
                ndst = r.externalHas(dst) ? r.toInternal(dst) : dst;
            }
            if (!r.externalHas(dst) && TunnelNat.hidden(hiding, dst, IpPacket.PROTO_ICMP, -1, true)) {
                return NatDrop.UNTRANSLATED.code(); // to a hidden address by its real one
            }
        } else {
            // About a packet from a hidden address that left untranslated (it cannot have), or to one: forged.
            if (TunnelNat.hidden(hiding, esrc, eproto, esport, efirst)) {
                return NatDrop.UNTRANSLATED.code();
            }
            int oi = TunnelNat.matchExternal(destinations, dst, IpPacket.PROTO_ICMP, -1, true);
            if (oi >= 0 && !destinations[oi].dynamic) {
                ndst = destinations[oi].toInternal(dst);
            } else if (oi != -1) {
                return NatDrop.NO_FLOW.code();
            } else if (TunnelNat.hidden(hiding, dst, IpPacket.PROTO_ICMP, -1, true)) {
                return NatDrop.UNTRANSLATED.code();
            }
        }
        if (si == -1 && di == -1 && nsrc == src && ndst == dst) {
            return TunnelNat.PASS;
        }
        // A quoted echo's one identifier: as a dynamic rule maps it (the quoted source's rule first,
        // as the packet's own direction chose its source's), a static rule's leaves it as it is.
        int nid = di >= 0 && destinations[di].dynamic ? nesport : si >= 0 && sources[si].dynamic ? nedport : nesport;
        rewrite(p, ip, l4, e, el4, end, eproto, src, nsrc, dst, ndst, esrc, nesrc, edst, nedst, esport, nesport, edport, nedport,
                icmp ? nid : nesport);
        return TunnelNat.PASS;
    }

    private static void rewrite(byte[] p, int ip, int l4, int e, int el4, int end, int eproto, int src, int nsrc, int dst, int ndst,
                                int esrc, int nesrc, int edst, int nedst, int esport, int nesport, int edport, int nedport, int nid) {
        // The outer IPv4 header: addresses outside the ICMP checksum.
        int ipc = Checksum.address(Checksum.address(IpPacket.u16(p, ip + 10), src, nsrc), dst, ndst);
        IpPacket.put16(p, ip + 10, ipc);
        Checksum.put32(p, ip + 12, nsrc);
        Checksum.put32(p, ip + 16, ndst);
        // Everything from here on is inside the ICMP message: every changed word changes its checksum too.
        int icmpc = IpPacket.u16(p, l4 + 2);
        int eipc = IpPacket.u16(p, e + 10);
        int neipc = Checksum.address(Checksum.address(eipc, esrc, nesrc), edst, nedst);
        icmpc = Checksum.address(Checksum.address(icmpc, esrc, nesrc), edst, nedst);
        icmpc = Checksum.word(icmpc, eipc, neipc);
        Checksum.put32(p, e + 12, nesrc);
        Checksum.put32(p, e + 16, nedst);
        IpPacket.put16(p, e + 10, neipc);
        if (eproto == IpPacket.PROTO_TCP || eproto == IpPacket.PROTO_UDP) {
            if (esport >= 0) {
                icmpc = Checksum.word(Checksum.word(icmpc, esport, nesport), edport, nedport);
                IpPacket.put16(p, el4, nesport);
                IpPacket.put16(p, el4 + 2, nedport);
            }
            boolean tcp = eproto == IpPacket.PROTO_TCP;
            int at = el4 + (tcp ? 16 : 6);
            if (esport >= 0 && at + 2 <= end) {
                int old = IpPacket.u16(p, at);
                int c;
                if (tcp) {
                    c = Checksum.address(Checksum.address(old, esrc, nesrc), edst, nedst);
                    c = Checksum.word(Checksum.word(c, esport, nesport), edport, nedport);
                } else {
                    c = Checksum.udpAddress(Checksum.udpAddress(old, esrc, nesrc), edst, nedst);
                    c = Checksum.udpWord(Checksum.udpWord(c, esport, nesport), edport, nedport);
                }
                icmpc = Checksum.word(icmpc, old, c);
                IpPacket.put16(p, at, c);
            }
        } else if (eproto == IpPacket.PROTO_ICMP && esport >= 0 && nid != esport) {
            int old = IpPacket.u16(p, el4 + 2);
            int c = Checksum.word(old, esport, nid);
            icmpc = Checksum.word(Checksum.word(icmpc, old, c), esport, nid);
            IpPacket.put16(p, el4 + 2, c);
            IpPacket.put16(p, el4 + 4, nid);
        }
        IpPacket.put16(p, l4 + 2, icmpc);
    }
}
