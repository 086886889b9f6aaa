package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.ha.KeepalivedConfig;
import io.isthmus.lab.PairLab.Instance;
import io.isthmus.lab.PairLab.Options;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pair's floating addresses follow the instance that lives: keepalived (VRRPv3, 50 ms
 * adverts, unicast over the sync link) moves gw1's group to gw2 when gw1's tracked process is
 * killed, paused, loses its WAN link or the whole machine goes, and gives it back when gw1
 * recovers (preemption after 1 s, the lab's default). Each move is timed and printed (in
 * target/surefire-reports/io.isthmus.lab.PairLabTest-output.txt); only the move is asserted,
 * as the machine is shared. Needs root and keepalived (CI has both: deploy/lib/packages.sh).
 */
class PairLabTest extends PairLabTestBase {
    static final Duration LIMIT = Duration.ofSeconds(20);
    /** The lab's 50 ms, or another for a measurement: -Disthmus.pair.advertMs=20. */
    static final Options OPTIONS = Options.DEFAULT.withAdvertInterval(Duration.ofMillis(Long.getLong("isthmus.pair.advertMs", 50)));

    void upWithStandIns(Options options) throws Exception {
        lab = PairLab.up(Path.of("/tmp/isthmus-pair-lab-test"));
        for (Instance gw : Instance.values()) {
            lab.startStandIn(gw);
        }
        lab.startKeepalived(options);
        if (!options.preemption().preempt()) {
            return;
        }
        for (Instance gw : Instance.values()) {
            String vip = gw == Instance.GW1 ? PairLab.VIP1 : PairLab.VIP2;
            assertTrue(lab.awaitAddress(gw, vip, LIMIT) >= 0, gw.label + " never took its own group; logs in " + lab.work());
            awaitRelease(gw.other(), vip);
        }
    }

    void awaitRelease(Instance gw, String address) throws Exception {
        long end = System.nanoTime() + LIMIT.toNanos();
        while (lab.holds(gw, address) && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertFalse(lab.holds(gw, address), gw.label + " still holds " + address + "; logs in " + lab.work());
    }

    /** host-b reaches the peer's WAN side through the floating gateway (one ping answered within a few tries: ARP settles). */
    void hostBReachesThePeer() throws Exception {
        IOException last = null;
        for (int i = 0; i < 10; i++) {
            try {
                lab.in(PairLab.HOST_B, "ping", "-c", "1", "-W", "1", PairLab.PEER_WAN);
                return;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new AssertionError("host-b does not reach the peer through " + PairLab.NET_VIP1 + "; logs in " + lab.work(), last);
    }

    interface Step {
        void run() throws Exception;
    }

    /**
     * A fault in gw1, then its restore: vip1 (both addresses) is on gw2 in between, and back on
     * gw1 after; the path holds both times. Returns the figures.
     */
    String faultAndRestore(String name, Step fault, Step restore) throws Exception {
        long wall = System.currentTimeMillis() * 1_000_000;
        long start = System.nanoTime();
        fault.run();
        boolean moved = lab.awaitAddress(Instance.GW2, PairLab.VIP1, LIMIT) >= 0;
        long movedAfter = System.nanoTime() - start;
        assertTrue(moved, name + ": vip1 never reached gw2; logs in " + lab.work());
        assertTrue(lab.awaitAddress(Instance.GW2, PairLab.NET_VIP1, LIMIT) >= 0, name + ": the network-side address stayed behind");
        String notified = notifiedMaster(Instance.GW2, wall);
        awaitRelease(Instance.GW1, PairLab.VIP1);
        hostBReachesThePeer();
        long restored = System.nanoTime();
        restore.run();
        boolean back = lab.awaitAddress(Instance.GW1, PairLab.VIP1, LIMIT) >= 0;
        long backAfter = System.nanoTime() - restored;
        assertTrue(back, name + ": vip1 never came back to gw1 (preemption is on); logs in " + lab.work());
        awaitRelease(Instance.GW2, PairLab.VIP1);
        assertTrue(lab.holds(Instance.GW2, PairLab.VIP2), name + ": gw2 kept its own group throughout");
        hostBReachesThePeer();
        return "%-22s vip1 on gw2 %5d ms after the fault (gw2's notify MASTER: %s); back on gw1 %5d ms after the restore".formatted(
                name, movedAfter / 1_000_000, notified, backAfter / 1_000_000);
    }

    /**
     * When {@code gw}'s notify reported vip1 MASTER, in ms after {@code wall} (epoch ns): the
     * command runs in a process of its own, so its line may come a little after the address.
     */
    String notifiedMaster(Instance gw, long wall) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (true) {
            var first = lab.transitions(gw).stream().filter(l -> l.contains(" vip1 MASTER "))
                    .mapToLong(l -> Long.parseLong(l.substring(0, l.indexOf(' ')))).filter(t -> t >= wall).min();
            if (first.isPresent() || System.nanoTime() > end) {
                return first.isPresent() ? (first.getAsLong() - wall) / 1_000_000 + " ms" : "none";
            }
            Thread.sleep(20);
        }
    }

    @Test
    void gw1sGroupMovesToGw2OnEachFaultAndBack() throws Exception {
        upWithStandIns(OPTIONS);
        hostBReachesThePeer();
        int before = lab.transitions(Instance.GW1).size() + lab.transitions(Instance.GW2).size();
        Thread.sleep(3000);
        int quiet = lab.transitions(Instance.GW1).size() + lab.transitions(Instance.GW2).size() - before;
        List<String> figures = new ArrayList<>();
        figures.add(faultAndRestore("kill -9 of the daemon", () -> lab.killDaemon(Instance.GW1), () -> lab.startStandIn(Instance.GW1)));
        figures.add(faultAndRestore("SIGSTOP of the daemon", () -> lab.pauseDaemon(Instance.GW1), () -> lab.resumeDaemon(Instance.GW1)));
        figures.add(faultAndRestore("gw1's WAN link down", () -> lab.wanDown(Instance.GW1), () -> lab.wanUp(Instance.GW1)));
        figures.add(faultAndRestore("gw1 gone (all links)", () -> lab.machineGone(Instance.GW1), () -> lab.machineBack(Instance.GW1)));
        System.out.println("Pair lab, VRRPv3 advert interval " + OPTIONS.advertInterval().toMillis() + " ms, preempt after "
                + OPTIONS.preemption().delay().toMillis() + " ms; transitions in 3 s of quiet before the faults: " + quiet);
        figures.forEach(System.out::println);
        assertEquals(0, quiet, "no transition without a fault: " + lab.transitions(Instance.GW1) + lab.transitions(Instance.GW2));
    }

    /**
     * Without preemption whoever comes first keeps a group: at start, the instance whose check
     * passed first may take both (no owner takes its own back, measured), and a recovered
     * instance stays BACKUP: vip1 stays on the survivor (20 adverts after the other is back, it
     * has not moved) and moves only when the survivor fails in turn.
     */
    @Test
    void withoutPreemptionTheGroupStaysWhereItWent() throws Exception {
        upWithStandIns(OPTIONS.withPreemption(KeepalivedConfig.Preemption.NEVER));
        long end = System.nanoTime() + LIMIT.toNanos();
        while (!lab.holds(Instance.GW1, PairLab.VIP1) && !lab.holds(Instance.GW2, PairLab.VIP1) && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        Instance first = lab.holds(Instance.GW1, PairLab.VIP1) ? Instance.GW1 : Instance.GW2;
        Instance second = first.other();
        lab.killDaemon(first);
        assertTrue(lab.awaitAddress(second, PairLab.VIP1, LIMIT) >= 0, "vip1 moves from " + first.label + " to " + second.label);
        long wall = System.currentTimeMillis() * 1_000_000;
        lab.startStandIn(first);
        while (lab.transitions(first).stream().noneMatch(l -> l.contains(" vip1 BACKUP ")
                && Long.parseLong(l.substring(0, l.indexOf(' '))) >= wall) && System.nanoTime() < end + LIMIT.toNanos()) {
            Thread.sleep(20);
        }
        Thread.sleep(20 * OPTIONS.advertInterval().toMillis());
        assertTrue(lab.holds(second, PairLab.VIP1) && !lab.holds(first, PairLab.VIP1), lab.transitions(first).toString());
        lab.killDaemon(second);
        assertTrue(lab.awaitAddress(first, PairLab.VIP1, LIMIT) >= 0, first.label + " takes vip1 when " + second.label + " fails");
        assertTrue(lab.awaitAddress(first, PairLab.VIP2, LIMIT) >= 0, "and vip2");
        hostBReachesThePeer();
    }

    /** close() stops keepalived and the stand-ins and removes the lab's namespaces: nothing of this run's pair lab is left. */
    @Test
    void closeLeavesNothing() throws Exception {
        upWithStandIns(Options.DEFAULT);
        Path work = lab.work();
        lab.close();
        lab = null;
        assertFalse(Lab.sh("ip", "netns", "list").contains(Lab.PREFIX + "pair-"));
        String processes = Lab.sh("ps", "-eo", "args");
        assertFalse(processes.contains(work.toString()), processes);
    }
}
