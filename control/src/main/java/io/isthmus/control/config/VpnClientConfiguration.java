package io.isthmus.control.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Point-to-site in Azure's words: the gateway's {@code vpnClientConfiguration}, what remote users
 * connecting with IKEv2 get (an address from {@code vpnClientAddressPool}, routes, DNS servers) and
 * how they prove who they are (certificates chained to {@code vpnClientRootCertificates}, or a
 * RADIUS server). Read and checked by {@link VpnClientSection}.
 *
 * @param addressPrefixes        the client address pool, IPv4 and/or IPv6
 * @param protocols              what clients speak (IkeV2 only, for now)
 * @param authenticationTypes    how clients authenticate
 * @param rootCertificates       the CAs a client certificate must chain to (Azure: up to 20)
 * @param revokedThumbprints     SHA-1 thumbprints of client certificates refused although they chain
 * @param radiusServers          in order of preference (highest score first)
 * @param customRoutes           prefixes pushed to clients (INTERNAL_IP4_SUBNET) besides the address space
 * @param dnsServers             pushed to clients (INTERNAL_IP4_DNS, INTERNAL_IP6_DNS)
 * @param maxClients             connected clients at most per instance: the SKU's count or a lower one configured
 * @param serverCertificate      the gateway's own certificate (PEM) it authenticates to clients with, as Azure's does
 * @param serverPrivateKey       its key (PEM, owner-only)
 */
public record VpnClientConfiguration(List<String> addressPrefixes, Set<Protocol> protocols, Set<AuthenticationType> authenticationTypes,
                                     List<RootCertificate> rootCertificates, List<RevokedCertificate> revokedThumbprints,
                                     List<RadiusServer> radiusServers, List<String> customRoutes, List<InetAddress> dnsServers,
                                     int maxClients, Path serverCertificate, Path serverPrivateKey) {
    public VpnClientConfiguration {
        addressPrefixes = List.copyOf(addressPrefixes);
        protocols = Set.copyOf(protocols);
        authenticationTypes = Set.copyOf(authenticationTypes);
        rootCertificates = List.copyOf(rootCertificates);
        revokedThumbprints = List.copyOf(revokedThumbprints);
        radiusServers = List.copyOf(radiusServers);
        customRoutes = List.copyOf(customRoutes);
        dnsServers = List.copyOf(dnsServers);
    }

    /** Azure's {@code vpnClientProtocols}; only IkeV2 is served here, the others are named so a refusal can say so. */
    public enum Protocol {
        IKEV2("IkeV2");

        private final String azureName;

        Protocol(String azureName) {
            this.azureName = azureName;
        }

        public String azureName() {
            return azureName;
        }
    }

    /** Azure's {@code vpnAuthenticationTypes} that Isthmus serves (AAD, Entra ID, needs OpenVPN). */
    public enum AuthenticationType {
        CERTIFICATE("Certificate"), RADIUS("Radius");

        private final String azureName;

        AuthenticationType(String azureName) {
            this.azureName = azureName;
        }

        public String azureName() {
            return azureName;
        }
    }

    /** One uploaded root: a client certificate must chain to one of these. */
    public record RootCertificate(String name, X509Certificate certificate) {
    }

    /** A client certificate refused by its SHA-1 thumbprint (40 upper-case hex digits, as Azure shows it). */
    public record RevokedCertificate(String name, String thumbprint) {
    }

    /**
     * A RADIUS server (Azure's {@code radiusServers}): its address, the shared secret and its score
     * (1 to 30; higher is tried first). The secret never leaves this record in text.
     */
    public record RadiusServer(InetAddress address, int port, byte[] secret, int score) {
        public RadiusServer {
            secret = secret.clone();
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        /** Wiped when a refused or replaced configuration lets go of it. */
        public void destroySecret() {
            Arrays.fill(secret, (byte) 0);
        }

        @Override
        public String toString() {
            return "RadiusServer[" + address.getHostAddress() + ":" + port + ", score " + score + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RadiusServer r && r.address.equals(address) && r.port == port && r.score == score
                    && java.security.MessageDigest.isEqual(r.secret, secret);
        }

        @Override
        public int hashCode() {
            return address.hashCode() * 31 + port * 7 + score;
        }
    }

    /** Whether clients may authenticate this way. */
    public boolean allows(AuthenticationType type) {
        return authenticationTypes.contains(type);
    }

    /** Whether {@code thumbprint} (hex, any case) is among the revoked ones. */
    public boolean revoked(String thumbprint) {
        return revokedThumbprints.stream().anyMatch(r -> r.thumbprint().equalsIgnoreCase(thumbprint));
    }
}
