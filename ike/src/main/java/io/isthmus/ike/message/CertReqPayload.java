package io.isthmus.ike.message;

/**
 * Certificate Request payload (RFC 7296 §3.7): for X.509, the SHA-1 hashes of the public keys of
 * trusted CAs, 20 bytes each, concatenated.
 */
public record CertReqPayload(int encoding, byte[] authorities) implements Payload {
    public CertReqPayload {
        authorities = authorities.clone();
    }

    @Override
    public byte[] authorities() {
        return authorities.clone();
    }

    @Override
    public int type() {
        return PayloadType.CERTREQ;
    }
}
