package io.isthmus.control.radius;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The client's side of EAP-TLS (RFC 5216) for tests, on the JDK's SSLEngine with TLS 1.2: what
 * strongSwan's eap-tls does on a road warrior, so the relay can be driven against FreeRADIUS
 * without charon. It answers a proposal of another method with a Nak for EAP-TLS, acknowledges
 * the server's fragments, cuts its own flights into fragments of {@code fragmentSize}, and
 * derives the MSK as RFC 5216 §2.3 does (the TLS exporter, "client EAP encryption").
 *
 * <pre>
 *  EAP-TLS:  Code | Identifier | Length (2) | Type 13 | Flags (L M S) | [TLS Message Length (4)] | TLS data
 * </pre>
 */
final class EapTlsPeer {
    static final int EAP_TLS = 13;
    static final int LENGTH_INCLUDED = 0x80;
    static final int MORE_FRAGMENTS = 0x40;
    static final int START = 0x20;

    private final SSLEngine engine;
    private final int fragmentSize;
    private final ByteArrayOutputStream incoming = new ByteArrayOutputStream();
    private byte[] outgoing;
    private int sent;
    boolean handshakeFinished;
    String tlsFailure;
    int largestRequest;
    int requests;

    EapTlsPeer(SSLContext context, int fragmentSize) {
        this.engine = context.createSSLEngine();
        engine.setUseClientMode(true);
        engine.setEnabledProtocols(new String[] {"TLSv1.2"});
        this.fragmentSize = fragmentSize;
    }

    /** The answer to the server's EAP request {@code req}. */
    byte[] answer(byte[] req) throws SSLException {
        requests++;
        largestRequest = Math.max(largestRequest, req.length);
        if (req.length < 5 || req[0] != 1) {
            throw new IllegalArgumentException("not an EAP request: " + Arrays.toString(Arrays.copyOf(req, Math.min(8, req.length))));
        }
        int id = req[1] & 0xFF;
        if ((req[4] & 0xFF) != EAP_TLS) {
            return new byte[] {2, (byte) id, 0, 6, 3, EAP_TLS}; // Nak (RFC 3748 §5.3.1): EAP-TLS, please
        }
        int flags = req.length > 5 ? req[5] & 0xFF : 0;
        int off = 6 + ((flags & LENGTH_INCLUDED) != 0 ? 4 : 0);
        byte[] data = Arrays.copyOfRange(req, Math.min(off, req.length), req.length);
        if ((flags & START) != 0) {
            engine.beginHandshake();
            return send(id, drive(new byte[0]));
        }
        if (data.length == 0 && outgoing != null) {
            return nextFragment(id); // the server acknowledged our fragment
        }
        incoming.writeBytes(data);
        if ((flags & MORE_FRAGMENTS) != 0) {
            return response(id, 0, new byte[0], 0); // acknowledged, the next one please
        }
        byte[] whole = incoming.toByteArray();
        incoming.reset();
        try {
            return send(id, drive(whole));
        } catch (SSLException e) {
            // The server's alert (our certificate refused): an acknowledgement, then its EAP-Failure.
            tlsFailure = e.getMessage();
            return response(id, 0, new byte[0], 0);
        }
    }

    /** RFC 5216 §2.3: MSK = TLS-PRF-64(master secret, "client EAP encryption", client random | server random). */
    byte[] msk() throws Exception {
        return ((ExtendedSSLSession) engine.getSession()).exportKeyingMaterialData("client EAP encryption", null, 64);
    }

    /** Feeds the server's TLS records to the engine and collects what it has to send. */
    private byte[] drive(byte[] in) throws SSLException {
        ByteBuffer src = ByteBuffer.wrap(in);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case NEED_WRAP -> {
                    net.clear();
                    SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), net);
                    out.write(net.array(), 0, net.position());
                    if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                        handshakeFinished = true;
                    }
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        return out.toByteArray();
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!src.hasRemaining()) {
                        return out.toByteArray();
                    }
                    app.clear();
                    SSLEngineResult r = engine.unwrap(src, app);
                    if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                        handshakeFinished = true;
                    }
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        return out.toByteArray();
                    }
                }
                default -> {
                    return out.toByteArray();
                }
            }
        }
    }

    private byte[] send(int id, byte[] data) {
        if (data.length <= fragmentSize) {
            return response(id, 0, data, 0);
        }
        outgoing = data;
        sent = 0;
        return nextFragment(id);
    }

    private byte[] nextFragment(int id) {
        int n = Math.min(fragmentSize, outgoing.length - sent);
        boolean first = sent == 0;
        boolean last = sent + n == outgoing.length;
        byte[] piece = Arrays.copyOfRange(outgoing, sent, sent + n);
        int flags = (first ? LENGTH_INCLUDED : 0) | (last ? 0 : MORE_FRAGMENTS);
        byte[] r = response(id, flags, piece, outgoing.length);
        sent += n;
        if (last) {
            outgoing = null;
        }
        return r;
    }

    private static byte[] response(int id, int flags, byte[] data, int total) {
        int head = 6 + ((flags & LENGTH_INCLUDED) != 0 ? 4 : 0);
        byte[] r = new byte[head + data.length];
        r[0] = 2;
        r[1] = (byte) id;
        r[2] = (byte) (r.length >> 8);
        r[3] = (byte) r.length;
        r[4] = EAP_TLS;
        r[5] = (byte) flags;
        if ((flags & LENGTH_INCLUDED) != 0) {
            r[6] = (byte) (total >>> 24);
            r[7] = (byte) (total >>> 16);
            r[8] = (byte) (total >>> 8);
            r[9] = (byte) total;
        }
        System.arraycopy(data, 0, r, head, data.length);
        return r;
    }

    /** A CA, or a certificate it issued, with its key (ECDSA P-256). */
    record Issued(X509Certificate certificate, PrivateKey key) {
        /** The certificate and its key as PEM files, as FreeRADIUS reads them (the key PKCS#8). */
        void write(Path cert, Path key) throws Exception {
            try (var w = new JcaPEMWriter(Files.newBufferedWriter(cert))) {
                w.writeObject(certificate);
            }
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n");
        }
    }

    static Issued ca(String dn) throws Exception {
        return issue(dn, null, true, null);
    }

    /** A certificate for {@code dn} from {@code ca}, for TLS servers ({@code purpose} serverAuth) or clients (clientAuth). */
    static Issued issue(String dn, Issued ca, KeyPurposeId purpose) throws Exception {
        return issue(dn, ca, false, purpose);
    }

    private static Issued issue(String dn, Issued ca, boolean isCa, KeyPurposeId purpose) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X500Name subject = new X500Name(dn);
        X500Name issuer = ca == null ? subject : X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
        Instant now = Instant.now();
        var b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(System.nanoTime()), Date.from(now.minusSeconds(3600)),
                Date.from(now.plusSeconds(30L * 86400)), subject, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        if (purpose != null) {
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        }
        PrivateKey signer = ca == null ? keys.getPrivate() : ca.key();
        X509Certificate c = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
        return new Issued(c, keys.getPrivate());
    }

    /** The client's TLS context: its certificate and key, and the CA it trusts for the server's certificate. */
    static SSLContext context(Issued client, Issued trustedCa) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "test".toCharArray();
        ks.setKeyEntry("client", client.key(), pw, new X509Certificate[] {client.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", trustedCa.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.2");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
