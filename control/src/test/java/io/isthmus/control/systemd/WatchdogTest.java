package io.isthmus.control.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog says WATCHDOG=1 only while the packet threads and the IKE thread make progress.
 * The packet threads are a real data plane's agents, over memory and stepped by the test (a
 * stalled agent is one the test stops stepping); the IKE thread is an executor the test can block.
 */
class WatchdogTest {
    @TempDir
    Path dir;

    private FakeNotifySocket systemd;
    private ServiceManager manager;
    private Dataplane dataplane;
    private ExecutorService ikeThread;

    @BeforeEach
    void setUp() throws Exception {
        systemd = FakeNotifySocket.bind(dir.resolve("notify").toString());
        manager = ServiceManager.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.name())::get);
        Dataplane.Settings settings = new Dataplane.Settings("test0", List.of(InetAddress.ofLiteral("10.0.0.1")), 4500, false, 1500, 1350, 1 << 20);
        dataplane = Dataplane.overMemory(settings, new Dataplane.Events() {
            @Override
            public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
            }

            @Override
            public void lifetime(int inboundSpi, boolean hard) {
            }
        }, new InMemoryTun(false, false, (bytes, offset, length) -> { }), new InMemoryEspPort());
        ikeThread = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown() throws Exception {
        ikeThread.shutdownNow();
        ikeThread.awaitTermination(10, TimeUnit.SECONDS);
        dataplane.close();
        manager.close();
        systemd.close();
    }

    private Watchdog watchdog(Duration interval, Liveness... more) {
        List<Liveness> parts = new ArrayList<>(List.of(new PacketThreadLiveness(dataplane::progress), new EventLoopLiveness("the IKE thread",
                ikeThread)));
        parts.addAll(List.of(more));
        return new Watchdog(manager, parts, interval);
    }

    /** Whatever the IKE thread was given before this has run. */
    private void ikeThreadCatchesUp() throws Exception {
        ikeThread.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    @Test
    void everyPartMakingProgressFeedsTheWatchdog() throws Exception {
        Watchdog w = watchdog(Duration.ofSeconds(10));
        assertTrue(w.check(), "the first round only sets the marks");
        assertEquals(List.of("WATCHDOG=1"), systemd.drain());
        for (int round = 0; round < 3; round++) {
            dataplane.runDutyCycle();
            ikeThreadCatchesUp();
            assertTrue(w.check());
            assertEquals(List.of("WATCHDOG=1"), systemd.drain());
        }
    }

    @Test
    void aStalledPacketAgentSilencesTheWatchdogUntilItMovesAgain() throws Exception {
        Watchdog w = watchdog(Duration.ofSeconds(10));
        w.check();
        dataplane.runDutyCycle();
        ikeThreadCatchesUp();
        assertTrue(w.check());
        systemd.drain();

        // The agent stops: no duty cycle from here on, while the IKE thread carries on.
        for (int round = 0; round < 3; round++) {
            ikeThreadCatchesUp();
            assertFalse(w.check());
            assertEquals(List.of(), systemd.drain(), "no WATCHDOG=1 while a packet thread stands still");
        }

        dataplane.runDutyCycle();
        ikeThreadCatchesUp();
        assertTrue(w.check());
        assertEquals(List.of("WATCHDOG=1"), systemd.drain());
    }

    @Test
    void aStuckIkeThreadSilencesTheWatchdog() throws Exception {
        Watchdog w = watchdog(Duration.ofSeconds(10));
        w.check();
        ikeThreadCatchesUp();
        systemd.drain();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch stuck = new CountDownLatch(1);
        ikeThread.execute(() -> {
            stuck.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        stuck.await();
        dataplane.runDutyCycle();
        assertTrue(w.check(), "the probe of the round before ran before the IKE thread got stuck");
        systemd.drain();
        for (int round = 0; round < 3; round++) {
            dataplane.runDutyCycle();
            assertFalse(w.check());
            assertEquals(List.of(), systemd.drain(), "no WATCHDOG=1 while the IKE thread is stuck");
        }
        release.countDown();
        ikeThreadCatchesUp();
        dataplane.runDutyCycle();
        assertTrue(w.check(), "the IKE thread ran the probe once it was free");
        assertEquals(List.of("WATCHDOG=1"), systemd.drain());
    }

    /** A stuck loop gets one probe, not one per round: nothing piles up behind it. */
    @Test
    void aStuckLoopIsNotFloodedWithProbes() {
        AtomicInteger posted = new AtomicInteger();
        EventLoopLiveness live = new EventLoopLiveness("a loop that never runs anything", task -> posted.incrementAndGet());
        assertNull(live.stall());
        for (int i = 0; i < 5; i++) {
            assertEquals("a loop that never runs anything has not run a task posted a round ago", live.stall());
        }
        assertEquals(1, posted.get());
    }

    @Test
    void aCheckThatFailsIsNoVouchingAndTheWatchdogGoesOn() throws Exception {
        boolean[] failing = {true};
        Watchdog w = watchdog(Duration.ofSeconds(10), () -> {
            if (failing[0]) {
                throw new IllegalStateException("cannot tell");
            }
            return null;
        });
        assertFalse(w.check());
        assertEquals(List.of(), systemd.drain());
        failing[0] = false;
        dataplane.runDutyCycle();
        ikeThreadCatchesUp();
        assertTrue(w.check());
        assertEquals(List.of("WATCHDOG=1"), systemd.drain());
    }

    @Test
    void aStalledThreadIsNamedWithWhereItStopped() {
        List<Dataplane.PacketThreadProgress> now = new ArrayList<>(List.of(new Dataplane.PacketThreadProgress("isthmus-outbound", 7),
                new Dataplane.PacketThreadProgress("isthmus-inbound", 9)));
        PacketThreadLiveness live = new PacketThreadLiveness(() -> List.copyOf(now));
        assertNull(live.stall());
        now.set(1, new Dataplane.PacketThreadProgress("isthmus-inbound", 10));
        assertEquals("packet thread isthmus-outbound (at duty cycle 7) made no progress", live.stall());
    }

    /**
     * With its own thread: WATCHDOG=1 comes while the agent runs; once it stalls, at most the one
     * round that still saw its last cycles says WATCHDOG=1, then nothing, however many rounds go by.
     */
    @Test
    void onItsThreadTheWatchdogFallsSilentWithAStalledAgent() throws Exception {
        AtomicBoolean stepping = new AtomicBoolean(true);
        Thread agent = Thread.ofPlatform().daemon().name("stepped-agent").start(() -> {
            while (stepping.get()) {
                dataplane.runDutyCycle();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        AtomicInteger rounds = new AtomicInteger();
        Liveness counter = () -> {
            rounds.incrementAndGet();
            return null;
        };
        try (Watchdog w = watchdog(Duration.ofMillis(100), counter)) {
            assertEquals(Duration.ofMillis(50), w.round());
            w.start();
            assertNotNull(systemd.awaitMessage("WATCHDOG=1"::equals, Duration.ofSeconds(30), new ArrayList<>()), "WATCHDOG=1 while all runs");

            stepping.set(false);
            agent.join();
            systemd.drain();
            int stalledAt = rounds.get();
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (rounds.get() < stalledAt + 5 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertTrue(rounds.get() >= stalledAt + 5, "the watchdog's thread kept going round");
            List<String> after = systemd.drain();
            assertTrue(after.size() <= 1, () -> "WATCHDOG=1 went on after the agent stalled: " + after);
        }
    }

    @Test
    void theIntervalIsSystemdsWhenItIsForThisProcess() {
        long pid = 4242;
        assertEquals(Duration.ofSeconds(20), Watchdog.interval(Map.of("WATCHDOG_USEC", "20000000")::get, pid));
        assertEquals(Duration.ofSeconds(20), Watchdog.interval(Map.of("WATCHDOG_USEC", "20000000", "WATCHDOG_PID", "4242")::get, pid));
        assertNull(Watchdog.interval(Map.of("WATCHDOG_USEC", "20000000", "WATCHDOG_PID", "1")::get, pid), "for another process");
        assertNull(Watchdog.interval(Map.<String, String>of()::get, pid));
        for (String bad : List.of("", "0", "-5", "ten", "99999999999999999999", "18446744073709551")) {
            assertNull(Watchdog.interval(Map.of("WATCHDOG_USEC", bad)::get, pid), bad);
        }
        assertNull(Watchdog.interval(Map.of("WATCHDOG_USEC", "20000000", "WATCHDOG_PID", "x\n")::get, pid));
        assertEquals(Duration.ofSeconds(5), new Watchdog(null, List.of(), Duration.ofSeconds(10)).round(), "half the interval");
        assertEquals(Watchdog.SHORTEST_ROUND, new Watchdog(null, List.of(), Duration.ofNanos(1000)).round());
    }
}
