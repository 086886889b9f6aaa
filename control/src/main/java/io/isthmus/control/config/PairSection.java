package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.Pair;
import io.isthmus.control.config.GatewayConfig.PairInstance;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code pair:} section (an Isthmus addition to Azure's model): what two instances with
 * floating addresses need to carry each other's SAs.
 *
 * <pre>
 * pair:
 *   syncPort: 4510                    # TCP, on each instance's syncAddress
 *   heartbeatMilliseconds: 50         # the link counts as down after missedHeartbeats of them
 *   missedHeartbeats: 3
 *   sequenceLeaseBlock: 1048576       # outbound ESP sequence numbers per lease
 *   replaySync: {packets: 1024, milliseconds: 50}
 *   stateDirectory: /var/lib/isthmus
 *   stateSync: true                   # false: addresses move, SAs do not (a comparison)
 *   instances:
 *     - name: gw1
 *       syncAddress: 10.99.0.1
 *       certificate: /etc/isthmus/pair/gw1.crt
 *       privateKey: /etc/isthmus/pair/gw1.key   # only the machine of gw1 has it
 *     - name: gw2 ...
 * </pre>
 *
 * A floating address on an instance needs this section, and this section needs both instances
 * to have one: half a pair would carry SAs nobody could take over. The certificates are read at
 * start, not here: each machine has its own key only.
 */
final class PairSection {
    private static final String FIELD = "pair";

    private PairSection() {
    }

    static Pair read(ConfigFields f, JsonNode n, VirtualNetworkGateway gateway, boolean activeActive) {
        List<Instance> floating = gateway.instances().stream().filter(i -> i.floatingIpAddress() != null).toList();
        if (n == null || n.isNull()) {
            if (!floating.isEmpty()) {
                throw f.error("virtualNetworkGateway.instances[" + gateway.instances().indexOf(floating.getFirst()) + "].floatingIpAddress",
                        "a floating address needs the pair section (the sync link that lets the other instance take its SAs over)");
            }
            return null;
        }
        if (!activeActive) {
            throw f.error(FIELD, "a pair is an active-active gateway: set virtualNetworkGateway.activeActive: true");
        }
        if (floating.size() != 2) {
            throw f.error("virtualNetworkGateway.instances", "in a pair each instance has a floatingIpAddress");
        }
        Set<InetAddress> seen = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            Instance in = gateway.instances().get(i);
            for (InetAddress a : new InetAddress[] {in.floatingIpAddress(), in.publicIpAddress(), in.privateIpAddress()}) {
                if (a != null && !seen.add(a)) {
                    throw f.error("virtualNetworkGateway.instances[" + i + "]", a.getHostAddress()
                            + " is given twice; the floating addresses and each instance's own must all differ");
                }
            }
        }
        f.onlyFields(n, FIELD, "syncPort", "heartbeatMilliseconds", "missedHeartbeats", "sequenceLeaseBlock", "replaySync", "stateDirectory", "instances",
                "stateSync");
        int port = f.integer(n, FIELD, "syncPort", 4510, 1, 65535);
        Duration heartbeat = Duration.ofMillis(f.integer(n, FIELD, "heartbeatMilliseconds", 50, 10, 5000));
        int missed = f.integer(n, FIELD, "missedHeartbeats", 3, 2, 100);
        // At least 4096 so a lease outlasts a sync round trip at line rate; at most 2^28 so the
        // survivor's jump past the last lease leaves a 32-bit sequence space room for many takeovers.
        long block = f.longValue(n, FIELD, "sequenceLeaseBlock", 1L << 20, 4096, 1L << 28);
        int replayPackets = 1024;
        Duration replayInterval = Duration.ofMillis(50);
        JsonNode r = n.get("replaySync");
        if (r != null && !r.isNull()) {
            String rp = FIELD + ".replaySync";
            f.onlyFields(r, rp, "packets", "milliseconds");
            replayPackets = f.integer(r, rp, "packets", 1024, 1, 1 << 20);
            replayInterval = Duration.ofMillis(f.integer(r, rp, "milliseconds", 50, 1, 10_000));
        }
        Path state = Path.of(f.string(n, FIELD, "stateDirectory", "/var/lib/isthmus"));
        if (!state.isAbsolute()) {
            throw f.error(FIELD + ".stateDirectory", "must be an absolute path");
        }
        List<JsonNode> nodes = f.list(n, FIELD, "instances", 2, 2);
        List<PairInstance> instances = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 2; i++) {
            String p = FIELD + ".instances[" + i + "]";
            JsonNode in = nodes.get(i);
            f.onlyFields(in, p, "name", "syncAddress", "certificate", "privateKey");
            String name = f.string(in, p, "name", null);
            if (gateway.instances().stream().noneMatch(g -> g.name().equals(name))) {
                throw f.error(p + ".name", "'" + name + "' is not one of virtualNetworkGateway.instances "
                        + gateway.instances().stream().map(Instance::name).toList());
            }
            if (!names.add(name)) {
                throw f.error(p + ".name", "'" + name + "' is given twice");
            }
            instances.add(new PairInstance(name, f.address(in, p, "syncAddress", true), absolute(f, in, p, "certificate"),
                    absolute(f, in, p, "privateKey")));
        }
        if (instances.get(0).syncAddress().equals(instances.get(1).syncAddress())) {
            throw f.error(FIELD + ".instances[1].syncAddress", "the two instances need different sync addresses");
        }
        return new Pair(port, heartbeat, missed, block, replayPackets, replayInterval, state, instances, f.bool(n, FIELD, "stateSync", true));
    }

    private static Path absolute(ConfigFields f, JsonNode n, String p, String field) {
        Path path = Path.of(f.string(n, p, field, null));
        if (!path.isAbsolute()) {
            throw f.error(p + "." + field, "must be an absolute path");
        }
        return path;
    }
}
