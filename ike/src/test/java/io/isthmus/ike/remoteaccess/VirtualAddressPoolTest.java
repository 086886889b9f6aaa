package io.isthmus.ike.remoteaccess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.remoteaccess.VirtualAddressPool.Assignment;
import io.isthmus.ike.remoteaccess.VirtualAddressPool.Refusal;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The client address pool: each address once, the same again for a reconnecting identity, freed after the grace time, bounded. */
class VirtualAddressPoolTest {
    static final Duration GRACE = Duration.ofMinutes(5);
    final AtomicLong clock = new AtomicLong();

    VirtualAddressPool pool(String prefix, int length, int maxClients) {
        return new VirtualAddressPool(List.of(InetAddress.ofLiteral(prefix)), List.of(length), maxClients, GRACE, clock::get);
    }

    static InetAddress ip(String s) {
        return InetAddress.ofLiteral(s);
    }

    /** A RADIUS server's Framed-IP-Address is held like any lease: the order passes over it, nobody else gets it. */
    @Test
    void aServersAddressIsHeldInThePoolAndNeverGivenTwice() {
        VirtualAddressPool p = pool("172.16.201.0", 29, 100);
        Assignment fixed = p.acquireFixed("radius-user", 100, ip("172.16.201.3"));
        assertEquals(ip("172.16.201.3"), fixed.address());
        Set<InetAddress> given = new HashSet<>(Set.of(fixed.address()));
        for (int i = 0; i < 5; i++) {
            assertTrue(given.add(p.acquire("client-" + i, i).address()), "each address once: " + given);
        }
        assertEquals(Refusal.EXHAUSTED, p.acquire("client-5", 5).refusal(), "six host addresses, six clients");
        assertEquals(6, p.held());
        // Its IKE SA gone and the grace time over, the address goes back to the pool.
        p.release(100);
        clock.addAndGet(GRACE.toNanos() + 1);
        assertEquals(ip("172.16.201.3"), p.acquire("client-5", 5).address());
    }

    @Test
    void aServersAddressOutsideThePoolOrInAnotherClientsUseIsRefused() {
        VirtualAddressPool p = pool("172.16.201.0", 24, 100);
        assertEquals(Refusal.OUTSIDE, p.acquireFixed("alice", 1, ip("10.9.9.9")).refusal(), "nothing routes it back");
        assertEquals(Refusal.OUTSIDE, p.acquireFixed("alice", 1, ip("172.16.201.255")).refusal(), "the broadcast is nobody's");
        assertEquals(ip("172.16.201.1"), p.acquire("bob", 2).address());
        assertEquals(Refusal.TAKEN, p.acquireFixed("alice", 1, ip("172.16.201.1")).refusal(), "bob's IKE SA uses it");
        assertEquals(0, p.liveClients() - 1, "bob only");
        // Only kept for bob (his IKE SA gone): the server's choice wins, and bob gets another address on return.
        p.release(2);
        assertEquals(ip("172.16.201.1"), p.acquireFixed("alice", 1, ip("172.16.201.1")).address());
        assertNotEquals(ip("172.16.201.1"), p.acquire("bob", 3).address());
        // alice's own kept address of another kind gives way to the server's new choice.
        p.release(1);
        assertEquals(ip("172.16.201.50"), p.acquireFixed("alice", 4, ip("172.16.201.50")).address());
        assertEquals(ip("172.16.201.50"), p.addressOf("alice"));
        assertEquals(2, p.held(), "alice's .50 and bob's: .1 is free again");
    }

    @Test
    void aSmallIpv4PoolGivesEveryHostAddressOnceThenRefuses() {
        VirtualAddressPool p = pool("172.16.201.0", 29, 100);
        Set<InetAddress> given = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            Assignment a = p.acquire("client-" + i, i);
            assertTrue(a.granted());
            assertFalse(a.kept());
            given.add(a.address());
        }
        // .0 is the network, .7 the broadcast.
        assertEquals(Set.of(ip("172.16.201.1"), ip("172.16.201.2"), ip("172.16.201.3"), ip("172.16.201.4"), ip("172.16.201.5"),
                ip("172.16.201.6")), given);
        Assignment refused = p.acquire("client-6", 6);
        assertNull(refused.address());
        assertEquals(Refusal.EXHAUSTED, refused.refusal());
        assertEquals(6, p.liveClients());
    }

    @Test
    void aReconnectWithinTheGraceTimeGetsTheSameAddressAndAfterItAnyone() {
        VirtualAddressPool p = pool("172.16.201.0", 30, 10);
        InetAddress first = p.acquire("alice", 1).address();
        p.release(1);
        assertEquals(0, p.liveClients());
        assertEquals(first, p.addressOf("alice"));
        clock.addAndGet(GRACE.toNanos() - 1);
        InetAddress bob = p.acquire("bob", 2).address();
        assertNotEquals(first, bob, "alice's address is still kept for her");
        Assignment again = p.acquire("alice", 3);
        assertEquals(first, again.address());
        assertTrue(again.kept());
        p.release(3);
        clock.addAndGet(GRACE.toNanos());
        p.expire();
        assertNull(p.addressOf("alice"));
        assertEquals(first, p.acquire("carol", 4).address(), "freed after the grace time");
    }

    @Test
    void twoSasOfOneIdentityShareTheAddressUntilTheLastDies() {
        VirtualAddressPool p = pool("fd00:201::", 112, 10);
        InetAddress a = p.acquire("alice", 1).address();
        assertEquals(ip("fd00:201::1"), a);
        // A reconnect that arrives before the old SA is deleted.
        assertEquals(a, p.acquire("alice", 2).address());
        assertEquals(1, p.liveClients());
        p.release(1);
        assertEquals(1, p.liveClients(), "SA 2 still uses it");
        p.release(2);
        assertEquals(0, p.liveClients());
        p.release(2);
        assertEquals(0, p.liveClients(), "a second release of one SA changes nothing");
    }

    @Test
    void maxClientsCountsLiveIdentities() {
        VirtualAddressPool p = pool("10.200.0.0", 16, 2);
        assertTrue(p.acquire("a", 1).granted());
        assertTrue(p.acquire("b", 2).granted());
        assertEquals(Refusal.MAX_CLIENTS, p.acquire("c", 3).refusal());
        assertTrue(p.acquire("a", 4).granted(), "one more SA of a live identity is no new client");
        p.release(2);
        assertTrue(p.acquire("c", 5).granted());
        assertEquals(4, p.capacity(), "kept leases bounded too: twice maxClients");
    }

    @Test
    void whenFullTheLongestKeptAddressGoesToAClientThatIsHere() {
        VirtualAddressPool p = pool("172.16.201.0", 30, 10);
        InetAddress a = p.acquire("a", 1).address();
        p.acquire("b", 2);
        p.release(1);
        clock.addAndGet(1);
        p.release(2);
        assertEquals(a, p.acquire("c", 3).address(), "a was kept longest");
        assertNull(p.addressOf("a"));
        assertEquals(2, p.held());
    }

    @Test
    void aHugeIpv6PrefixIsNotEnumerated() {
        VirtualAddressPool p = pool("fd00:201::", 64, 10_000);
        assertEquals(20_000, p.capacity());
        assertEquals(ip("fd00:201::1"), p.acquire("x", 1).address());
        assertEquals(ip("fd00:201::2"), p.acquire("y", 2).address());
        assertEquals(2, p.held());
    }

    @Test
    void twoPrefixesAreOnePoolInOrder() {
        VirtualAddressPool p = new VirtualAddressPool(List.of(ip("172.16.1.0"), ip("172.16.2.0")), List.of(30, 30), 10, GRACE, clock::get);
        List<InetAddress> got = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            got.add(p.acquire("c" + i, i).address());
        }
        assertEquals(List.of(ip("172.16.1.1"), ip("172.16.1.2"), ip("172.16.2.1"), ip("172.16.2.2")), got);
    }

    @Test
    void nonsenseIsRefusedAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> pool("172.16.1.0", 31, 10));
        assertThrows(IllegalArgumentException.class, () -> pool("172.16.1.0", 24, 0));
        assertThrows(IllegalArgumentException.class, () -> new VirtualAddressPool(List.of(ip("172.16.1.0"), ip("fd00::")), List.of(24, 64), 10,
                GRACE, clock::get));
    }

    // ---- properties over random sequences of connects, deaths and time -------------------------------------------------

    record Op(int kind, int identity, int sa, long nanos) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 11),
                Arbitraries.integers().between(0, 15), Arbitraries.longs().between(0, GRACE.toNanos() / 2)).as(Op::new);
        return op.list().ofMaxSize(200);
    }

    @Property(tries = 300)
    void addressesAreNeverSharedAndReconnectsKeepTheirs(@ForAll("ops") List<Op> ops, @ForAll boolean ipv6) {
        clock.set(0);
        VirtualAddressPool p = ipv6 ? pool("fd00:201::", 125, 6) : pool("172.16.201.0", 29, 5);
        InetAddress network = ipv6 ? ip("fd00:201::") : ip("172.16.201.0");
        Map<Integer, Integer> saIdentity = new HashMap<>();
        for (Op o : ops) {
            String identity = "id-" + o.identity();
            switch (o.kind()) {
                case 0 -> {
                    if (saIdentity.containsKey(o.sa())) {
                        continue; // an SA belongs to one identity
                    }
                    InetAddress before = p.addressOf(identity);
                    Assignment a = p.acquire(identity, o.sa());
                    if (a.granted()) {
                        saIdentity.put(o.sa(), o.identity());
                        if (before != null) {
                            assertEquals(before, a.address(), "an identity that holds an address gets it again");
                            assertTrue(a.kept());
                        }
                        byte[] b = a.address().getAddress();
                        byte[] n = network.getAddress();
                        for (int i = 0; i < b.length - 1; i++) {
                            assertEquals(n[i], b[i], "inside the prefix");
                        }
                        int last = b[b.length - 1] & 0xFF;
                        assertTrue(last >= 1 && last <= (ipv6 ? 7 : 6), "neither network nor broadcast: " + a.address());
                    } else if (before != null) {
                        assertEquals(VirtualAddressPool.Refusal.MAX_CLIENTS, a.refusal(), "a held address is never exhausted");
                    }
                }
                case 1 -> {
                    p.release(o.sa());
                    saIdentity.remove(o.sa());
                }
                default -> {
                    clock.addAndGet(o.nanos());
                    p.expire();
                }
            }
            Map<InetAddress, String> owners = new HashMap<>();
            for (int i = 0; i < 12; i++) {
                InetAddress a = p.addressOf("id-" + i);
                if (a != null) {
                    String other = owners.put(a, "id-" + i);
                    assertNull(other, a + " held by " + other + " and id-" + i);
                }
            }
            assertEquals(owners.size(), p.held());
            assertTrue(p.held() <= p.capacity());
            assertTrue(p.liveClients() <= (ipv6 ? 6 : 5));
            assertEquals(new HashSet<>(saIdentity.values()).size(), p.liveClients(), "live: the identities with an SA");
            for (int live : saIdentity.values()) {
                assertTrue(p.addressOf("id-" + live) != null, "a live identity keeps its address");
            }
        }
    }
}
