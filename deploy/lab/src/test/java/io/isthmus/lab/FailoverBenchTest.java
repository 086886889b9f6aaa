package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.bench.Bench;
import io.isthmus.lab.bench.Failover;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The failover benchmark's short run (deploy/bench failover): one kill -9 of gw1 and its return
 * with the pair's sync, the kill without (its failback there would wait out another DPD), and every row must carry every figure, in the table and the
 * JSON. The figures are not judged here (they belong in the benchmark's output); that the pair
 * with sync kept its IKE SA and the one without did not is: that is what is being compared.
 */
class FailoverBenchTest extends PairLabTestBase {
    @Test
    void everyFaultProducesEveryFigureWithAndWithoutSync() throws Exception {
        Path json = Files.createTempFile("isthmus-failover", ".json");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<Failover.Row> rows = new Failover(2000, 5, new PrintStream(printed, true)).withoutFailbacksWithoutSync()
                .runAndReport(Failover.faults("kill"), 1, 1, json);
        String output = printed.toString();
        System.out.println(output);
        assertEquals(3, rows.size(), "kill -9 and the failback after it with sync, kill -9 without: " + rows);
        for (Failover.Row r : rows) {
            assertEquals(1, r.runs());
            assertTrue(r.windowP50Ms() >= 0 && r.windowP95Ms() >= r.windowP50Ms() && r.windowMaxMs() >= r.windowP95Ms(), r.toString());
            assertTrue(r.lostP50() >= 0 && r.lostMax() >= r.lostP50(), r.toString());
            assertTrue(output.contains(r.fault()), "the table has " + r.fault());
            if (r.stateSync()) {
                assertEquals(0, r.runsWithANewIkeSa(), "with sync the peer keeps its IKE SA: " + r);
            } else {
                assertEquals(1, r.runsWithANewIkeSa(), "without sync the peer negotiates anew: " + r);
            }
        }
        JsonNode written = Bench.JSON.readTree(json.toFile());
        assertEquals(3, written.get("rows").size());
        assertEquals(3, written.get("runs").size());
        for (JsonNode r : written.get("rows")) {
            for (String field : List.of("windowP50Ms", "windowP95Ms", "windowMaxMs", "lostP50", "lostP95", "lostMax")) {
                assertTrue(r.get(field).isNumber(), field + " in " + r);
            }
        }
        Files.deleteIfExists(json);
    }
}
