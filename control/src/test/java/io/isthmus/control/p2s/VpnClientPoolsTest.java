package io.isthmus.control.p2s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.isthmus.control.config.VpnClientConfiguration;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pools built from the configuration: one per family named, bounded as configured. */
class VpnClientPoolsTest {
    static VpnClientConfiguration config(List<String> prefixes, int max) {
        return new VpnClientConfiguration(prefixes, Set.of(VpnClientConfiguration.Protocol.IKEV2),
                Set.of(VpnClientConfiguration.AuthenticationType.CERTIFICATE), List.of(), List.of(), List.of(), List.of(), List.of(), max,
                Path.of("gw.pem"), Path.of("gw.key"));
    }

    @Test
    void oneFamilyPerPoolAndTheConfiguredBound() {
        VpnClientPools pools = VpnClientPools.of(config(List.of("172.16.201.0/24", "fd00:201::/112"), 3), () -> 0);
        assertEquals(InetAddress.ofLiteral("172.16.201.1"), pools.ipv4().acquire("alice", 1).address());
        assertEquals(InetAddress.ofLiteral("fd00:201::1"), pools.ipv6().acquire("alice", 1).address());
        assertEquals(6, pools.ipv4().capacity());
        assertNull(VpnClientPools.of(config(List.of("172.16.201.0/24"), 3), () -> 0).ipv6());
    }
}
