package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The remote-access responder: B is the gateway (certificate, pool 172.16.201.0/24, DNS 10.1.0.53,
 * routes 10.1.0.0/16), A and C are road-warrior clients with certificates from the clients' root
 * that ask for an address as strongSwan's {@code vips = 0.0.0.0} does.
 *
 * <pre>
 *   client                                        gateway
 *   IKE_AUTH SK{IDi CERT AUTH CP(CFG_REQUEST: IP4_ADDRESS, IP4_DNS) SA TSi=0.0.0.0/0 TSr=10.1.0.0/16} -->
 *        <-- SK{IDr CERT AUTH CP(CFG_REPLY: 172.16.201.1, DNS 10.1.0.53, SUBNET 10.1.0.0/16) SA TSi=172.16.201.1/32 TSr=10.1.0.0/16}
 *   or   <-- SK{IDr CERT AUTH N(INTERNAL_ADDRESS_FAILURE | FAILED_CP_REQUIRED)}     (IKE SA up, no child SA)
 *   or   <-- SK{N(AUTHENTICATION_FAILED)}                                           (a revoked certificate)
 * </pre>
 */
class RemoteAccessTest extends EnginePair {
    static final String IKE = "aes256gcm16-prfsha384-ecp384";
    static final String ESP = "aes256gcm16";
    static final InetAddress C = address("10.0.0.3");
    static final TestPki.Issued GATEWAY_ROOT = TestPki.ca("C=CH, O=Isthmus Test, CN=Gateway CA", "ecp256");
    static final TestPki.Issued CLIENT_ROOT = TestPki.ca("C=CH, O=Isthmus Test, CN=P2S Root", "ecp256");
    static final TestPki.Issued GW = TestPki.gateway(GATEWAY_ROOT, "C=CH, O=Isthmus Test, CN=gw", "ecp256", "gw.example.net");
    static final TestPki.Issued ALICE = TestPki.gateway(CLIENT_ROOT, "C=CH, O=Isthmus Test, CN=alice", "ecp256", "alice@example.net");
    static final TestPki.Issued CAROL = TestPki.gateway(CLIENT_ROOT, "C=CH, O=Isthmus Test, CN=carol", "ecp256", "carol@example.net");
    static final TestPki.Issued MALLORY = TestPki.gateway(CLIENT_ROOT, "C=CH, O=Isthmus Test, CN=mallory", "ecp256", "mallory@example.net");

    final InMemoryChildSaListener childrenC = new InMemoryChildSaListener();
    final IkeEngine engineC = new IkeEngine(network.transport(), clock, childrenC);
    final List<IkeEvent> clientEvents = new ArrayList<>();
    VirtualAddressPool pool;

    RemoteAccessTest() {
        network.attach(C, engineC);
        engineA.addEventListener(clientEvents::add);
        engineC.addEventListener(clientEvents::add);
    }

    long nanos() {
        return clock.now().getEpochSecond() * 1_000_000_000L + clock.now().getNano();
    }

    /** The gateway B with a pool of {@code prefix} for at most {@code maxClients}. */
    void gateway(String prefix, int maxClients, String... revoked) {
        String[] p = prefix.split("/");
        pool = new VirtualAddressPool(List.of(address(p[0])), List.of(Integer.parseInt(p[1])), maxClients, Duration.ofMinutes(10), this::nanos);
        RemoteAccess ra = new RemoteAccess(pool, null, List.of(address("10.1.0.53")),
                List.of(new ConfigurationReply.Subnet(address("10.1.0.0"), 16)), new RevokedCertificates(List.of(revoked)));
        engineB.addConnection(Connection.builder("p2s").local(B, Identity.parse("gw.example.net")).remote(null, null)
                .authentication(new Authentication.Certificates(GW.privateKey(), List.of(GW.certificate()), List.of(CLIENT_ROOT.certificate()), false))
                .ike(IKE).esp(ESP).localTs("10.1.0.0/16").remoteTs(prefix).remoteAccess(ra).build());
    }

    /** A road-warrior client on {@code engine} at {@code at}, as strongSwan's vips = 0.0.0.0 (or none when {@code asks} is false). */
    static Connection client(InetAddress at, TestPki.Issued cert, boolean asks, String localTs) {
        Connection.Builder b = Connection.builder("rw").local(at, Identity.parse(cert.subject())).remote(B, Identity.parse("gw.example.net"))
                .authentication(new Authentication.Certificates(cert.privateKey(), List.of(cert.certificate()), List.of(GATEWAY_ROOT.certificate()), false))
                .ike(IKE).esp(ESP).localTs(localTs).remoteTs("10.1.0.0/16");
        if (asks) {
            b.virtualIp(address("0.0.0.0"));
        }
        return b.build();
    }

    IkeSa connect(IkeEngine engine, InetAddress at) {
        IkeSa sa = engine.initiate("rw", new InetSocketAddress(at, 500), new InetSocketAddress(B, 500));
        deliver();
        return sa;
    }

    IkeSa gatewaySaOf(IkeSa client) {
        return engineB.ikeSas().stream().filter(s -> s.initiatorSpi() == client.initiatorSpi()).findFirst().orElseThrow();
    }

    static List<TrafficSelector> ts(String... prefixes) {
        return java.util.Arrays.stream(prefixes).map(TrafficSelector::ofPrefix).toList();
    }

    boolean clientHeard(String notify) {
        return clientEvents.stream().anyMatch(e -> e.detail() != null && e.detail().contains(notify));
    }

    @Test
    void aClientGetsAnAddressDnsAndRoutesAndItsChildSaIsBoundToItsAddress() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        IkeSa sa = connect(engineA, A);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        ConfigurationReply.Received reply = sa.virtualAddresses().reply();
        assertEquals(List.of(address("172.16.201.1")), reply.addresses());
        assertEquals(List.of(address("10.1.0.53")), reply.dns());
        assertEquals(List.of(new ConfigurationReply.Subnet(address("10.1.0.0"), 16)), reply.subnets());
        assertEquals(List.of(address("172.16.201.1")), gatewaySaOf(sa).virtualAddresses().addresses());
        ChildSaDescription atGateway = childrenB.current().getFirst();
        assertEquals(ts("172.16.201.1/32"), atGateway.remoteSelectors(), "TSi narrowed from 0.0.0.0/0 to the client's address");
        assertEquals(ts("10.1.0.0/16"), atGateway.localSelectors());
        assertChildSasPair(1);
        assertEquals(1, pool.liveClients());
    }

    @Test
    void twoClientsGetDifferentAddressesAndAReconnectGetsTheSameOne() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        engineC.addConnection(client(C, CAROL, true, "0.0.0.0/0"));
        IkeSa alice = connect(engineA, A);
        IkeSa carol = connect(engineC, C);
        InetAddress aliceAddress = alice.virtualAddresses().addresses().getFirst();
        InetAddress carolAddress = carol.virtualAddresses().addresses().getFirst();
        assertNotEquals(aliceAddress, carolAddress);
        assertEquals(2, pool.liveClients());

        alice.delete();
        deliver();
        assertEquals(1, pool.liveClients(), "the address is free of its IKE SA once it died");
        assertEquals(aliceAddress, pool.addressOf(Identity.parse(ALICE.subject()).toString()), "kept for alice's return");
        assertTrue(childrenB.current().stream().noneMatch(c -> c.remoteSelectors().equals(ts(aliceAddress.getHostAddress() + "/32"))));

        run(Duration.ofMinutes(1));
        IkeSa again = connect(engineA, A);
        assertEquals(List.of(aliceAddress), again.virtualAddresses().addresses());
        assertEquals(2, pool.liveClients());
        assertEquals(2, pool.held());
    }

    /**
     * Roaming without MOBIKE: alice's laptop moves to another network (another source address,
     * here C's) without a word to the gateway, and connects again as herself: the same address, so
     * her open connections can go on; one client, not two.
     */
    @Test
    void aClientRoamingToAnotherAddressGetsItsAddressAgain() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        IkeSa before = connect(engineA, A);
        InetAddress address = before.virtualAddresses().addresses().getFirst();
        engineC.addConnection(client(C, ALICE, true, "0.0.0.0/0"));
        IkeSa after = connect(engineC, C);
        assertEquals(IkeSaState.ESTABLISHED, after.state());
        assertEquals(List.of(address), after.virtualAddresses().addresses(), "the address alice had, from her new one");
        assertEquals(1, pool.liveClients(), "one client");
        assertTrue(childrenB.current().stream().anyMatch(c -> c.remoteSelectors().equals(ts(address.getHostAddress() + "/32"))
                && gatewaySaOf(after).remoteAddress().getAddress().equals(C)), "a child SA for her address, to where she is now");
    }

    @Test
    void anIkeRekeyKeepsTheAddressAndTheDeathOfTheLastSaFreesIt() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        IkeSa sa = connect(engineA, A);
        InetAddress given = sa.virtualAddresses().addresses().getFirst();
        sa.rekey();
        deliver();
        IkeSa rekeyed = onlyIkeSa(engineB);
        assertNotEquals(sa.initiatorSpi(), rekeyed.initiatorSpi());
        assertEquals(List.of(given), rekeyed.virtualAddresses().addresses());
        assertEquals(1, pool.liveClients());
        rekeyed.delete();
        deliver();
        assertEquals(0, pool.liveClients());
        assertEquals(1, pool.held(), "kept for the grace time");
        clock.advance(Duration.ofMinutes(11));
        pool.expire();
        assertEquals(0, pool.held());
    }

    @Test
    void aRevokedCertificateIsRefusedAndThePoolIsUnchanged() {
        gateway("172.16.201.0/24", 10, RevokedCertificates.thumbprint(MALLORY.certificate()).toLowerCase(java.util.Locale.ROOT));
        engineA.addConnection(client(A, MALLORY, true, "0.0.0.0/0"));
        IkeSa sa = connect(engineA, A);
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(clientEvents.stream().anyMatch(e -> e.kind() == IkeEvent.Kind.AUTHENTICATION_FAILED), clientEvents.toString());
        assertEquals(0, pool.held());
        assertTrue(childrenB.current().isEmpty());
        assertEquals(1, engineB.counters().get("p2s").authenticationFailures(IkeCounters.Refuser.LOCAL));

        // The same root's other certificates still work.
        engineC.addConnection(client(C, CAROL, true, "0.0.0.0/0"));
        assertEquals(IkeSaState.ESTABLISHED, connect(engineC, C).state());
    }

    @Test
    void aClientThatAsksNoAddressGetsFailedCpRequiredAndNoChildSaEvenLater() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, false, "0.0.0.0/0"));
        IkeSa sa = connect(engineA, A);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertTrue(clientHeard("FAILED_CP_REQUIRED"), clientEvents.toString());
        assertTrue(childrenB.current().isEmpty());
        assertEquals(0, pool.held());
        // A child SA asked for afterwards would carry the whole pool's addresses: refused.
        sa.createChild();
        deliver();
        assertTrue(childrenB.current().isEmpty(), "no child SA without an address: " + childrenB.current());
        assertTrue(childrenA.current().isEmpty());
    }

    @Test
    void anEmptyPoolAnswersInternalAddressFailure() {
        gateway("172.16.201.0/24", 1);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        engineC.addConnection(client(C, CAROL, true, "0.0.0.0/0"));
        connect(engineA, A);
        IkeSa carol = connect(engineC, C);
        assertEquals(IkeSaState.ESTABLISHED, carol.state());
        assertTrue(clientHeard("INTERNAL_ADDRESS_FAILURE"), clientEvents.toString());
        assertTrue(carol.virtualAddresses().addresses().isEmpty());
        assertEquals(1, childrenB.current().size(), "alice's only");
        assertEquals(1, pool.held());
        // An IKE SA that can carry nothing does not stay: the gateway deletes it, telling carol; alice's stays.
        clock.advance(Duration.ofSeconds(3));
        deliver();
        assertEquals(IkeSaState.DESTROYED, carol.state());
        assertEquals(1, engineB.ikeSas().size(), "alice's only: " + engineB.ikeSas());
        assertEquals(1, childrenB.current().size());
    }

    @Test
    void aClientClaimingAnotherAddressForItsTrafficGetsNoChildSa() {
        gateway("172.16.201.0/24", 10);
        // Given 172.16.201.1, it asks to send from .99 (another client's, perhaps).
        engineA.addConnection(client(A, ALICE, true, "172.16.201.99/32"));
        IkeSa sa = connect(engineA, A);
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertTrue(clientHeard("TS_UNACCEPTABLE"), clientEvents.toString());
        assertTrue(childrenB.current().isEmpty());
    }

    /** A site on the same gateway whose key is wrong hears of its key, not that it is no road warrior (the closest fit's reason). */
    @Test
    void aSiteBesideTheClientsIsToldWhyItsOwnAuthenticationFailed() {
        gateway("172.16.201.0/24", 10);
        List<IkeEvent> atGateway = new ArrayList<>();
        engineB.addEventListener(atGateway::add);
        engineB.addConnection(connectionB(IKE, ESP).build());
        engineA.addConnection(Connection.builder("site").local(A, null).remote(B, Identity.of(B)).preSharedKey("another key, also long enough".getBytes(
                java.nio.charset.StandardCharsets.US_ASCII)).ike(IKE).esp(ESP).localTs("192.168.10.0/24").remoteTs("192.168.20.0/24").build());
        assertEquals(IkeSaState.DESTROYED, initiate().state());
        assertTrue(atGateway.stream().anyMatch(e -> e.kind() == IkeEvent.Kind.AUTHENTICATION_FAILED && e.detail().contains("pre-shared key")
                && !e.detail().contains("certificates")), atGateway.toString());
        assertEquals(0, pool.held());
    }

    @Test
    void aFurtherChildSaOfAClientIsBoundToItsAddressToo() {
        gateway("172.16.201.0/24", 10);
        engineA.addConnection(client(A, ALICE, true, "0.0.0.0/0"));
        IkeSa sa = connect(engineA, A);
        sa.createChild();
        deliver();
        assertEquals(2, childrenB.current().size());
        for (ChildSaDescription c : childrenB.current()) {
            assertEquals(ts("172.16.201.1/32"), c.remoteSelectors());
        }
        assertNull(gatewaySaOf(sa).virtualAddresses().reply(), "the gateway receives no reply, it gives one");
    }
}
