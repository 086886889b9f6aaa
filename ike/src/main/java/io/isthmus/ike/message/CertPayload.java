package io.isthmus.ike.message;

/** Certificate payload (RFC 7296 §3.6); encoding 4 is an X.509 certificate (DER). */
public record CertPayload(int encoding, byte[] data) implements Payload {
    public static final int X509_SIGNATURE = 4;

    public CertPayload {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public int type() {
        return PayloadType.CERT;
    }
}
