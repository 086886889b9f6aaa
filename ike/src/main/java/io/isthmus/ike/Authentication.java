package io.isthmus.ike;

import io.isthmus.ike.crypto.PseudorandomFunction;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.Arrays;
import java.util.List;

/**
 * How both ends of a connection prove who they are: one pre-shared key (Azure's "shared key"),
 * or certificates: ours with its private key, and the CAs the peer's chain must end in.
 */
public sealed interface Authentication {

    /**
     * AUTH method 2: a MAC over the IKE_SA_INIT message keyed with the shared secret.
     *
     * <p>Holds the key it is given, not a copy: the gateway keeps one live copy of a secret, and
     * whoever made the array (the configuration) and this connection share it. The key is only
     * ever used here, in {@link #prf}; it is never handed out, so there are no copies for
     * someone to forget to wipe. {@link #destroy()} wipes it when the connection is removed, and
     * it refuses to compute from then on; when the gateway closes, the owner of the array wipes
     * it once IKE has stopped.
     */
    final class PreSharedKey implements Authentication {
        private final byte[] key;
        private volatile boolean destroyed;

        /** Takes {@code key} over (no copy): the caller does not change it, and wipes it only through {@link #destroy()}. */
        public PreSharedKey(byte[] key) {
            if (key == null || key.length == 0) {
                throw new IllegalArgumentException("a pre-shared key must not be empty");
            }
            this.key = key;
        }

        /** prf(key, data), the key never leaving this object (RFC 7296 §2.15: prf(Shared Secret, "Key Pad for IKEv2")). */
        public byte[] prf(PseudorandomFunction prf, byte[] data) {
            if (destroyed) {
                throw new IllegalStateException("the pre-shared key was destroyed with its connection");
            }
            return prf.compute(key, data);
        }

        public void destroy() {
            destroyed = true;
            Arrays.fill(key, (byte) 0);
        }

        public boolean isDestroyed() {
            return destroyed;
        }

        @Override
        public String toString() {
            return "pre-shared key";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PreSharedKey p && MessageDigest.isEqual(p.key, key);
        }

        @Override
        public int hashCode() {
            return key.length;
        }
    }

    /**
     * Signatures with our certificate's key (RSA or ECDSA); the peer's end-entity certificate
     * must chain to one of {@code trustAnchors} and name the peer's identity.
     *
     * @param chain our end-entity certificate first, then any intermediates (not the root)
     * @param rsaPss sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys, RFC 7427 peers)
     */
    record Certificates(PrivateKey privateKey, List<X509Certificate> chain, List<X509Certificate> trustAnchors, boolean rsaPss)
            implements Authentication {
        public Certificates {
            if (!(privateKey instanceof RSAPrivateKey) && !(privateKey instanceof ECPrivateKey)) {
                throw new IllegalArgumentException("certificate keys must be RSA or ECDSA, not " + privateKey.getAlgorithm());
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("our certificate is missing");
            }
            if (trustAnchors.isEmpty()) {
                throw new IllegalArgumentException("at least one trusted CA certificate is needed to check the peer's");
            }
            chain = List.copyOf(chain);
            trustAnchors = List.copyOf(trustAnchors);
        }

        @Override
        public String toString() {
            return "certificate \"" + subject(chain.getFirst()) + "\"" + (rsaPss ? " (RSA-PSS)" : "");
        }
    }

    /** As strongSwan prints a subject: "C=CH, O=Example, CN=gw1"; the peer may have written it, so made printable for logs. */
    static String subject(X509Certificate cert) {
        return io.isthmus.ike.message.PeerText.printable(
                org.bouncycastle.asn1.x500.X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()).toString());
    }
}
