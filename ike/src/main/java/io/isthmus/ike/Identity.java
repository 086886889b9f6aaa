package io.isthmus.ike;

import io.isthmus.ike.message.DistinguishedName;
import io.isthmus.ike.message.IdPayload;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;

/**
 * An IKE identity (RFC 7296 §3.5): an IPv4 or IPv6 address, an FQDN, an RFC 822 address, a
 * distinguished name or a key id. {@link #parse} reads them the way strongSwan's {@code id =} does.
 */
public final class Identity {
    private final int type;
    private final byte[] data;
    /**
     * What {@link #equals} compares, made once: a responder compares the claimed identity with
     * every candidate connection's, and a DN from a peer may be long. Immutable, so a race
     * between two first uses only makes it twice.
     */
    private Object canonical;

    public Identity(int type, byte[] data) {
        this.type = type;
        this.data = data.clone();
    }

    public int type() {
        return type;
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

    public byte[] data() {
        return data.clone();
    }

    /**
     * The same identity, compared as what it names: distinguished names as names
     * ({@link DistinguishedName}: string types, case and insignificant spaces do not count), FQDNs
     * and RFC 822 addresses without regard to ASCII case (as strongSwan compares them), addresses and
     * key ids byte for byte. A DN that is not DER equals only the same bytes.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof Identity i && i.type == type && canonical().equals(i.canonical());
    }

    @Override
    public int hashCode() {
        return type * 31 + canonical().hashCode();
    }

    /**
     * Whether {@code peer}, the identity a peer claims, is this one as configured: {@link #equals},
     * or for a distinguished name with {@code *} values (strongSwan's {@code CN=*}), one that
     * matches it ({@link DistinguishedName#matches}). Never the other way round: a peer's
     * identity is not a pattern.
     */
    public boolean matches(Identity peer) {
        if (equals(peer)) {
            return true;
        }
        if (type != IdPayload.ID_DER_ASN1_DN || peer.type != IdPayload.ID_DER_ASN1_DN) {
            return false;
        }
        Optional<DistinguishedName> pattern = distinguishedName();
        Optional<DistinguishedName> claimed = peer.distinguishedName();
        return pattern.isPresent() && claimed.isPresent() && pattern.get().matches(claimed.get());
    }

    /** A pattern ({@code CN=*}) rather than one identity: not sent as IDr, where the peer would take it literally. */
    public boolean hasWildcards() {
        return distinguishedName().map(DistinguishedName::hasWildcards).orElse(false);
    }

    /** The name in a DN identity; empty for other types and for bytes that are not a Name. */
    public Optional<DistinguishedName> distinguishedName() {
        return canonical() instanceof DistinguishedName d ? Optional.of(d) : Optional.empty();
    }

    /** Only A to Z: other bytes are not letters in a DNS name, and folding them (as Latin-1) would make distinct names equal. */
    private static String asciiLowerCase(byte[] b) {
        char[] c = new char[b.length];
        for (int i = 0; i < b.length; i++) {
            int x = b[i] & 0xFF;
            c[i] = (char) (x >= 'A' && x <= 'Z' ? x + 32 : x);
        }
        return new String(c);
    }

    /** What {@link #equals} compares. */
    private Object canonical() {
        Object c = canonical;
        if (c == null) {
            c = canonicalForm();
            canonical = c;
        }
        return c;
    }

    private Object canonicalForm() {
        return switch (type) {
            case IdPayload.ID_DER_ASN1_DN -> DistinguishedName.parse(data).<Object>map(d -> d).orElseGet(() -> HexFormat.of().formatHex(data));
            case IdPayload.ID_FQDN, IdPayload.ID_RFC822_ADDR -> asciiLowerCase(data);
            default -> HexFormat.of().formatHex(data);
        };
    }

    @Override
    public String toString() {
        return toPayload(true).toString();
    }
}
