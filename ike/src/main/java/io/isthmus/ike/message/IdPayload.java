package io.isthmus.ike.message;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * Identification payload, IDi or IDr (RFC 7296 §3.5). {@link #body()} is what AUTH signs
 * (the payload without its generic header, §2.15).
 */
public record IdPayload(boolean initiator, int idType, byte[] data) implements Payload {
    public static final int ID_IPV4_ADDR = 1;
    public static final int ID_FQDN = 2;
    public static final int ID_RFC822_ADDR = 3;
    public static final int ID_IPV6_ADDR = 5;
    public static final int ID_DER_ASN1_DN = 9;
    public static final int ID_DER_ASN1_GN = 10;
    public static final int ID_KEY_ID = 11;

    public IdPayload {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public int type() {
        return initiator ? PayloadType.IDI : PayloadType.IDR;
    }

    /** ID Type, three reserved bytes, data: the bytes AUTH covers. */
    public byte[] body() {
        byte[] b = new byte[4 + data.length];
        b[0] = (byte) idType;
        System.arraycopy(data, 0, b, 4, data.length);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdPayload other && other.initiator == initiator && other.idType == idType
                && Arrays.equals(other.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * idType + Arrays.hashCode(data);
    }

    /**
     * As strongSwan prints identities: an address, a name, or the hex of a key id. Names are the
     * peer's text, so they are made printable ({@link PeerText}): this goes into logs.
     */
    @Override
    public String toString() {
        return switch (idType) {
            case ID_IPV4_ADDR, ID_IPV6_ADDR -> {
                yield data.length == 4 || data.length == 16 ? AddressText.of(data) : "bad address " + HexFormat.of().formatHex(data);
            }
            case ID_FQDN, ID_RFC822_ADDR -> PeerText.printable(data);
            case ID_KEY_ID -> "keyid:" + HexFormat.of().formatHex(data);
            case ID_DER_ASN1_DN -> DistinguishedName.parse(data).map(d -> PeerText.printable(d.toString()))
                    .orElseGet(() -> "bad DN " + HexFormat.of().formatHex(data, 0, Math.min(data.length, 64)) + (data.length > 64 ? "..." : ""));
            default -> "id type " + idType + ":" + HexFormat.of().formatHex(data);
        };
    }
}
