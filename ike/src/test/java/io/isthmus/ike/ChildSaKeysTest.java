package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.SaParameters;
import io.isthmus.ike.engine.IkeEngine;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Child SA keys travel once and are wiped by their consumer ({@link ChildSaListener}): IKE keeps
 * no copy it needs, so a listener that wipes them at once, as the data plane does, leaves IKE
 * working through rekeys and deletes.
 */
class ChildSaKeysTest {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    /** As the data plane: takes the keys it needs (here copies, to compare the two ends) and wipes what it was handed. */
    static final class WipingListener implements ChildSaListener {
        final Map<Integer, byte[]> keysBySpi = new HashMap<>();
        final List<String> events = new ArrayList<>();

        private void consume(ChildSaDescription d) {
            for (SaParameters p : List.of(d.inbound(), d.outbound())) {
                keysBySpi.put(p.spi(), p.encryptionKey());
                p.destroy();
            }
        }

        @Override
        public void installed(ChildSaDescription sa) {
            consume(sa);
            events.add("installed");
        }

        @Override
        public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, boolean outboundNow) {
            consume(replacement);
            events.add("rekeyed");
        }

        @Override
        public void deleted(ChildSaDescription sa) {
            events.add("deleted");
        }
    }

    static boolean wiped(SaParameters p) {
        byte[] k = p.encryptionKey();
        return Arrays.equals(k, new byte[k.length]);
    }

    @Test
    void ikeWorksOnWhenTheListenerWipesTheKeysAtOnce() {
        ManualScheduler clock = new ManualScheduler();
        InMemoryNetwork network = new InMemoryNetwork();
        WipingListener la = new WipingListener();
        WipingListener lb = new WipingListener();
        IkeEngine a = new IkeEngine(network.transport(), clock, la);
        IkeEngine b = new IkeEngine(network.transport(), clock, lb);
        network.attach(EnginePair.A, a);
        network.attach(EnginePair.B, b);
        a.addConnection(EnginePair.connectionA(IKE, "aes128gcm16").build());
        b.addConnection(EnginePair.connectionB(IKE, "aes128gcm16").build());

        IkeSa sa = a.initiate("site", new InetSocketAddress(EnginePair.A, 500), new InetSocketAddress(EnginePair.B, 500));
        network.deliverAll(clock);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        ChildSaDescription first = sa.childSas().getFirst();
        assertTrue(wiped(first.inbound()) && wiped(first.outbound()), "IKE holds the very parameters it announced, and no other copy");
        assertBothEndsGotTheSameKeys(first, la, lb);

        sa.rekeyChild(first.inbound().spi());
        network.deliverAll(clock);
        ChildSaDescription second = sa.childSas().getFirst();
        assertNotEquals(first.inbound().spi(), second.inbound().spi());
        assertBothEndsGotTheSameKeys(second, la, lb);

        sa.rekey();
        network.deliverAll(clock);
        IkeSa next = a.ikeSas().iterator().next();
        assertEquals(IkeSaState.ESTABLISHED, next.state());
        next.rekeyChild(second.inbound().spi());
        network.deliverAll(clock);
        assertBothEndsGotTheSameKeys(next.childSas().getFirst(), la, lb);

        next.delete();
        network.deliverAll(clock);
        assertTrue(a.ikeSas().isEmpty() && b.ikeSas().isEmpty());
        assertEquals(List.of("installed", "rekeyed", "deleted", "rekeyed", "deleted", "deleted"), la.events);
        assertEquals(la.events, lb.events);
    }

    static void assertBothEndsGotTheSameKeys(ChildSaDescription d, WipingListener la, WipingListener lb) {
        byte[] out = la.keysBySpi.get(d.outbound().spi());
        assertArrayEquals(out, lb.keysBySpi.get(d.outbound().spi()));
        assertArrayEquals(la.keysBySpi.get(d.inbound().spi()), lb.keysBySpi.get(d.inbound().spi()));
        assertTrue(!Arrays.equals(out, new byte[out.length]), "the listener got real keys");
    }

    /** The in-memory listener keeps keys readable while the SA lives (tests compare them) and wipes them when it is deleted. */
    @Test
    void theInMemoryListenerWipesAnSaWhenItIsDeleted() {
        EnginePair p = new EnginePair();
        p.configure(EnginePair.connectionA(IKE, "aes128gcm16").build(), EnginePair.connectionB(IKE, "aes128gcm16").build());
        IkeSa sa = p.initiate();
        ChildSaDescription old = p.childrenA.current().getFirst();
        ChildSaDescription oldB = p.childrenB.current().getFirst();
        assertTrue(!wiped(old.inbound()));
        sa.rekeyChild(old.inbound().spi());
        p.deliver();
        for (ChildSaDescription d : List.of(old, oldB)) {
            assertTrue(wiped(d.inbound()) && wiped(d.outbound()), d + " was deleted and wiped");
        }
        p.assertChildSasPair();
    }
}
