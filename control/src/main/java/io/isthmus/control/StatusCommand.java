package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code isthmus status}: a running gateway's SAs and counters, laid out as swanctl --list-sas does. */
@Command(name = "status", description = "Show a running gateway's IKE and child SAs and its counters.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
    Path socket;

    @Option(names = "--json", description = "The status as JSON, as the management API sends it (GET /v1/status).")
    boolean json;

    @Option(names = "--connection", paramLabel = "NAME", description = "Only this connection (the gateway's lines stay).")
    String connection;

    @Override
    public Integer call() throws IOException {
        Path s;
        try {
            s = socket != null ? socket : ControlSocket.onlySocketHere();
        } catch (IOException e) {
            System.err.println("isthmus: " + e.getMessage());
            return 1;
        }
        JsonNode tree;
        try {
            ApiClient.Response r = ApiClient.get(s, "/v1/status");
            if (r.error() != null) {
                System.err.println("isthmus: the gateway at " + s + " answered: " + r.error());
                return 1;
            }
            tree = r.json();
        } catch (IOException e) {
            System.err.println("isthmus: cannot reach the gateway at " + s + ": " + e.getMessage());
            return 1;
        }
        if (connection != null) {
            String problem = only(tree, connection);
            if (problem != null) {
                System.err.println("isthmus: " + problem);
                return 1;
            }
        }
        if (json) {
            System.out.println(ControlSocket.JSON.writeValueAsString(tree));
        } else {
            System.out.print(render(tree));
        }
        return 0;
    }

    /** ", the last 3s ago" as swanctl shows it, or nothing before the first packet. */
    private static String lastPacket(JsonNode child, String field) {
        return child.has(field) ? ", the last " + duration(child.path(field).asLong()) + " ago" : "";
    }

    /** Keeps only the connection named {@code name} in {@code status}; why not, if it has none of that name. */
    static String only(JsonNode status, String name) {
        var connections = (com.fasterxml.jackson.databind.node.ArrayNode) status.path("connections");
        List<String> names = new ArrayList<>();
        connections.forEach(c -> names.add(c.path("name").asText()));
        if (!names.contains(name)) {
            return "no connection '" + name + "'; this gateway has " + String.join(", ", names);
        }
        for (int i = connections.size() - 1; i >= 0; i--) {
            if (!connections.get(i).path("name").asText().equals(name)) {
                connections.remove(i);
            }
        }
        return null;
    }

    /** The status as an engineer who knows swanctl reads it. */
    static String render(JsonNode st) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("gateway %s, instance %s, %s, SKU %s, up %ds%n", st.path("gateway").asText(), st.path("instance").asText(),
                st.path("vpnType").asText(), st.path("sku").asText(), st.path("uptimeSeconds").asLong()));
        for (JsonNode c : st.path("connections")) {
            out.append(String.format("%s: %s, peer %s, %s, %s%n", c.path("name").asText(), c.path("status").asText(), c.path("peer").asText(),
                    c.path("mode").asText(), c.path("policyBased").asBoolean() ? "policy-based" : "route-based"));
            if (c.has("lastFailure")) {
                out.append(String.format("  last failure %s ago: %s%n", duration(c.path("lastFailureSecondsAgo").asLong()), c.path("lastFailure").asText()));
            }
            bgp(c.path("bgp"), out);
            for (JsonNode r : c.path("natRules")) {
                out.append(String.format("  nat %s %s %s: %s -> %s%s%n", r.path("name").asText(), r.path("type").asText(), r.path("mode").asText(),
                        r.path("internal").asText(), r.path("external").asText(),
                        r.has("flowsInUse") ? ", " + r.path("flowsInUse").asInt() + " of " + r.path("maxFlows").asInt() + " flows" : ""));
            }
            if (c.path("ikeSas").isEmpty()) {
                out.append("  no IKE SA\n");
            }
            for (JsonNode sa : c.path("ikeSas")) {
                out.append(String.format("  IKE %s_i%s %s_r%s, %s%s%n", sa.path("initiatorSpi").asText(), sa.path("weInitiated").asBoolean() ? "*" : "",
                        sa.path("responderSpi").asText(), sa.path("weInitiated").asBoolean() ? "" : "*", sa.path("state").asText(),
                        sa.has("proposal") ? ", " + sa.path("proposal").asText() : ""));
                out.append(String.format("    local  '%s' @ %s%n    remote '%s' @ %s%s%n", sa.path("localId").asText(), sa.path("local").asText(),
                        sa.path("remoteId").asText("(not yet authenticated)"), sa.path("remote").asText(),
                        sa.path("natDetected").asBoolean() ? ", NAT detected" : ""));
                out.append("    ").append(sa.has("establishedSecondsAgo") ? "established " + duration(sa.path("establishedSecondsAgo").asLong()) + " ago"
                        : "not established, started " + duration(sa.path("createdSecondsAgo").asLong()) + " ago").append(times(sa)).append('\n');
                for (JsonNode ch : sa.path("childSas")) {
                    out.append(String.format("    child %s_i %s_o, %s, TUNNEL%s, ESP:%s%s, %s%s%s%n", ch.path("inboundSpi").asText(),
                            ch.path("outboundSpi").asText(), ch.path("state").asText(), ch.path("encapsulation").asText().equals("UDP") ? "-in-UDP" : "",
                            ch.path("suite").asText(), ch.path("esn").asBoolean() ? "/ESN" : "",
                            ch.has("establishedSecondsAgo") ? "installed " + duration(ch.path("establishedSecondsAgo").asLong()) + " ago"
                                    : "adopted", times(ch), ch.path("carriesOutbound").asBoolean() ? "" : " (replaced: inbound only)"));
                    out.append(String.format("      in  %s, %d bytes, %d packets%s%n", ch.path("inboundSpi").asText(), ch.path("inBytes").asLong(),
                            ch.path("inPackets").asLong(), lastPacket(ch, "lastInSecondsAgo")));
                    out.append(String.format("      out %s, %d bytes, %d packets%s%n", ch.path("outboundSpi").asText(), ch.path("outBytes").asLong(),
                            ch.path("outPackets").asLong(), lastPacket(ch, "lastOutSecondsAgo")));
                    out.append(String.format("      local  %s%n      remote %s%n", join(ch.path("localSelectors")), join(ch.path("remoteSelectors"))));
                    if (!ch.path("drops").isEmpty()) {
                        out.append("      drops ").append(ch.path("drops")).append('\n');
                    }
                }
            }
            StringBuilder m = new StringBuilder();
            c.path("metrics").fields().forEachRemaining(e -> m.append(' ').append(e.getKey()).append('=').append(e.getValue().asLong()));
            out.append("  metrics").append(m).append('\n');
            if (!c.path("drops").isEmpty()) {
                out.append("  drops ").append(c.path("drops")).append('\n');
            }
        }
        pointToSite(st.path("pointToSite"), out);
        if (!st.path("unattributedDrops").isEmpty()) {
            out.append("drops outside any tunnel ").append(st.path("unattributedDrops")).append('\n');
        }
        JsonNode d = st.path("defense");
        JsonNode p = st.path("process");
        out.append(String.format("IKE defense: %d cookies sent, %d half-open IKE SAs, %d key pairs made; IKE on 4500: %d handed over, %d dropped%n",
                d.path("cookiesSent").asLong(), d.path("halfOpenIkeSas").asLong(), d.path("keyPairsGenerated").asLong(),
                d.path("ikeFromPort4500").asLong(), d.path("ikeFromPort4500Dropped").asLong()));
        out.append(String.format("process: heap %d MB in use (%d MB live after the last GC), resident %d MB, %d threads%n",
                p.path("heapUsedBytes").asLong() >> 20, p.path("heapLiveAfterLastGcBytes").asLong() >> 20, p.path("residentBytes").asLong() >> 20,
                p.path("threads").asLong()));
        pair(st.path("pair"), out);
        return out.toString();
    }

    /**
     * "  BGP Connected with 169.254.21.2 AS 65010 from 169.254.21.1 for 5m 3s (BIRD c_to_branch: Established), 12 routes received
     * (1 filtered), 2 advertised", and BIRD's last error while it is not connected.
     */
    private static void bgp(JsonNode b, StringBuilder out) {
        if (b.isMissingNode() || b.isNull()) {
            return;
        }
        out.append("  BGP ").append(b.path("state").asText());
        if (b.has("neighbor")) {
            out.append(" with ").append(b.path("neighbor").asText()).append(" AS ").append(b.path("asn").asLong());
        }
        if (b.has("localAddress")) {
            out.append(" from ").append(b.path("localAddress").asText());
        }
        if (b.has("connectedSeconds")) {
            out.append(" for ").append(duration(b.path("connectedSeconds").asLong()));
        }
        out.append(" (BIRD ").append(b.path("protocol").asText()).append(b.has("birdState") ? ": " + b.path("birdState").asText() : "").append(')');
        if (b.has("routesReceived")) {
            out.append(String.format(", %d routes received (%d filtered), %d advertised", b.path("routesReceived").asLong(),
                    b.path("routesFiltered").asLong(), b.path("routesAdvertised").asLong()));
        }
        out.append('\n');
        if (b.has("lastError") && !b.path("state").asText().equals("Connected")) {
            out.append("    last error: ").append(b.path("lastError").asText()).append('\n');
        }
    }

    /** Clients listed one a line at most; a gateway may have 10,000 (--json lists them all). */
    static final int CLIENT_LINES = 20;

    /**
     * "point-to-site: 2 of 250 clients connected", each pool's use, and a line per client (the
     * first {@link #CLIENT_LINES}): identity, virtual addresses, from where, for how long, bytes.
     */
    private static void pointToSite(JsonNode p, StringBuilder out) {
        if (p.isMissingNode() || p.isNull()) {
            return;
        }
        out.append(String.format("point-to-site: %d of %d clients connected%n", p.path("connectedClients").asInt(), p.path("maxClients").asInt()));
        for (String family : List.of("IPv4", "IPv6")) {
            JsonNode pool = p.path(family.toLowerCase(java.util.Locale.ROOT) + "Pool");
            if (!pool.isMissingNode() && !pool.isNull()) {
                out.append(String.format("  %s pool: %d clients, %d addresses held (with those kept for a reconnect) of %d%n", family,
                        pool.path("liveClients").asInt(), pool.path("heldAddresses").asInt(), pool.path("capacity").asLong()));
            }
        }
        JsonNode clients = p.path("clients");
        for (int i = 0; i < Math.min(clients.size(), CLIENT_LINES); i++) {
            JsonNode c = clients.get(i);
            out.append(String.format("  %s %s from %s, %s, %d bytes in, %d bytes out%n", c.path("identity").asText(), join(c.path("addresses")),
                    c.path("remote").asText(), c.hasNonNull("establishedSecondsAgo") ? "connected for " + duration(c.path("establishedSecondsAgo").asLong())
                            : c.path("state").asText(), c.path("inBytes").asLong(), c.path("outBytes").asLong()));
        }
        if (clients.size() > CLIENT_LINES) {
            out.append(String.format("  ... %d more (isthmus status --json lists them all)%n", clients.size() - CLIENT_LINES));
        }
    }

    /** The pair's lines: who carries which floating address, the sync link, the last takeover. */
    private static void pair(JsonNode pair, StringBuilder out) {
        if (pair.isMissingNode() || pair.isNull()) {
            return;
        }
        JsonNode link = pair.path("link");
        out.append(String.format("pair: %s with %s, sync link %s%n", pair.path("instance").asText(), pair.path("partner").asText(),
                link.isNull() || link.isMissingNode() ? "off (state sync off)"
                        : link.path("connected").asBoolean() ? String.format("up, partner heard %d ms ago, %d updates waiting for it",
                        link.path("lastHeardMillis").asLong(), link.path("lagUpdates").asLong()) : "DOWN"));
        for (JsonNode g : pair.path("groups")) {
            out.append(String.format("  group %s (%s): carried by %s at epoch %d, keepalived %s here, since %s%n", g.path("name").asText(),
                    g.path("floatingAddress").asText(), g.path("carriedBy").asText(), g.path("epoch").asLong(), g.path("keepalived").asText(),
                    g.path("since").asText()));
        }
        JsonNode t = pair.path("lastTakeover");
        if (!t.isMissingNode() && !t.isNull()) {
            out.append(String.format("  last takeover: group %s at %s in %d ms (%s), %d IKE SA(s) and %d child SA(s) carried on%s%n",
                    t.path("group").asText(), t.path("at").asText(), t.path("tookMillis").asLong(),
                    t.path("handedOver").asBoolean() ? "handed over" : "numbers jumped", t.path("ikeSas").asInt(), t.path("childSas").asInt(),
                    (t.path("refused").asInt() > 0 ? ", " + t.path("refused").asInt() + " could not be" : "")
                            + (t.path("messageIdSyncs").asInt() > 0 ? ", message IDs of " + t.path("messageIdSyncs").asInt()
                                    + " agreed with the peer (RFC 6311)" : "")));
        }
    }

    /** ", rekey in 2h 50m, expires in 3h 2m", or what of it is due. */
    private static String times(JsonNode sa) {
        return (sa.has("rekeyInSeconds") ? ", rekey in " + duration(sa.path("rekeyInSeconds").asLong()) : "")
                + (sa.has("expiresInSeconds") ? ", expires in " + duration(sa.path("expiresInSeconds").asLong()) : "");
    }

    /** 45s, 5m 3s, 2h 50m, 3d 4h: two units at most, as a person says it. */
    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        } else if (seconds < 3600) {
            return seconds / 60 + "m" + (seconds % 60 == 0 ? "" : " " + seconds % 60 + "s");
        } else if (seconds < 86_400) {
            return seconds / 3600 + "h" + (seconds % 3600 / 60 == 0 ? "" : " " + seconds % 3600 / 60 + "m");
        }
        return seconds / 86_400 + "d" + (seconds % 86_400 / 3600 == 0 ? "" : " " + seconds % 86_400 / 3600 + "h");
    }

    private static String join(JsonNode list) {
        StringBuilder s = new StringBuilder();
        list.forEach(n -> s.append(s.isEmpty() ? "" : " ").append(n.asText()));
        return s.toString();
    }
}
