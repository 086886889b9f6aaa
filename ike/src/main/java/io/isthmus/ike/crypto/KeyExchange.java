package io.isthmus.ike.crypto;

import io.isthmus.ike.message.IkeProtocolException;
import java.security.KeyPair;

/** One side of one key exchange: our public value, and the shared secret once the peer's arrives. */
public final class KeyExchange {
    private final KeyExchangeMethod method;
    private final KeyPair pair;
    private final byte[] publicValue;

    KeyExchange(KeyExchangeMethod method, KeyPair pair) {
        this.method = method;
        this.pair = pair;
        this.publicValue = method.encodePublic(pair.getPublic());
    }

    public KeyExchangeMethod method() {
        return method;
    }

    /** What goes in our KE payload. */
    public byte[] publicValue() {
        return publicValue.clone();
    }

    /** g^ir, from the peer's KE payload data. */
    public byte[] sharedSecret(byte[] peerPublicValue) throws IkeProtocolException {
        return method.agree(pair.getPrivate(), method.decodePublic(peerPublicValue, pair.getPrivate()));
    }
}
