package io.isthmus.ike.exchange;

import io.isthmus.ike.message.CertPayload;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Certificate chains that validated (PKIX) against a set of trust anchors, so that the next IKE_AUTH
 * with the same chain is not validated again: a gateway with many peers under one CA sees the same
 * chains over and over, and the validation (parse, path, the issuer's signature) was a third of
 * what a certificate IKE_AUTH cost (IKE load bench); strongSwan keeps verified issuer
 * relations in its certificate cache likewise. An entry serves only while every certificate of its
 * chain is within its validity; the peer's own signature over the exchange is verified every
 * time. Keyed by the digests of the chain's bytes and of the anchors', at most {@link #CAPACITY},
 * the least recently used going first; for any thread (engines of a load generator share it).
 */
final class ValidatedChains {
    static final int CAPACITY = 4096;
    static final ValidatedChains SHARED = new ValidatedChains(CAPACITY);

    private record Validated(X509Certificate end, Instant notBefore, Instant notAfter) {
    }

    private final Map<String, Validated> entries;

    ValidatedChains(int capacity) {
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Validated> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The chain's end-entity certificate if it validated against {@code anchors} before and all of it is valid at {@code now}; else null. */
    synchronized X509Certificate lookup(List<CertPayload> certs, List<X509Certificate> anchors, Instant now) {
        Validated e = entries.get(key(certs, anchors));
        if (e == null || now.isBefore(e.notBefore()) || now.isAfter(e.notAfter())) {
            return null;
        }
        return e.end();
    }

    /** {@code certs} validated against {@code anchors} now, {@code end} their end entity. */
    synchronized void remember(List<CertPayload> certs, List<X509Certificate> anchors, X509Certificate end) {
        // The chain as sent may hold certificates the path left out; they bound nothing, the anchors' validity does.
        Instant notBefore = end.getNotBefore().toInstant();
        Instant notAfter = end.getNotAfter().toInstant();
        for (X509Certificate a : anchors) {
            notBefore = max(notBefore, a.getNotBefore().toInstant());
            notAfter = min(notAfter, a.getNotAfter().toInstant());
        }
        entries.put(key(certs, anchors), new Validated(end, notBefore, notAfter));
    }

    synchronized int size() {
        return entries.size();
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static String key(List<CertPayload> certs, List<X509Certificate> anchors) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (CertPayload c : certs) {
                sha.update((byte) c.encoding());
                sha.update(c.data());
            }
            sha.update((byte) 0);
            for (X509Certificate a : anchors) {
                sha.update(a.getEncoded());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException | java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
