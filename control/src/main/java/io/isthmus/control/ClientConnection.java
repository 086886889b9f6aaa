package io.isthmus.control;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.VpnClientConfiguration;
import io.isthmus.control.p2s.VpnClientPools;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.EapAuthenticator;
import io.isthmus.ike.Identity;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's {@code vpnClientConfiguration} as the IKE engine takes it: one responder-only
 * connection from any address, the gateway authenticating with its server certificate and the
 * clients with certificates chained to the uploaded roots (revoked thumbprints refused); each
 * client gets an address of the pool, the DNS servers, and the gateway's address space and custom
 * routes as the prefixes it may reach (its TSr, and INTERNAL_IP4_SUBNET).
 */
final class ClientConnection {
    /** Not a name Azure allows a connection (no colon), so never a configured connection's. */
    public static final String NAME = "p2s:clients";

    private ClientConnection() {
    }

    /** The prefixes clients reach through the gateway: its address space and the custom routes, without repeats. */
    static List<String> reachable(GatewayConfig config) {
        List<String> out = new ArrayList<>();
        for (String p : config.gateway().addressSpace()) {
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        for (String p : config.gateway().vpnClientConfiguration().customRoutes()) {
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Null when the gateway has no vpnClientConfiguration. {@code eap}: who decides EAP clients
     * (the RADIUS servers), null when vpnAuthenticationTypes has no Radius.
     */
    static Connection of(GatewayConfig config, GatewayConfig.Instance instance, VpnClientPools pools, EapAuthenticator eap) throws IOException {
        VpnClientConfiguration v = config.gateway().vpnClientConfiguration();
        if (v == null) {
            return null;
        }
        List<X509Certificate> chain = Pem.certificates(v.serverCertificate());
        boolean certificates = v.allows(VpnClientConfiguration.AuthenticationType.CERTIFICATE);
        List<X509Certificate> roots = v.rootCertificates().stream().map(VpnClientConfiguration.RootCertificate::certificate).toList();
        if (!certificates || roots.isEmpty()) {
            // No client certificate is accepted then (RemoteAccess.certificateClients); the engine wants an anchor all the same.
            roots = List.of(chain.getLast());
        }
        List<String> reachable = reachable(config);
        List<ConfigurationReply.Subnet> routes = new ArrayList<>();
        for (String p : reachable) {
            String[] parts = p.split("/", 2);
            routes.add(new ConfigurationReply.Subnet(InetAddress.ofLiteral(parts[0].strip()), AddressPrefix.parse(p).length()));
        }
        RemoteAccess ra = new RemoteAccess(pools.ipv4(), pools.ipv6(), v.dnsServers(), routes,
                new RevokedCertificates(v.revokedThumbprints().stream().map(VpnClientConfiguration.RevokedCertificate::thumbprint).toList()),
                certificates);
        // The subject as the certificate encodes it: a client that compares identities byte for byte (strongSwan) finds it so.
        Identity localId = new Identity(IdPayload.ID_DER_ASN1_DN, chain.getFirst().getSubjectX500Principal().getEncoded());
        Connection.Builder b = Connection.builder(NAME).local(instance.bindAddress(), localId).remote(null, null)
                .authentication(new Authentication.Certificates(Pem.privateKey(v.serverPrivateKey()), chain, roots, false))
                .ike(ConfigReader.DEFAULT_IKE).esp(ConfigReader.DEFAULT_ESP).remoteAccess(ra).eap(eap);
        reachable.forEach(b::localTs);
        v.addressPrefixes().forEach(b::remoteTs);
        return b.build();
    }
}
