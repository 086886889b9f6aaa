package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The reservation itself: who holds it, and that it goes back once, by its holder only. */
class InboundSpiTest {
    /** Randomness that always draws the same SPI, as two reservations an SPI apart in time may. */
    static final RandomGenerator SAME_SPI = () -> 0x1234_5678_0000_0000L;

    final IkeContext context = new IkeContext(null, null, null, null, SAME_SPI, spi -> false, () -> 4500, null, null);
    final Exchange first = new Stub();
    final Exchange second = new Stub();

    @Test
    void theExchangeThatReservedItGivesItBackOnceOthersCannot() {
        InboundSpi spi = context.reserveInboundSpi(first);
        assertEquals(0x1234_5678, spi.value());
        assertSame(first, spi.exchange());
        assertEquals(1, context.reservedInboundSpis());
        spi.release(second);
        assertEquals(1, context.reservedInboundSpis(), "not second's to give back");
        spi.release(first);
        assertTrue(spi.isReleased());
        assertNull(spi.exchange());
        assertEquals(0, context.reservedInboundSpis());
    }

    @Test
    void aSecondReleaseDoesNotFreeTheSameValueReservedAgain() {
        InboundSpi old = context.reserveInboundSpi(first);
        old.release(first);
        InboundSpi again = context.reserveInboundSpi(second);
        assertEquals(old.value(), again.value(), "the engine handed the value out again");
        old.release(first);
        assertEquals(1, context.reservedInboundSpis(), "the second reservation stands");
        again.release(second);
        assertEquals(0, context.reservedInboundSpis());
    }

    @Test
    void anExchangeHandsItOnToTheOneThatEndsItsUse() {
        InboundSpi spi = context.reserveInboundSpi(first);
        assertThrows(IllegalStateException.class, () -> spi.handTo(second, first), "only its holder hands it on");
        spi.handTo(first, second);
        spi.release(first);
        assertEquals(1, context.reservedInboundSpis(), "first no longer holds it");
        spi.release(second);
        assertEquals(0, context.reservedInboundSpis());
        assertThrows(IllegalStateException.class, () -> spi.handTo(second, first), "released is released");
    }

    static final class Stub implements Exchange {
        @Override
        public int exchangeType() {
            return 0;
        }

        @Override
        public Status build(OutgoingMessage message) {
            return Status.SUCCESS;
        }

        @Override
        public Status process(IncomingMessage message) {
            return Status.SUCCESS;
        }
    }
}
