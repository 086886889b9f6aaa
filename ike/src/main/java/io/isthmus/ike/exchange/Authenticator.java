package io.isthmus.ike.exchange;

import io.isthmus.ike.AnsweredInitRequest;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import io.isthmus.ike.message.AuthPayload;
import io.isthmus.ike.message.CertPayload;
import io.isthmus.ike.message.CertReqPayload;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The AUTH payload of one IKE SA (RFC 7296 §2.15): building ours and checking the peer's, with
 * a pre-shared key or a signature. Signatures use RFC 7427 (AUTH method 14, the algorithm named
 * inside) when the peer announced SIGNATURE_HASH_ALGORITHMS, and otherwise the older methods:
 * 1 for RSA (PKCS#1 v1.5 with SHA-1, as RFC 7296 fixes it) and 9, 10, 11 for ECDSA on P-256,
 * P-384 and P-521. Certificates are parsed and their chains validated by Bouncy Castle.
 */
public final class Authenticator {
    private static final byte[] KEY_PAD = "Key Pad for IKEv2".getBytes(StandardCharsets.US_ASCII);
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    /** RFC 7427 hash algorithm identifiers. */
    public static final int SHA2_256 = 2;
    public static final int SHA2_384 = 3;
    public static final int SHA2_512 = 4;
    /** What we announce in N(SIGNATURE_HASH_ALGORITHMS): the SHA-2 hashes, never SHA-1. */
    static final byte[] SIGNATURE_HASHES = {0, SHA2_256, 0, SHA2_384, 0, SHA2_512};

    private final Connection connection;
    private final IkeProposal proposal;
    private final IkeSaKeys keys;
    private final boolean initiator;
    private final byte[] initRequest;
    private final byte[] initResponse;
    private final byte[] ni;
    private final byte[] nr;
    private final List<Integer> peerHashes;
    /** Responder: the request again with our cookie, which the initiator may have signed instead (null: none). */
    private final AnsweredInitRequest answered;

    public Authenticator(Connection connection, IkeProposal proposal, IkeSaKeys keys, boolean initiator, byte[] initRequest, byte[] initResponse,
                  byte[] ni, byte[] nr, List<Integer> peerHashes) {
        this(connection, proposal, keys, initiator, initRequest, initResponse, ni, nr, peerHashes, null);
    }

    public Authenticator(Connection connection, IkeProposal proposal, IkeSaKeys keys, boolean initiator, byte[] initRequest, byte[] initResponse,
                  byte[] ni, byte[] nr, List<Integer> peerHashes, AnsweredInitRequest answered) {
        this.answered = answered;
        this.connection = connection;
        this.proposal = proposal;
        this.keys = keys;
        this.initiator = initiator;
        this.initRequest = initRequest;
        this.initResponse = initResponse;
        this.ni = ni;
        this.nr = nr;
        this.peerHashes = peerHashes;
    }

    /**
     * InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, IDi'), and the responder's
     * likewise with its own message, the initiator's nonce and SK_pr.
     */
    private byte[] signedOctets(boolean ofInitiator, IdPayload id) {
        return signedOctets(ofInitiator, id, ofInitiator ? initRequest : initResponse);
    }

    private byte[] signedOctets(boolean ofInitiator, IdPayload id, byte[] message) {
        byte[] nonce = ofInitiator ? nr : ni;
        byte[] macedId = proposal.prf().compute(ofInitiator ? keys.skPi() : keys.skPr(), id.body());
        return KeyDerivation.concat(message, nonce, macedId);
    }

    /** AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), SignedOctets); the secret stays inside {@code psk}. */
    private byte[] pskMac(Authentication.PreSharedKey psk, byte[] signedOctets) {
        byte[] keyPad = psk.prf(proposal.prf(), KEY_PAD);
        try {
            return proposal.prf().compute(keyPad, signedOctets);
        } finally {
            Arrays.fill(keyPad, (byte) 0);
        }
    }

    /** A check of the peer's AUTH over the octets it signed. */
    private interface Check<E extends Exception> {
        boolean over(byte[] signedOctets) throws E;
    }

    /**
     * Whether the peer's AUTH checks out over what it signed: the responder's answer; or the
     * initiator's request, and failing that the request again with our cookie, which an initiator
     * signs when it took our answer to the request after it had retried it ({@link AnsweredInitRequest}).
     */
    private <E extends Exception> boolean peerSigned(IdPayload peerId, Check<E> check) throws E {
        boolean ofInitiator = !initiator;
        if (check.over(signedOctets(ofInitiator, peerId))) {
            return true;
        }
        if (ofInitiator && answered != null) {
            for (byte[] retry : answered.retries()) {
                if (check.over(signedOctets(true, peerId, retry))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The AUTH of either end after EAP (RFC 7296 §2.16): as with a shared key, the MSK in its
     * place: prf(prf(MSK, "Key Pad for IKEv2"), SignedOctets).
     */
    public AuthPayload eapAuth(byte[] msk, boolean ofInitiator, IdPayload id) {
        return new AuthPayload(AuthPayload.SHARED_KEY_MIC, eapMac(msk, signedOctets(ofInitiator, id)));
    }

    /** Whether the peer's AUTH after EAP over {@code peerId} is the one keyed with {@code msk} (compared in constant time). */
    public boolean eapVerifies(byte[] msk, IdPayload peerId, AuthPayload auth) {
        return peerSigned(peerId, octets -> MessageDigest.isEqual(auth.data(), eapMac(msk, octets)));
    }

    private byte[] eapMac(byte[] msk, byte[] signedOctets) {
        byte[] keyPad = proposal.prf().compute(msk, KEY_PAD);
        try {
            return proposal.prf().compute(keyPad, signedOctets);
        } finally {
            Arrays.fill(keyPad, (byte) 0);
        }
    }

    /** Our AUTH payload over {@code ourId}. */
    public AuthPayload sign(IdPayload ourId) {
        byte[] octets = signedOctets(initiator, ourId);
        return switch (connection.authentication()) {
            case Authentication.PreSharedKey p -> new AuthPayload(AuthPayload.SHARED_KEY_MIC, pskMac(p, octets));
            case Authentication.Certificates c -> signature(c.privateKey(), c.rsaPss(), octets);
        };
    }

    private AuthPayload signature(PrivateKey key, boolean pss, byte[] octets) {
        try {
            if (key instanceof RSAKey) {
                int hash = peerHashes.contains(SHA2_256) ? SHA2_256 : peerHashes.contains(SHA2_512) ? SHA2_512
                        : peerHashes.contains(SHA2_384) ? SHA2_384 : 0;
                if (hash == 0) {
                    return new AuthPayload(AuthPayload.RSA_DIGITAL_SIGNATURE, sign("SHA1withRSA", null, key, octets));
                }
                SignatureScheme s = pss ? SignatureScheme.rsaPss(hash) : SignatureScheme.rsaPkcs1(hash);
                return digitalSignature(s, sign(s.jcaName, s.pssSpec, key, octets));
            }
            int bits = ((ECKey) key).getParams().getCurve().getField().getFieldSize();
            int curveHash = bits <= 256 ? SHA2_256 : bits <= 384 ? SHA2_384 : SHA2_512;
            if (peerHashes.isEmpty()) {
                int method = curveHash == SHA2_256 ? AuthPayload.ECDSA_SHA256_P256
                        : curveHash == SHA2_384 ? AuthPayload.ECDSA_SHA384_P384 : AuthPayload.ECDSA_SHA512_P521;
                String name = SignatureScheme.hashName(curveHash).replace("-", "") + "withECDSAinP1363Format";
                return new AuthPayload(method, sign(name, null, key, octets));
            }
            int hash = peerHashes.contains(curveHash) ? curveHash : peerHashes.getFirst();
            SignatureScheme s = SignatureScheme.ecdsa(hash);
            return digitalSignature(s, sign(s.jcaName, null, key, octets));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot sign with our " + key.getAlgorithm() + " key: " + e.getMessage(), e);
        }
    }

    /** RFC 7427 §3: ASN.1 length, AlgorithmIdentifier, signature. */
    private static AuthPayload digitalSignature(SignatureScheme s, byte[] signature) throws IOException {
        byte[] algorithm = s.identifier.getEncoded();
        byte[] data = new byte[1 + algorithm.length + signature.length];
        data[0] = (byte) algorithm.length;
        System.arraycopy(algorithm, 0, data, 1, algorithm.length);
        System.arraycopy(signature, 0, data, 1 + algorithm.length, signature.length);
        return new AuthPayload(AuthPayload.DIGITAL_SIGNATURE, data);
    }

    private static byte[] sign(String algorithm, PSSParameterSpec pss, PrivateKey key, byte[] octets) throws GeneralSecurityException {
        Signature s = Signature.getInstance(algorithm);
        if (pss != null) {
            s.setParameter(pss);
        }
        s.initSign(key);
        s.update(octets);
        return s.sign();
    }

    /**
     * Checks the peer's AUTH over {@code peerId}, and for signatures its certificate chain and that
     * the certificate names that identity. Returns why it fails, or null when it verifies.
     */
    public String verify(IdPayload peerId, AuthPayload auth, List<CertPayload> certs) {
        String malformed = PeerIdentity.malformed(peerId);
        if (malformed != null) {
            return malformed;
        }
        Identity claimed = Identity.of(peerId);
        Identity wanted = connection.remoteId();
        // Otherwise only a certificate that names the wanted identity will do (PeerIdentity).
        boolean claimedIsWanted = wanted == null || wanted.matches(claimed);
        switch (connection.authentication()) {
            case Authentication.PreSharedKey p -> {
                if (!claimedIsWanted) {
                    return "the peer identifies as " + claimed + ", expected " + wanted;
                }
                if (auth.method() != AuthPayload.SHARED_KEY_MIC) {
                    return "the peer signs with AUTH method " + auth.method() + " but this connection uses a pre-shared key";
                }
                if (p.isDestroyed()) {
                    return "the connection's pre-shared key is gone (the connection was removed)";
                }
                return peerSigned(peerId, octets -> MessageDigest.isEqual(auth.data(), pskMac(p, octets))) ? null
                        : "the peer's AUTH does not verify with our pre-shared key";
            }
            case Authentication.Certificates c -> {
                if (auth.method() == AuthPayload.SHARED_KEY_MIC) {
                    return "the peer uses a pre-shared key but this connection uses certificates";
                }
                if (connection.remoteAccess() != null && !connection.remoteAccess().certificateClients()) {
                    return "clients authenticate with EAP here (vpnAuthenticationTypes has no Certificate), not with a certificate";
                }
                X509Certificate peerCert;
                try {
                    peerCert = validateChain(certs, c.trustAnchors());
                } catch (GeneralSecurityException | IllegalArgumentException e) {
                    return "the peer's certificate is not trusted: " + e.getMessage();
                }
                if (connection.remoteAccess() != null && connection.remoteAccess().revoked().refuses(peerCert)) {
                    return "the client's certificate \"" + Authentication.subject(peerCert) + "\" is revoked (thumbprint "
                            + RevokedCertificates.thumbprint(peerCert) + ")";
                }
                String binding = PeerIdentity.unnamedBy(peerCert, claimed, false);
                if (binding != null) {
                    return binding;
                }
                if (!claimedIsWanted && PeerIdentity.unnamedBy(peerCert, wanted, true) != null) {
                    return "the peer identifies as " + claimed + ", expected " + wanted + ", which its certificate \""
                            + Authentication.subject(peerCert) + "\" does not name either";
                }
                try {
                    return peerSigned(peerId, octets -> verifySignature(peerCert.getPublicKey(), auth, octets)) ? null
                            : "the peer's signature does not verify with the key of " + Authentication.subject(peerCert);
                } catch (GeneralSecurityException | IllegalArgumentException e) {
                    return "the peer's signature is unusable: " + e.getMessage();
                }
            }
        }
    }

    private static boolean verifySignature(PublicKey key, AuthPayload auth, byte[] octets) throws GeneralSecurityException {
        byte[] data = auth.data();
        String algorithm;
        PSSParameterSpec pss = null;
        byte[] signature;
        switch (auth.method()) {
            case AuthPayload.RSA_DIGITAL_SIGNATURE -> {
                algorithm = "SHA1withRSA";
                signature = data;
            }
            case AuthPayload.ECDSA_SHA256_P256 -> {
                algorithm = "SHA256withECDSAinP1363Format";
                signature = data;
            }
            case AuthPayload.ECDSA_SHA384_P384 -> {
                algorithm = "SHA384withECDSAinP1363Format";
                signature = data;
            }
            case AuthPayload.ECDSA_SHA512_P521 -> {
                algorithm = "SHA512withECDSAinP1363Format";
                signature = data;
            }
            case AuthPayload.DIGITAL_SIGNATURE -> {
                if (data.length < 1 || data.length < 1 + (data[0] & 0xFF)) {
                    throw new IllegalArgumentException("AUTH method 14 with a truncated AlgorithmIdentifier");
                }
                int n = data[0] & 0xFF;
                AlgorithmIdentifier id = AlgorithmIdentifier.getInstance(Arrays.copyOfRange(data, 1, 1 + n));
                SignatureScheme s = SignatureScheme.of(id);
                algorithm = s.jcaName;
                pss = s.pssSpec;
                signature = Arrays.copyOfRange(data, 1 + n, data.length);
            }
            default -> throw new IllegalArgumentException("AUTH method " + auth.method() + " is not supported");
        }
        boolean rsaAlgorithm = algorithm.contains("RSA");
        if (rsaAlgorithm != (key instanceof RSAKey)) {
            throw new IllegalArgumentException(algorithm + " does not fit a " + key.getAlgorithm() + " certificate");
        }
        // ECDSA verified by Bouncy Castle: 281 us of CPU against the JDK's 797 for P-256 here, a third of what a certificate
        // IKE_AUTH costs either end (IKE load bench); the JDK signs (282 us against 352).
        Signature s = rsaAlgorithm ? Signature.getInstance(algorithm) : Signature.getInstance(algorithm.replace("ECDSAinP1363Format", "PLAIN-ECDSA"), BC);
        if (pss != null) {
            s.setParameter(pss);
        }
        s.initVerify(key);
        s.update(octets);
        return s.verify(signature);
    }

    /**
     * The first CERT is the peer's own; the others are intermediates. PKIX, no revocation checks.
     * A chain validated before against the same anchors is taken from {@link ValidatedChains}
     * while every certificate of it is still within its validity.
     */
    private X509Certificate validateChain(List<CertPayload> certs, List<X509Certificate> anchors) throws GeneralSecurityException {
        if (certs.isEmpty()) {
            throw new IllegalArgumentException("the peer sent no certificate");
        }
        X509Certificate known = ValidatedChains.SHARED.lookup(certs, anchors, java.time.Instant.now());
        if (known != null) {
            return known;
        }
        X509Certificate end = validateChainNow(certs, anchors);
        ValidatedChains.SHARED.remember(certs, anchors, end);
        return end;
    }

    private X509Certificate validateChainNow(List<CertPayload> certs, List<X509Certificate> anchors) throws GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509", BC);
        List<X509Certificate> path = new ArrayList<>();
        for (CertPayload c : certs) {
            if (c.encoding() != CertPayload.X509_SIGNATURE) {
                throw new IllegalArgumentException("certificate encoding " + c.encoding() + " is not supported (only X.509, 4)");
            }
            path.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(c.data())));
        }
        X509Certificate end = path.getFirst();
        // Intermediates may come in any order; the path runs from the end entity up by issuer.
        List<X509Certificate> ordered = new ArrayList<>(List.of(end));
        List<X509Certificate> rest = new ArrayList<>(path.subList(1, path.size()));
        boolean grew = true;
        while (grew && !rest.isEmpty()) {
            grew = false;
            X509Certificate last = ordered.getLast();
            for (X509Certificate candidate : rest) {
                if (candidate.getSubjectX500Principal().equals(last.getIssuerX500Principal())) {
                    ordered.add(candidate);
                    rest.remove(candidate);
                    grew = true;
                    break;
                }
            }
        }
        Set<TrustAnchor> trust = new HashSet<>();
        for (X509Certificate a : anchors) {
            trust.add(new TrustAnchor(a, null));
        }
        // A CA certificate the peer sent along is not part of the path: the anchor stands for it.
        ordered.removeIf(c -> anchors.stream().anyMatch(a -> a.equals(c)) && c != end);
        CertPath certPath = factory.generateCertPath(ordered);
        PKIXParameters params = new PKIXParameters(trust);
        params.setRevocationEnabled(false);
        params.setDate(Date.from(java.time.Instant.now()));
        CertPathValidator.getInstance("PKIX", BC).validate(certPath, params);
        return end;
    }

    /** Our CERT payloads: end entity first, then intermediates; none with a pre-shared key. */
    public static List<CertPayload> certificates(Authentication a) {
        if (!(a instanceof Authentication.Certificates c)) {
            return List.of();
        }
        List<CertPayload> out = new ArrayList<>();
        for (X509Certificate cert : c.chain()) {
            try {
                out.add(new CertPayload(CertPayload.X509_SIGNATURE, cert.getEncoded()));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** CERTREQ naming the CAs we trust: SHA-1 of each one's SubjectPublicKeyInfo (RFC 7296 §3.7). */
    static CertReqPayload certificateRequest(Authentication.Certificates c) {
        byte[] hashes = new byte[20 * c.trustAnchors().size()];
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            for (int i = 0; i < c.trustAnchors().size(); i++) {
                System.arraycopy(sha1.digest(c.trustAnchors().get(i).getPublicKey().getEncoded()), 0, hashes, 20 * i, 20);
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new CertReqPayload(CertPayload.X509_SIGNATURE, hashes);
    }

    /** The 16-bit hash identifiers of N(SIGNATURE_HASH_ALGORITHMS), those we can use. */
    static List<Integer> hashList(byte[] data) {
        List<Integer> hashes = new ArrayList<>();
        for (int i = 0; i + 1 < data.length; i += 2) {
            int h = ((data[i] & 0xFF) << 8) | (data[i + 1] & 0xFF);
            if (h == SHA2_256 || h == SHA2_384 || h == SHA2_512) {
                hashes.add(h);
            }
        }
        return hashes;
    }

    /** A signature algorithm as RFC 7427 names it in an AlgorithmIdentifier, and its JCA name. */
    record SignatureScheme(AlgorithmIdentifier identifier, String jcaName, PSSParameterSpec pssSpec) {
        static String hashName(int hash) {
            return switch (hash) {
                case SHA2_256 -> "SHA-256";
                case SHA2_384 -> "SHA-384";
                case SHA2_512 -> "SHA-512";
                default -> throw new IllegalArgumentException("hash " + hash);
            };
        }

        private static ASN1ObjectIdentifier hashOid(int hash) {
            return switch (hash) {
                case SHA2_256 -> NISTObjectIdentifiers.id_sha256;
                case SHA2_384 -> NISTObjectIdentifiers.id_sha384;
                default -> NISTObjectIdentifiers.id_sha512;
            };
        }

        static SignatureScheme rsaPkcs1(int hash) {
            ASN1ObjectIdentifier oid = switch (hash) {
                case SHA2_256 -> PKCSObjectIdentifiers.sha256WithRSAEncryption;
                case SHA2_384 -> PKCSObjectIdentifiers.sha384WithRSAEncryption;
                default -> PKCSObjectIdentifiers.sha512WithRSAEncryption;
            };
            return new SignatureScheme(new AlgorithmIdentifier(oid, DERNull.INSTANCE), hashName(hash).replace("-", "") + "withRSA", null);
        }

        /** RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash (RFC 7427 Appendix A.4). */
        static SignatureScheme rsaPss(int hash) {
            AlgorithmIdentifier h = new AlgorithmIdentifier(hashOid(hash), DERNull.INSTANCE);
            int salt = hash == SHA2_256 ? 32 : hash == SHA2_384 ? 48 : 64;
            RSASSAPSSparams params = new RSASSAPSSparams(h, new AlgorithmIdentifier(PKCSObjectIdentifiers.id_mgf1, h),
                    new ASN1Integer(salt), new ASN1Integer(1));
            String name = hashName(hash);
            return new SignatureScheme(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_RSASSA_PSS, params), "RSASSA-PSS",
                    new PSSParameterSpec(name, "MGF1", new MGF1ParameterSpec(name), salt, 1));
        }

        static SignatureScheme ecdsa(int hash) {
            ASN1ObjectIdentifier oid = switch (hash) {
                case SHA2_256 -> X9ObjectIdentifiers.ecdsa_with_SHA256;
                case SHA2_384 -> X9ObjectIdentifiers.ecdsa_with_SHA384;
                default -> X9ObjectIdentifiers.ecdsa_with_SHA512;
            };
            return new SignatureScheme(new AlgorithmIdentifier(oid), hashName(hash).replace("-", "") + "withECDSA", null);
        }

        /** The peer's choice, if it is one we accept (SHA-2 only). */
        static SignatureScheme of(AlgorithmIdentifier id) {
            ASN1ObjectIdentifier oid = id.getAlgorithm();
            for (int hash : new int[] {SHA2_256, SHA2_384, SHA2_512}) {
                if (oid.equals(rsaPkcs1(hash).identifier.getAlgorithm())) {
                    return rsaPkcs1(hash);
                }
                if (oid.equals(ecdsa(hash).identifier.getAlgorithm())) {
                    return ecdsa(hash);
                }
            }
            if (oid.equals(PKCSObjectIdentifiers.id_RSASSA_PSS)) {
                ASN1Encodable p = id.getParameters();
                if (p == null) {
                    throw new IllegalArgumentException("RSASSA-PSS without parameters");
                }
                RSASSAPSSparams params = RSASSAPSSparams.getInstance(p);
                ASN1ObjectIdentifier h = params.getHashAlgorithm().getAlgorithm();
                int hash = h.equals(NISTObjectIdentifiers.id_sha256) ? SHA2_256 : h.equals(NISTObjectIdentifiers.id_sha384) ? SHA2_384
                        : h.equals(NISTObjectIdentifiers.id_sha512) ? SHA2_512 : 0;
                if (hash == 0) {
                    throw new IllegalArgumentException("RSASSA-PSS with hash " + h + " is not accepted");
                }
                String name = hashName(hash);
                AlgorithmIdentifier mgfHash = AlgorithmIdentifier.getInstance(params.getMaskGenAlgorithm().getParameters());
                if (!params.getMaskGenAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.id_mgf1)
                        || !mgfHash.getAlgorithm().equals(h)) {
                    throw new IllegalArgumentException("RSASSA-PSS must use MGF1 with its own hash");
                }
                return new SignatureScheme(id, "RSASSA-PSS",
                        new PSSParameterSpec(name, "MGF1", new MGF1ParameterSpec(name), params.getSaltLength().intValueExact(), 1));
            }
            throw new IllegalArgumentException("signature algorithm " + oid + " is not accepted (SHA-2 RSA, RSA-PSS or ECDSA only)");
        }
    }
}
