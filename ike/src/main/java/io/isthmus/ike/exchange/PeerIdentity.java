package io.isthmus.ike.exchange;

import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.message.DistinguishedName;
import io.isthmus.ike.message.IdPayload;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Whether the identity a peer claims in IDi or IDr is the one a connection expects, the one
 * comparison both roles use: the claimed identity {@link Identity#matches} the configured one
 * (names as names, {@code CN=*} wildcards), or, with certificates, the peer's certificate names the
 * configured identity as its subject or a subject alternative name (strongSwan accepts
 * {@code remote id = gw.example.net} from a peer that sends its DN, when its certificate carries
 * that dNSName). And whether a certificate names an identity (RFC 4945 §3.5).
 */
final class PeerIdentity {
    /** How well a connection fits a claimed identity: lower first, so an exact match wins over a wildcard or a SAN. */
    static final int EXACT = 0;
    static final int WILDCARD = 1;
    static final int IF_CERTIFICATE_NAMES_IT = 2;
    static final int ANY = 3;
    static final int NO = Integer.MAX_VALUE;

    private PeerIdentity() {
    }

    /** How {@code c} may accept a peer claiming {@code claimed}, before any AUTH is checked. */
    static int fit(Connection c, Identity claimed) {
        Identity wanted = c.remoteId();
        if (wanted == null) {
            return ANY;
        }
        if (wanted.equals(claimed)) {
            return EXACT;
        }
        if (wanted.matches(claimed)) {
            return WILDCARD;
        }
        return c.authentication() instanceof Authentication.Certificates ? IF_CERTIFICATE_NAMES_IT : NO;
    }

    /**
     * Why the ID payload cannot be taken as an identity at all (a DN whose DER is not a Name), or
     * null. Such a payload is refused before any connection is tried.
     */
    static String malformed(IdPayload id) {
        if (id.idType() != IdPayload.ID_DER_ASN1_DN) {
            return null;
        }
        String problem = DistinguishedName.problem(id.data());
        return problem == null ? null : "its identity is not a DER distinguished name (" + problem + ")";
    }

    /**
     * Why {@code cert} does not name {@code id}, or null when it does: the subject for a DN (with
     * {@code asPattern}, {@code id}'s wildcards count), a dNSName, rfc822Name or iPAddress for
     * the other types.
     */
    static String unnamedBy(X509Certificate cert, Identity id, boolean asPattern) {
        try {
            switch (id.type()) {
                case IdPayload.ID_DER_ASN1_DN -> {
                    Optional<DistinguishedName> name = id.distinguishedName();
                    if (name.isEmpty()) {
                        return "identity " + id + " is not a DER distinguished name";
                    }
                    Optional<DistinguishedName> subject = DistinguishedName.parse(cert.getSubjectX500Principal().getEncoded());
                    if (subject.isPresent() && (asPattern ? name.get().matches(subject.get()) : name.get().equals(subject.get()))) {
                        return null;
                    }
                }
                case IdPayload.ID_FQDN, IdPayload.ID_RFC822_ADDR, IdPayload.ID_IPV4_ADDR, IdPayload.ID_IPV6_ADDR -> {
                    int sanType = switch (id.type()) {
                        case IdPayload.ID_FQDN -> 2;
                        case IdPayload.ID_RFC822_ADDR -> 1;
                        default -> 7;
                    };
                    Collection<List<?>> names = cert.getSubjectAlternativeNames();
                    if (names != null) {
                        for (List<?> name : names) {
                            if ((Integer) name.get(0) == sanType && sameName(sanType, name.get(1).toString(), id)) {
                                return null;
                            }
                        }
                    }
                }
                default -> {
                    return "identity " + id + " cannot be bound to a certificate";
                }
            }
        } catch (CertificateParsingException | IllegalArgumentException e) {
            return "cannot read the names in the peer's certificate: " + e.getMessage();
        }
        return "the peer's certificate \"" + Authentication.subject(cert) + "\" does not name identity " + id;
    }

    private static boolean sameName(int sanType, String inCertificate, Identity id) {
        if (sanType == 7) {
            try {
                // Only literal addresses: getByName of a name would ask DNS.
                return inCertificate.matches("[0-9a-fA-F:.]+") && Arrays.equals(InetAddress.getByName(inCertificate).getAddress(), id.data());
            } catch (UnknownHostException e) {
                return false;
            }
        }
        // As an identity of the same type: compared as Identity compares (ASCII case does not count), on its bytes, not its log form.
        return new Identity(id.type(), inCertificate.getBytes(StandardCharsets.ISO_8859_1)).equals(id);
    }
}
