package io.isthmus.ike.remoteaccess;

import io.isthmus.ike.message.CpPayload;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * What a remote-access client asks for in its CFG_REQUEST (RFC 7296 §3.15): an IPv4 and/or
 * IPv6 address (perhaps the one it had), DNS servers, the protected subnets. The wire framing is
 * {@link io.isthmus.ike.message.PayloadCodec}'s; this reads the attributes' meaning.
 *
 * <p>A client's attributes are hostile input: one of a length its type does not have is skipped
 * and counted in {@code malformed} (the rest of the request still counts), one of a type not
 * known here is skipped and counted in {@code unknown}, as §3.15.1 has the responder ignore what it
 * does not support. A requested address is a wish; the pool decides.
 */
public record ConfigurationRequest(boolean ipv4, InetAddress requestedIpv4, boolean ipv6, InetAddress requestedIpv6, boolean dns4,
                                   boolean dns6, boolean subnets, int malformed, int unknown) {
    // RFC 7296 §3.15.1 attribute types.
    public static final int INTERNAL_IP4_ADDRESS = 1;
    public static final int INTERNAL_IP4_NETMASK = 2;
    public static final int INTERNAL_IP4_DNS = 3;
    public static final int INTERNAL_IP4_NBNS = 4;
    public static final int INTERNAL_IP4_DHCP = 6;
    public static final int APPLICATION_VERSION = 7;
    public static final int INTERNAL_IP6_ADDRESS = 8;
    public static final int INTERNAL_IP6_DNS = 10;
    public static final int INTERNAL_IP6_DHCP = 12;
    public static final int INTERNAL_IP4_SUBNET = 13;
    public static final int SUPPORTED_ATTRIBUTES = 14;
    public static final int INTERNAL_IP6_SUBNET = 15;

    /** Whether the client asked for an address of any family: a remote-access client. */
    public boolean wantsAddress() {
        return ipv4 || ipv6;
    }

    /**
     * The CFG_REQUEST an initiator sends for {@code wished} (one address per family; 0.0.0.0 or ::
     * asks for any, as strongSwan's {@code vips}), with the DNS servers of those families.
     */
    public static CpPayload payload(java.util.List<InetAddress> wished) {
        java.util.List<CpPayload.Attribute> out = new java.util.ArrayList<>();
        for (InetAddress w : wished) {
            boolean four = w.getAddress().length == 4;
            byte[] v = w.isAnyLocalAddress() ? new byte[0] : four ? w.getAddress() : java.util.Arrays.copyOf(w.getAddress(), 17);
            if (!four && v.length == 17) {
                v[16] = (byte) 128;
            }
            out.add(new CpPayload.Attribute(four ? INTERNAL_IP4_ADDRESS : INTERNAL_IP6_ADDRESS, v));
            out.add(new CpPayload.Attribute(four ? INTERNAL_IP4_DNS : INTERNAL_IP6_DNS, new byte[0]));
        }
        return new CpPayload(CpPayload.CFG_REQUEST, out);
    }

    /** The request in {@code cp}; null when it is not a CFG_REQUEST (a CFG_SET or reply has no place in IKE_AUTH's request). */
    public static ConfigurationRequest of(CpPayload cp) {
        if (cp.cfgType() != CpPayload.CFG_REQUEST) {
            return null;
        }
        boolean ipv4 = false;
        boolean ipv6 = false;
        boolean dns4 = false;
        boolean dns6 = false;
        boolean subnets = false;
        InetAddress want4 = null;
        InetAddress want6 = null;
        int malformed = 0;
        int unknown = 0;
        for (CpPayload.Attribute a : cp.attributes()) {
            byte[] v = a.value();
            boolean ok = switch (a.type()) {
                case INTERNAL_IP4_ADDRESS -> {
                    if (v.length != 0 && v.length != 4) {
                        yield false;
                    }
                    ipv4 = true;
                    InetAddress w = v.length == 4 ? address(v, 4) : null;
                    // 0.0.0.0 is "any", as strongSwan's vips=0.0.0.0 sends it.
                    want4 = w != null && !w.isAnyLocalAddress() ? w : want4;
                    yield true;
                }
                case INTERNAL_IP6_ADDRESS -> {
                    if (v.length != 0 && v.length != 17) {
                        yield false;
                    }
                    ipv6 = true;
                    InetAddress w = v.length == 17 ? address(v, 16) : null;
                    want6 = w != null && !w.isAnyLocalAddress() ? w : want6;
                    yield true;
                }
                case INTERNAL_IP4_DNS -> {
                    dns4 = true;
                    yield v.length == 0 || v.length == 4;
                }
                case INTERNAL_IP6_DNS -> {
                    dns6 = true;
                    yield v.length == 0 || v.length == 16;
                }
                case INTERNAL_IP4_SUBNET, INTERNAL_IP6_SUBNET -> {
                    subnets = true;
                    yield v.length == 0 || v.length == (a.type() == INTERNAL_IP4_SUBNET ? 8 : 17);
                }
                case INTERNAL_IP4_NETMASK, INTERNAL_IP4_NBNS, INTERNAL_IP4_DHCP, INTERNAL_IP6_DHCP, APPLICATION_VERSION, SUPPORTED_ATTRIBUTES -> true;
                default -> {
                    unknown++;
                    yield true;
                }
            };
            if (!ok) {
                malformed++;
            }
        }
        return new ConfigurationRequest(ipv4, want4, ipv6, want6, dns4, dns6, subnets, malformed, unknown);
    }

    private static InetAddress address(byte[] v, int length) {
        try {
            return InetAddress.getByAddress(java.util.Arrays.copyOf(v, length));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("length checked above", e);
        }
    }
}
