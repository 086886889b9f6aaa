package io.isthmus.control;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.IpsecPolicy;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.TranslatedPrefixes;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeProposal;
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
            // The subject as the certificate encodes it (PrintableString where pki or the CA chose it): a peer that compares
            // identities byte for byte, as strongSwan does where it can, then finds its certificate names exactly this.
            localId = new Identity(io.isthmus.ike.message.IdPayload.ID_DER_ASN1_DN, chain.getFirst().getSubjectX500Principal().getEncoded());
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
        b.ike(ikeProposals(c));
        b.esp(espProposals(c));
        IpsecPolicy policy = c.ipsecPolicies().isEmpty() ? null : c.ipsecPolicies().getFirst();
        Duration childLife = policy == null ? ConfigReader.DEFAULT_SA_LIFETIME : policy.saLifeTime();
        long kilobytes = policy == null ? ConfigReader.DEFAULT_SA_KILOBYTES : policy.saDataSizeKilobytes();
        Connection.Timers az = Connection.Timers.AZURE;
        Duration ikeLife = c.ikeSaLifeTime();
        Duration margin = Duration.ofMillis(Math.min(540_000, Math.min(childLife.toMillis(), ikeLife.toMillis()) / 5));
        b.timers(new Connection.Timers(ikeLife, childLife, kilobytes, margin, az.rekeyJitter(), c.dpdDelay(), c.dpdTimeout(),
                az.retransmitBase(), az.retransmitTries(), az.natKeepalive()));
        b.forceUdpEncapsulation(c.forceUdpEncapsulation());
        b.mode(switch (c.connectionMode()) {
            case DEFAULT -> Connection.Mode.DEFAULT;
            case INITIATOR_ONLY -> Connection.Mode.INITIATOR_ONLY;
            case RESPONDER_ONLY -> Connection.Mode.RESPONDER_ONLY;
        });
        return b.build();
    }

    /**
     * The IKE proposals of every ipsecPolicies entry, in the file's order (each entry one
     * proposal: its DH group the key share sent first when it leads), without repeats; Azure's
     * defaults without a policy.
     */
    static List<IkeProposal> ikeProposals(GatewayConfig.Connection c) {
        if (c.ipsecPolicies().isEmpty()) {
            return ConfigReader.DEFAULT_IKE;
        }
        return c.ipsecPolicies().stream().map(IpsecPolicy::ikeProposal).distinct().toList();
    }

    /** The ESP proposals of every entry, in order, each as its {@code esn} says (ESN first with both), without repeats. */
    static List<ChildProposal> espProposals(GatewayConfig.Connection c) {
        if (c.ipsecPolicies().isEmpty()) {
            return ConfigReader.DEFAULT_ESP;
        }
        return c.ipsecPolicies().stream().flatMap(p -> p.espProposals().stream()).distinct().toList();
    }
}
