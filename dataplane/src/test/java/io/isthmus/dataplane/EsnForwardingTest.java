package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EspPacket;
import io.isthmus.esp.SaParameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Extended sequence numbers through the whole data plane over memory, across 2^32: the test hook
 * ({@link Dataplane#startEsnSequencesAfter}) starts A's ESN SA just below the boundary; the wire
 * carries only the low half, B infers the high half from its window, authenticates it (ICV/AAD)
 * and delivers every packet once, reordered or replayed. An SA without ESN is left alone by the
 * hook.
 */
class EsnForwardingTest {
    static final int AB = 0x3003;
    static final int BA = 0x4004;
    static final long NEAR = 0xFFFF_FF00L;

    final SequenceLeaseTest.Side a = new SequenceLeaseTest.Side("to-b", "192.168.20.0/24");
    final SequenceLeaseTest.Side b = new SequenceLeaseTest.Side("to-a", "192.168.10.0/24");
    final byte[] kab = new byte[36];
    final byte[] kba = new byte[36];

    EsnForwardingTest() {
        ForwardingTest.RANDOM.nextBytes(kab);
        ForwardingTest.RANDOM.nextBytes(kba);
    }

    static SaParameters sa(int spi, byte[] key, CipherSuite suite, boolean esn) {
        int length = suite.encryption().isAead() ? suite.keyBits() / 8 + 4 : suite.keyBits() / 8;
        SaParameters.Builder b = SaParameters.builder(spi, suite).encryptionKey(java.util.Arrays.copyOf(key, length)).esn(esn);
        if (!suite.encryption().isAead()) {
            b.integrityKey(java.util.Arrays.copyOf(key, suite.integrity().keyLength()));
        }
        return b.build();
    }

    void install(CipherSuite suite, boolean esn) {
        a.dataplane.install(new SaPair("to-b", sa(BA, kba, suite, esn), sa(AB, kab, suite, esn), ForwardingTest.ANY, ForwardingTest.ANY,
                ForwardingTest.at("10.0.0.1", 4500), ForwardingTest.at("10.0.0.2", 4500), true), true);
        b.dataplane.install(new SaPair("to-a", sa(AB, kab, suite, esn), sa(BA, kba, suite, esn), ForwardingTest.ANY, ForwardingTest.ANY,
                ForwardingTest.at("10.0.0.2", 4500), ForwardingTest.at("10.0.0.1", 4500), true), true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"AES256_GCM16", "CHACHA20_POLY1305", "AES256_SHA256"})
    void acrossTwoToTheThirtyTwo(String suiteName) throws Exception {
        CipherSuite suite = (CipherSuite) CipherSuite.class.getField(suiteName).get(null);
        a.dataplane.startEsnSequencesAfter(NEAR);
        install(suite, true);
        List<byte[]> sent = a.send(512, "192.168.10.5", "192.168.20.7");
        assertEquals(512, sent.size());
        assertEquals(NEAR + 512, a.state().outboundSequence(), "past 2^32: the full 64-bit counter");
        assertEquals(512, a.state().outPackets(), "the numbers jumped over are not packets");
        List<Long> lows = SequenceLeaseTest.sequences(sent);
        assertEquals(NEAR + 1, lows.getFirst());
        assertEquals(0xFFFF_FFFFL, lows.get(254));
        assertEquals(0L, lows.get(255), "2^32 itself: its low half, 0, on the wire");
        assertEquals(256L, lows.getLast());

        List<byte[]> shuffled = new ArrayList<>(sent);
        Random random = new Random(32);
        for (int i = 0; i < shuffled.size(); i += 64) {
            Collections.shuffle(shuffled.subList(i, i + 64), random); // reordered across the boundary, inside the window
        }
        b.receive(shuffled);
        assertEquals(512, b.delivered.size());
        b.receive(List.of(sent.get(100).clone(), sent.get(300).clone()));
        assertEquals(512, b.delivered.size(), "replays on either side of 2^32 are dropped");
        assertEquals(2, b.counters().drops(Drop.ESP_REPLAY));
        // B's answers start at 1: its own SA was not touched by A's hook.
        List<byte[]> back = b.send(2, "192.168.20.7", "192.168.10.5");
        assertEquals(List.of(1L, 2L), SequenceLeaseTest.sequences(back));
        a.receive(back);
        assertEquals(2, a.delivered.size());
    }

    /** A packet whose low half is right but which was sealed with another high half fails its ICV: the high half is authenticated. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theHighHalfIsAuthenticated(boolean bothJump) {
        a.dataplane.startEsnSequencesAfter(bothJump ? NEAR : NEAR + (1L << 32));
        install(CipherSuite.AES256_GCM16, true);
        List<byte[]> sent = a.send(3, "192.168.10.5", "192.168.20.7");
        b.receive(sent);
        if (bothJump) {
            assertEquals(3, b.delivered.size());
        } else {
            // Sealed in subspace 1 (high half 1); B's window, at 0, infers subspace 0 for these low halves: ICV fails.
            assertEquals(0, b.delivered.size());
            assertEquals(3, b.counters().drops(Drop.ESP_BAD_ICV));
        }
    }

    @org.junit.jupiter.api.Test
    void anSaWithoutEsnIsLeftAlone() {
        a.dataplane.startEsnSequencesAfter(NEAR);
        install(CipherSuite.AES128_GCM16, false);
        List<byte[]> sent = a.send(2, "192.168.10.5", "192.168.20.7");
        assertEquals(List.of(1L, 2L), SequenceLeaseTest.sequences(sent));
        b.receive(sent);
        assertArrayEquals(Packets.udp4("192.168.10.5", "192.168.20.7", 5000, 53, 100), b.delivered.getFirst());
    }
}
