package io.isthmus.ike.remoteaccess;

import io.isthmus.ike.message.CpPayload;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's CFG_REPLY (RFC 7296 §3.15) to a {@link ConfigurationRequest}: the client's
 * address of each family it asked for and was given, the DNS servers of those families, and the
 * prefixes it should send into the tunnel (INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET, split
 * tunnelling).
 */
public final class ConfigurationReply {
    /** A prefix pushed to the client, as its network address and length. */
    public record Subnet(InetAddress network, int length) {
        public Subnet {
            int max = network.getAddress().length * 8;
            if (length < 0 || length > max) {
                throw new IllegalArgumentException("/" + length + " is not a prefix length of " + network.getHostAddress());
            }
        }
    }

    private ConfigurationReply() {
    }

    /**
     * @param ipv4 the client's IPv4 address, or null when it asked for none or none was given
     * @param ipv6 the client's IPv6 address, or null
     */
    public static CpPayload of(InetAddress ipv4, InetAddress ipv6, List<InetAddress> dns, List<Subnet> subnets) {
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("a reply gives the client an address; without one the request is refused (INTERNAL_ADDRESS_FAILURE)");
        }
        List<CpPayload.Attribute> out = new ArrayList<>();
        if (ipv4 != null) {
            out.add(new CpPayload.Attribute(ConfigurationRequest.INTERNAL_IP4_ADDRESS, family(ipv4, 4)));
        }
        if (ipv6 != null) {
            byte[] v = new byte[17];
            System.arraycopy(family(ipv6, 16), 0, v, 0, 16);
            // One address of its own, not a subnet the client may number from.
            v[16] = (byte) 128;
            out.add(new CpPayload.Attribute(ConfigurationRequest.INTERNAL_IP6_ADDRESS, v));
        }
        for (InetAddress d : dns) {
            boolean four = d instanceof Inet4Address;
            if (four ? ipv4 != null : ipv6 != null) {
                out.add(new CpPayload.Attribute(four ? ConfigurationRequest.INTERNAL_IP4_DNS : ConfigurationRequest.INTERNAL_IP6_DNS, d.getAddress()));
            }
        }
        for (Subnet s : subnets) {
            byte[] n = s.network().getAddress();
            if (n.length == 4 && ipv4 != null) {
                byte[] v = new byte[8];
                System.arraycopy(n, 0, v, 0, 4);
                int mask = s.length() == 0 ? 0 : -1 << (32 - s.length());
                v[4] = (byte) (mask >>> 24);
                v[5] = (byte) (mask >>> 16);
                v[6] = (byte) (mask >>> 8);
                v[7] = (byte) mask;
                out.add(new CpPayload.Attribute(ConfigurationRequest.INTERNAL_IP4_SUBNET, v));
            } else if (n.length == 16 && ipv6 != null) {
                byte[] v = new byte[17];
                System.arraycopy(n, 0, v, 0, 16);
                v[16] = (byte) s.length();
                out.add(new CpPayload.Attribute(ConfigurationRequest.INTERNAL_IP6_SUBNET, v));
            }
        }
        return new CpPayload(CpPayload.CFG_REPLY, out);
    }

    /**
     * What a CFG_REPLY gave us as the client (an initiator that asked for a virtual address):
     * addresses, DNS servers, the prefixes to send into the tunnel. Attributes of a wrong length
     * are skipped, as {@link ConfigurationRequest} skips them.
     */
    public record Received(List<InetAddress> addresses, List<InetAddress> dns, List<Subnet> subnets) {
        public Received {
            addresses = List.copyOf(addresses);
            dns = List.copyOf(dns);
            subnets = List.copyOf(subnets);
        }
    }

    /** The reply in {@code cp}, or null when it is not a CFG_REPLY. */
    public static Received read(CpPayload cp) {
        if (cp.cfgType() != CpPayload.CFG_REPLY) {
            return null;
        }
        List<InetAddress> addresses = new ArrayList<>();
        List<InetAddress> dns = new ArrayList<>();
        List<Subnet> subnets = new ArrayList<>();
        for (CpPayload.Attribute a : cp.attributes()) {
            byte[] v = a.value();
            switch (a.type()) {
                case ConfigurationRequest.INTERNAL_IP4_ADDRESS -> {
                    if (v.length == 4) {
                        addresses.add(address(v, 4));
                    }
                }
                case ConfigurationRequest.INTERNAL_IP6_ADDRESS -> {
                    if (v.length == 17) {
                        addresses.add(address(v, 16));
                    }
                }
                case ConfigurationRequest.INTERNAL_IP4_DNS, ConfigurationRequest.INTERNAL_IP6_DNS -> {
                    if (v.length == 4 || v.length == 16) {
                        dns.add(address(v, v.length));
                    }
                }
                case ConfigurationRequest.INTERNAL_IP4_SUBNET -> {
                    if (v.length == 8) {
                        int mask = ((v[4] & 0xFF) << 24) | ((v[5] & 0xFF) << 16) | ((v[6] & 0xFF) << 8) | (v[7] & 0xFF);
                        int length = Integer.bitCount(mask);
                        if (mask == (length == 0 ? 0 : -1 << (32 - length))) {
                            subnets.add(new Subnet(address(v, 4), length));
                        }
                    }
                }
                case ConfigurationRequest.INTERNAL_IP6_SUBNET -> {
                    if (v.length == 17 && (v[16] & 0xFF) <= 128) {
                        subnets.add(new Subnet(address(v, 16), v[16] & 0xFF));
                    }
                }
                default -> {
                }
            }
        }
        return new Received(addresses, dns, subnets);
    }

    private static InetAddress address(byte[] v, int length) {
        try {
            return InetAddress.getByAddress(java.util.Arrays.copyOf(v, length));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("length checked by the caller", e);
        }
    }

    private static byte[] family(InetAddress a, int length) {
        byte[] b = a.getAddress();
        if (b.length != length) {
            throw new IllegalArgumentException(a.getHostAddress() + " is not an IPv" + (length == 4 ? 4 : 6) + " address");
        }
        return b;
    }
}
