package io.isthmus.ike;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates for tests, made with Bouncy Castle: CAs, intermediates, gateways with subject alternative names. */
final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(1);
    /** Valid over every clock the tests use (the manual one starts 2026-11-22). */
    private static final Date NOT_BEFORE = Date.from(Instant.parse("2026-01-01T00:00:00Z"));
    private static final Date NOT_AFTER = Date.from(Instant.parse("2036-01-01T00:00:00Z"));

    /** A key and its certificate. */
    record Issued(KeyPair keys, X509Certificate certificate) {
        PrivateKey privateKey() {
            return keys.getPrivate();
        }

        String subject() {
            return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()).toString();
        }
    }

    private TestPki() {
    }

    /** "rsa2048", "rsa3072", "ecp256", "ecp384", "ecp521". */
    static KeyPair keyPair(String kind) {
        try {
            if (kind.startsWith("rsa")) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(Integer.parseInt(kind.substring(3)));
                return g.generateKeyPair();
            }
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp" + kind.substring(3) + "r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static Issued ca(String subject, String keyKind) {
        KeyPair keys = keyPair(keyKind);
        return new Issued(keys, build(subject, keys.getPublic(), subject, keys.getPrivate(), null, true, List.of()));
    }

    static Issued intermediate(Issued issuer, String subject, String keyKind) {
        KeyPair keys = keyPair(keyKind);
        return new Issued(keys, build(subject, keys.getPublic(), issuer.subject(), issuer.privateKey(), issuer.certificate(), true, List.of()));
    }

    /**
     * {@code C=CH, O=Example, CN=gw} with every value a PrintableString, as strongSwan's {@code pki}
     * and most CAs encode a subject (Bouncy Castle's own parse makes all but C a UTF8String).
     */
    static X500Name printable(String subject) {
        org.bouncycastle.asn1.x500.X500NameBuilder b = new org.bouncycastle.asn1.x500.X500NameBuilder();
        for (org.bouncycastle.asn1.x500.RDN rdn : new X500Name(subject).getRDNs()) {
            var atv = rdn.getFirst();
            b.addRDN(atv.getType(), new org.bouncycastle.asn1.DERPrintableString(atv.getValue().toString()));
        }
        return b.build();
    }

    /** A gateway certificate; each name is a DNS name, an address or an e-mail address as its form says. */
    static Issued gateway(Issued issuer, String subject, String keyKind, String... names) {
        return gateway(issuer, new X500Name(subject), keyKind, names);
    }

    /** As {@link #gateway(Issued, String, String, String...)}, with the subject encoded as given. */
    static Issued gateway(Issued issuer, X500Name subject, String keyKind, String... names) {
        KeyPair keys = keyPair(keyKind);
        List<GeneralName> san = new ArrayList<>();
        for (String n : names) {
            if (n.matches("[0-9.]+") || n.contains(":")) {
                san.add(new GeneralName(GeneralName.iPAddress, n));
            } else if (n.contains("@")) {
                san.add(new GeneralName(GeneralName.rfc822Name, n));
            } else {
                san.add(new GeneralName(GeneralName.dNSName, n));
            }
        }
        return new Issued(keys, build(subject, keys.getPublic(), issuer.subject(), issuer.privateKey(), issuer.certificate(), false, san));
    }

    private static X509Certificate build(String subject, PublicKey key, String issuer, PrivateKey issuerKey, X509Certificate issuerCert,
                                         boolean ca, List<GeneralName> san) {
        return build(new X500Name(subject), key, issuer, issuerKey, issuerCert, ca, san);
    }

    private static X509Certificate build(X500Name subject, PublicKey key, String issuer, PrivateKey issuerKey, X509Certificate issuerCert,
                                         boolean ca, List<GeneralName> san) {
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(SERIAL.getAndIncrement()),
                    NOT_BEFORE, NOT_AFTER, subject, key);
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
            if (issuerCert != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(issuerCert));
            }
            if (!san.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san.toArray(GeneralName[]::new)));
            }
            String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA384withECDSA";
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes PEM, for strongSwan; private keys as PKCS#8 (the traditional EC form would lose the curve). */
    static Path pem(Path file, Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            if (object instanceof PrivateKey key) {
                w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
            } else {
                w.writeObject(object);
            }
        }
        Files.writeString(file, out.toString());
        return file;
    }
}
