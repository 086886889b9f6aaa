package io.isthmus.lab.ikeload;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one generator run counted, as {@code isthmus bench ike-load} reads it back (JSON).
 *
 * @param ikeSasPerSecond       IKE SAs established with their child SA in the window, per second
 * @param startedPerSecond      attempts started in the window, per second (the offered load)
 * @param outcomes              how every attempt of the run ended (warm-up and drain included), by {@link Initiators.Outcome}
 * @param outcomesInWindow      the same, of the attempts that ended in the window
 * @param refusals              the ends that were not ESTABLISHED, by outcome and detail
 * @param attempts              attempts started in all
 * @param cookied               attempts whose IKE_SA_INIT was answered with a cookie request
 * @param cookiedInWindow       the same, of those that ended in the window
 * @param retransmissions       requests sent again for want of an answer
 * @param latencyMs             start to child SA of the IKE SAs established in the window: p50, p95, p99, max
 * @param generatorCores        CPU the generator's process took over the window, in cores
 * @param generatorBusiestThread the busiest engine thread's share of one core over the window (1.0: saturated)
 * @param responderCores        CPU the responder's process took over the window, in cores (-1: not measured)
 * @param responderMsPerIkeSa   the responder's CPU milliseconds per IKE SA established in the window (-1: not measured)
 * @param deleted               IKE SAs deleted at the end (the responder told), when asked to
 * @param undeleted             those whose delete the responder had not answered when the generator stopped waiting
 * @param loadAverage           the machine's one-minute load average at the window's end (/proc/loadavg): above
 *                              its CPU count, other work was waiting for the CPUs too, and every figure here with it
 * @param p2s                   point-to-site clients (each its own identity, asking for a virtual address)
 * @param clientsWithAddress    point-to-site: clients established with a virtual address given
 * @param clientsWithoutAddress point-to-site: clients established whose gateway gave them no address
 * @param distinctAddresses     point-to-site: different addresses among those given
 * @param duplicateAddresses    point-to-site: addresses given to more than one client (the pool's promise: none)
 */
public record LoadReport(String auth, String ike, int threads, int window, double offeredRate, int sources, boolean abandon, double windowSeconds,
                         double ikeSasPerSecond, double startedPerSecond, Map<String, Long> outcomes, Map<String, Long> outcomesInWindow,
                         Map<String, Long> refusals, long attempts, long cookied, long cookiedInWindow, long retransmissions, List<Double> latencyMs,
                         double generatorCores, double generatorBusiestThread, double responderCores, double responderMsPerIkeSa,
                         long deleted, long undeleted, double loadAverage, boolean p2s, long clientsWithAddress, long clientsWithoutAddress,
                         long distinctAddresses, long duplicateAddresses) {

    static LoadReport of(IkeLoadGenerator g, List<Initiators.Tally> tallies, IkeLoadGenerator.CpuSample before, IkeLoadGenerator.CpuSample after,
                         long deleted, long undeleted) {
        Map<String, Long> outcomes = new LinkedHashMap<>();
        Map<String, Long> inWindow = new LinkedHashMap<>();
        Map<String, Long> refusals = new TreeMap<>();
        long started = 0;
        long startedInWindow = 0;
        long cookied = 0;
        long cookiedInWindow = 0;
        long retransmissions = 0;
        List<Long> latencies = new ArrayList<>();
        long withAddress = 0;
        long withoutAddress = 0;
        Map<String, Long> given = new java.util.HashMap<>();
        for (Initiators.Outcome o : Initiators.Outcome.values()) {
            outcomes.put(o.name(), 0L);
            inWindow.put(o.name(), 0L);
        }
        for (Initiators.Tally t : tallies) {
            for (Initiators.Outcome o : Initiators.Outcome.values()) {
                outcomes.merge(o.name(), t.outcomes[o.ordinal()], Long::sum);
                inWindow.merge(o.name(), t.inWindow[o.ordinal()], Long::sum);
            }
            t.refusals.forEach((k, v) -> refusals.merge(k, v, Long::sum));
            started += t.started;
            startedInWindow += t.startedInWindow;
            cookied += t.cookied;
            cookiedInWindow += t.cookiedInWindow;
            retransmissions += t.retransmissions;
            latencies.addAll(t.latencyNanos);
            for (String a : t.virtualAddresses) {
                if (a == null) {
                    withoutAddress++;
                } else {
                    withAddress++;
                    given.merge(a, 1L, Long::sum);
                }
            }
        }
        long duplicates = given.values().stream().filter(n -> n > 1).count();
        Collections.sort(latencies);
        double windowSeconds = (after.nanos() - before.nanos()) / 1e9;
        long established = inWindow.get(Initiators.Outcome.ESTABLISHED.name());
        double busiest = 0;
        for (int i = 0; i < before.threadCpuNanos().length; i++) {
            busiest = Math.max(busiest, (after.threadCpuNanos()[i] - before.threadCpuNanos()[i]) / 1e9 / windowSeconds);
        }
        double responderCpu = before.responderCpuNanos() < 0 || after.responderCpuNanos() < 0 ? -1
                : (after.responderCpuNanos() - before.responderCpuNanos()) / 1e9;
        return new LoadReport(g.auth, g.ike, g.threads, g.window, g.rate, g.sources, g.abandon, round(windowSeconds), round(established / windowSeconds),
                round(startedInWindow / windowSeconds), outcomes, inWindow, refusals, started, cookied, cookiedInWindow, retransmissions,
                List.of(percentile(latencies, 0.50), percentile(latencies, 0.95), percentile(latencies, 0.99),
                        latencies.isEmpty() ? 0 : round(latencies.getLast() / 1e6)),
                round((after.processCpuNanos() - before.processCpuNanos()) / 1e9 / windowSeconds), round(busiest),
                responderCpu < 0 ? -1 : round(responderCpu / windowSeconds), responderCpu < 0 || established == 0 ? -1 : round(responderCpu * 1000 / established), deleted, undeleted,
                after.loadAverage(), g.p2s, withAddress, withoutAddress, given.size(), duplicates);
    }

    private static double percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return round(sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1)) / 1e6);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** Established in the window. */
    public long established() {
        return outcomesInWindow.getOrDefault(Initiators.Outcome.ESTABLISHED.name(), 0L);
    }

    /** Attempts that ended by no answer at all: the responder dropped them without a word. */
    public long unanswered() {
        return outcomes.getOrDefault(Initiators.Outcome.UNANSWERED.name(), 0L);
    }

    /** Attempts refused with the notify {@code name} (INTERNAL_ADDRESS_FAILURE, say), by the details counted. */
    public long refusedWith(String name) {
        return refusals.entrySet().stream().filter(e -> e.getKey().contains(name)).mapToLong(Map.Entry::getValue).sum();
    }

    /** Every attempt's end was counted: the outcomes add up to the attempts started. */
    public boolean accountedFor() {
        return outcomes.values().stream().mapToLong(Long::longValue).sum() == attempts;
    }

    /** One line, for the generator's log. */
    public String summary() {
        return String.format("%.0f IKE SAs/s (%d in %.1f s), offered %.0f/s, %d attempts: %s; cookied %d, retransmissions %d; "
                        + "latency ms p50 %s p95 %s; generator %.2f cores (busiest thread %.0f%%), responder %.2f cores, %.2f ms/IKE SA; "
                        + "load average %.1f",
                ikeSasPerSecond, established(), windowSeconds, startedPerSecond, attempts, outcomes, cookied, retransmissions, latencyMs.get(0),
                latencyMs.get(1), generatorCores, generatorBusiestThread * 100, responderCores, responderMsPerIkeSa, loadAverage);
    }
}
