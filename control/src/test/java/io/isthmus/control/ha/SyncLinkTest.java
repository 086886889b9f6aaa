package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two links in one JVM over 127.0.0.1: a dials (its name sorts first), b listens. Everything is
 * awaited as events with a generous patience; nothing is asserted about time.
 */
class SyncLinkTest {
    @TempDir
    static Path certs;
    @TempDir
    Path dir;
    private Nodes nodes;

    @BeforeAll
    static void certificates() throws Exception {
        Nodes.certificates(certs, "a", "b", "c");
    }

    @BeforeEach
    void nodes() {
        nodes = new Nodes(certs, dir);
    }

    @AfterEach
    void closeAll() throws Exception {
        nodes.close();
    }

    @Test
    void updatesArriveInOrderAndAreAcknowledged() throws Exception {
        Node[] pair = nodes.connectedPair();
        Node a = pair[0];
        Node b = pair[1];
        assertEquals(1, a.call(() -> a.link.takeOver("ga")));
        long last = 0;
        for (int i = 0; i < 100; i++) {
            last = a.put("ga", "k" + i, "v" + i);
        }
        a.call(() -> a.link.remove("ga", Node.KIND, Node.bytes("k0")));
        CountDownLatch acked = new CountDownLatch(1);
        long lastPut = last;
        a.call(() -> {
            a.link.whenAcked(lastPut, acked::countDown);
            return null;
        });
        a.await("acknowledgement", () -> acked.getCount() == 0);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add("put ga k" + i + "=v" + i);
        }
        assertEquals(expected, b.puts().subList(0, 100));
        b.await("the remove", () -> b.events.contains("remove ga k0"));
        assertTrue(b.events.contains("ownership ga 1 a"), b.events.toString());
        a.await("no lag", () -> a.link.lagUpdates() == 0);
        assertEquals(101, b.link.status().updatesApplied());
    }

    @Test
    void whenAckedWaitsUntilThePartnerAppliedTheUpdate() throws Exception {
        Node[] pair = nodes.connectedPair();
        Node a = pair[0];
        Node b = pair[1];
        a.call(() -> a.link.takeOver("ga"));
        b.putGate = new CountDownLatch(1);
        long seq = a.put("ga", "slow", "1");
        AtomicBoolean ran = new AtomicBoolean();
        AtomicReference<List<String>> seenByB = new AtomicReference<>();
        a.call(() -> {
            a.link.whenAcked(seq, () -> {
                seenByB.set(List.copyOf(b.events));
                ran.set(true);
            });
            return null;
        });
        b.putEntered.await();
        // b's daemon is inside put and has not returned: nothing can have acknowledged the update.
        assertEquals(1, a.link.lagUpdates());
        assertFalse(ran.get(), "whenAcked ran before the partner applied the update");
        b.putGate.countDown();
        a.await("acknowledgement", ran::get);
        assertTrue(seenByB.get().contains("put ga slow=1"), seenByB.get().toString());
    }

    @Test
    void whenAckedRunsAtOnceWhileTheLinkIsDown() throws Exception {
        Node a = nodes.start(Node.settings("a", "b", certs, dir, Node.unusedPort()));
        a.call(() -> a.link.takeOver("ga"));
        long seq = a.put("ga", "k", "v");
        CountDownLatch ran = new CountDownLatch(1);
        a.call(() -> {
            a.link.whenAcked(seq, ran::countDown);
            return null;
        });
        a.await("the callback", () -> ran.getCount() == 0);
        assertFalse(a.link.connected());
        assertEquals(0, a.link.status().updatesSent());
    }

    @Test
    void aRestartedPartnerIsResynchronisedAndStaleEntriesGo() throws Exception {
        Node[] pair = nodes.connectedPair();
        Node a = pair[0];
        Node b = pair[1];
        InetSocketAddress bAddress = b.link.localAddress();
        b.call(() -> b.link.takeOver("gb"));
        b.put("gb", "k1", "old");
        long s2 = b.put("gb", "k2", "old");
        CountDownLatch acked = new CountDownLatch(1);
        b.call(() -> {
            b.link.whenAcked(s2, acked::countDown);
            return null;
        });
        a.await("b's updates", () -> acked.getCount() == 0);
        assertEquals(Set.of("k1=old", "k2=old"), a.replicaOf("gb"));

        // a's daemon now hangs in put: its update stays unacknowledged while b goes away.
        a.call(() -> a.link.takeOver("ga"));
        b.putGate = new CountDownLatch(1);
        long pending = a.put("ga", "x", "1");
        AtomicReference<List<String>> eventsWhenReleased = new AtomicReference<>();
        a.call(() -> {
            a.link.whenAcked(pending, () -> eventsWhenReleased.set(List.copyOf(a.events)));
            return null;
        });
        b.putEntered.await();
        nodes.forget(b);
        b.close();
        a.await("the released callback", () -> eventsWhenReleased.get() != null);
        assertTrue(eventsWhenReleased.get().contains("disconnected"), "released before disconnected()");

        Node b2 = nodes.start(Node.settings("b", "a", certs, dir, Node.unusedPort()).withListen(bAddress));
        b2.own.put("gb", new ConcurrentHashMap<>(Map.of("k1", "new", "k3", "new")));
        // The restarted b takes its group again: epoch 4, above the 2 its file remembers.
        assertEquals(4, b2.call(() -> b2.link.takeOver("gb")));
        a.await("reconnected", () -> a.count("connected") == 2);
        a.await("the full sync", () -> a.events.lastIndexOf("end [gb]") > a.events.lastIndexOf("connected"));
        assertEquals(Set.of("k1=new", "k3=new"), a.replicaOf("gb"));
        assertTrue(a.events.contains("ownership gb 4 b"), a.events.toString());
        assertEquals(1, a.link.status().reconnects());
        // a's own group went to b2 in a's full sync (a still owns it, at epoch 1).
        b2.await("a's full sync", () -> b2.events.contains("end [ga]"));
        assertEquals(Set.of("x=1"), b2.replicaOf("ga"));
    }

    @Test
    void aWrongPartnerCertificateIsRefusedByTheListener() throws Exception {
        Node b = nodes.startB();
        // a presents c's certificate; b pins a's.
        SyncSettings s = Node.settings("a", "b", certs, dir, b.link.localAddress());
        Node a = nodes.start(new SyncSettings("a", s.listen(), "b", s.partnerAddress(), certs.resolve("c.pem"),
                certs.resolve("c.key"), s.partnerCertificate(), s.heartbeatInterval(), s.missedHeartbeats(),
                s.maxFrameBytes(), s.epochFile()));
        b.await("two refusals (a retried)", () -> b.link.status().refusedHandshakes() >= 2);
        assertNothingHappened(a, b);
    }

    @Test
    void aWrongPartnerCertificateIsRefusedByTheDialer() throws Exception {
        Node b = nodes.startB();
        // a pins c's certificate; b presents its own.
        SyncSettings s = Node.settings("a", "b", certs, dir, b.link.localAddress());
        Node a = nodes.start(new SyncSettings("a", s.listen(), "b", s.partnerAddress(), s.certificate(), s.privateKey(),
                certs.resolve("c.pem"), s.heartbeatInterval(), s.missedHeartbeats(), s.maxFrameBytes(), s.epochFile()));
        a.await("two refusals", () -> a.link.status().refusedHandshakes() >= 2);
        assertNothingHappened(a, b);
    }

    private static void assertNothingHappened(Node a, Node b) throws Exception {
        a.call(() -> null);
        b.call(() -> null);
        assertEquals(List.of(), a.events);
        assertEquals(List.of(), b.events);
        assertFalse(a.link.connected());
        assertFalse(b.link.connected());
        assertEquals(0, a.link.status().updatesApplied() + b.link.status().updatesApplied());
    }

    @Test
    void aPausedOwnerIsFencedAfterTheTakeOver() throws Exception {
        Node[] pair = nodes.connectedPair();
        Node a = pair[0];
        Node b = pair[1];
        assertEquals(1, a.call(() -> a.link.takeOver("g")));
        long s1 = a.put("g", "k1", "1");
        CountDownLatch acked = new CountDownLatch(1);
        a.call(() -> {
            a.link.whenAcked(s1, acked::countDown);
            return null;
        });
        a.await("k1 acknowledged", () -> acked.getCount() == 0);

        // a's daemon thread stalls (a long GC pause): it cannot learn of the take-over.
        CountDownLatch pause = new CountDownLatch(1);
        a.deliver.execute(() -> {
            try {
                pause.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(2, b.call(() -> b.link.takeOver("g")));
        // What a had in flight when it stalled still carries epoch 1.
        a.link.put("g", Node.KIND, Node.bytes("k2"), Node.bytes("stale"));
        pause.countDown();

        a.await("fenced", () -> a.events.contains("fenced g 2"));
        assertTrue(a.events.contains("ownership g 2 b"), a.events.toString());
        b.await("the refusal counted", () -> b.link.status().updatesFenced() >= 1);
        b.call(() -> null);
        assertFalse(b.events.contains("put g k2=stale"), b.events.toString());
        assertEquals(Map.of(), a.link.owned());
        assertThrows(IllegalStateException.class, () -> a.link.put("g", Node.KIND, Node.bytes("k3"), Node.bytes("x")));
        assertEquals(2, new EpochStoreReader(dir.resolve("a.epochs")).highest("g"));
    }

    /** a's epoch file as another process would read it after a restart. */
    private record EpochStoreReader(Path file) {
        long highest(String group) throws Exception {
            return EpochStore.open(file, true).highest(group);
        }
    }

    @Test
    void aBurstOfTenThousandUpdatesArrivesInOrder() throws Exception {
        Node[] pair = nodes.connectedPair();
        Node a = pair[0];
        Node b = pair[1];
        a.call(() -> a.link.takeOver("ga"));
        int n = 10_000;
        CountDownLatch acked = new CountDownLatch(1);
        long started = System.nanoTime();
        a.call(() -> {
            long last = 0;
            for (int i = 0; i < n; i++) {
                last = a.link.put("ga", Node.KIND, Node.bytes("k" + i), Node.bytes("v" + i));
            }
            a.link.whenAcked(last, acked::countDown);
            return null;
        });
        a.await("the burst acknowledged", () -> acked.getCount() == 0);
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("sync link: " + n + " updates put and acknowledged in " + millis + " ms");
        List<String> puts = b.puts();
        assertEquals(n, puts.size());
        for (int i = 0; i < n; i++) {
            assertEquals("put ga k" + i + "=v" + i, puts.get(i));
        }
    }

    /**
     * A legitimate full sync far larger than what the receiver lets wait unapplied: a pauses its
     * reading again and again, and b's full sync still arrives whole, on the one connection, with
     * nobody closed for it (b's acknowledgement deadline at its default: each applied burst is
     * acknowledged).
     */
    @Test
    void aFullSyncLargerThanTheUnappliedBoundPasses() throws Exception {
        Node b = nodes.startB();
        // b owns its group and state before a connects: all of it goes in the full sync at the connection.
        b.call(() -> b.link.takeOver("gb"));
        Map<String, String> state = new ConcurrentHashMap<>();
        Set<String> expected = new java.util.TreeSet<>();
        for (int i = 0; i < 5_000; i++) {
            String value = "v" + i + "-" + "s".repeat(200);
            state.put("k" + i, value);
            expected.add("k" + i + "=" + value);
        }
        b.own.put("gb", state);
        // About 1.2 MB of full sync against 32 KiB that may wait unapplied in a.
        Node a = nodes.start(Node.settings("a", "b", certs, dir, b.link.localAddress()),
                SyncBounds.DEFAULT.withUnapplied(32 * 1024, 8 * 1024));
        a.await("the full sync", () -> a.events.contains("end [gb]"));
        assertEquals(expected, a.replicaOf("gb"));
        assertTrue(a.link.status().readPauses() >= 1, "the full sync never filled a's bound: " + a.link.status());
        assertEquals(0, b.count("disconnected") + a.count("disconnected"));
        assertEquals(0, b.link.status().unacknowledgedCloses() + b.link.status().slowPartnerCloses());
        b.await("no lag", () -> b.link.lagUpdates() == 0);
    }

    @Test
    void aFullSyncLargerThanTheUnsentBoundIsSentAndTheBoundCountsAboveIt() throws Exception {
        // b's full sync (about 1.2 MB) is larger than what may wait unsent to its partner (64 KiB):
        // held to the bound it would close every connection it is sent on, for ever.
        Node b = nodes.start(Node.settings("b", "a", certs, dir, Node.unusedPort()), 64 * 1024);
        b.call(() -> b.link.takeOver("gb"));
        Map<String, String> state = new ConcurrentHashMap<>();
        for (int i = 0; i < 5_000; i++) {
            state.put("k" + i, "v" + i + "-" + "s".repeat(200));
        }
        b.own.put("gb", state);
        Node a = nodes.startA(b);
        a.await("the full sync", () -> a.events.contains("end [gb]"));
        assertEquals(5_000, a.replicaOf("gb").size());
        // Updates after it are held to the bound again, above what the sync left: they arrive too.
        for (int i = 0; i < 100; i++) {
            b.put("gb", "after" + i, "x".repeat(100));
        }
        a.await("the updates after it", () -> a.events.stream().filter(e -> e.startsWith("put ") && e.contains("after")).count() == 100);
        assertEquals(5_100, a.replicaOf("gb").size());
        assertEquals(0, b.link.status().slowPartnerCloses(), b.link.status().toString());
        assertEquals(0, b.count("disconnected") + a.count("disconnected"));
    }

    @Test
    void closeLeavesNoThreadBehind() throws Exception {
        Node[] pair = nodes.connectedPair();
        for (Node n : pair) {
            nodes.forget(n);
            n.close();
        }
        Node probe = pair[0];
        probe.await("the link threads to end", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().startsWith("isthmus-sync-")));
    }
}
