package io.isthmus.control.ha;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Tells a pause of the whole process (SIGSTOP, a stop-the-world collection, a frozen VM, a
 * machine so loaded that none of the gateway's threads ran) from the IKE thread merely being
 * late: busy with a takeover of its own (173 and 191 ms measured on the loaded CI machine, each
 * followed by "did not run for" 191 and 205 ms), or with a burst of IKE work.
 *
 * <p>Why the difference matters ({@link SequenceLeases#tick}): after a pause of the process, the
 * keepalived event and the partner's fence that say the group moved may not have been read yet
 * (their reader threads were stopped too), so renewing leases at once could let this instance
 * send beside the partner; it waits a lease's time for them. When only the IKE thread was late,
 * the reader threads ran meanwhile and queued those events on the IKE thread ahead of the late
 * tick, which therefore sees the ownership as it is: renewing at once is as safe as any tick,
 * and waiting would only drop a further lease's time of traffic.
 *
 * <p>A daemon thread of its own wakes every {@link #STEP} and notes when it ran; a gap between
 * two of its runs longer than {@link #STANDSTILL} is a standstill of the process. One thread
 * sleeping 10 ms at a time: no measurable cost.
 */
final class ProcessPauses implements SequenceLeases.Standstills, AutoCloseable {
    static final Duration STEP = Duration.ofMillis(10);
    /**
     * A gap this long between two runs of the watching thread is a standstill: half a lease
     * ({@link SequenceLeases#LEASE_TIME}), so that a process stopped for most of a lease and then
     * slow on its IKE thread still counts as paused (the safe side).
     */
    static final Duration STANDSTILL = SequenceLeases.LEASE_TIME.dividedBy(2);

    private final Thread thread;
    /** When the watching thread last ran ({@link System#nanoTime()}). */
    private volatile long lastRun;
    /** When the last standstill ended, as the watching thread saw it after it; 0: none yet. */
    private volatile long lastStandstillEnd;
    private volatile boolean closed;

    /** Not started: the watching thread's runs are {@link #ran} calls (tests give them their times). */
    ProcessPauses(long nowNanos) {
        lastRun = nowNanos;
        thread = Thread.ofPlatform().daemon().name("isthmus-pause-watch").unstarted(this::watch);
    }

    static ProcessPauses start() {
        ProcessPauses p = new ProcessPauses(System.nanoTime());
        p.thread.start();
        return p;
    }

    private void watch() {
        while (!closed) {
            LockSupport.parkNanos(STEP.toNanos());
            ran(System.nanoTime());
        }
    }

    /** The watching thread ran at {@code nowNanos}: a standstill ends here if it had not run for longer than {@link #STANDSTILL}. */
    void ran(long nowNanos) {
        if (nowNanos - lastRun > STANDSTILL.toNanos()) {
            lastStandstillEnd = nowNanos;
        }
        lastRun = nowNanos;
    }

    /**
     * Whether the process stood still at some time after {@code sinceNanos} up to {@code nowNanos}:
     * a standstill that ended after {@code sinceNanos}, or one going on now (the watching thread
     * has not run for longer than {@link #STANDSTILL}: just resumed, the IKE thread first).
     */
    @Override
    public boolean since(long sinceNanos, long nowNanos) {
        long end = lastStandstillEnd;
        return (end != 0 && end - sinceNanos > 0) || nowNanos - lastRun > STANDSTILL.toNanos();
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
