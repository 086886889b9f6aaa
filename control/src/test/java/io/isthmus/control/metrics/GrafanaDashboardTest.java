package io.isthmus.control.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.ike.IkeCounters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in deploy/grafana asks only for metrics the gateway serves, and every
 * query is PromQL that Prometheus's promtool accepts (as recording rules, with Grafana's
 * variables put in).
 */
class GrafanaDashboardTest {
    static final Path DASHBOARD = Path.of(System.getProperty("user.dir")).getParent().resolve("deploy/grafana/isthmus-dashboard.json");

    static List<String> queries() throws Exception {
        JsonNode d = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> all = new ArrayList<>();
        for (JsonNode panel : d.path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                all.add(t.path("expr").asText());
            }
        }
        return all;
    }

    @Test
    void everyMetricItAsksForIsServed() throws Exception {
        var link = new GatewayPair.Link(true, "2026-12-02T10:00:00Z", 10L, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        var last = new GatewayPair.LastTakeover("g1", "2026-12-02T10:05:00Z", 42, 1, 1, 0, false, 0);
        var groups = List.of(new GatewayPair.GroupStatus("g1", "10.77.0.10", "gw1", 4, "MASTER", "2026-12-02T10:00:00Z"));
        var pair = new GatewayPair.Status("gw1", "gw2", link, groups, last, 1, 0, null, 0, 0);
        // A connection that exchanged an IKE message: a message counter appears only once it counted one.
        IkeCounters.ByConnection ike = new IkeCounters.ByConnection();
        ike.of("to-c").message(io.isthmus.ike.message.ExchangeType.IKE_SA_INIT, IkeCounters.Direction.OUT, IkeCounters.Kind.REQUEST);
        String served = GatewayMetricsTest.text(ike, GatewayMetricsTest.status(pair));
        List<String> queries = queries();
        assertTrue(queries.size() >= 15, queries.toString());
        Matcher m = Pattern.compile("isthmus_[a-z0-9_]+").matcher(String.join("\n", queries));
        while (m.find()) {
            assertTrue(served.contains("\n" + m.group() + "{") || served.contains("\n" + m.group() + " "), m.group() + " is not served");
        }
    }

    @Test
    void promtoolAcceptsEveryQuery() throws Exception {
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int i = 0;
        for (String q : queries()) {
            String promql = q.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$connection", ".*");
            rules.append("      - record: isthmus:dashboard:").append(i++).append("\n        expr: '").append(promql.replace("'", "''")).append("'\n");
        }
        Path file = Files.createTempFile("isthmus-dashboard-rules", ".yml");
        try {
            Files.writeString(file, rules);
            Process p = new ProcessBuilder("promtool", "check", "rules", file.toString()).redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), said + "\n" + rules);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
