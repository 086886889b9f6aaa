package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import io.isthmus.esp.SaListener;
import io.isthmus.esp.SaParameters;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A removed SA's keys are wiped only once every packet thread has finished a duty cycle begun after the removal. */
class GraveyardTest {
    static SaParameters params(int spi) {
        return SaParameters.builder(spi, CipherSuite.AES128_GCM16).encryptionKey(new byte[20]).build();
    }

    @Test
    void keysAreWipedOnlyOnceEveryPacketThreadMovedOnTwice() {
        AtomicLong outbound = new AtomicLong(41);
        AtomicLong inbound = new AtomicLong(7);
        Graveyard graveyard = new Graveyard(List.of(outbound, inbound));
        OutboundSa out = new OutboundSa(params(0x1001), SaListener.NONE);
        InboundSa in = new InboundSa(params(0x2002), SaListener.NONE);
        graveyard.bury(List.of(out, in)); // waits its few ms, in vain: the threads are "stuck"
        assertFalse(out.isDestroyed() || in.isDestroyed(), "a thread may still be sealing with it");
        outbound.addAndGet(2);
        inbound.incrementAndGet();
        assertEquals(1, graveyard.reclaim(), "one thread has not finished a cycle begun after the removal");
        assertFalse(out.isDestroyed());
        inbound.incrementAndGet();
        assertEquals(0, graveyard.reclaim());
        assertTrue(out.isDestroyed() && in.isDestroyed());
    }

    @Test
    void withoutPacketThreadsTheyGoAtOnce() {
        Graveyard graveyard = new Graveyard(List.of());
        OutboundSa out = new OutboundSa(params(0x3003), SaListener.NONE);
        graveyard.bury(List.of(out));
        assertTrue(out.isDestroyed());
    }
}
