package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The record of an established IKE SA on both ends of a pair, after IKE_AUTH and a child SA
 * rekey: the two halves of one SA, and what decoding makes of every truncation, forged length
 * and garbage.
 */
class IkeSaRecordTest extends EnginePair {
    static final String IKE = "aes256-sha256-modp2048";

    IkeSa establishedAndChildRekeyed() {
        configure(connectionA(IKE, "aes128-sha256").build(), connectionB(IKE, "aes128-sha256").build());
        IkeSa a = initiate();
        a.rekeyChild(childrenA.current().getFirst().inbound().spi());
        deliver();
        assertEquals(1, childrenA.events(InMemoryChildSaListener.Kind.REKEYED).size());
        return a;
    }

    @Test
    void bothEndsRecordTheSameSaAndEachRecordSurvivesItsEncoding() throws Exception {
        IkeSa a = establishedAndChildRekeyed();
        IkeSa b = onlyIkeSa(engineB);
        IkeSaRecord ra = a.record();
        IkeSaRecord rb = b.record();
        assertTrue(ra.initiator());
        assertFalse(rb.initiator());
        assertEquals(ra.initiatorSpi(), rb.initiatorSpi());
        assertEquals(ra.responderSpi(), rb.responderSpi());
        assertEquals(ra.localAddress(), rb.remoteAddress());
        assertEquals(ra.proposal(), rb.proposal());
        assertArrayEquals(ra.keys().skD(), rb.keys().skD());
        assertArrayEquals(ra.keys().skEi(), rb.keys().skEi());
        assertTrue(ra.peerMessageIdSync() && rb.peerMessageIdSync(), "both ends announced RFC 6311 support");
        // A made IKE_AUTH (1) and the child rekey (2) and its delete (3): B expects 4 next and keeps its answer to 3.
        assertEquals(4, ra.nextRequestId());
        assertEquals(4, rb.expectedRequestId());
        assertEquals(0, rb.nextRequestId());
        assertFalse(rb.lastResponse().isEmpty());
        assertEquals(1, ra.children().size());
        assertEquals(ra.children().getFirst().description().inbound().spi(), rb.children().getFirst().description().outbound().spi());
        assertTrue(ra.children().getFirst().createdAsInitiator());
        assertFalse(rb.children().getFirst().createdAsInitiator());
        for (IkeSaRecord r : new IkeSaRecord[] {ra, rb}) {
            IkeSaRecord decoded = IkeSaRecord.decode(r.encode());
            assertEquals(r, decoded);
            assertArrayEquals(r.encode(), decoded.encode());
            assertEquals(r.children(), decoded.children());
            assertEquals(r.peerIdentity(), decoded.peerIdentity());
            assertEquals(r.establishedAt(), decoded.establishedAt());
            assertEquals(r.lastResponse().size(), decoded.lastResponse().size());
            for (int i = 0; i < r.lastResponse().size(); i++) {
                assertArrayEquals(r.lastResponse().get(i), decoded.lastResponse().get(i));
            }
        }
    }

    @Test
    void destroyWipesTheRecordsKeysNotTheSas() {
        IkeSa a = establishedAndChildRekeyed();
        IkeSaRecord r = a.record();
        r.destroy();
        assertTrue(allZero(r.keys().skD()) && allZero(r.keys().skEi()) && allZero(r.keys().skAr()));
        assertFalse(allZero(a.keys().skD()), "the SA keeps its own keys");
        assertFalse(r.toString().contains(java.util.HexFormat.of().formatHex(a.keys().skD())));
    }

    @Test
    void everyTruncationAndTrailingByteIsRefused() throws Exception {
        byte[] good = establishedAndChildRekeyed().record().encode();
        for (int n = 0; n < good.length; n++) {
            byte[] cut = Arrays.copyOf(good, n);
            assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(cut), "truncated to " + n);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 1);
        assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(longer));
        byte[] otherVersion = good.clone();
        otherVersion[0] = 2;
        assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(otherVersion));
    }

    @Test
    void forgedBytesEitherDecodeToSomethingElseOrAreRefusedNeverThrowOtherwise() {
        byte[] good = establishedAndChildRekeyed().record().encode();
        Random random = new Random(6311);
        for (int i = 0; i < 20_000; i++) {
            byte[] forged = good.clone();
            int at = random.nextInt(forged.length);
            forged[at] = (byte) (random.nextBoolean() ? 0xFF : random.nextInt(256));
            try {
                IkeSaRecord.decode(forged);
            } catch (MalformedRecordException expected) {
                // refused, as it should be when the change broke a length, a name or a value
            }
        }
    }

    @Test
    void garbageAndHugeLengthsAreRefusedWithoutAllocatingThem() {
        Random random = new Random(12);
        for (int i = 0; i < 10_000; i++) {
            byte[] garbage = new byte[random.nextInt(300)];
            random.nextBytes(garbage);
            if (garbage.length > 0) {
                garbage[0] = 1; // past the version check
            }
            assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(garbage));
        }
        // A connection name claiming 65535 bytes in a 4-byte record.
        assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(new byte[] {1, (byte) 0xFF, (byte) 0xFF, 0}));
        assertThrows(MalformedRecordException.class, () -> IkeSaRecord.decode(new byte[0]));
    }

    @Test
    void childSaKeysSurviveTheirEncodingAndRefuseGarbage() throws Exception {
        establishedAndChildRekeyed();
        ChildSaKeys keys = childrenA.keys(childrenA.current().getFirst());
        byte[] encoded = keys.encode();
        ChildSaKeys decoded = ChildSaKeys.decode(encoded);
        assertEquals(keys.inbound().spi(), decoded.inbound().spi());
        assertEquals(keys.outbound().suite(), decoded.outbound().suite());
        assertEquals(keys.inbound().lifetime(), decoded.inbound().lifetime());
        assertEquals(keys.inbound().replayWindow(), decoded.inbound().replayWindow());
        assertArrayEquals(keys.inbound().encryptionKey(), decoded.inbound().encryptionKey());
        assertArrayEquals(keys.outbound().integrityKey(), decoded.outbound().integrityKey());
        assertCarriesTraffic(decoded, childrenB.keys(childrenB.current().getFirst()));
        for (int n = 0; n < encoded.length; n++) {
            byte[] cut = Arrays.copyOf(encoded, n);
            assertThrows(MalformedRecordException.class, () -> ChildSaKeys.decode(cut), "truncated to " + n);
        }
        decoded.destroy();
        assertFalse(allZero(keys.inbound().encryptionKey()), "the copy's destroy leaves the original alone");
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
