package io.isthmus.control;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.IpsecPolicy;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.TranslatedPrefixes;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A configured connection (Azure's model) as the IKE engine takes it: identities, how both ends
 * authenticate, traffic selectors (any to any when route-based, Azure's way, the tunnel table
 * deciding what goes in; the prefixes themselves when policy-based), proposals, Azure's timers
 * with the policy's lifetimes, and the connection mode.
 */
final class IkeConnections {
    private IkeConnections() {
    }

    static Connection of(GatewayConfig config, GatewayConfig.Instance instance, GatewayConfig.Connection c) throws IOException {
        LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
        Connection.Builder b = Connection.builder(c.name());
        Identity remoteId;
        if (site.ikeIdentity() != null) {
            remoteId = Identity.parse(site.ikeIdentity());
        } else if (c.certificate() != null && c.certificate().inboundAuthCertificateSubjectName() != null) {
            remoteId = Identity.parse(c.certificate().inboundAuthCertificateSubjectName());
        } else if (site.gatewayRange() != null) {
            remoteId = null; // devices from a range: each its own identity, proved by the key or certificate
        } else {
            remoteId = Identity.of(site.gatewayIpAddress());
        }
        Identity localId = Identity.of(config.identityAddress(instance, c));
        if (c.sharedKey() != null) {
            b.preSharedKey(c.sharedKey());
        } else {
            var cert = c.certificate();
            List<X509Certificate> chain = Pem.certificates(cert.outboundAuthCertificate());
            List<X509Certificate> anchors = new ArrayList<>();
            for (var file : cert.inboundAuthCertificateChain()) {
                anchors.addAll(Pem.certificates(file));
            }
            b.authentication(new Authentication.Certificates(Pem.privateKey(cert.privateKey()), chain, anchors, false));
            localId = Identity.parse(org.bouncycastle.asn1.x500.X500Name.getInstance(chain.getFirst().getSubjectX500Principal().getEncoded())
                    .toString());
        }
        b.local(config.localAddress(instance, c), localId);
        if (site.gatewayRange() != null) {
            b.remoteRange(site.gatewayIpAddress(), site.gatewayRange().length(), remoteId);
        } else {
            b.remote(site.gatewayIpAddress(), remoteId);
        }
        if (c.usePolicyBasedTrafficSelectors()) {
            // No NAT here (refused with policy-based selectors, as Azure does): the addressSpace and the site's prefixes as written.
            TranslatedPrefixes.TrafficSelectors ts = TranslatedPrefixes.of(config).selectors(c);
            ts.local().forEach(b::localTs);
            ts.remote().forEach(b::remoteTs);
        } else {
            // Any to any, NAT or not: Azure's route-based way, and what its NAT requires of the peer (TranslatedPrefixes).
            b.localTs("0.0.0.0/0").localTs("::/0").remoteTs("0.0.0.0/0").remoteTs("::/0");
        }
        IpsecPolicy policy = c.ipsecPolicies().isEmpty() ? null : c.ipsecPolicies().getFirst();
        b.ike(policy == null ? ConfigReader.DEFAULT_IKE : List.of(policy.ikeProposal()));
        b.esp(policy == null ? ConfigReader.DEFAULT_ESP : List.of(policy.espProposal()));
        Duration childLife = policy == null ? ConfigReader.DEFAULT_SA_LIFETIME : policy.saLifeTime();
        long kilobytes = policy == null ? ConfigReader.DEFAULT_SA_KILOBYTES : policy.saDataSizeKilobytes();
        Connection.Timers az = Connection.Timers.AZURE;
        Duration ikeLife = az.ikeLifetime();
        Duration margin = Duration.ofMillis(Math.min(540_000, Math.min(childLife.toMillis(), ikeLife.toMillis()) / 5));
        b.timers(new Connection.Timers(ikeLife, childLife, kilobytes, margin, az.rekeyJitter(), az.dpdDelay(), c.dpdTimeout(),
                az.retransmitBase(), az.retransmitTries(), az.natKeepalive()));
        b.forceUdpEncapsulation(c.forceUdpEncapsulation());
        b.mode(switch (c.connectionMode()) {
            case DEFAULT -> Connection.Mode.DEFAULT;
            case INITIATOR_ONLY -> Connection.Mode.INITIATOR_ONLY;
            case RESPONDER_ONLY -> Connection.Mode.RESPONDER_ONLY;
        });
        return b.build();
    }
}
