package io.isthmus.dataplane.nat;

/**
 * Why NAT dropped a packet; the data plane counts each per tunnel (its {@code Drop.NAT_*}).
 * {@link TunnelNat}'s translations return {@link #code()} for these, 0 for a packet that goes on.
 */
public enum NatDrop {
    /** A dynamic rule's flow table is full: the packet that would have made a new flow is dropped. */
    FLOW_TABLE_FULL,
    /** To a dynamic rule's external address, but no flow (unsolicited, forged, or expired). */
    NO_FLOW,
    /** A later IPv4 fragment that a rule needs ports for (dynamic, or a static rule with port ranges): it carries none. */
    FRAGMENT,
    /** A rule applies, but the transport header (or an ICMP error's embedded header) it must rewrite is cut short. */
    MALFORMED,
    /** A dynamic rule can translate TCP, UDP and ICMP echo only: anything else from or to its addresses. */
    UNSUPPORTED_PROTOCOL,
    /**
     * To one of a dynamic rule's internal addresses by its real address, which the rule hides:
     * the other side may answer its flows, never start one (appended: the codes before keep theirs).
     */
    UNTRANSLATED;

    private static final NatDrop[] VALUES = values();

    /** What a translation returns for this drop: negative, and never -1 (which matching uses for "no rule"). */
    public int code() {
        return -2 - ordinal();
    }

    /** The drop a translation's negative result stands for. */
    public static NatDrop fromCode(int code) {
        return VALUES[-2 - code];
    }
}
