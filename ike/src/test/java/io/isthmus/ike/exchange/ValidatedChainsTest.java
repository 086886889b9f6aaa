package io.isthmus.ike.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.isthmus.ike.message.CertPayload;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** A remembered chain serves only for the same anchors, while everything in it is valid, and the least used goes first. */
class ValidatedChainsTest {
    static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");

    static X509Certificate certificate(String name, Instant from, Instant to) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair k = g.generateKeyPair();
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(new X500Name("CN=" + name), BigInteger.ONE,
                Date.from(from), Date.from(to), new X500Name("CN=" + name), k.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(k.getPrivate())));
    }

    static List<CertPayload> sent(X509Certificate c) throws Exception {
        return List.of(new CertPayload(CertPayload.X509_SIGNATURE, c.getEncoded()));
    }

    @Test
    void aRememberedChainServesWhileValidForTheSameAnchorsOnly() throws Exception {
        X509Certificate end = certificate("gw", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(1)));
        X509Certificate ca = certificate("ca", NOW.minus(Duration.ofDays(10)), NOW.plus(Duration.ofHours(12)));
        X509Certificate otherCa = certificate("other", NOW.minus(Duration.ofDays(10)), NOW.plus(Duration.ofDays(10)));
        ValidatedChains chains = new ValidatedChains(2);
        assertNull(chains.lookup(sent(end), List.of(ca), NOW), "nothing known yet");
        chains.remember(sent(end), List.of(ca), end);
        assertSame(end, chains.lookup(sent(end), List.of(ca), NOW));
        assertNull(chains.lookup(sent(end), List.of(otherCa), NOW), "validated against another anchor is not validated against this one");
        assertNull(chains.lookup(sent(end), List.of(ca), NOW.plus(Duration.ofHours(13))), "the anchor expired");
        assertNull(chains.lookup(sent(end), List.of(ca), NOW.minus(Duration.ofDays(2))), "before the certificate");
        X509Certificate second = certificate("gw2", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(1)));
        X509Certificate third = certificate("gw3", NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(1)));
        chains.remember(sent(second), List.of(ca), second);
        chains.lookup(sent(end), List.of(ca), NOW);
        chains.remember(sent(third), List.of(ca), third);
        assertEquals(2, chains.size());
        assertNull(chains.lookup(sent(second), List.of(ca), NOW), "the least recently used went");
        assertSame(end, chains.lookup(sent(end), List.of(ca), NOW));
    }
}
