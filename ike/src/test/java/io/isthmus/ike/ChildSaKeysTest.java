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
        final List<ChildSaKeys> handed = new ArrayList<>();
        final List<String> events = new ArrayList<>();

        private void consume(ChildSaKeys keys) {
            handed.add(keys);
            for (SaParameters p : List.of(keys.inbound(), keys.outbound())) {
                keysBySpi.put(p.spi(), p.encryptionKey());
            }
            keys.destroy();
        }

        @Override
        public void installed(ChildSaDescription sa, ChildSaKeys keys) {
            consume(keys);
            events.add("installed");
        }

        @Override
        public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
            consume(keys);
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
        // IKE keeps a description without keys; what it handed over is all there was, and it is wiped.
        assertTrue(la.handed.stream().allMatch(k -> wiped(k.inbound()) && wiped(k.outbound())));
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
        ChildSaKeys oldKeys = p.childrenA.keys(old);
        ChildSaKeys oldKeysB = p.childrenB.keys(p.childrenB.current().getFirst());
        assertTrue(!wiped(oldKeys.inbound()));
        sa.rekeyChild(old.inbound().spi());
        p.deliver();
        for (ChildSaKeys k : List.of(oldKeys, oldKeysB)) {
            assertTrue(wiped(k.inbound()) && wiped(k.outbound()), k + " was deleted and wiped");
        }
        p.assertChildSasPair();
    }

    static boolean zero(io.isthmus.ike.crypto.IkeSaKeys k) {
        for (byte[] b : new byte[][] {k.skD(), k.skAi(), k.skAr(), k.skEi(), k.skEr(), k.skPi(), k.skPr()}) {
            if (!Arrays.equals(b, new byte[b.length])) {
                return false;
            }
        }
        return true;
    }

    /* The IKE SA's own keys (SK_d, SK_a, SK_e, SK_p, both ends) are zeroed when it dies: replaced by a rekey, or deleted. */
    @Test
    void anIkeSasKeysAreZeroAfterItsRekeyAndAfterItsDelete() {
        EnginePair p = new EnginePair();
        p.configure(EnginePair.connectionA(IKE, "aes128gcm16").build(), EnginePair.connectionB(IKE, "aes128gcm16").build());
        IkeSa first = p.initiate();
        IkeSa firstAtB = p.onlyIkeSa(p.engineB);
        var keysA = first.keys();
        var keysB = firstAtB.keys();
        assertTrue(!zero(keysA) && !zero(keysB));
        first.rekey();
        p.deliver();
        assertTrue(zero(keysA) && zero(keysB), "the rekeyed IKE SA's keys, at both ends");
        IkeSa second = p.onlyIkeSa(p.engineA);
        var keysA2 = second.keys();
        var keysB2 = p.onlyIkeSa(p.engineB).keys();
        ChildSaKeys childKeys = p.childrenA.keys(p.childrenA.current().getFirst());
        second.delete();
        p.deliver();
        assertTrue(zero(keysA2) && zero(keysB2), "the deleted IKE SA's keys, at both ends");
        assertTrue(wiped(childKeys.inbound()) && wiped(childKeys.outbound()), "and its child SA's");
    }
}
