package io.isthmus.ike.crypto;

import io.isthmus.ike.message.IkeProtocolException;
import java.security.KeyPair;
import java.security.PublicKey;

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
        return sharedSecret(method.peerPublicValue(peerPublicValue));
    }

    /** g^ir, from the peer's value as {@link KeyExchangeMethod#peerPublicValue} checked it. */
    public byte[] sharedSecret(PublicKey peer) throws IkeProtocolException {
        return method.agree(pair.getPrivate(), peer);
    }
}
