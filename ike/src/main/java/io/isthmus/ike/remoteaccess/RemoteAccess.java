package io.isthmus.ike.remoteaccess;

import io.isthmus.ike.message.CpPayload;
import io.isthmus.ike.message.NotifyType;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * What a responder-only connection gives road-warrior clients (Azure's
 * {@code vpnClientConfiguration}, strongSwan's {@code pools}): an address from the pool of each
 * family the client asks for, the DNS servers, the prefixes it may reach (pushed as
 * INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET, and the child SA's TSr), and the certificates refused
 * although they chain to a root.
 *
 * <p>Leases are keyed by the client's proven identity and owned by its IKE SA (our SPI): the
 * pool keeps an identity's address across a reconnect and frees it some time after its last IKE
 * SA died ({@link VirtualAddressPool}).
 *
 * @param ipv4   null when the pool has no IPv4 prefix
 * @param ipv6   null when it has no IPv6 prefix
 * @param routes what the clients may reach through the gateway (its address space and custom routes)
 * @param certificateClients whether clients may authenticate with certificates (Azure's
 *                           vpnAuthenticationTypes has Certificate); false: EAP only
 */
public record RemoteAccess(VirtualAddressPool ipv4, VirtualAddressPool ipv6, List<InetAddress> dnsServers,
                           List<ConfigurationReply.Subnet> routes, RevokedCertificates revoked, boolean certificateClients) {

    /** Clients with certificates (and EAP where the connection takes it). */
    public RemoteAccess(VirtualAddressPool ipv4, VirtualAddressPool ipv6, List<InetAddress> dnsServers, List<ConfigurationReply.Subnet> routes,
                        RevokedCertificates revoked) {
        this(ipv4, ipv6, dnsServers, routes, revoked, true);
    }

    public RemoteAccess {
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("remote access needs a client address pool of at least one family");
        }
        if (ipv4 != null && !ipv4.isIpv4() || ipv6 != null && ipv6.isIpv4()) {
            throw new IllegalArgumentException("the IPv4 pool must hand out IPv4 addresses and the IPv6 pool IPv6 ones");
        }
        dnsServers = List.copyOf(dnsServers);
        routes = List.copyOf(routes);
        revoked = revoked == null ? new RevokedCertificates(List.of()) : revoked;
    }

    /**
     * The addresses given to a client, with the CFG_REPLY that tells it; or, when none could be
     * given, the notify that refuses its child SA (RFC 7296 §3.15.4) and why.
     */
    public record Lease(List<InetAddress> addresses, CpPayload reply, int refusal, String why) {
        public boolean granted() {
            return !addresses.isEmpty();
        }
    }

    /**
     * Addresses for the client {@code identity} of IKE SA {@code sa}, as {@code request} asks:
     * {@code fixed} (an address a RADIUS server chose, Framed-IP-Address) wins over the pool's
     * choice, and is held in the pool like any other (refused outside it, or while another
     * client's IKE SA uses it). A family the client asks for and we have no pool for is left out of the reply
     * (§3.15.4: the client does without); none at all is INTERNAL_ADDRESS_FAILURE, and a client
     * that sends no request, or asks no address, is FAILED_CP_REQUIRED: every remote-access child
     * SA is bound to an address of the pool, never to what the client would claim.
     */
    public Lease lease(ConfigurationRequest request, String identity, long sa, InetAddress fixed) {
        if (request == null || !request.wantsAddress()) {
            return new Lease(List.of(), null, NotifyType.FAILED_CP_REQUIRED,
                    request == null ? "the client sent no CFG_REQUEST" : "the client's CFG_REQUEST asks for no address");
        }
        InetAddress four = null;
        InetAddress six = null;
        List<String> refused = new ArrayList<>();
        if (request.ipv4()) {
            four = from(ipv4, "IPv4", identity, sa, fixed instanceof Inet4Address ? fixed : null, refused);
        }
        if (request.ipv6()) {
            six = from(ipv6, "IPv6", identity, sa, fixed != null && !(fixed instanceof Inet4Address) ? fixed : null, refused);
        }
        if (four == null && six == null) {
            release(sa);
            return new Lease(List.of(), null, NotifyType.INTERNAL_ADDRESS_FAILURE, String.join(", ", refused));
        }
        List<InetAddress> given = new ArrayList<>();
        if (four != null) {
            given.add(four);
        }
        if (six != null) {
            given.add(six);
        }
        CpPayload reply = ConfigurationReply.of(four, six, request.dns4() || request.dns6() ? dnsServers : List.of(), routes);
        return new Lease(List.copyOf(given), reply, 0, null);
    }

    /** An address of {@code pool} for the client, {@code fixed} if a RADIUS server chose it; why not into {@code refused}. */
    private static InetAddress from(VirtualAddressPool pool, String family, String identity, long sa, InetAddress fixed, List<String> refused) {
        if (pool == null) {
            refused.add("no " + family + " pool");
            return null;
        }
        VirtualAddressPool.Assignment a = fixed == null ? pool.acquire(identity, sa) : pool.acquireFixed(identity, sa, fixed);
        if (!a.granted()) {
            String server = fixed == null ? "" : "the RADIUS server's Framed-IP-Address " + fixed.getHostAddress() + " ";
            refused.add(family + " pool: " + server + switch (a.refusal()) {
                case OUTSIDE -> "is outside the pool (traffic to it would not route back)";
                case TAKEN -> "is held by another client's IKE SA";
                case EXHAUSTED -> "exhausted";
                case MAX_CLIENTS -> "maxClients reached";
            });
        }
        return a.address();
    }

    /**
     * The same identity's addresses for the IKE SA {@code sa} that replaces another (an IKE
     * rekey): the pools hand out what the identity holds.
     */
    public void carryOver(String identity, long sa) {
        if (ipv4 != null && ipv4.addressOf(identity) != null) {
            ipv4.acquire(identity, sa);
        }
        if (ipv6 != null && ipv6.addressOf(identity) != null) {
            ipv6.acquire(identity, sa);
        }
    }

    /** IKE SA {@code sa} is gone: its addresses wait for its identity for the pool's grace time. */
    public void release(long sa) {
        if (ipv4 != null) {
            ipv4.release(sa);
        }
        if (ipv6 != null) {
            ipv6.release(sa);
        }
    }
}
