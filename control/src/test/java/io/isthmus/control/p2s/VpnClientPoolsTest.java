package io.isthmus.control.p2s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.AddressPrefix;
import io.isthmus.control.config.VpnClientConfiguration;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pools built from the configuration: one per family named, bounded as configured; halves on an active-active gateway. */
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
        assertEquals(List.of("172.16.201.0/24", "fd00:201::/112"), pools.prefixes());
        assertNull(VpnClientPools.of(config(List.of("172.16.201.0/24"), 3), () -> 0).ipv6());
    }

    @Test
    void activeActiveInstancesLeaseFromTheLowerAndTheUpperHalf() {
        VpnClientConfiguration v = config(List.of("172.16.201.0/24", "fd00:201::/112", "10.250.0.0/16", "fd00:202::/64"), 250);
        VpnClientPools lower = VpnClientPools.of(v, 0, () -> 0);
        VpnClientPools upper = VpnClientPools.of(v, 1, () -> 0);
        assertEquals(List.of("172.16.201.0/25", "fd00:201::/113", "10.250.0.0/17", "fd00:202::/65"), lower.prefixes());
        assertEquals(List.of("172.16.201.128/25", "fd00:201::8000/113", "10.250.128.0/17", "fd00:202:0:0:8000::/65"), upper.prefixes());
        // The first client of each: the first address of its half.
        assertEquals(InetAddress.ofLiteral("172.16.201.1"), lower.ipv4().acquire("alice", 1).address());
        assertEquals(InetAddress.ofLiteral("172.16.201.129"), upper.ipv4().acquire("bob", 1).address());
        assertEquals(InetAddress.ofLiteral("fd00:201::1"), lower.ipv6().acquire("alice", 1).address());
        assertEquals(InetAddress.ofLiteral("fd00:201::8001"), upper.ipv6().acquire("bob", 1).address());
    }

    /** Every address each half hands out, the pool emptied: inside its own half, none given by both, the halves together the pool. */
    @Test
    void theHalvesAreDisjointAndCoverThePool() throws Exception {
        for (String pool : List.of("172.16.201.0/28", "fd00:201::/124", "10.9.0.0/29", "fd00:9::/125")) {
            VpnClientConfiguration v = config(List.of(pool), 100);
            AddressPrefix whole = AddressPrefix.parse(pool);
            Set<InetAddress> all = new HashSet<>();
            int perHalf = -1;
            for (int half = 0; half < 2; half++) {
                VpnClientPools pools = VpnClientPools.of(v, half, () -> 0);
                VirtualAddressPool p = whole.isIpv4() ? pools.ipv4() : pools.ipv6();
                AddressPrefix mine = AddressPrefix.parse(pools.prefixes().getFirst());
                AddressPrefix other = whole.half(1 - half);
                assertEquals(whole.length() + 1, mine.length(), pool);
                List<InetAddress> given = drain(p);
                for (InetAddress a : given) {
                    assertTrue(mine.contains(a) && !other.contains(a), a + " of half " + half + " of " + pool);
                    assertTrue(all.add(a), a + " given by both halves of " + pool);
                }
                // Each half is a prefix of its own: its first address (and IPv4's last) is nobody's, the rest are handed out.
                int hostAddresses = 1 << (whole.isIpv4() ? 32 : 128) - mine.length();
                assertEquals(hostAddresses - (whole.isIpv4() ? 2 : 1), given.size(), "half " + half + " of " + pool + ": " + given);
                perHalf = perHalf < 0 ? given.size() : perHalf;
                assertEquals(perHalf, given.size(), "both halves as large: " + pool);
            }
            // Together the halves are the pool: each of its addresses in exactly one.
            BigInteger first = new BigInteger(1, whole.firstAddress());
            int size = 1 << (whole.isIpv4() ? 32 : 128) - whole.length();
            for (int i = 0; i < size; i++) {
                InetAddress a = address(first.add(BigInteger.valueOf(i)), whole.isIpv4() ? 4 : 16);
                assertTrue(whole.half(0).contains(a) ^ whole.half(1).contains(a), a + " in exactly one half of " + pool);
                assertTrue(i < size / 2 == whole.half(0).contains(a), a + ": the lower half first");
            }
        }
    }

    @Test
    void theWholePoolWithoutActiveActive() {
        VpnClientPools pools = VpnClientPools.of(config(List.of("10.9.0.0/29"), 100), VpnClientPools.WHOLE, () -> 0);
        assertEquals(List.of("10.9.0.0/29"), pools.prefixes());
        List<InetAddress> given = drain(pools.ipv4());
        assertEquals(6, given.size(), given.toString());
        assertFalse(given.contains(InetAddress.ofLiteral("10.9.0.0")) || given.contains(InetAddress.ofLiteral("10.9.0.7")), given.toString());
    }

    private static List<InetAddress> drain(VirtualAddressPool p) {
        List<InetAddress> given = new java.util.ArrayList<>();
        for (int i = 0; ; i++) {
            VirtualAddressPool.Assignment a = p.acquire("client-" + i, i);
            if (!a.granted()) {
                assertEquals(VirtualAddressPool.Refusal.EXHAUSTED, a.refusal());
                return given;
            }
            given.add(a.address());
        }
    }

    private static InetAddress address(BigInteger value, int length) throws UnknownHostException {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[length];
        int n = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - n, out, length - n, n);
        return InetAddress.getByAddress(out);
    }
}
