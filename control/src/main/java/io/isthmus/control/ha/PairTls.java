package io.isthmus.control.ha;

import io.isthmus.control.Pem;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS 1.3 between the two instances, both authenticated. The trust store holds the partner's
 * certificate and nothing else, so the JDK's own validation accepts only that certificate as its
 * own anchor; {@link #checkPartner} then compares what was presented with the pinned file, so
 * that a certificate merely chained to it (the pinned one could be a CA by mistake) is refused.
 */
final class PairTls {
    private static final String TLS13 = "TLSv1.3";

    private final X509Certificate partner;
    private final SslContext server;
    private final SslContext client;

    private PairTls(X509Certificate partner, SslContext server, SslContext client) {
        this.partner = partner;
        this.server = server;
        this.client = client;
    }

    static PairTls load(SyncSettings s) throws IOException {
        X509Certificate own = Pem.certificate(s.certificate());
        PrivateKey key = Pem.privateKey(s.privateKey());
        X509Certificate partner = Pem.certificate(s.partnerCertificate());
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("partner", partner);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trusted);
            SslContext server = SslContextBuilder.forServer(key, own).sslProvider(SslProvider.JDK).protocols(TLS13)
                    .trustManager(tmf).clientAuth(ClientAuth.REQUIRE).build();
            // No host name check: the partner is known by its certificate, not by a name in it.
            SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(TLS13)
                    .keyManager(key, own).trustManager(tmf).endpointIdentificationAlgorithm(null).build();
            return new PairTls(partner, server, client);
        } catch (GeneralSecurityException e) {
            throw new IOException("pair TLS with " + s.certificate() + ", " + s.privateKey() + " and "
                    + s.partnerCertificate() + ": " + e.getMessage(), e);
        }
    }

    SslContext server() {
        return server;
    }

    SslContext client() {
        return client;
    }

    /** Null if the session is TLS 1.3 and the partner presented exactly the pinned certificate; otherwise why not. */
    String checkPartner(SSLSession session) {
        if (!TLS13.equals(session.getProtocol())) {
            return "protocol " + session.getProtocol() + ", not " + TLS13;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return "no certificate presented";
        }
        if (chain.length == 0 || !partner.equals(chain[0])) {
            return "presented certificate is not the pinned partner certificate";
        }
        return null;
    }
}
