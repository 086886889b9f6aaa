package io.isthmus.esp;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * Everything needed to create one direction of an ESP SA: what IKE negotiated (SPI, cipher
 * suite, keys taken from KEYMAT, ESN) and what the gateway configured (replay window, volume
 * lifetimes). Holds its own copy of the keys; {@link #destroy()} wipes it, and an SA built from
 * these parameters keeps copies of its own.
 *
 * <p>Keys travel once and are wiped by their consumer: whoever builds the SAs (the data plane)
 * destroys the parameters once it has, and no one reads the keys afterwards. SPI, suite, ESN,
 * replay window and lifetime stay readable after {@link #destroy()}.
 */
public final class SaParameters {
    private final int spi;
    private final CipherSuite suite;
    private final byte[] encryptionKey;
    private final byte[] integrityKey;
    private final boolean esn;
    private final int replayWindow;
    private final Lifetime lifetime;

    private SaParameters(Builder b) {
        if (b.suite == null) {
            throw new IllegalArgumentException("cipher suite missing");
        }
        if (b.encryptionKey == null || b.encryptionKey.length != b.suite.encryptionKeyLength()) {
            throw new IllegalArgumentException(b.suite + " needs " + b.suite.encryptionKeyLength()
                    + " bytes of encryption keying material, got " + (b.encryptionKey == null ? "none" : b.encryptionKey.length));
        }
        int integrityLength = b.suite.integrityKeyLength();
        byte[] integrity = b.integrityKey == null ? new byte[0] : b.integrityKey;
        if (integrity.length != integrityLength) {
            throw new IllegalArgumentException(b.suite + " needs " + integrityLength + " bytes of integrity key, got " + integrity.length);
        }
        if (b.replayWindow < ReplayWindow.MIN_SIZE || b.replayWindow > ReplayWindow.MAX_SIZE) {
            throw new IllegalArgumentException("replay window must be " + ReplayWindow.MIN_SIZE + " to " + ReplayWindow.MAX_SIZE
                    + " packets, not " + b.replayWindow);
        }
        spi = b.spi;
        suite = b.suite;
        encryptionKey = b.encryptionKey.clone();
        integrityKey = integrity.clone();
        esn = b.esn;
        replayWindow = b.replayWindow;
        lifetime = b.lifetime == null ? Lifetime.UNLIMITED : b.lifetime;
    }

    public static Builder builder(int spi, CipherSuite suite) {
        return new Builder(spi, suite);
    }

    public int spi() {
        return spi;
    }

    public CipherSuite suite() {
        return suite;
    }

    public boolean esn() {
        return esn;
    }

    public int replayWindow() {
        return replayWindow;
    }

    public Lifetime lifetime() {
        return lifetime;
    }

    /** A copy of the encryption keying material (key and salt). */
    public byte[] encryptionKey() {
        return encryptionKey.clone();
    }

    /** A copy of the integrity key (empty for AEAD suites). */
    public byte[] integrityKey() {
        return integrityKey.clone();
    }

    /** Wipes the keys; the rest stays readable. */
    public void destroy() {
        Arrays.fill(encryptionKey, (byte) 0);
        Arrays.fill(integrityKey, (byte) 0);
    }

    /** Never shows the keys. */
    @Override
    public String toString() {
        return "SPI 0x" + HexFormat.of().toHexDigits(spi) + " " + suite + (esn ? " ESN" : "")
                + ", replay window " + replayWindow + ", lifetime " + lifetime;
    }

    public static final class Builder {
        private final int spi;
        private final CipherSuite suite;
        private byte[] encryptionKey;
        private byte[] integrityKey;
        private boolean esn;
        private int replayWindow = ReplayWindow.DEFAULT_SIZE;
        private Lifetime lifetime = Lifetime.UNLIMITED;

        private Builder(int spi, CipherSuite suite) {
            this.spi = spi;
            this.suite = suite;
        }

        /** Key then salt, as KEYMAT delivers them; copied at {@link #build()}. */
        public Builder encryptionKey(byte[] key) {
            this.encryptionKey = key;
            return this;
        }

        public Builder integrityKey(byte[] key) {
            this.integrityKey = key;
            return this;
        }

        public Builder esn(boolean esn) {
            this.esn = esn;
            return this;
        }

        public Builder replayWindow(int packets) {
            this.replayWindow = packets;
            return this;
        }

        public Builder lifetime(Lifetime lifetime) {
            this.lifetime = lifetime;
            return this;
        }

        public SaParameters build() {
            return new SaParameters(this);
        }
    }
}
