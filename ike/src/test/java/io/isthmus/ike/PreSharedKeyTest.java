package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.PseudorandomFunction;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One live copy of a shared key: the connection holds the array it was given, uses it only
 * inside {@link Authentication.PreSharedKey}, and it is wiped when the connection goes.
 */
class PreSharedKeyTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    static byte[] key() {
        return "a shared secret for this test only".getBytes(StandardCharsets.US_ASCII);
    }

    static boolean wiped(byte[] key) {
        return Arrays.equals(key, new byte[key.length]);
    }

    @Test
    void theConnectionHoldsTheArrayItWasGivenNotACopy() {
        byte[] key = key();
        Connection c = connectionA(IKE, "aes128gcm16").preSharedKey(key).build();
        Authentication.PreSharedKey psk = (Authentication.PreSharedKey) c.authentication();
        psk.destroy();
        assertTrue(wiped(key), "destroying the connection's key wipes the one array there is");
        assertTrue(psk.isDestroyed());
        assertThrows(IllegalStateException.class, () -> psk.prf(PseudorandomFunction.HMAC_SHA2_256, new byte[1]));
    }

    @Test
    void theKeyIsUsedInsideAndNeverHandedOut() {
        byte[] key = key();
        var psk = new Authentication.PreSharedKey(key);
        byte[] data = "Key Pad for IKEv2".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(PseudorandomFunction.HMAC_SHA2_256.compute(key(), data), psk.prf(PseudorandomFunction.HMAC_SHA2_256, data));
        List<String> byteArrays = Arrays.stream(Authentication.PreSharedKey.class.getMethods())
                .filter(m -> m.getReturnType() == byte[].class && Modifier.isPublic(m.getModifiers())).map(Method::getName).toList();
        assertEquals(List.of("prf"), byteArrays, "only a MAC comes out, never the key");
        assertEquals("pre-shared key", psk.toString());
        assertTrue(!Arrays.equals(key, new byte[key.length]), "using the key leaves it alone");
    }

    @Test
    void removingAConnectionDeletesItsIkeSaAndWipesItsKey() {
        byte[] keyA = key();
        byte[] keyB = key();
        configure(connectionA(IKE, "aes128gcm16").preSharedKey(keyA).build(), connectionB(IKE, "aes128gcm16").preSharedKey(keyB).build());
        assertEquals(IkeSaState.ESTABLISHED, initiate().state());
        engineB.removeConnection("site");
        assertTrue(wiped(keyB), "B's key is wiped");
        deliver();
        assertTrue(engineA.ikeSas().isEmpty(), "B told A: " + engineA.ikeSas());
        assertTrue(engineB.ikeSas().isEmpty());
        assertTrue(!wiped(keyA), "A's connection stays, and its key");
        IkeSa again = engineA.initiate("site", new java.net.InetSocketAddress(A, 500), new java.net.InetSocketAddress(B, 500));
        deliver();
        assertTrue(again.state() != IkeSaState.ESTABLISHED && engineB.ikeSas().isEmpty(), "B has no connection for A any more");
    }
}
