package io.isthmus.ike;

import io.isthmus.ike.message.IdPayload;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An IKE identity (RFC 7296 §3.5): an IPv4 or IPv6 address, an FQDN, an RFC 822 address, a
 * distinguished name or a key id. {@link #parse} reads them the way strongSwan's {@code id =} does.
 */
public record Identity(int type, byte[] data) {

    public Identity {
        data = data.clone();
    }

    /**
     * {@code 10.77.0.1}, {@code fd00::1}, {@code gw.example.net} (or {@code @gw.example.net}),
     * {@code user@example.net}, {@code CN=gw1, O=Example} and {@code keyid:0a0b...}.
     */
    public static Identity parse(String text) {
        String t = text.strip();
        if (t.contains("=")) {
            // Written in encoding order, as strongSwan and OpenSSL's default print them ("C=CH, O=Example, CN=gw1").
            try {
                return new Identity(IdPayload.ID_DER_ASN1_DN, new org.bouncycastle.asn1.x500.X500Name(t).getEncoded());
            } catch (IllegalArgumentException | java.io.IOException e) {
                throw new IllegalArgumentException("'" + t + "' is not a distinguished name: " + e.getMessage());
            }
        }
        if (t.startsWith("keyid:")) {
            return new Identity(IdPayload.ID_KEY_ID, HexFormat.of().parseHex(t.substring(6)));
        }
        if (t.startsWith("@")) {
            return new Identity(IdPayload.ID_FQDN, t.substring(1).getBytes(StandardCharsets.US_ASCII));
        }
        if (t.matches("[0-9.]+") || (t.contains(":") && t.matches("[0-9a-fA-F:.]+"))) {
            byte[] address = io.isthmus.ike.message.TrafficSelector.ofPrefix(t + (t.contains(":") ? "/128" : "/32")).startAddress();
            return new Identity(address.length == 4 ? IdPayload.ID_IPV4_ADDR : IdPayload.ID_IPV6_ADDR, address);
        }
        if (t.contains("@")) {
            return new Identity(IdPayload.ID_RFC822_ADDR, t.getBytes(StandardCharsets.US_ASCII));
        }
        return new Identity(IdPayload.ID_FQDN, t.getBytes(StandardCharsets.US_ASCII));
    }

    public static Identity of(java.net.InetAddress address) {
        byte[] a = address.getAddress();
        return new Identity(a.length == 4 ? IdPayload.ID_IPV4_ADDR : IdPayload.ID_IPV6_ADDR, a);
    }

    public static Identity of(IdPayload id) {
        return new Identity(id.idType(), id.data());
    }

    public IdPayload toPayload(boolean initiator) {
        return new IdPayload(initiator, type, data);
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Identity i && i.type == type && Arrays.equals(i.data, data);
    }

    @Override
    public int hashCode() {
        return type * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return toPayload(true).toString();
    }
}
