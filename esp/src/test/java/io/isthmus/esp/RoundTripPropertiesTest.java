package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Round trips through every transform, with and without ESN, for inner packets of 0 to 9000
 * bytes; and the converse: any single flipped bit makes the packet undeliverable.
 */
class RoundTripPropertiesTest {

    record Packet(CipherSuite suite, boolean esn, byte[] inner, boolean ipv6) {
        @Override
        public String toString() {
            return suite + (esn ? " ESN" : "") + " inner " + inner.length + " bytes";
        }
    }

    @Provide
    Arbitrary<Packet> packets() {
        Arbitrary<Integer> length = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0, 9000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(0, 1, 2, 3, 14, 15, 16, 17, 1400, 8999, 9000)));
        return Combinators.combine(Arbitraries.of(Sas.ALL_SUITES), Arbitraries.of(true, false),
                length.flatMap(n -> Arbitraries.bytes().array(byte[].class).ofSize(n)), Arbitraries.of(true, false))
                .as(Packet::new);
    }

    @Property(tries = 400)
    void sealThenOpenGivesTheInnerPacketBack(@ForAll("packets") Packet p) {
        Sas.Pair sas = Sas.pair(p.suite, p.esn);
        int nextHeader = p.ipv6 ? EspPacket.NEXT_HEADER_IPV6 : EspPacket.NEXT_HEADER_IPV4;
        byte[] esp = Sas.pair(p.suite, p.esn).seal(p.inner, nextHeader); // another pair, same keys
        assertEquals(p.suite.headerLength() + p.suite.paddedPayloadLength(p.inner.length) + p.suite.icvLength(), esp.length);
        assertEquals(0, (esp.length - p.suite.headerLength() - p.suite.icvLength()) % p.suite.blockAlignment());

        int length = sas.in().open(esp, 0, esp.length);
        assertEquals(p.inner.length, length, () -> "open: " + (length < 0 ? DropReason.fromCode(length) : length));
        assertArrayEquals(p.inner, Arrays.copyOfRange(esp, p.suite.headerLength(), p.suite.headerLength() + length));
    }

    @Property(tries = 400)
    void anyFlippedBitIsRejected(@ForAll("packets") Packet p, @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE - 1) int where) {
        Sas.Pair sas = Sas.pair(p.suite, p.esn);
        byte[] esp = sas.seal(p.inner, EspPacket.NEXT_HEADER_IPV4);
        int bit = where % (esp.length * 8);
        esp[bit / 8] ^= (byte) (1 << (bit % 8));
        int result = sas.in().open(esp, 0, esp.length);
        assertTrue(result < 0, () -> "bit " + bit + " of " + esp.length * 8 + " flipped, yet delivered");
        assertEquals(0, sas.in().packets());
    }
}
