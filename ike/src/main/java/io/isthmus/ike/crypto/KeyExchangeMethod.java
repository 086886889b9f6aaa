package io.isthmus.ike.crypto;

import io.isthmus.ike.message.IkeProtocolException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.KeyAgreement;
import javax.crypto.interfaces.DHPublicKey;
import javax.crypto.spec.DHParameterSpec;
import javax.crypto.spec.DHPublicKeySpec;
import org.bouncycastle.crypto.agreement.DHStandardGroups;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * Key exchange methods (Transform Type 4) and how their values look in a KE payload:
 * MODP groups as the big-endian value padded to the prime's length (RFC 7296 §3.4); ECP groups
 * as x || y without the SEC 1 tag, the secret being x (RFC 5903 §7); Curve25519 as the 32-byte
 * little-endian u-coordinate (RFC 8031). Peer values are validated (RFC 6989 for MODP, the curve
 * equation for ECP, the all-zero secret for Curve25519) and a bad one is INVALID_SYNTAX.
 */
public enum KeyExchangeMethod {
    MODP_2048(14, "modp2048", 256),
    ECP_256(19, "ecp256", 32),
    ECP_384(20, "ecp384", 48),
    CURVE25519(31, "x25519", 32);

    private static final DHParameterSpec MODP_2048_PARAMETERS = new DHParameterSpec(
            DHStandardGroups.rfc3526_2048.getP(), DHStandardGroups.rfc3526_2048.getG());

    private final int ianaId;
    private final String keyword;
    private final int fieldLength;
    /** Set once, to the same value by whichever thread gets there first. */
    private volatile ECParameterSpec curve;

    KeyExchangeMethod(int ianaId, String keyword, int fieldLength) {
        this.ianaId = ianaId;
        this.keyword = keyword;
        this.fieldLength = fieldLength;
    }

    public int ianaId() {
        return ianaId;
    }

    public String keyword() {
        return keyword;
    }

    /** Bytes of the public value in a KE payload. */
    public int publicValueLength() {
        return this == ECP_256 || this == ECP_384 ? 2 * fieldLength : fieldLength;
    }

    public static KeyExchangeMethod fromIanaId(int id) {
        for (KeyExchangeMethod m : values()) {
            if (m.ianaId == id) {
                return m;
            }
        }
        return null;
    }

    private static final java.util.concurrent.atomic.LongAdder KEY_PAIRS = new java.util.concurrent.atomic.LongAdder();

    /** Key pairs generated in this process, every method together: the work a flood would make us do. */
    public static long keyPairsGenerated() {
        return KEY_PAIRS.sum();
    }

    /** A fresh key pair for one exchange. */
    public KeyExchange generate() {
        KEY_PAIRS.increment();
        if (this == CURVE25519) {
            byte[] scalar = new byte[X25519.SCALAR_SIZE];
            X25519.generatePrivateKey(Curve25519Raw.RANDOM, scalar);
            byte[] u = new byte[X25519.POINT_SIZE];
            X25519.generatePublicKey(scalar, 0, u, 0);
            return new KeyExchange(this, scalar, u);
        }
        try {
            KeyPairGenerator generator = switch (this) {
                case MODP_2048 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("DH");
                    g.initialize(MODP_2048_PARAMETERS);
                    yield g;
                }
                case ECP_256, ECP_384 -> {
                    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                    g.initialize(new ECGenParameterSpec(this == ECP_256 ? "secp256r1" : "secp384r1"));
                    yield g;
                }
                case CURVE25519 -> KeyPairGenerator.getInstance("X25519");
            };
            return new KeyExchange(this, generator.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(this + " unavailable", e);
        }
    }

    /** For test vectors: an exchange around a given key pair. */
    public KeyExchange withKeyPair(KeyPair pair) {
        if (this == CURVE25519 && pair.getPrivate() instanceof java.security.interfaces.XECPrivateKey x) {
            return new KeyExchange(this, x.getScalar().orElseThrow(), encodePublic(pair.getPublic()));
        }
        return new KeyExchange(this, pair);
    }

    byte[] encodePublic(PublicKey key) {
        return switch (this) {
            case MODP_2048 -> unsigned(((DHPublicKey) key).getY(), fieldLength);
            case ECP_256, ECP_384 -> {
                ECPoint w = ((ECPublicKey) key).getW();
                yield KeyDerivation.concat(unsigned(w.getAffineX(), fieldLength), unsigned(w.getAffineY(), fieldLength));
            }
            case CURVE25519 -> key instanceof Curve25519Raw raw ? raw.u() : reverse(unsigned(((XECPublicKey) key).getU(), fieldLength));
        };
    }

    /**
     * The peer's public value, checked before any key of ours is made for it: a responder that
     * generated its key pair first did that work for every forged IKE_SA_INIT.
     */
    public PublicKey peerPublicValue(byte[] value) throws IkeProtocolException {
        if (value.length != publicValueLength()) {
            throw IkeProtocolException.invalidSyntax(this + " public value of " + value.length + " bytes, expected " + publicValueLength());
        }
        try {
            switch (this) {
                case MODP_2048 -> {
                    BigInteger y = new BigInteger(1, value);
                    BigInteger p = MODP_2048_PARAMETERS.getP();
                    // RFC 6989: 1 < y < p - 1
                    if (y.compareTo(BigInteger.ONE) <= 0 || y.compareTo(p.subtract(BigInteger.ONE)) >= 0) {
                        throw IkeProtocolException.invalidSyntax("MODP public value out of range");
                    }
                    return KeyFactory.getInstance("DH").generatePublic(new DHPublicKeySpec(y, p, MODP_2048_PARAMETERS.getG()));
                }
                case ECP_256, ECP_384 -> {
                    BigInteger x = new BigInteger(1, Arrays.copyOfRange(value, 0, fieldLength));
                    BigInteger y = new BigInteger(1, Arrays.copyOfRange(value, fieldLength, 2 * fieldLength));
                    ECParameterSpec params = curve();
                    if (!onCurve(params, x, y)) {
                        throw IkeProtocolException.invalidSyntax(this + " public value is not a point on the curve");
                    }
                    return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), params));
                }
                case CURVE25519 -> {
                    BigInteger u = new BigInteger(1, reverse(value));
                    if (Curve25519LowOrder.contains(u)) {
                        throw IkeProtocolException.invalidSyntax("Curve25519 public value is a point of small order (RFC 8031 §2.2)");
                    }
                    return new Curve25519Raw(value.clone());
                }
                default -> throw new IllegalStateException();
            }
        } catch (GeneralSecurityException e) {
            throw IkeProtocolException.invalidSyntax(this + " public value refused: " + e.getMessage());
        }
    }

    /** The ECP group's curve, looked up once per group. */
    private ECParameterSpec curve() {
        ECParameterSpec c = curve;
        if (c == null) {
            try {
                java.security.AlgorithmParameters p = java.security.AlgorithmParameters.getInstance("EC");
                p.init(new ECGenParameterSpec(this == ECP_256 ? "secp256r1" : "secp384r1"));
                curve = c = p.getParameterSpec(ECParameterSpec.class);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(this + " unavailable", e);
            }
        }
        return c;
    }

    /**
     * The u-coordinates of Curve25519's points of order 1, 2, 4 and 8 (and their aliases mod p, after
     * the top bit is masked as RFC 7748 §5 does): with any of them the shared secret is all zeros,
     * whatever our key. Refusing them up front costs one comparison instead of a key pair.
     */
    private static final class Curve25519LowOrder {
        private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
        private static final java.util.Set<BigInteger> U = java.util.Set.of(BigInteger.ZERO, BigInteger.ONE, P.subtract(BigInteger.ONE),
                new BigInteger("325606250916557431795983626356110631294008115727848805560023387167927233504"),
                new BigInteger("39382357235489614581723060781553021112529911719440698176882885853963445705823"));

        static boolean contains(BigInteger u) {
            return U.contains(u.clearBit(255).mod(P));
        }
    }

    /** Curve25519 with our scalar's bytes (RFC 7748 §5); all zeros out is a low-order point in (RFC 8031 §2.2). */
    byte[] agree(byte[] ownScalar, PublicKey peer) throws IkeProtocolException {
        byte[] u = encodePublic(peer);
        byte[] secret = new byte[X25519.POINT_SIZE];
        if (!X25519.calculateAgreement(ownScalar, 0, u, 0, secret, 0)) {
            throw IkeProtocolException.invalidSyntax("Curve25519 shared secret is all zeros (RFC 8031 §2.2)");
        }
        return secret;
    }

    /**
     * The peer's Curve25519 value as it came (32 bytes, little-endian u), checked: Bouncy
     * Castle's RFC 7748 code takes it as it is. Bouncy Castle rather than the JDK for this one
     * curve: its fixed-base tables make a key pair 4.4 times as fast and the agreement 1.8 times
     * (40 and 105 µs of CPU against 175 and 186 here), and a responder makes both for every
     * IKE_SA_INIT it answers, the largest part of what an IKE SA costs it (measured with the
     * IKE load bench's profile).
     */
    private record Curve25519Raw(byte[] u) implements PublicKey {
        static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

        @Override
        public byte[] u() {
            return u.clone();
        }

        @Override
        public String getAlgorithm() {
            return "X25519";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return u.clone();
        }
    }

    byte[] agree(PrivateKey own, PublicKey peer) throws IkeProtocolException {
        try {
            KeyAgreement agreement = KeyAgreement.getInstance(switch (this) {
                case MODP_2048 -> "DH";
                case ECP_256, ECP_384 -> "ECDH";
                case CURVE25519 -> "X25519";
            });
            agreement.init(own);
            agreement.doPhase(peer, true);
            byte[] secret = agreement.generateSecret();
            if (this == MODP_2048 && secret.length < fieldLength) {
                // g^ir is padded with zeros to the prime's length (RFC 7296 §2.14).
                byte[] padded = new byte[fieldLength];
                System.arraycopy(secret, 0, padded, fieldLength - secret.length, secret.length);
                Arrays.fill(secret, (byte) 0);
                secret = padded;
            }
            if (this == CURVE25519 && allZero(secret)) {
                throw IkeProtocolException.invalidSyntax("Curve25519 shared secret is all zeros (RFC 8031 §2.2)");
            }
            return secret;
        } catch (GeneralSecurityException e) {
            throw IkeProtocolException.invalidSyntax(this + " key agreement failed: " + e.getMessage());
        }
    }

    private static boolean onCurve(ECParameterSpec params, BigInteger x, BigInteger y) {
        BigInteger p = ((ECFieldFp) params.getCurve().getField()).getP();
        if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0) {
            return false;
        }
        BigInteger left = y.multiply(y).mod(p);
        BigInteger right = x.pow(3).add(params.getCurve().getA().multiply(x)).add(params.getCurve().getB()).mod(p);
        return left.equals(right);
    }

    private static boolean allZero(byte[] b) {
        int acc = 0;
        for (byte v : b) {
            acc |= v;
        }
        return acc == 0;
    }

    static byte[] unsigned(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        if (raw.length == length) {
            return raw;
        }
        byte[] out = new byte[length];
        if (raw.length > length) {
            System.arraycopy(raw, raw.length - length, out, 0, length); // drop the sign byte
        } else {
            System.arraycopy(raw, 0, out, length - raw.length, raw.length);
        }
        return out;
    }

    private static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }
}
