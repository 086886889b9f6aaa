package io.isthmus.dataplane.conn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The outer IPv4 header of what a raw socket hands over, as a hostile sender (or a kernel that
 * skipped its checks) could make it: only a whole, unfragmented ESP packet for our address gets
 * past, with its options skipped; anything else is refused, never read past its end.
 */
class OuterIpv4HeaderTest {
    /** 10.77.0.2, the socket's address. */
    static final int LOCAL = 0x0A4D0002;

    /** An ESP packet for 10.77.0.2 from 10.77.0.1: {@code options} bytes of options, then {@code esp} bytes of ESP. */
    static byte[] packet(int options, int esp) {
        byte[] p = new byte[20 + options + esp];
        p[0] = (byte) (0x40 | (5 + options / 4));
        p[2] = (byte) (p.length >>> 8);
        p[3] = (byte) p.length;
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = 50;
        p[12] = 10;
        p[13] = 77;
        p[15] = 1;
        p[16] = 10;
        p[17] = 77;
        p[19] = 2;
        Arrays.fill(p, 20, 20 + options, (byte) 1); // NOP
        for (int i = 0; i < esp; i++) {
            p[20 + options + i] = (byte) (0xE0 + i);
        }
        return p;
    }

    @Test
    void espFollowsTheHeaderAndItsOptions() {
        assertEquals(20, OuterIpv4Header.espOffset(packet(0, 40), 60, LOCAL));
        assertEquals(24, OuterIpv4Header.espOffset(packet(4, 40), 64, LOCAL));
        assertEquals(60, OuterIpv4Header.espOffset(packet(40, 40), 100, LOCAL), "the longest header, 15 words");
        byte[] p = packet(8, 12);
        assertEquals((byte) 0xE0, p[OuterIpv4Header.espOffset(p, p.length, LOCAL)]);
        assertEquals(20, OuterIpv4Header.espOffset(packet(0, 0), 20, LOCAL), "no ESP at all is the ESP parser's to count as too short");
    }

    @Test
    void aHeaderCutShortIsRefused() {
        byte[] p = packet(0, 40);
        for (int n = 0; n < 20; n++) {
            assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(p, n, LOCAL), n + " bytes");
        }
        byte[] withOptions = packet(40, 0);
        withOptions[2] = 0;
        withOptions[3] = 40; // the total length agrees with what arrived; the header does not fit in it
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(withOptions, 40, LOCAL), "IHL 15 in 40 bytes");
    }

    @Test
    void anIhlUnderFiveWordsIsRefused() {
        for (int ihl = 0; ihl < 5; ihl++) {
            byte[] p = packet(0, 40);
            p[0] = (byte) (0x40 | ihl);
            assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(p, 60, LOCAL), "IHL " + ihl);
        }
    }

    @Test
    void aTotalLengthOtherThanWhatArrivedIsRefused() {
        byte[] p = packet(0, 40);
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(p, 59, LOCAL), "says 60, 59 arrived");
        byte[] longer = Arrays.copyOf(p, 61);
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(longer, 61, LOCAL), "says 60, 61 arrived");
        p[2] = (byte) 0xFF;
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(p, 60, LOCAL), "says 65,340");
    }

    @Test
    void fragmentsAreRefused() {
        byte[] first = packet(0, 40);
        first[6] = 0x20; // MF, offset 0
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(first, 60, LOCAL));
        byte[] later = packet(0, 40);
        later[6] = 0;
        later[7] = 3; // offset 24 bytes, no MF: the last piece
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(later, 60, LOCAL));
        byte[] high = packet(0, 40);
        high[6] = 0x1F; // only offset bits, the highest
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(high, 60, LOCAL));
        byte[] reserved = packet(0, 40);
        reserved[6] = (byte) 0xC0; // the reserved bit and DF: not a fragment
        assertEquals(20, OuterIpv4Header.espOffset(reserved, 60, LOCAL));
    }

    @Test
    void anotherProtocolAddressOrVersionIsRefused() {
        byte[] udp = packet(0, 40);
        udp[9] = 17;
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(udp, 60, LOCAL));
        byte[] elsewhere = packet(0, 40);
        elsewhere[19] = 9; // 10.77.0.9: another address of this host
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(elsewhere, 60, LOCAL));
        assertEquals(20, OuterIpv4Header.espOffset(elsewhere, 60, 0x0A4D0009), "the socket bound there takes it");
        byte[] v6 = packet(0, 40);
        v6[0] = 0x65;
        assertEquals(EspPort.Receiver.MALFORMED_OUTER, OuterIpv4Header.espOffset(v6, 60, LOCAL));
    }

    /** Whatever the bytes, an offset within what arrived and past a header of 20 or more, or a refusal; never an exception. */
    @Property(tries = 5000)
    void anyBytesGiveAnOffsetWithinThemOrARefusal(@ForAll @Size(max = 80) byte[] bytes, @ForAll @IntRange(max = 80) int length) {
        int n = Math.min(length, bytes.length);
        int off = OuterIpv4Header.espOffset(bytes, n, LOCAL);
        assertTrue(off == EspPort.Receiver.MALFORMED_OUTER || off >= 20 && off <= n && off <= 60, "offset " + off + " of " + n);
    }

    /** The same with a well-formed start, so the property reaches past the first checks. */
    @Property(tries = 5000)
    void aPlausibleHeaderWithAnyFieldsGivesAnOffsetWithinItOrARefusal(@ForAll @IntRange(min = 0, max = 15) int ihl,
                                                                      @ForAll @IntRange(min = 0, max = 0xFFFF) int total,
                                                                      @ForAll @IntRange(min = 0, max = 0xFFFF) int fragment,
                                                                      @ForAll @IntRange(min = 0, max = 100) int arrived) {
        byte[] p = Arrays.copyOf(packet(0, 80), Math.max(arrived, 0));
        if (p.length > 0) {
            p[0] = (byte) (0x40 | ihl);
        }
        if (p.length > 7) {
            p[2] = (byte) (total >>> 8);
            p[3] = (byte) total;
            p[6] = (byte) (fragment >>> 8);
            p[7] = (byte) fragment;
        }
        int off = OuterIpv4Header.espOffset(p, p.length, LOCAL);
        boolean whole = p.length >= 20 && ihl >= 5 && ihl * 4 <= p.length && total == p.length && (fragment & 0x3FFF) == 0;
        assertEquals(whole ? ihl * 4 : EspPort.Receiver.MALFORMED_OUTER, off);
    }
}
