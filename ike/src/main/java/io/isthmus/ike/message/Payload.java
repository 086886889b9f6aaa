package io.isthmus.ike.message;

/**
 * One IKEv2 payload (RFC 7296 §3.2-3.16, RFC 7383 §2.5), as plain data. {@link PayloadCodec}
 * turns them into bytes and back; {@link UnsupportedPayload} keeps what this implementation does
 * not know, so that the critical bit can be honoured.
 */
public sealed interface Payload permits SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload,
        NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload, TsPayload, SkPayload, SkfPayload, CpPayload,
        EapPayload, UnsupportedPayload {

    /** The Payload Type of {@link PayloadType}. */
    int type();
}
