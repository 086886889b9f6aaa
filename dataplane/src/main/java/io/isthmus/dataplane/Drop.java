package io.isthmus.dataplane;

import io.isthmus.dataplane.nat.NatDrop;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.SealFailure;

/**
 * Why the data plane dropped a packet, the closed set it counts by (per tunnel, or globally when
 * no tunnel can be named). The ESP_ ones mirror {@link DropReason}; the names in parentheses are
 * Azure's metrics they feed.
 */
public enum Drop {
    /** Outbound: no tunnel's prefixes hold the destination. */
    NO_ROUTE,
    /** Outbound: the tunnel has no child SA (yet). */
    NO_SA,
    /** Inbound: the decrypted packet is outside the SA's traffic selectors (TunnelIngressPacketDropTSMismatch). */
    TS_MISMATCH,
    /**
     * Outbound, policy-based: the tunnel has child SAs, but none whose traffic selectors hold the
     * packet (TunnelEgressPacketDropTSMismatch).
     */
    TS_MISMATCH_EGRESS,
    /** Outbound: bigger than the tunnel carries; an ICMP error went back to the sender. */
    TOO_BIG,
    /** Outbound: the SA's sequence numbers are used up; it waits for its replacement. The SEAL_ ones mirror {@link SealFailure}. */
    SEAL_SEQUENCE_NUMBERS_EXHAUSTED,
    /** Outbound: the SA reached its hard byte or packet lifetime. */
    SEAL_LIFETIME_EXPIRED,
    /** Outbound: the SA was already destroyed (a bug of ours: SAs leave the tables before they are destroyed). */
    SEAL_SA_DELETED,
    SEAL_BUFFER_TOO_SMALL,
    SEAL_INVALID_LENGTH,
    SEAL_INVALID_NEXT_HEADER,
    /**
     * Outbound: in a gateway pair, the SA's sequence lease is used up or past its deadline: this
     * node may not send on it until the pair grants more numbers (or it is the standby).
     */
    SEAL_SEQUENCE_LEASE,
    /** The kernel refused to send. */
    SEND_FAILED,
    /** Not an IPv4 or IPv6 packet, or its lengths do not add up. */
    MALFORMED_INNER,
    /** Inbound: no SA with that SPI. */
    UNKNOWN_SPI,
    /** The kernel refused the packet on the TUN device. */
    TUN_WRITE_FAILED,
    ESP_TOO_SHORT,
    ESP_MALFORMED,
    ESP_REPLAY,
    ESP_OUTSIDE_WINDOW,
    ESP_BAD_ICV,
    ESP_BAD_PADDING,
    ESP_UNSUPPORTED_NEXT_HEADER,
    ESP_DUMMY_PACKET,
    ESP_SA_EXPIRED,
    ESP_SA_DELETED,
    /**
     * NAT, inbound (the NAT_ ones mirror {@link NatDrop}, first inbound, then the same outbound as
     * _EGRESS, as TS_MISMATCH has its egress twin): a dynamic rule's flow table is full, the
     * packet that needed a new flow dropped.
     */
    NAT_FLOW_TABLE_FULL,
    /** NAT: to a dynamic rule's external address without a flow (unsolicited, forged or expired). */
    NAT_NO_FLOW,
    /** NAT: a later fragment, without ports, that a dynamic rule or one with port ranges would need them for. */
    NAT_FRAGMENT,
    /** NAT: a rule applies but the header it must rewrite (or an ICMP error's quoted header) is cut short. */
    NAT_MALFORMED,
    /** NAT: neither TCP, UDP nor ICMP echo, from or to a dynamic rule's addresses. */
    NAT_UNSUPPORTED_PROTOCOL,
    NAT_FLOW_TABLE_FULL_EGRESS,
    NAT_NO_FLOW_EGRESS,
    NAT_FRAGMENT_EGRESS,
    NAT_MALFORMED_EGRESS,
    NAT_UNSUPPORTED_PROTOCOL_EGRESS,
    /**
     * NAT: to a dynamic rule's internal address by its real address, untranslated (inbound: a
     * virtual network address hidden by a dynamic EgressSnat rule; outbound, _EGRESS: a site
     * address hidden by a dynamic IngressSnat rule). Appended, as any new drop: the NAT_ ones are
     * found by name, not by position.
     */
    NAT_UNTRANSLATED,
    NAT_UNTRANSLATED_EGRESS,
    /**
     * Inbound, raw ESP: the outer IPv4 header is not one ESP is taken from (cut short, lengths
     * that do not add up, a fragment, another protocol or another address); the kernel filters
     * these before a raw socket, so a count here means a kernel or sandbox that did not.
     */
    MALFORMED_OUTER,
    /** Inbound: longer than a receive takes (raw ESP: 9,216 bytes, the largest path MTU), so cut. */
    RECEIVE_TRUNCATED;

    private static final Drop[] VALUES = values();
    /** The drop of each {@link NatDrop}, by its ordinal: inbound, then outbound. */
    private static final Drop[] NAT_IN = new Drop[NatDrop.values().length];
    private static final Drop[] NAT_OUT = new Drop[NatDrop.values().length];

    static {
        for (NatDrop n : NatDrop.values()) {
            NAT_IN[n.ordinal()] = valueOf("NAT_" + n.name());
            NAT_OUT[n.ordinal()] = valueOf("NAT_" + n.name() + "_EGRESS");
        }
    }

    static Drop of(DropReason reason) {
        return VALUES[ESP_TOO_SHORT.ordinal() + reason.ordinal()];
    }

    /** The drop for a failed seal, from the code {@code OutboundSa.seal} returned. */
    static Drop ofSeal(int code) {
        return VALUES[SEAL_SEQUENCE_NUMBERS_EXHAUSTED.ordinal() + SealFailure.fromCode(code).ordinal()];
    }

    /** The drop for a NAT translation's result code ({@link io.isthmus.dataplane.nat.TunnelNat}), on the way in or out. */
    static Drop ofNat(int code, boolean egress) {
        return (egress ? NAT_OUT : NAT_IN)[NatDrop.fromCode(code).ordinal()];
    }

    /** Whether this drop happened on the way out (Azure's TunnelEgressPacketDrop... metrics). */
    public boolean isEgress() {
        return this == NO_SA || this == TS_MISMATCH_EGRESS || this == TOO_BIG || this == SEND_FAILED || name().startsWith("SEAL_")
                || name().startsWith("NAT_") && name().endsWith("_EGRESS");
    }
}
