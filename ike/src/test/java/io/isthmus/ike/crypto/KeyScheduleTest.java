package io.isthmus.ike.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.isthmus.esp.VectorFile;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.NotifyType;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KeyScheduleTest {

    /** The five derivations of RFC 7296 against the CAVP-style run in test-vectors. */
    @Test
    void keyDerivationMatchesThePublishedRun() {
        VectorFile.Case c = VectorFile.load("vectors/ike/ikev2-kdf.vec").cases().getFirst();
        PseudorandomFunction prf = PseudorandomFunction.fromIanaId(c.integer("prf"));
        byte[] ni = c.bytes("Ni");
        byte[] nr = c.bytes("Nr");
        byte[] skeyseed = KeyDerivation.skeyseed(prf, ni, nr, c.bytes("g^ir"));
        assertArrayEquals(c.bytes("SKEYSEED"), skeyseed);

        int length = c.integer("dkm_length");
        byte[] seed = KeyDerivation.concat(ni, nr, c.bytes("SPIi"), c.bytes("SPIr"));
        byte[] dkm = prf.plus(skeyseed, seed, length);
        assertArrayEquals(c.bytes("DKM"), dkm);

        byte[] skD = Arrays.copyOf(dkm, prf.length());
        assertArrayEquals(c.bytes("DKM(Child SA)"), KeyDerivation.childKeymat(prf, skD, null, ni, nr, length));
        assertArrayEquals(c.bytes("DKM(Child SA D-H)"), KeyDerivation.childKeymat(prf, skD, c.bytes("g^ir (new)"), ni, nr, length));
        assertArrayEquals(c.bytes("SKEYSEED(Rekey)"), KeyDerivation.rekeySkeyseed(prf, skD, c.bytes("g^ir (new)"), ni, nr));

        // The seven keys are consecutive slices of the same stream (§2.14).
        IkeSaKeys keys = KeyDerivation.ikeSaKeys(prf, skeyseed, ni, nr, c.hexLong("SPIi"), c.hexLong("SPIr"), 12, 24);
        assertArrayEquals(skD, keys.skD());
        assertArrayEquals(Arrays.copyOfRange(dkm, 20, 32), keys.skAi());
        assertArrayEquals(Arrays.copyOfRange(dkm, 32, 44), keys.skAr());
        assertArrayEquals(Arrays.copyOfRange(dkm, 44, 68), keys.skEi());
        assertArrayEquals(Arrays.copyOfRange(dkm, 68, 92), keys.skEr());
        assertArrayEquals(Arrays.copyOfRange(dkm, 92, 112), keys.skPi());
        assertArrayEquals(Arrays.copyOfRange(dkm, 112, 132), keys.skPr());
    }

    /** RFC 5903 §8 and RFC 7748 §6.1: our KE payload bytes and the secret, from the RFCs' own keys. */
    @TestFactory
    Stream<DynamicTest> keyExchangeVectors() {
        return VectorFile.load("vectors/ike/key-exchange.vec").cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            KeyExchangeMethod method = KeyExchangeMethod.fromIanaId(c.integer("group"));
            KeyExchange reference = method.generate(); // for the curve parameters
            PrivateKey privateKey;
            PublicKey publicKey;
            if (method == KeyExchangeMethod.CURVE25519) {
                privateKey = KeyFactory.getInstance("XDH").generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, c.bytes("i")));
                publicKey = method.peerPublicValue(c.bytes("gi"));
            } else {
                ECPrivateKey template = (ECPrivateKey) referencePrivate(reference);
                privateKey = KeyFactory.getInstance("EC").generatePrivate(
                        new ECPrivateKeySpec(new BigInteger(1, c.bytes("i")), template.getParams()));
                publicKey = method.peerPublicValue(c.bytes("gi"));
            }
            KeyExchange mine = method.withKeyPair(new KeyPair(publicKey, privateKey));
            assertArrayEquals(c.bytes("gi"), mine.publicValue(), "KE payload data");
            assertArrayEquals(c.bytes("gir"), mine.sharedSecret(c.bytes("gr")), "g^ir");
        }));
    }

    private static PrivateKey referencePrivate(KeyExchange exchange) throws Exception {
        var field = KeyExchange.class.getDeclaredField("pair");
        field.setAccessible(true);
        return ((KeyPair) field.get(exchange)).getPrivate();
    }

    @ParameterizedTest
    @EnumSource(KeyExchangeMethod.class)
    void bothSidesAgree(KeyExchangeMethod method) throws IkeProtocolException {
        KeyExchange a = method.generate();
        KeyExchange b = method.generate();
        assertEquals(method.publicValueLength(), a.publicValue().length);
        byte[] s1 = a.sharedSecret(b.publicValue());
        byte[] s2 = b.sharedSecret(a.publicValue());
        assertArrayEquals(s1, s2);
        assertEquals(method == KeyExchangeMethod.MODP_2048 ? 256 : method == KeyExchangeMethod.ECP_384 ? 48 : 32, s1.length);
    }

    @ParameterizedTest
    @EnumSource(KeyExchangeMethod.class)
    void badPublicValuesAreInvalidSyntax(KeyExchangeMethod method) {
        KeyExchange a = method.generate();
        int n = method.publicValueLength();
        byte[][] bad = switch (method) {
            case MODP_2048 -> new byte[][] {new byte[n], one(n), new byte[n - 1], pMinusOne()};
            case ECP_256, ECP_384 -> new byte[][] {new byte[n], filled(n, 0xAA), new byte[n + 1],
                    KeyDerivation.concat(new byte[] {4}, a.publicValue())};
            // u = 0 and u = 1 (little-endian) are low-order points: the secret comes out all zeros.
            case CURVE25519 -> new byte[][] {new byte[n], new byte[n - 1], littleEndianOne(n)};
        };
        for (byte[] value : bad) {
            IkeProtocolException e = assertThrows(IkeProtocolException.class, () -> a.sharedSecret(value), method + " " + value.length);
            assertEquals(NotifyType.INVALID_SYNTAX, e.notifyType());
        }
    }

    private static byte[] one(int n) {
        byte[] b = new byte[n];
        b[n - 1] = 1;
        return b;
    }

    private static byte[] littleEndianOne(int n) {
        byte[] b = new byte[n];
        b[0] = 1;
        return b;
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }

    private static byte[] pMinusOne() {
        BigInteger p = org.bouncycastle.crypto.agreement.DHStandardGroups.rfc3526_2048.getP();
        return KeyExchangeMethod.unsigned(p.subtract(BigInteger.ONE), 256);
    }
}
