package io.isthmus.ike.message;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A distinguished name (X.501 {@code Name}) as a name, not as bytes: two encodings of one name are
 * {@link #equals equal} the way RFC 5280 §7.1 asks, with RFC 4518's string preparation. So
 * {@code O=Example} as a PrintableString (strongSwan's {@code pki}, most CAs) equals
 * {@code o = EXAMPLE} as a UTF8String (Bouncy Castle's encoding of a configured name):
 * <ul>
 *   <li>RDNs in order; the attributes of a multi-valued RDN as a set;</li>
 *   <li>attribute types by OID;</li>
 *   <li>values of any string type (Printable, UTF8, IA5, Visible, Numeric, Teletex, BMP,
 *       Universal) decoded to Unicode, then prepared: controls and format characters mapped to
 *       nothing, separators to a space, case folded, NFKC, insignificant spaces removed
 *       (leading, trailing, runs inside; all of them in a NumericString). All the attributes
 *       certificates carry (CN, O, OU, C, L, ST, DC, emailAddress, serialNumber) match
 *       case-insensitively (caseIgnoreMatch, caseIgnoreIA5Match), so every string is folded;</li>
 *   <li>values of other types, and strings that do not decode or hold characters RFC 4518
 *       prohibits (where the match is undefined), only as their exact DER.</li>
 * </ul>
 * {@link #matches} adds strongSwan's wildcard: a value {@code *} in a configured name stands for
 * any value of that attribute, so {@code C=CH, O=Example, CN=*} admits every peer certified under
 * it (the certificate chain still decides who is trusted).
 *
 * <p>The DER is read here, without recursion and within its bounds: a name from a peer's ID
 * payload is hostile input; {@link #parse} answers empty for anything that is not a Name rather
 * than throwing.
 */
public final class DistinguishedName {
    /** One attribute: its type (OID content octets, hex) and its prepared value, or its DER when it has no string form. */
    private record Attribute(String oid, boolean text, String value) {
        boolean matches(Attribute claimed) {
            return oid.equals(claimed.oid) && (isWildcard() || equals(claimed));
        }

        boolean isWildcard() {
            return text && value.equals("*");
        }
    }

    private static final int SEQUENCE = 0x30;
    private static final int SET = 0x31;
    private static final int OID = 0x06;
    private static final int UTF8_STRING = 0x0C;
    private static final int NUMERIC_STRING = 0x12;
    private static final int PRINTABLE_STRING = 0x13;
    private static final int TELETEX_STRING = 0x14;
    private static final int IA5_STRING = 0x16;
    private static final int VISIBLE_STRING = 0x1A;
    private static final int UNIVERSAL_STRING = 0x1C;
    private static final int BMP_STRING = 0x1E;

    /** Short names as Bouncy Castle's X500Name prints them, so logs read as they did. */
    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("2.5.4.6", "C"), Map.entry("2.5.4.8", "ST"), Map.entry("2.5.4.7", "L"), Map.entry("2.5.4.10", "O"),
            Map.entry("2.5.4.11", "OU"), Map.entry("2.5.4.3", "CN"), Map.entry("2.5.4.5", "SERIALNUMBER"), Map.entry("2.5.4.4", "SURNAME"),
            Map.entry("2.5.4.42", "GIVENNAME"), Map.entry("2.5.4.12", "T"), Map.entry("2.5.4.9", "STREET"),
            Map.entry("2.5.4.46", "DN"), Map.entry("2.5.4.17", "PostalCode"), Map.entry("2.5.4.43", "INITIALS"),
            Map.entry("2.5.4.44", "GENERATION"), Map.entry("2.5.4.65", "Pseudonym"), Map.entry("1.2.840.113549.1.9.1", "E"),
            Map.entry("0.9.2342.19200300.100.1.25", "DC"), Map.entry("0.9.2342.19200300.100.1.1", "UID"));

    private final List<Set<Attribute>> rdns;
    private final String text;

    private DistinguishedName(List<Set<Attribute>> rdns, String text) {
        this.rdns = rdns;
        this.text = text;
    }

    /** The name in {@code der}, or empty when it is not the DER of a Name (nothing else after it). */
    public static Optional<DistinguishedName> parse(byte[] der) {
        try {
            return Optional.of(read(der));
        } catch (Malformed e) {
            return Optional.empty();
        }
    }

    /** Why {@code der} is not a Name, or null when it is: for a log line. */
    public static String problem(byte[] der) {
        try {
            read(der);
            return null;
        } catch (Malformed e) {
            return e.getMessage();
        }
    }

    /**
     * Whether {@code claimed} is this name, where an attribute of this one whose value is
     * {@code *} takes any value of its type (strongSwan's wildcard). Both have the same RDNs in
     * the same order and each RDN the same attribute types.
     */
    public boolean matches(DistinguishedName claimed) {
        if (rdns.size() != claimed.rdns.size()) {
            return false;
        }
        for (int i = 0; i < rdns.size(); i++) {
            Set<Attribute> pattern = rdns.get(i);
            Set<Attribute> other = claimed.rdns.get(i);
            if (pattern.size() != other.size()) {
                return false;
            }
            for (Attribute a : pattern) {
                if (other.stream().noneMatch(a::matches)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether some value is {@code *}: a pattern for {@link #matches}, never an identity to send. */
    public boolean hasWildcards() {
        return rdns.stream().flatMap(Set::stream).anyMatch(Attribute::isWildcard);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistinguishedName d && d.rdns.equals(rdns);
    }

    @Override
    public int hashCode() {
        return rdns.hashCode();
    }

    /** As Bouncy Castle's X500Name prints it ({@code C=CH,O=Example,CN=gw1}); the peer's text, so not yet made printable. */
    @Override
    public String toString() {
        return text;
    }

    private static final class Malformed extends Exception {
        Malformed(String why) {
            super(why, null, false, false);
        }
    }

    /** A cursor over DER with a bound check before every read: needs n, m left. */
    private static final class Der {
        final byte[] b;
        int at;
        final int end;

        Der(byte[] b, int at, int end) {
            this.b = b;
            this.at = at;
            this.end = end;
        }

        boolean more() {
            return at < end;
        }

        int tag() throws Malformed {
            need(1, "a tag");
            int tag = b[at] & 0xFF;
            if ((tag & 0x1F) == 0x1F) {
                throw new Malformed("multi-byte tag at " + at);
            }
            return tag;
        }

        /** The element at the cursor, whose tag must be {@code tag} (-1: any); the cursor moves past it. */
        Der element(int tag, String what) throws Malformed {
            int start = at;
            int t = tag();
            if (tag >= 0 && t != tag) {
                throw new Malformed(what + ": tag 0x" + Integer.toHexString(t) + " at " + start + ", need 0x" + Integer.toHexString(tag));
            }
            at++;
            need(1, "a length");
            int first = b[at++] & 0xFF;
            int length;
            if (first < 0x80) {
                length = first;
            } else {
                int n = first & 0x7F;
                if (n == 0 || n > 3) {
                    throw new Malformed(what + ": length of " + n + " octets at " + (at - 1) + (n == 0 ? " (indefinite, not DER)" : ""));
                }
                need(n, "the length");
                length = 0;
                for (int i = 0; i < n; i++) {
                    length = (length << 8) | (b[at++] & 0xFF);
                }
            }
            need(length, what);
            Der inner = new Der(b, at, at + length);
            inner.header = start;
            at += length;
            return inner;
        }

        int header;

        void need(int n, String what) throws Malformed {
            if (n > end - at) {
                throw new Malformed(what + ": need " + n + " octets, " + (end - at) + " left");
            }
        }

        byte[] content() {
            return Arrays.copyOfRange(b, at, end);
        }

        /** The whole element, tag and length included. */
        byte[] encoding() {
            return Arrays.copyOfRange(b, header, end);
        }
    }

    private static DistinguishedName read(byte[] der) throws Malformed {
        Der all = new Der(der, 0, der.length);
        Der name = all.element(SEQUENCE, "Name");
        if (all.more()) {
            throw new Malformed((der.length - all.at) + " octets after the Name");
        }
        List<Set<Attribute>> rdns = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        while (name.more()) {
            Der rdn = name.element(SET, "RelativeDistinguishedName");
            List<Attribute> attributes = new ArrayList<>();
            if (!rdns.isEmpty()) {
                text.append(',');
            }
            while (rdn.more()) {
                Der atv = rdn.element(SEQUENCE, "AttributeTypeAndValue");
                Der type = atv.element(OID, "AttributeType");
                Der value = atv.element(-1, "AttributeValue");
                if (atv.more()) {
                    throw new Malformed("AttributeTypeAndValue with more than a type and a value");
                }
                if (type.end == type.at || (type.b[type.end - 1] & 0x80) != 0) {
                    throw new Malformed("AttributeType: not an OID");
                }
                if (!attributes.isEmpty()) {
                    text.append('+');
                }
                String dotted = dotted(type.content());
                String decoded = decode(value);
                text.append(NAMES.getOrDefault(dotted, dotted)).append('=')
                        .append(decoded != null ? escape(decoded) : "#" + HexFormat.of().formatHex(value.encoding()));
                String prepared = decoded == null ? null : prepare(decoded, value.b[value.header] == NUMERIC_STRING);
                attributes.add(prepared != null ? new Attribute(dotted, true, prepared)
                        : new Attribute(dotted, false, HexFormat.of().formatHex(value.encoding())));
            }
            if (attributes.isEmpty()) {
                throw new Malformed("an empty RelativeDistinguishedName");
            }
            rdns.add(Set.copyOf(attributes));
        }
        return new DistinguishedName(List.copyOf(rdns), text.toString());
    }

    /** The value's text for the string types, or null for any other type and a string that does not decode. */
    private static String decode(Der value) {
        int tag = value.b[value.header] & 0xFF;
        byte[] c = value.content();
        try {
            return switch (tag) {
                case PRINTABLE_STRING, IA5_STRING, VISIBLE_STRING, NUMERIC_STRING ->
                        StandardCharsets.US_ASCII.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(c)).toString();
                case UTF8_STRING ->
                        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(c)).toString();
                // T.61 as Latin-1, as every implementation that reads it does.
                case TELETEX_STRING -> new String(c, StandardCharsets.ISO_8859_1);
                case BMP_STRING -> c.length % 2 == 0 ? strictUtf16(c) : null;
                case UNIVERSAL_STRING -> utf32(c);
                default -> null;
            };
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String strictUtf16(byte[] c) throws CharacterCodingException {
        return StandardCharsets.UTF_16BE.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(c)).toString();
    }

    private static String utf32(byte[] c) {
        if (c.length % 4 != 0) {
            return null;
        }
        StringBuilder s = new StringBuilder(c.length / 4);
        for (int i = 0; i < c.length; i += 4) {
            int cp = ((c[i] & 0xFF) << 24) | ((c[i + 1] & 0xFF) << 16) | ((c[i + 2] & 0xFF) << 8) | (c[i + 3] & 0xFF);
            if (!Character.isValidCodePoint(cp) || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return null;
            }
            s.appendCodePoint(cp);
        }
        return s.toString();
    }

    /**
     * RFC 4518's steps for caseIgnoreMatch: map (§2.2), fold case, normalise NFKC (§2.3),
     * prohibit (§2.4), then insignificant spaces (§2.6.1; all spaces for numericStringMatch).
     * Null when a prohibited character makes the match undefined: then only the DER compares.
     */
    static String prepare(String value, boolean numeric) {
        StringBuilder mapped = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); ) {
            int cp = value.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0x09 || cp == 0x0A || cp == 0x0B || cp == 0x0C || cp == 0x0D || cp == 0x85) {
                mapped.append(' ');
                continue;
            }
            int type = Character.getType(cp);
            if (cp == 0x1806 || cp == 0x034F || (cp >= 0x180B && cp <= 0x180D) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFFFC
                    || cp == 0x200B || type == Character.CONTROL || type == Character.FORMAT) {
                continue;
            }
            if (type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                mapped.append(' ');
                continue;
            }
            mapped.appendCodePoint(cp);
        }
        // Upper then lower: Java's stand-in for full case folding (ß and SS fold alike).
        String folded = Normalizer.normalize(mapped.toString().toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT), Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder(folded.length());
        boolean space = false;
        for (int i = 0; i < folded.length(); ) {
            int cp = folded.codePointAt(i);
            i += Character.charCount(cp);
            int type = Character.getType(cp);
            if (type == Character.UNASSIGNED || type == Character.PRIVATE_USE || type == Character.SURROGATE || cp == 0xFFFD
                    || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
                return null;
            }
            if (cp == ' ') {
                space = true;
                continue;
            }
            if (space && !out.isEmpty() && !numeric) {
                out.append(' ');
            }
            space = false;
            out.appendCodePoint(cp);
        }
        return out.toString();
    }

    /** OID content octets as dotted decimal (base 128, the first octet's two arcs split as X.690 says). */
    private static String dotted(byte[] c) throws Malformed {
        StringBuilder s = new StringBuilder();
        long arc = 0;
        boolean first = true;
        for (int i = 0; i < c.length; i++) {
            if (arc == 0 && (c[i] & 0xFF) == 0x80) {
                throw new Malformed("AttributeType: OID arc with a leading 0x80 (not DER)");
            }
            arc = (arc << 7) | (c[i] & 0x7F);
            if (arc > Integer.MAX_VALUE) {
                throw new Malformed("AttributeType: OID arc too large");
            }
            if ((c[i] & 0x80) == 0) {
                if (first) {
                    int top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
                    s.append(top).append('.').append(arc - 40L * top);
                    first = false;
                } else {
                    s.append('.').append(arc);
                }
                arc = 0;
            }
        }
        return s.toString();
    }

    /** RFC 4514 §2.4 escaping, as X500Name prints: the specials, and a leading # or space, a trailing space. */
    private static String escape(String v) {
        StringBuilder s = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch == ',' || ch == '"' || ch == '\\' || ch == '+' || ch == '=' || ch == '<' || ch == '>' || ch == ';'
                    || (i == 0 && (ch == '#' || ch == ' ')) || (i == v.length() - 1 && ch == ' ')) {
                s.append('\\');
            }
            s.append(ch);
        }
        return s.toString();
    }
}
