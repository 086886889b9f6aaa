package io.isthmus.ike.remoteaccess;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Client certificates refused by thumbprint (Azure's {@code vpnClientRevokedCertificates}): the
 * SHA-1 of the certificate's DER encoding, as Windows and Azure show it. A revoked certificate
 * still chains to a root; this is checked after the chain, and refuses with
 * AUTHENTICATION_FAILED like any other bad credential.
 */
public final class RevokedCertificates {
    private final Set<String> thumbprints;

    /** @param thumbprints 40 hexadecimal digits each, any case (checked by the configuration) */
    public RevokedCertificates(List<String> thumbprints) {
        for (String t : thumbprints) {
            if (!t.matches("[0-9A-Fa-f]{40}")) {
                throw new IllegalArgumentException("not a SHA-1 thumbprint: " + t);
            }
        }
        this.thumbprints = Set.copyOf(thumbprints.stream().map(t -> t.toUpperCase(Locale.ROOT)).toList());
    }

    /** The certificate's thumbprint, upper-case hex. */
    public static String thumbprint(X509Certificate certificate) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot take the thumbprint of a parsed certificate", e);
        }
    }

    public boolean refuses(X509Certificate certificate) {
        return !thumbprints.isEmpty() && thumbprints.contains(thumbprint(certificate));
    }

    public int size() {
        return thumbprints.size();
    }
}
