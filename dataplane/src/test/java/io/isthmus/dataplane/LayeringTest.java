package io.isthmus.dataplane;

import io.isthmus.esp.PackageLayering;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The data plane's packages depend on each other one way only:
 *
 * <pre>
 *   linux  <-  ip  <-  tun, conn  <-  io.isthmus.dataplane
 *   FFM        IPv4/    the TUN and   the tables, the snapshot, the packet
 *   calls      IPv6     socket ports  paths and agents, the control plane's API
 *
 *   capture (the packet capture: its filter, ring and pcapng file) stands alone, fed by the paths
 *   nat (NAT rules, their translation and flow tables) stands on ip, called by the paths
 * </pre>
 */
class LayeringTest {
    @Test
    void eachPackageDependsOnlyOnTheOnesBelowIt() {
        PackageLayering.assertLayering(Path.of("target/classes"), "io.isthmus.dataplane", Map.of(
                "linux", Set.of(),
                "ip", Set.of("linux"),
                "tun", Set.of("ip", "linux"),
                "conn", Set.of("ip", "linux"),
                "capture", Set.of(),
                "nat", Set.of("ip"),
                "", Set.of("tun", "conn", "ip", "linux", "capture", "nat")));
    }
}
