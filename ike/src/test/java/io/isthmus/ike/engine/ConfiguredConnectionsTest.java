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
 * connections were replaced and removed since; a connection whose peers come from a range is a
 * candidate for every address in it and no other.
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
                .filter(c -> c.acceptsPeer(remote)).map(Connection::name).toList();
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

    static Connection range(String name, String network, int length) {
        InetAddress n = InetAddress.ofLiteral(network);
        return Connection.builder(name).local(n instanceof java.net.Inet6Address ? InetAddress.ofLiteral("::") : US, Identity.of(US))
                .remoteRange(n, length, null).preSharedKey("a key long enough for the builder".getBytes(StandardCharsets.US_ASCII))
                .ike("aes128gcm16-prfsha256-x25519").esp("aes128gcm16").localTs("0.0.0.0/0").remoteTs("0.0.0.0/0")
                .mode(Connection.Mode.RESPONDER_ONLY).build();
    }

    @Test
    void aRangeIsACandidateForItsAddressesAlone() {
        ConfiguredConnections index = new ConfiguredConnections();
        List<Connection> all = new java.util.ArrayList<>();
        for (Connection c : List.of(
                c("one", US, InetAddress.ofLiteral("10.80.1.7"), Connection.Mode.DEFAULT),
                range("wide", "10.0.0.0", 8),
                range("branches", "10.80.0.0", 16),
                range("shop", "10.80.1.0", 24),
                range("odd", "10.81.0.0", 17),                          // a length that is no whole number of bytes
                range("host-bits", "10.90.3.4", 16),                    // the builder ignores them: 10.90.0.0/16
                range("v6", "2001:db8:1::", 48),
                c("any", US, null, Connection.Mode.RESPONDER_ONLY))) {
            all.add(c);
            index.add(c);
        }
        List<String> addresses = List.of("10.80.1.7", "10.80.1.200", "10.80.200.1", "10.81.127.255", "10.81.128.0", "10.90.255.1", "10.91.0.1",
                "11.0.0.1", "2001:db8:1:ffff::1", "2001:db8:2::1");
        for (String a : addresses) {
            InetAddress remote = InetAddress.ofLiteral(a);
            assertEquals(scan(all, US, remote), names(index.candidates(US, remote)), "from " + a);
        }
        assertEquals(List.of("one", "wide", "branches", "shop", "any"), names(index.candidates(US, InetAddress.ofLiteral("10.80.1.7"))));
        assertEquals(List.of("wide", "odd", "any"), names(index.candidates(US, InetAddress.ofLiteral("10.81.127.255"))));
        assertEquals(List.of("wide", "any"), names(index.candidates(US, InetAddress.ofLiteral("10.81.128.0"))), "past the /17");
        assertEquals(List.of("v6"), names(index.candidates(InetAddress.ofLiteral("2001:db8::1"), InetAddress.ofLiteral("2001:db8:1:ffff::1"))));

        // A range narrowed by a reload keeps its place among the candidates; one removed is gone, and with it its length's table.
        Connection narrower = range("branches", "10.80.0.0", 20);
        assertSame(all.get(2), index.replace(narrower));
        all.set(2, narrower);
        assertSame(all.get(4), index.remove("odd"));
        all.remove(4);
        for (String a : addresses) {
            InetAddress remote = InetAddress.ofLiteral(a);
            assertEquals(scan(all, US, remote), names(index.candidates(US, remote)), "after the reload, from " + a);
        }
        assertEquals(List.of("wide", "any"), names(index.candidates(US, InetAddress.ofLiteral("10.80.200.1"))), "outside the /20 now");
    }

    static List<String> names(List<Connection> cs) {
        return cs.stream().map(Connection::name).toList();
    }
}
