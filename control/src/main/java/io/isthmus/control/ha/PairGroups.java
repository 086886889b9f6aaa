package io.isthmus.control.ha;

import io.isthmus.control.config.GatewayConfig;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A pair's ownership groups: one per instance, named after it, each the SAs that land on that
 * instance's floating address. Normally each instance owns its own; the survivor owns both.
 */
record PairGroups(Map<String, InetAddress> floating) {
    static PairGroups of(GatewayConfig config) {
        Map<String, InetAddress> m = new LinkedHashMap<>();
        config.gateway().instances().forEach(i -> m.put(i.name(), i.floatingIpAddress()));
        return new PairGroups(Map.copyOf(m));
    }

    /** The group whose floating address this is; null for any other address (the instance's own). */
    String of(InetAddress address) {
        for (Map.Entry<String, InetAddress> e : floating.entrySet()) {
            if (e.getValue().equals(address)) {
                return e.getKey();
            }
        }
        return null;
    }

    InetAddress address(String group) {
        return floating.get(group);
    }
}
