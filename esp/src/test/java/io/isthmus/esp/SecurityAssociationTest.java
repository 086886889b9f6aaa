package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class SecurityAssociationTest {

    /** Records what the SA tells its owner. */
    static final class Events implements SaListener {
        final List<SaEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(SecurityAssociation sa, SaEvent event) {
            events.add(event);
        }
    }

    private static byte[] buffer(SecurityAssociation sa, int inner) {
        return new byte[sa.headerLength() + inner + sa.suite().maxTrailerLength()];
    }

    @Test
    void sequenceNumbersStartAtOneAndNeverWrap() {
        Events events = new Events();
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 1).build(), events);
        byte[] packet = buffer(out, 40);
        assertTrue(out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4) > 0);
        assertEquals(1, EspPacket.sequence(packet, 0));

        out.skipTo(0xFFFF_FFFEL);
        assertTrue(out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4) > 0);
        assertEquals(0xFFFF_FFFF, EspPacket.sequence(packet, 0));
        for (int i = 0; i < 3; i++) {
            assertEquals(SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code(), out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4));
        }
        assertEquals(List.of(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED), events.events, "told once, refused every time");
        assertTrue(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED.isHard());
    }

    @Test
    void warnsWhenASixteenthOfTheSequenceSpaceIsLeft() {
        Events events = new Events();
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 1).build(), events);
        out.skipTo(0xFFFF_FFFFL - 0x0FFF_FFFFL - 2);
        byte[] packet = buffer(out, 40);
        for (int i = 0; i < 4; i++) {
            assertTrue(out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4) > 0);
        }
        assertEquals(List.of(SaEvent.SEQUENCE_NUMBERS_LOW), events.events);
        assertFalse(SaEvent.SEQUENCE_NUMBERS_LOW.isHard());
    }

    @Test
    void extendedSequenceNumbersRunToTwoToTheSixtyFour() {
        Events events = new Events();
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES128_GCM16, 1).esn(true).build(), events);
        out.skipTo(-2L);
        byte[] packet = buffer(out, 40);
        assertTrue(out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4) > 0, "2^64 - 1 is the last number");
        assertEquals(SealFailure.SEQUENCE_NUMBERS_EXHAUSTED.code(), out.seal(packet, 0, 40, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(List.of(SaEvent.SEQUENCE_NUMBERS_EXHAUSTED), events.events);
    }

    /**
     * ESN across 2^32: the wire carries only the low half, the receiver infers the high half, and
     * packets reordered across the boundary all arrive, once.
     */
    @ParameterizedTest
    @EnumSource(names = {"AES_GCM_16", "CHACHA20_POLY1305", "AES_CBC"})
    void extendedSequenceNumbersCrossTheTwoToTheThirtyTwoBoundary(EncryptionAlgorithm encryption) {
        CipherSuite suite = Arrays.stream(Sas.ALL_SUITES).filter(s -> s.encryption() == encryption).findFirst().orElseThrow();
        Sas.Pair sas = Sas.pair(suite, true);
        sas.out().skipTo(0xFFFF_FF00L);
        sas.in().replayWindow().reset(0xFFFF_FF00L);
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < 512; i++) {
            packets.add(sas.seal(Sas.ipv4(100, i), EspPacket.NEXT_HEADER_IPV4));
        }
        assertEquals(0x1_0000_0100L, sas.out().sequence());
        // Reorder within blocks of 64, well inside the 1024-packet window.
        Random random = new Random(7);
        for (int i = 0; i < packets.size(); i += 64) {
            Collections.shuffle(packets.subList(i, i + 64), random);
        }
        for (byte[] p : packets) {
            byte[] copy = p.clone();
            assertEquals(100, sas.in().open(p, 0, p.length));
            assertEquals(DropReason.REPLAY.code(), sas.in().open(copy, 0, copy.length));
        }
        assertEquals(0x1_0000_0100L, sas.in().replayWindow().highest());
    }

    /**
     * RFC 4303 A3: after 2^32 consecutive packets are lost the receiver infers the wrong high half;
     * after a run of authentication failures it tries the next subspaces and follows the sender.
     */
    @Test
    void extendedSequenceNumbersResynchroniseAfterLosingTwoToTheThirtyTwoPackets() {
        Sas.Pair sas = Sas.pair(CipherSuite.AES256_GCM16, true);
        for (int i = 0; i < 10; i++) {
            byte[] p = sas.seal(Sas.ipv4(60, i), EspPacket.NEXT_HEADER_IPV4);
            assertEquals(60, sas.in().open(p, 0, p.length));
        }
        sas.out().skipTo(sas.out().sequence() + (1L << 32) + 100); // lost on the way
        int delivered = 0;
        int failed = 0;
        for (int i = 0; i < InboundSa.RESYNC_TRIGGER + 10; i++) {
            byte[] p = sas.seal(Sas.ipv4(60, i), EspPacket.NEXT_HEADER_IPV4);
            int r = sas.in().open(p, 0, p.length);
            if (r == 60) {
                delivered++;
            } else {
                assertEquals(DropReason.BAD_ICV.code(), r);
                assertEquals(0, delivered, "no failure once resynchronised");
                failed++;
            }
        }
        assertEquals(InboundSa.RESYNC_TRIGGER - 1, failed);
        assertEquals(11, delivered);
        assertEquals(sas.out().sequence(), sas.in().replayWindow().highest());
    }

    @Test
    void forgeriesDoNotResynchronise() {
        Sas.Pair sas = Sas.pair(CipherSuite.AES128_GCM16, true);
        Sas.Pair other = Sas.pair(Sas.parameters(CipherSuite.AES128_GCM16, 99).esn(true).build());
        other.out().skipTo(1L << 32);
        for (int i = 0; i < 5 * InboundSa.RESYNC_TRIGGER; i++) {
            byte[] forged = other.seal(Sas.ipv4(60, i), EspPacket.NEXT_HEADER_IPV4);
            assertEquals(DropReason.BAD_ICV.code(), sas.in().open(forged, 0, forged.length));
        }
        assertEquals(0, sas.in().replayWindow().highest());
        byte[] genuine = sas.seal(Sas.ipv4(60, 1), EspPacket.NEXT_HEADER_IPV4);
        assertEquals(60, sas.in().open(genuine, 0, genuine.length));
    }

    @Test
    void packetLifetimesRaiseSoftThenHardOnce() {
        Events events = new Events();
        SaParameters parameters = Sas.parameters(CipherSuite.AES128_GCM16, 1).lifetime(Lifetime.ofPackets(3, 5)).build();
        OutboundSa out = new OutboundSa(parameters, events);
        byte[] packet = buffer(out, 100);
        for (int i = 1; i <= 5; i++) {
            assertTrue(out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4) > 0, "packet " + i);
            assertEquals(i < 3 ? List.of() : List.of(SaEvent.SOFT_LIFETIME_PACKETS), events.events);
        }
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_PACKETS, SaEvent.HARD_LIFETIME_PACKETS), events.events);
    }

    @Test
    void byteLifetimesCountInnerBytesInBothDirections() {
        Events sent = new Events();
        Events received = new Events();
        SaParameters parameters = Sas.parameters(CipherSuite.CHACHA20_POLY1305, 1).lifetime(Lifetime.ofBytes(1000, 2000)).build();
        OutboundSa out = new OutboundSa(parameters, sent);
        InboundSa in = new InboundSa(parameters, received);
        Sas.Pair sas = new Sas.Pair(out, in);
        for (int i = 1; i <= 5; i++) {
            byte[] p = sas.seal(Sas.ipv4(400, i), EspPacket.NEXT_HEADER_IPV4);
            assertEquals(400, in.open(p, 0, p.length));
        }
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_BYTES), sent.events, "soft at 1200 bytes");
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_BYTES), received.events);
        byte[] packet = buffer(out, 400);
        assertEquals(SealFailure.LIFETIME_EXPIRED.code(), out.seal(packet, 0, 400, EspPacket.NEXT_HEADER_IPV4), "2400 > 2000");
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_BYTES, SaEvent.HARD_LIFETIME_BYTES), sent.events);
        assertEquals(2000, out.bytes() - 400);

        OutboundSa other = new OutboundSa(Sas.parameters(CipherSuite.CHACHA20_POLY1305, 1).build(), SaListener.NONE);
        other.skipTo(10);
        byte[] late = new Sas.Pair(other, in).seal(Sas.ipv4(400, 9), EspPacket.NEXT_HEADER_IPV4);
        assertEquals(DropReason.SA_EXPIRED.code(), in.open(late, 0, late.length));
        assertEquals(List.of(SaEvent.SOFT_LIFETIME_BYTES, SaEvent.HARD_LIFETIME_BYTES), received.events);
        assertEquals(1, in.drops(DropReason.SA_EXPIRED));
    }

    @Test
    void paddingIsOneTwoThreeAndAlignsToTheCipher() {
        for (CipherSuite suite : Sas.ALL_SUITES) {
            for (int inner = 0; inner < 40; inner++) {
                Sas.Pair sas = Sas.pair(suite, false);
                byte[] packet = sas.seal(Sas.ipv4(inner, inner), EspPacket.NEXT_HEADER_IPV6);
                int payload = packet.length - suite.headerLength() - suite.icvLength();
                assertTrue(sas.out().thread().transform.open(packet, 0, payload, 0, false));
                int padLength = packet[suite.headerLength() + payload - 2];
                assertEquals(EspPacket.NEXT_HEADER_IPV6, packet[suite.headerLength() + payload - 1]);
                assertEquals(0, payload % suite.blockAlignment());
                assertTrue(padLength < suite.blockAlignment(), "minimal padding");
                assertEquals(payload, inner + padLength + 2);
                for (int i = 0; i < padLength; i++) {
                    assertEquals(i + 1, packet[suite.headerLength() + inner + i]);
                }
            }
        }
    }

    @Test
    void sealRefusesWhatItCannotSend() {
        OutboundSa out = new OutboundSa(Sas.parameters(CipherSuite.AES256_SHA256, 1).build(), SaListener.NONE);
        byte[] packet = buffer(out, 100);
        assertEquals(SealFailure.BUFFER_TOO_SMALL.code(), out.seal(packet, 0, 115, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(SealFailure.BUFFER_TOO_SMALL.code(), out.seal(packet, 6, 100, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(SealFailure.BUFFER_TOO_SMALL.code(), out.seal(packet, -1, 10, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(SealFailure.INVALID_NEXT_HEADER.code(), out.seal(packet, 0, 100, 17));
        assertEquals(SealFailure.INVALID_LENGTH.code(), out.seal(packet, 0, -1, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(SealFailure.INVALID_LENGTH.code(), out.seal(new byte[70_000], 0, 65_536, EspPacket.NEXT_HEADER_IPV4));
        assertEquals(0, out.sequence(), "nothing refused for its shape costs a sequence number");
        assertTrue(out.seal(packet, 0, 100, EspPacket.NEXT_HEADER_IPV4) > 0);
    }

    /** Every drop reason, each counted, none throwing. */
    @Test
    void dropsAreCountedByReason() {
        Sas.Pair sas = Sas.pair(CipherSuite.AES128_SHA256, false);
        InboundSa in = sas.in();
        byte[] good = sas.seal(Sas.ipv4(64, 1), EspPacket.NEXT_HEADER_IPV4);

        assertEquals(DropReason.TOO_SHORT.code(), in.open(good, 0, 30));
        assertEquals(DropReason.TOO_SHORT.code(), in.open(good, 10, good.length));
        assertEquals(DropReason.MALFORMED.code(), in.open(good, 0, good.length - 1));

        byte[] copy = good.clone();
        assertEquals(64, in.open(good, 0, good.length));
        assertEquals(DropReason.REPLAY.code(), in.open(copy, 0, copy.length));

        byte[] dummy = sas.seal(new byte[0], EspPacket.NEXT_HEADER_NONE);
        assertEquals(DropReason.DUMMY_PACKET.code(), in.open(dummy, 0, dummy.length));
        assertTrue(DropReason.DUMMY_PACKET.isSilent());

        assertEquals(DropReason.UNSUPPORTED_NEXT_HEADER.code(), open(sas, craft(sas, Sas.ipv4(28, 3), new byte[] {1, 2}, 17)));
        assertEquals(DropReason.BAD_PADDING.code(), open(sas, craft(sas, Sas.ipv4(28, 3), new byte[] {1, 3}, 4)), "pad bytes 1, 3");
        assertEquals(DropReason.BAD_PADDING.code(), open(sas, craft(sas, new byte[14], new byte[0], 4, 200)), "Pad Length beyond the payload");

        sas.out().skipTo(sas.out().sequence() + 5000);
        byte[] ahead = sas.seal(Sas.ipv4(64, 2), EspPacket.NEXT_HEADER_IPV4);
        assertEquals(64, in.open(ahead, 0, ahead.length));
        sas.out().skipTo(1);
        byte[] old = sas.seal(Sas.ipv4(64, 2), EspPacket.NEXT_HEADER_IPV4);
        assertEquals(DropReason.OUTSIDE_WINDOW.code(), in.open(old, 0, old.length));

        sas.out().skipTo(10_000);
        byte[] forged = sas.seal(Sas.ipv4(64, 9), EspPacket.NEXT_HEADER_IPV4);
        forged[40] ^= 1;
        assertEquals(DropReason.BAD_ICV.code(), in.open(forged, 0, forged.length));

        assertEquals(2, in.drops(DropReason.TOO_SHORT));
        assertEquals(1, in.drops(DropReason.MALFORMED));
        assertEquals(1, in.drops(DropReason.REPLAY));
        assertEquals(1, in.drops(DropReason.DUMMY_PACKET));
        assertEquals(1, in.drops(DropReason.UNSUPPORTED_NEXT_HEADER));
        assertEquals(2, in.drops(DropReason.BAD_PADDING));
        assertEquals(1, in.drops(DropReason.OUTSIDE_WINDOW));
        assertEquals(1, in.drops(DropReason.BAD_ICV));
        for (DropReason r : DropReason.values()) {
            assertEquals(r, DropReason.fromCode(r.code()));
        }
    }

    /** An ESP payload sealed with the SA's keys but a trailer of our choosing. */
    private static byte[] craft(Sas.Pair sas, byte[] inner, byte[] pad, int nextHeader) {
        return craft(sas, inner, pad, nextHeader, pad.length);
    }

    private static byte[] craft(Sas.Pair sas, byte[] inner, byte[] pad, int nextHeader, int padLength) {
        CipherSuite suite = sas.out().suite();
        int payload = inner.length + pad.length + 2;
        assertEquals(0, payload % suite.blockAlignment(), "test payload must be aligned");
        byte[] packet = new byte[suite.headerLength() + payload + suite.icvLength()];
        long seq = sas.out().sequence() + 1;
        sas.out().skipTo(seq);
        EspPacket.writeHeader(packet, 0, sas.out().spi(), (int) seq);
        System.arraycopy(inner, 0, packet, suite.headerLength(), inner.length);
        System.arraycopy(pad, 0, packet, suite.headerLength() + inner.length, pad.length);
        packet[suite.headerLength() + payload - 2] = (byte) padLength;
        packet[suite.headerLength() + payload - 1] = (byte) nextHeader;
        sas.out().thread().transform.seal(packet, 0, payload, seq, seq, false);
        return packet;
    }

    private static int open(Sas.Pair sas, byte[] packet) {
        return sas.in().open(packet, 0, packet.length);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void destroyedSasRefuseTrafficAndWipeTheirKeys(boolean inbound) {
        SaParameters parameters = Sas.parameters(CipherSuite.AES256_GCM16, 5).build();
        Sas.Pair sas = Sas.pair(parameters);
        byte[] packet = sas.seal(Sas.ipv4(100, 1), EspPacket.NEXT_HEADER_IPV4);
        if (inbound) {
            sas.in().destroy();
            assertTrue(sas.in().isDestroyed());
            assertEquals(DropReason.SA_DELETED.code(), sas.in().open(packet, 0, packet.length));
        } else {
            sas.out().destroy();
            byte[] buffer = buffer(sas.out(), 100);
            assertEquals(SealFailure.SA_DELETED.code(), sas.out().seal(buffer, 0, 100, EspPacket.NEXT_HEADER_IPV4));
        }
        parameters.destroy();
        assertArrayEquals(new byte[parameters.suite().encryptionKeyLength()], parameters.encryptionKey());
    }

    @Test
    void parametersNeverPrintTheirKeys() {
        byte[] key = new byte[36];
        Arrays.fill(key, (byte) 0xAB);
        SaParameters p = SaParameters.builder(0x1234, CipherSuite.CHACHA20_POLY1305).encryptionKey(key).esn(true).build();
        String text = p.toString() + new OutboundSa(p, SaListener.NONE);
        assertFalse(text.toLowerCase().contains("abab"), text);
        assertTrue(text.contains("chacha20poly1305"), text);
        assertTrue(text.contains("00001234"), text);
        assertFalse(HexFormat.of().formatHex(key).isEmpty());
    }

    @Test
    void parametersAreCheckedAgainstTheSuite() {
        assertThrows(IllegalArgumentException.class,
                () -> SaParameters.builder(1, CipherSuite.AES128_GCM16).encryptionKey(new byte[16]).build(), "the salt is missing");
        assertThrows(IllegalArgumentException.class,
                () -> SaParameters.builder(1, CipherSuite.AES128_SHA256).encryptionKey(new byte[16]).build(), "no integrity key");
        assertThrows(IllegalArgumentException.class,
                () -> SaParameters.builder(1, CipherSuite.AES128_GCM16).encryptionKey(new byte[20]).replayWindow(8).build());
        assertThrows(IllegalArgumentException.class,
                () -> new CipherSuite(EncryptionAlgorithm.AES_GCM_16, 128, IntegrityAlgorithm.HMAC_SHA2_256_128));
        assertThrows(IllegalArgumentException.class,
                () -> new CipherSuite(EncryptionAlgorithm.CHACHA20_POLY1305, 128, IntegrityAlgorithm.NONE));
        assertThrows(IllegalArgumentException.class, () -> new Lifetime(10, 5, 1, 1));
        assertEquals("aes256gcm16", CipherSuite.AES256_GCM16.toString());
        assertEquals("aes256-sha384", CipherSuite.AES256_SHA384.toString());
    }
}
