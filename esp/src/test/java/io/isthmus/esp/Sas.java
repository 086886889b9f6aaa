package io.isthmus.esp;

import java.util.Random;

/** Test fixtures: SA pairs with deterministic keys, and packets to push through them. */
final class Sas {
    static final int SPI = 0xc0ffee01;
    static final CipherSuite[] ALL_SUITES = {
            CipherSuite.AES128_GCM16, CipherSuite.AES256_GCM16,
            new CipherSuite(EncryptionAlgorithm.AES_GCM_16, 192, IntegrityAlgorithm.NONE),
            CipherSuite.CHACHA20_POLY1305,
            CipherSuite.AES128_SHA256, CipherSuite.AES256_SHA256, CipherSuite.AES256_SHA384, CipherSuite.AES256_SHA512,
    };

    static SaParameters.Builder parameters(CipherSuite suite, long seed) {
        Random random = new Random(seed);
        byte[] key = new byte[suite.encryptionKeyLength()];
        byte[] integrity = new byte[suite.integrityKeyLength()];
        random.nextBytes(key);
        random.nextBytes(integrity);
        return SaParameters.builder(SPI, suite).encryptionKey(key).integrityKey(integrity);
    }

    record Pair(OutboundSa out, InboundSa in) {
        /** Seals {@code inner} (copied into a fresh buffer) and returns the ESP packet. */
        byte[] seal(byte[] inner, int nextHeader) {
            byte[] buffer = new byte[out.headerLength() + inner.length + out.suite().maxTrailerLength()];
            System.arraycopy(inner, 0, buffer, out.headerLength(), inner.length);
            int length = out.seal(buffer, 0, inner.length, nextHeader);
            if (length < 0) {
                throw new AssertionError("seal failed: " + SealFailure.fromCode(length));
            }
            return java.util.Arrays.copyOf(buffer, length);
        }
    }

    static Pair pair(SaParameters parameters) {
        return new Pair(new OutboundSa(parameters, SaListener.NONE), new InboundSa(parameters, SaListener.NONE));
    }

    static Pair pair(CipherSuite suite, boolean esn) {
        return pair(parameters(suite, suite.hashCode()).esn(esn).build());
    }

    static byte[] ipv4(int length, long seed) {
        byte[] p = new byte[length];
        new Random(seed).nextBytes(p);
        if (length > 0) {
            p[0] = 0x45;
        }
        return p;
    }

    private Sas() {
    }
}
