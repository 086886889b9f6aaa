package io.isthmus.ike.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An IKE_SA_INIT request's candidates are what a pass over every connection finds (not
 * initiator-only, our address or any, their address or any), in the order configured, however
 * connections were replaced and removed since.
 */
class ConfiguredConnectionsTest {
    static final InetAddress US = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress OTHER_US = InetAddress.ofLiteral("10.0.0.9");

    static Connection c(String name, InetAddress local, InetAddress remote, Connection.Mode mode) {
        return Connection.builder(name).local(local, Identity.of(local)).remote(remote, remote == null ? null : Identity.of(remote))
                .preSharedKey("a key long enough for the builder".getBytes(StandardCharsets.US_ASCII)).ike("aes128gcm16-prfsha256-x25519")
                .esp("aes128gcm16").localTs("0.0.0.0/0").remoteTs("0.0.0.0/0").mode(mode).build();
    }

    static InetAddress peer(int i) {
        return InetAddress.ofLiteral("100.64.0." + i);
    }

    /** The reference: the scan the engine used to make. */
    static List<String> scan(List<Connection> all, InetAddress local, InetAddress remote) {
        return all.stream().filter(c -> c.mode() != Connection.Mode.INITIATOR_ONLY)
                .filter(c -> c.localAddress().equals(local) || c.localAddress().isAnyLocalAddress())
                .filter(c -> c.remoteAddress() == null || c.remoteAddress().equals(remote)).map(Connection::name).toList();
    }

    @Test
    void candidatesAreTheScansInTheConfiguredOrder() {
        ConfiguredConnections index = new ConfiguredConnections();
        java.util.List<Connection> all = new java.util.ArrayList<>();
        InetAddress any = InetAddress.ofLiteral("0.0.0.0");
        for (int i = 0; i < 200; i++) {
            InetAddress local = i % 7 == 0 ? any : i % 5 == 0 ? OTHER_US : US;
            InetAddress remote = i % 11 == 0 ? null : peer(i % 10);
            Connection.Mode mode = i % 13 == 0 ? Connection.Mode.INITIATOR_ONLY : i % 3 == 0 ? Connection.Mode.RESPONDER_ONLY : Connection.Mode.DEFAULT;
            Connection c = c("c" + i, local, remote, mode);
            all.add(c);
            index.add(c);
        }
        // Replaced ones keep their place, even when their peer changes; removed ones are gone.
        for (int i = 0; i < 200; i += 9) {
            Connection next = c("c" + i, US, peer((i + 3) % 10), Connection.Mode.DEFAULT);
            assertSame(all.get(i), index.replace(next));
            all.set(i, next);
        }
        for (int i = 4; i < 200; i += 17) {
            assertSame(all.get(i), index.remove("c" + i));
        }
        all.removeIf(c -> Integer.parseInt(c.name().substring(1)) % 17 == 4);
        for (int p = 0; p < 11; p++) {
            for (InetAddress local : List.of(US, OTHER_US)) {
                assertEquals(scan(all, local, peer(p)), index.candidates(local, peer(p)).stream().map(Connection::name).toList(),
                        "from " + peer(p) + " to " + local);
            }
        }
        assertSame(all.getFirst(), index.get("c0"));
        assertNull(index.get("c4"));
        assertNull(index.replace(c("c4", US, peer(1), Connection.Mode.DEFAULT)), "a removed connection cannot be replaced");
    }
}
