package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The standstills of the process as the watching thread's runs show them, its runs given their
 * times: steady runs are no standstill however late the IKE thread asks; a gap longer than
 * {@link ProcessPauses#STANDSTILL} is one, for any question about a time before it ended; and a
 * watching thread that has not run for that long (the IKE thread asking first after a SIGCONT)
 * is one going on.
 */
class ProcessPausesTest {
    static final long T0 = 5_000_000_000L;
    static final long STEP = ProcessPauses.STEP.toNanos();

    @Test
    void steadyRunsAreNoStandstillHoweverLateTheQuestion() {
        ProcessPauses p = new ProcessPauses(T0);
        long t = T0;
        for (int i = 0; i < 30; i++) { // 300 ms of steady runs: the IKE thread busy that long
            t += STEP;
            p.ran(t);
        }
        assertFalse(p.since(T0, t), "the process ran throughout");
        assertFalse(p.since(T0, t + STEP), "asked between two runs");
    }

    @Test
    void aGapLongerThanAStandstillIsOneForQuestionsFromBeforeItsEnd() {
        ProcessPauses p = new ProcessPauses(T0);
        p.ran(T0 + STEP);
        long resumed = T0 + STEP + ProcessPauses.STANDSTILL.toNanos() + 1;
        p.ran(resumed); // SIGSTOP, SIGCONT: the watching thread ran first
        p.ran(resumed + STEP);
        assertTrue(p.since(T0, resumed + STEP), "a tick from before the standstill");
        assertTrue(p.since(resumed - 1, resumed + STEP));
        assertFalse(p.since(resumed, resumed + STEP), "a tick after it had already been told");
        ProcessPauses q = new ProcessPauses(T0);
        q.ran(T0 + ProcessPauses.STANDSTILL.toNanos());
        assertFalse(q.since(T0 - 1, T0 + ProcessPauses.STANDSTILL.toNanos()), "a gap of exactly a standstill is not longer than one");
    }

    @Test
    void aWatchingThreadThatHasNotRunYetIsAStandstillGoingOn() {
        ProcessPauses p = new ProcessPauses(T0);
        p.ran(T0 + STEP);
        long ikeFirst = T0 + STEP + Duration.ofSeconds(2).toNanos(); // the IKE thread resumed before the watching one
        assertTrue(p.since(T0 + STEP, ikeFirst));
    }

    @Test
    void theThreadRunsAndStops() throws Exception {
        ProcessPauses p = ProcessPauses.start();
        Thread watcher = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("isthmus-pause-watch")).findFirst()
                .orElseThrow();
        assertTrue(watcher.isDaemon());
        p.close();
        watcher.join(Duration.ofSeconds(30));
        assertFalse(watcher.isAlive(), "closed: the watching thread ends");
    }
}
