package io.isthmus.ike.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DERNumericString;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERT61String;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.DERUniversalString;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.junit.jupiter.api.Test;

/**
 * Names compared as names (RFC 5280 §7.1, RFC 4518), built as DER both ways with Bouncy Castle:
 * what strongSwan's {@code pki} sends (PrintableString) against what a configured name parses to
 * (UTF8String), with other case and spacing; what must stay different; wildcards; and DER a peer
 * may forge, which is refused without an exception.
 */
class DistinguishedNameTest {
    private static final ASN1ObjectIdentifier[] TYPES = {BCStyle.C, BCStyle.O, BCStyle.CN};

    /** One RDN per value, in the order given: C, O, CN. */
    static byte[] der(ASN1Encodable... values) {
        X500NameBuilder b = new X500NameBuilder();
        for (int i = 0; i < values.length; i++) {
            b.addRDN(TYPES[i], values[i]);
        }
        try {
            return b.build().getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static DistinguishedName name(byte[] der) {
        return DistinguishedName.parse(der).orElseThrow(() -> new AssertionError("not parsed: " + DistinguishedName.problem(der)));
    }

    static DistinguishedName name(String text) {
        try {
            return name(new X500Name(text).getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertSame(DistinguishedName a, DistinguishedName b) {
        assertEquals(a, b);
        assertEquals(b, a);
        assertEquals(a.hashCode(), b.hashCode());
        assertTrue(a.matches(b) && b.matches(a));
    }

    @Test
    void printableStringAndUtf8StringOfOneValueAreOneName() {
        byte[] pki = der(new DERPrintableString("CH"), new DERPrintableString("HX Interop"), new DERPrintableString("swan.hx"));
        byte[] configured = der(new DERPrintableString("CH"), new DERUTF8String("HX Interop"), new DERUTF8String("swan.hx"));
        assertNotEquals(HexFormat.of().formatHex(pki), HexFormat.of().formatHex(configured), "the bytes differ");
        assertSame(name(pki), name(configured));
        // What the issue saw: the configured text, parsed as Identity.parse does, against pki's DER.
        assertSame(name(pki), name("C=CH, O=HX Interop, CN=swan.hx"));
        assertEquals("C=CH,O=HX Interop,CN=swan.hx", name(pki).toString(), "printed as X500Name prints it");
    }

    @Test
    void caseAndInsignificantSpacesDoNotCount() {
        DistinguishedName pki = name(der(new DERPrintableString("CH"), new DERPrintableString("HX Interop"), new DERPrintableString("swan.hx")));
        assertSame(pki, name("c=ch,o=hx interop,cn=SWAN.HX"));
        assertSame(pki, name(der(new DERUTF8String("ch"), new DERUTF8String("  HX   Interop "), new DERUTF8String("Swan.Hx"))));
        assertSame(pki, name(der(new DERUTF8String("CH"), new DERUTF8String("HX\tInterop"), new DERUTF8String("swan.hx\u00AD"))));
        assertSame(pki, name(der(new DERUTF8String("CH"), new DERUTF8String("HX\u00A0Interop"), new DERUTF8String("swan\u200B.hx"))));
    }

    @Test
    void everyStringTypeIsDecodedToTheSameText() {
        DistinguishedName utf8 = name(der(new DERUTF8String("CH"), new DERUTF8String("Zürich AG"), new DERUTF8String("gw")));
        assertSame(utf8, name(der(new DERPrintableString("CH"), new DERBMPString("ZÜRICH AG"), new DERT61String("gw"))));
        assertSame(utf8, name(der(new DERIA5String("CH"), new DERUniversalString(utf32("zürich ag")), new DERUTF8String("GW"))));
        // NFKC: a decomposed ü and a full-width G.
        assertSame(utf8, name(der(new DERUTF8String("CH"), new DERUTF8String("Zu\u0308rich AG"), new DERUTF8String("\uFF27w"))));
    }

    @Test
    void aNumericStringIgnoresAllItsSpaces() {
        ASN1ObjectIdentifier serial = BCStyle.SERIALNUMBER;
        DistinguishedName a = name(encoded(List.of(List.of(new AttributeTypeAndValue(serial, new DERNumericString("1234 5678"))))));
        assertSame(a, name(encoded(List.of(List.of(new AttributeTypeAndValue(serial, new DERNumericString("12345678")))))));
        assertSame(a, name(encoded(List.of(List.of(new AttributeTypeAndValue(serial, new DERUTF8String("12345678")))))));
        DistinguishedName b = name(encoded(List.of(List.of(new AttributeTypeAndValue(serial, new DERUTF8String("1234 5678"))))));
        assertNotEquals(a, b, "only a NumericString's inner spaces are insignificant");
    }

    @Test
    void whatMakesANameAnotherName() {
        DistinguishedName n = name("C=CH, O=Example, CN=gw1");
        assertNotEquals(n, name("C=CH, O=Example, CN=gw2"), "another value");
        assertNotEquals(n, name("C=CH, O=Example, OU=gw1"), "another type");
        assertNotEquals(n, name("CN=gw1, O=Example, C=CH"), "another order");
        assertNotEquals(n, name("C=CH, O=Example"), "fewer RDNs");
        assertNotEquals(n, name("C=CH, O=Example, CN=gw1, CN=gw1"), "more RDNs");
        assertNotEquals(n, name("C=CH+O=Example, CN=gw1"), "two values in one RDN are not two RDNs");
        assertNotEquals(n, name("C=CH, O=Exam ple, CN=gw1"), "a space inside a word counts");
        assertFalse(n.matches(name("C=CH, O=Example, CN=gw10")));
    }

    @Test
    void theValuesOfAMultiValuedRdnAreASet() {
        ASN1ObjectIdentifier cn = BCStyle.CN;
        ASN1ObjectIdentifier uid = BCStyle.UID;
        byte[] one = encoded(List.of(List.of(new AttributeTypeAndValue(cn, new DERUTF8String("gw")),
                new AttributeTypeAndValue(uid, new DERUTF8String("7")))));
        // Not sorted as DER would: a peer may send it so, and with other string types and case.
        byte[] other = dl(uid, cn);
        assertSame(name(one), name(other));
    }

    private static byte[] dl(ASN1ObjectIdentifier first, ASN1ObjectIdentifier second) {
        try {
            return new org.bouncycastle.asn1.DLSequence(new org.bouncycastle.asn1.DLSet(new ASN1Encodable[] {
                    new AttributeTypeAndValue(first, new DERPrintableString("7")),
                    new AttributeTypeAndValue(second, new DERPrintableString("GW"))})).getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aValueOfNoStringTypeComparesAsItsDer() {
        ASN1ObjectIdentifier unique = BCStyle.UNIQUE_IDENTIFIER;
        byte[] a = encoded(List.of(List.of(new AttributeTypeAndValue(unique, new DERBitString(new byte[] {0x41})))));
        byte[] b = encoded(List.of(List.of(new AttributeTypeAndValue(unique, new DERBitString(new byte[] {0x61})))));
        assertEquals(name(a), name(a.clone()));
        assertNotEquals(name(a), name(b), "no case folding of bits");
    }

    @Test
    void aStringThatDoesNotDecodeComparesAsItsDer() {
        byte[] bad = der(new DERPrintableString("CH"), new DERPrintableString("Example"), new DERUTF8String("gw"));
        // The CN's UTF8String holds 0xC7 0x77: "gw" with an invalid UTF-8 lead byte instead of its g.
        int at = bad.length - 2;
        bad[at] = (byte) 0xC7;
        DistinguishedName n = name(bad);
        assertEquals(n, name(bad.clone()));
        assertNotEquals(n, name("C=CH, O=Example, CN=\u01F7"));
        assertNotEquals(n, name("C=CH, O=Example, CN=gw"));
        assertTrue(n.toString().startsWith("C=CH,O=Example,CN=#0c02"), n.toString());
    }

    @Test
    void aWildcardTakesAnyValueOfItsTypeAndNothingElse() {
        DistinguishedName pattern = name("C=CH, O=Example, CN=*");
        assertTrue(pattern.hasWildcards());
        assertFalse(name("C=CH, O=Example, CN=gw").hasWildcards());
        assertTrue(pattern.matches(name(der(new DERPrintableString("CH"), new DERPrintableString("EXAMPLE"), new DERPrintableString("gw1")))));
        assertTrue(pattern.matches(name("C=CH, O=Example, CN=another one")));
        assertFalse(pattern.matches(name("C=CH, O=Other, CN=gw1")), "the other RDNs still count");
        assertFalse(pattern.matches(name("C=CH, O=Example, OU=gw1")), "only a value of its own type");
        assertFalse(pattern.matches(name("C=CH, O=Example")), "not a missing RDN");
        assertFalse(pattern.matches(name("C=CH, O=Example, CN=gw1, CN=more")), "not two");
        assertFalse(name("C=CH, O=Example, CN=gw1").matches(pattern), "a peer's name is never a pattern");
        assertNotEquals(pattern, name("C=CH, O=Example, CN=gw1"), "equality has no wildcards");
        assertTrue(name("C=*, O=*, CN=*").matches(name("C=DE, O=Anything, CN=gw1")));
    }

    // ------------------------------------------------------------------------------------------
    // Hostile DER: refused with a reason, never thrown.
    // ------------------------------------------------------------------------------------------

    @Test
    void malformedDerIsRefusedWithAReason() {
        byte[] good = der(new DERPrintableString("CH"), new DERPrintableString("Example"), new DERPrintableString("gw"));
        List<byte[]> bad = new ArrayList<>();
        bad.add(new byte[0]);
        bad.add(java.util.Arrays.copyOf(good, good.length - 1));                // truncated
        bad.add(java.util.Arrays.copyOf(good, good.length + 1));                // one octet after the Name
        bad.add(hex("3080" + "0000"));                                          // indefinite length (BER, not DER)
        bad.add(hex("310431023000"));                                           // a SET where the Name's SEQUENCE goes
        bad.add(hex("30023100"));                                               // an empty RDN
        bad.add(hex("3008310630040600" + "0c00"));                              // an empty OID
        bad.add(hex("300c310a30080603800403" + "0c0161"));                      // OID arc with a leading 0x80
        bad.add(hex("300b3109300706035504030c"));                               // a value without its length
        bad.add(hex("30843fffffff"));                                           // four length octets
        bad.add(hex("3083ffffff31"));                                           // a length far beyond the data
        bad.add(hex("300c310a300806035504031f0100"));                           // a multi-byte tag
        bad.add(hex("300e310c300a06035504030c01610500"));                       // an AttributeTypeAndValue of three
        for (byte[] b : bad) {
            assertTrue(DistinguishedName.parse(b).isEmpty(), HexFormat.of().formatHex(b));
            assertNotNull(DistinguishedName.problem(b), HexFormat.of().formatHex(b));
            assertTrue(new IdPayload(true, IdPayload.ID_DER_ASN1_DN, b).toString().startsWith("bad DN "));
        }
        assertTrue(DistinguishedName.parse(hex("3000")).isPresent(), "the empty name is a name");
    }

    @Property(tries = 3000)
    void anyBytesParseOrAreRefusedNeverThrown(@ForAll byte[] bytes) {
        Optional<DistinguishedName> n = DistinguishedName.parse(bytes);
        n.ifPresent(d -> {
            assertEquals(d, DistinguishedName.parse(bytes.clone()).orElseThrow());
            assertNotNull(d.toString());
        });
    }

    @Property(tries = 2000)
    void aValidNameWithOneOctetChangedParsesOrIsRefused(@ForAll("positions") int position, @ForAll byte value) {
        byte[] good = der(new DERPrintableString("CH"), new DERUTF8String("Zürich AG"), new DERBMPString("gw.example.net"));
        byte[] b = good.clone();
        b[position % b.length] = value;
        Optional<DistinguishedName> n = DistinguishedName.parse(b);
        n.ifPresent(d -> assertEquals(d.hashCode(), DistinguishedName.parse(b.clone()).orElseThrow().hashCode()));
    }

    @Provide
    Arbitrary<Integer> positions() {
        return Arbitraries.integers().between(0, 1000);
    }

    /**
     * Any printable value as PrintableString and as a UTF8String with other case and extra
     * spaces around and between its words is the same name; with one letter changed it is not.
     */
    @Property(tries = 500)
    void encodingCaseAndSpacingNeverMakeAnotherName(@ForAll("printable") String value) {
        String word = value.strip();
        net.jqwik.api.Assume.that(!word.isEmpty());
        byte[] pki = der(new DERPrintableString("CH"), new DERPrintableString(word));
        String spaced = "  " + word.toUpperCase(java.util.Locale.ROOT).replace(" ", "   ") + " ";
        byte[] configured = der(new DERPrintableString("ch"), new DERUTF8String(spaced));
        assertSame(name(pki), name(configured));
        char last = word.charAt(word.length() - 1);
        String changed = word.substring(0, word.length() - 1) + (char) (last == 'z' || last == 'Z' ? '0' : Character.isLetterOrDigit(last) ? 'z' : 'q');
        assertNotEquals(name(pki), name(der(new DERPrintableString("CH"), new DERPrintableString(changed))));
    }

    @Provide
    Arbitrary<String> printable() {
        // PrintableString's alphabet (X.680 §41.4).
        return Arbitraries.strings().withChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
                .ofMinLength(1).ofMaxLength(40);
    }

    private static byte[] encoded(List<List<AttributeTypeAndValue>> rdns) {
        X500NameBuilder b = new X500NameBuilder();
        for (List<AttributeTypeAndValue> rdn : rdns) {
            b.addMultiValuedRDN(rdn.toArray(AttributeTypeAndValue[]::new));
        }
        try {
            return b.build().getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] utf32(String s) {
        return s.codePoints().collect(java.io.ByteArrayOutputStream::new, (out, cp) -> {
            out.write(cp >>> 24);
            out.write(cp >>> 16);
            out.write(cp >>> 8);
            out.write(cp);
        }, (x, y) -> x.writeBytes(y.toByteArray())).toByteArray();
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }
}
