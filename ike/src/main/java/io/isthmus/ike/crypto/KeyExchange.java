package io.isthmus.ike.crypto;

import io.isthmus.ike.message.IkeProtocolException;
import java.security.KeyPair;
import java.security.PublicKey;

/**
 * One side of one key exchange: our public value, and the shared secret once the peer's arrives.
 * MODP and ECP keys are the JDK's; a Curve25519 key is its 32 bytes, for Bouncy Castle's
 * RFC 7748 code ({@link KeyExchangeMethod#CURVE25519} says why).
 */
public final class KeyExchange {
    private final KeyExchangeMethod method;
    private final KeyPair pair;
    /** Curve25519: the scalar (clamped when used); null for the JDK's keys. */
    private final byte[] rawPrivate;
    private final byte[] publicValue;

    KeyExchange(KeyExchangeMethod method, KeyPair pair) {
        this.method = method;
        this.pair = pair;
        this.rawPrivate = null;
        this.publicValue = method.encodePublic(pair.getPublic());
    }

    KeyExchange(KeyExchangeMethod method, byte[] rawPrivate, byte[] publicValue) {
        this.method = method;
        this.pair = null;
        this.rawPrivate = rawPrivate;
        this.publicValue = publicValue;
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
        return rawPrivate != null ? method.agree(rawPrivate, peer) : method.agree(pair.getPrivate(), peer);
    }
}
