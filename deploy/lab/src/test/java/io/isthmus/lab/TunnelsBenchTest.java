package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.dataplane.ForwardingBenchmarkReport;
import io.isthmus.lab.bench.Bench;
import io.isthmus.lab.bench.TunnelsBench;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code isthmus bench tunnels}, short: 1 and 20 tunnels, status and scrape asked once, the
 * forwarding benchmark in its smoke form (64 s at a load average of 4 to 6, where the quick
 * form with status and scrape warmed up and asked three times took 146 s at 8 to 12). Every
 * figure must exist and make sense (a start, reloads, status and scrape answered,
 * 20 routes into the device and one more for the changed site, memory read, every SA up, the
 * eight forwarding rows), in the JSON and the table; how fast is the benchmark's to say, not a
 * test's.
 */
class TunnelsBenchTest {
    @BeforeAll
    static void root() {
        String why = !"root".equals(System.getProperty("user.name")) ? "the benchmark needs root (network namespaces, TUN devices); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/bin/curl")) ? "curl is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
    }

    @Test
    void everyCountProducesEveryFigure() throws Exception {
        Path json = Files.createTempFile("isthmus-tunnels", ".json");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        TunnelsBench.Result r = TunnelsBench.runSmokeAndReport(List.of(1, 20), json, new PrintStream(printed, true));
        String output = printed.toString();
        System.out.println(output);
        assertTrue(r.complete(), "figures missing: " + r.rows().stream().map(TunnelsBench.Row::error).toList() + " " + r.forwardingError());
        assertEquals(List.of(1, 20), r.rows().stream().map(TunnelsBench.Row::tunnels).toList());
        for (TunnelsBench.Row row : r.rows()) {
            var d = row.daemon();
            int n = row.tunnels();
            assertTrue(d.startSeconds() > 0 && d.startCpuSeconds() > 0 && d.loggedStartMs() > 0, "the start: " + d);
            assertEquals(n, d.routes(), "a route per site: " + d);
            assertEquals(1, d.changedSites());
            assertTrue(d.reloadUnchangedSeconds() > 0 && d.reloadChangedSeconds() > 0, "the reloads: " + d);
            assertTrue(d.statusSeconds() > 0 && d.statusBytes() > 0 && d.scrapeSeconds() > 0 && d.scrapeBytes() > 0, "status and scrape: " + d);
            assertTrue(d.rssKb() > 0 && d.heapLiveBytes() > 0 && d.nativeKb() > 0, "the daemon's memory: " + d);
            var f = row.inProcess();
            assertEquals(n, f.tunnels());
            assertTrue(f.establishSeconds() > 0 && f.heapUpBytes() > f.heapBeforeBytes(), "the SAs' memory: " + f);
            assertTrue(f.nativeTracked(), "native memory tracked: " + f);
            // Each SA up holds its IKE SA's and child SA's timers (liveness, rekeys, expiries).
            assertTrue(f.timersPending() >= 4L * n, "timers: " + f);
            assertTrue(f.timerNs() > 0 && f.emptyLoopTimerNs() > 0, "the timers' cost: " + f);
            assertTrue(f.statusMs() > 0 && f.statusBytes() > 0 && f.scrapeMs() > 0 && f.scrapeBytes() > 0, "status and scrape: " + f);
            assertTrue(!f.topClasses().isEmpty(), "where the heap goes: " + f);
        }
        assertEquals(8, r.forwarding().size(), r.forwarding().toString());
        for (ForwardingBenchmarkReport.Row row : r.forwarding()) {
            assertTrue(row.nsPerPacket() > 0 && row.ratioToOne() > 0, row.toString());
        }
        assertTrue(output.contains("The daemon with n ResponderOnly connections") && output.contains("Forwarding with many tunnels")
                && output.contains("each tunnel from 1 to 20"), output);
        JsonNode doc = Bench.JSON.readTree(Files.readString(json));
        assertEquals(2, doc.path("rows").size());
        assertTrue(doc.path("rows").get(1).path("inProcess").path("heapUpBytes").asLong() > 0, doc.toPrettyString());
        assertEquals(8, doc.path("forwarding").size());
        Files.delete(json);
    }
}
