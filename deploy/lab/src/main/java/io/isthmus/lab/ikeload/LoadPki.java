package io.isthmus.lab.ikeload;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The load benchmark's certificates, made fresh for each run: one ECDSA P-256 CA, and a
 * certificate under it for the responder and one for the generator, each naming its identity
 * (an FQDN) as a subject alternative name, so both ends prove who they are as the gateway
 * expects of a peer. Written as PEM: certificates readable, keys for their owner alone.
 */
public final class LoadPki {
    public static final String RESPONDER_ID = "responder.ikeload.test";
    public static final String GENERATOR_ID = "generator.ikeload.test";
    /** The responder's certificate's subject: the identity both responders claim with it. */
    public static final String RESPONDER_DN = "CN=" + RESPONDER_ID + ", O=Isthmus bench";

    /** Where the files are. */
    public record Certificates(Path ca, Path responderCertificate, Path responderKey, Path generatorCertificate, Path generatorKey) {
        /** The CA's key, beside its certificate: the point-to-site generator issues each client's certificate with it. */
        public Path caKey() {
            return ca.resolveSibling("ca-key.pem");
        }
    }

    /** One point-to-site client: its own key pair and a certificate under the CA naming {@code fqdn}. */
    public record Client(PrivateKey key, X509Certificate certificate) {
    }

    private LoadPki() {
    }

    /** A CA and the two certificates under it, in {@code dir}. */
    public static Certificates make(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            KeyPair ca = p256();
            X500Name caName = new X500Name("CN=ikeload CA, O=Isthmus bench");
            X509Certificate caCert = issue(caName, ca.getPublic(), caName, ca.getPrivate(), true, null);
            KeyPair responder = p256();
            X509Certificate responderCert = issue(new X500Name(RESPONDER_DN), responder.getPublic(), caName,
                    ca.getPrivate(), false, RESPONDER_ID);
            KeyPair generator = p256();
            X509Certificate generatorCert = issue(new X500Name("CN=" + GENERATOR_ID + ", O=Isthmus bench"), generator.getPublic(), caName,
                    ca.getPrivate(), false, GENERATOR_ID);
            Certificates f = new Certificates(dir.resolve("ca.pem"), dir.resolve("responder.pem"), dir.resolve("responder-key.pem"),
                    dir.resolve("generator.pem"), dir.resolve("generator-key.pem"));
            write(f.ca(), pem(caCert), false);
            write(f.caKey(), pem(new JcaPKCS8Generator(ca.getPrivate(), null)), true);
            write(f.responderCertificate(), pem(responderCert), false);
            write(f.responderKey(), pem(new JcaPKCS8Generator(responder.getPrivate(), null)), true);
            write(f.generatorCertificate(), pem(generatorCert), false);
            write(f.generatorKey(), pem(new JcaPKCS8Generator(generator.getPrivate(), null)), true);
            return f;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the bench's certificates: " + e.getMessage(), e);
        }
    }

    /**
     * A client certificate for {@code fqdn} (subject CN and SAN), under the CA {@code caCert}:
     * each client of the point-to-site bench is an identity of its own, as the pool leases an
     * address per identity (and gives a returning identity its address back).
     */
    public static Client client(X509Certificate caCert, PrivateKey caKey, String fqdn) throws IOException {
        try {
            KeyPair k = p256();
            X500Name issuer = X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded());
            return new Client(k.getPrivate(), issue(new X500Name("CN=" + fqdn + ", O=Isthmus bench"), k.getPublic(), issuer, caKey, false, fqdn));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make a client certificate: " + e.getMessage(), e);
        }
    }

    private static KeyPair p256() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return g.generateKeyPair();
    }

    private static X509Certificate issue(X500Name subject, PublicKey key, X500Name issuer, PrivateKey issuerKey, boolean ca, String dns)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(1, serial), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(30))), subject, key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
        if (dns != null) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, dns)));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static void write(Path file, String text, boolean secret) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"));
    }
}
