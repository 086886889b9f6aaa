package io.isthmus.ike;

import io.isthmus.ike.crypto.PseudorandomFunction;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * What a connection authenticates with ({@link #of}), as an IKE SA keeps it to tell whether a
 * reload changed it: comparable with equals.
 */
record Credentials(Object authentication, Identity localId, Identity remoteId) {
    /** A random salt for {@link #of}, so that what is kept of a key compares only within this process. */
    private static final byte[] SALT = new byte[32];

    static {
        new SecureRandom().nextBytes(SALT);
    }

    /**
     * What {@code c} authenticates with, comparable with equals: its identities, its certificates
     * and private key, or of its pre-shared key only prf(key, salt) (the key itself is not kept,
     * and may be wiped later with the configuration it came from). A wiped key compares unequal
     * to everything.
     */
    static Credentials of(Connection c) {
        Object auth = c.authentication();
        if (auth instanceof Authentication.PreSharedKey psk) {
            auth = psk.isDestroyed() ? new Object() : HexFormat.of().formatHex(psk.prf(PseudorandomFunction.HMAC_SHA2_256, SALT));
        }
        return new Credentials(auth, c.localId(), c.remoteId());
    }
}
