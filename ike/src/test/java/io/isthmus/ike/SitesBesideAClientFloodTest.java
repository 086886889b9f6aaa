package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A point-to-site gateway B (clients from any address) with a site A beside them: a flood of
 * clients that answer cookies and never go on to IKE_AUTH fills B's half-open table, and A,
 * coming back, still gets its IKE SA at once; the flood on its own still meets every limit.
 * Clients and flood are IKE_SA_INIT requests from addresses of 10.77.0.0/16 (no engine there:
 * B's answers go nowhere, but the cookies are read off the network).
 */
class SitesBesideAClientFloodTest extends EnginePair {
    static final String IKE = HostileInputTest.IKE;
    static final InetSocketAddress B500 = HostileInputTest.B500;
    static final byte[] KE = KeyExchangeMethod.ECP_256.generate().publicValue();

    @BeforeEach
    void gatewayWithClientsAndASite() {
        VirtualAddressPool pool = new VirtualAddressPool(List.of(address("172.16.201.0")), List.of(24), 100, Duration.ofMinutes(10),
                () -> clock.now().getEpochSecond() * 1_000_000_000L);
        RemoteAccess ra = new RemoteAccess(pool, null, List.of(), List.of(new ConfigurationReply.Subnet(address("192.168.20.0"), 24)),
                new RevokedCertificates(List.of()));
        engineB.addConnection(Connection.builder("p2s").local(B, Identity.parse("gw.example.net")).remote(null, null)
                .authentication(new Authentication.Certificates(RemoteAccessTest.GW.privateKey(), List.of(RemoteAccessTest.GW.certificate()),
                        List.of(RemoteAccessTest.CLIENT_ROOT.certificate()), false))
                .ike(IKE).esp("aes128gcm16").localTs("192.168.20.0/24").remoteTs("172.16.201.0/24").remoteAccess(ra).build());
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
    }

    static InetSocketAddress client(int n) {
        return new InetSocketAddress(address("10.77." + (n / 250) + "." + (1 + n % 250)), 500);
    }

    /** An IKE_SA_INIT from {@code from}, sent again with the cookie if B asks for one; B's last answer. */
    byte[] floodFrom(InetSocketAddress from, long spi) {
        byte[] first = HostileInputTest.initRequest(spi, KeyExchangeMethod.ECP_256, KE, null);
        int before = network.sent.size();
        engineB.receive(first, 0, first.length, B500, from);
        if (network.sent.size() == before) {
            return null;
        }
        NotifyPayload cookie = decode(network.sent.getLast().bytes()).payloads().stream().filter(p -> p instanceof NotifyPayload)
                .map(NotifyPayload.class::cast).filter(n -> n.notifyType() == NotifyType.COOKIE).findFirst().orElse(null);
        if (cookie == null) {
            return network.sent.getLast().bytes();
        }
        byte[] again = HostileInputTest.initRequest(spi, KeyExchangeMethod.ECP_256, KE, cookie.data());
        before = network.sent.size();
        engineB.receive(again, 0, again.length, B500, from);
        return network.sent.size() == before ? null : network.sent.getLast().bytes();
    }

    /*
     *   40 clients (cookies answered)  -->  B: 40 half-open IKE SAs, its table full (limit 40), all young
     *   20 more clients                -->  dropped, not answered (the table full and young)
     *   one client, 8 requests         -->  holds no more than its share
     *   A (the site) IKE_SA_INIT       -->  <-- COOKIE; IKE_SA_INIT with it --> answered: the oldest client's SA gave way
     *   A IKE_AUTH                     -->  <-- IKE_AUTH: the site's IKE SA and child SA up
     */
    @Test
    void aSiteComingBackTakesAClientsHalfOpenSlotWhenAFloodFilledTheTable() {
        engineB.halfOpenLimit(40);
        for (int i = 0; i < 40; i++) {
            assertNotEquals(null, floodFrom(client(i), 0x10000 + i), "client " + i + " answered while there is room");
        }
        assertEquals(40, engineB.halfOpenSas());
        assertTrue(engineB.cookiesSent() > 0, "past the threshold, the clients were asked for cookies");
        for (int i = 40; i < 60; i++) {
            assertEquals(null, floodFrom(client(i), 0x10000 + i), "client " + i + ": the table is full and young");
        }
        assertEquals(40, engineB.halfOpenSas());
        assertEquals(20, engineB.initRequestsDroppedFull());
        // A client that holds a slot gets no second one in a full table either.
        for (int i = 0; i < 8; i++) {
            assertEquals(null, floodFrom(client(0), 0x20000 + i));
        }
        assertEquals(28, engineB.initRequestsDroppedFull());
        assertEquals(40, engineB.halfOpenSas());

        network.sent.clear();
        IkeSa a = initiate();
        assertEquals(IkeSaState.ESTABLISHED, a.state(), "the site's IKE SA, beside the flood");
        assertChildSasPair();
        assertTrue(network.sent.stream().anyMatch(d -> d.to().getAddress().equals(A) && HostileInputTest.notifyOf(d.bytes()) == NotifyType.COOKIE),
                "the site was asked for a cookie too (a spoofer of its address cannot answer one)");
        assertEquals(28, engineB.initRequestsDroppedFull(), "the site's request was not dropped");
        assertEquals(39, engineB.halfOpenSas(), "one client's half-open SA gave way, the site's went on to IKE_AUTH");
        List<Long> spis = engineB.ikeSas().stream().map(IkeSa::initiatorSpi).toList();
        assertFalse(spis.contains(0x10000L), "the oldest client's gave way: " + spis);
        assertTrue(spis.contains(0x10001L) && spis.contains(0x10000L + 39), spis.toString());
        IkeSa atB = engineB.ikeSas().stream().filter(s -> s.initiatorSpi() == a.initiatorSpi()).findFirst().orElseThrow();
        assertEquals(IkeSaState.ESTABLISHED, atB.state());
        assertEquals("site", atB.connection().name());
        // The table full again with clients: a client is dropped as before, the site's SA no client's to take.
        assertNotEquals(null, floodFrom(client(100), 0x30000));
        assertEquals(null, floodFrom(client(101), 0x30001));
        assertEquals(29, engineB.initRequestsDroppedFull());
        assertEquals(IkeSaState.ESTABLISHED, atB.state());
    }

    /*
     * The table full of clients, their SAs 6 s old: a client's request takes the oldest's place
     * (they had their time); a site's request did not have to wait for that.
     */
    @Test
    void clientsStillGiveWayToEachOtherOnceOldEnough() {
        engineB.halfOpenLimit(10);
        for (int i = 0; i < 10; i++) {
            floodFrom(client(i), 0x40000 + i);
        }
        assertEquals(10, engineB.halfOpenSas());
        clock.advance(Duration.ofSeconds(6));
        assertNotEquals(null, floodFrom(client(10), 0x4000A));
        assertEquals(10, engineB.halfOpenSas());
        assertFalse(engineB.ikeSas().stream().anyMatch(s -> s.initiatorSpi() == 0x40000L), "the oldest gave way");
        assertEquals(0, engineB.initRequestsDroppedFull());
    }

    /*
     * cookieRate 1, no threshold: the site's IKE_SA_INIT does not count toward the clients' rate (the
     * next client is served without a cookie; the one after it is asked for one), and spoofed
     * copies of the site's requests meet cookies by a rate of their own.
     */
    @Test
    void aSitesRequestsAreCountedApartFromTheClients() {
        engineB.cookieRate(1);
        engineB.cookieThreshold(1000);
        IkeSa a = initiate();
        assertEquals(IkeSaState.ESTABLISHED, a.state());
        assertEquals(0, engineB.cookiesSent(), "the site asked for none");
        byte[] first = floodFrom(client(1), 0x50000);
        assertNotEquals(NotifyType.COOKIE, HostileInputTest.notifyOf(first));
        assertEquals(0, engineB.cookiesSent(), "the clients' rate was not spent by the site");
        floodFrom(client(2), 0x50001);
        assertEquals(1, engineB.cookiesSent(), "the client after it was over the rate");
        // A second later, spoofed as A with a bad key exchange value (work, and no half-open SA): the first is
        // answered, the second meets a cookie by the site's own rate; a client after them does not.
        clock.advance(Duration.ofMillis(1100));
        for (int i = 0; i < 2; i++) {
            byte[] spoofed = HostileInputTest.initRequest(0x50002 + i, KeyExchangeMethod.ECP_256, HostileInputTest.offCurve(), null);
            engineB.receive(spoofed, 0, spoofed.length, B500, HostileInputTest.A500);
            assertEquals(i == 0 ? NotifyType.INVALID_SYNTAX : NotifyType.COOKIE, HostileInputTest.notifyOf(network.sent.getLast().bytes()));
        }
        assertEquals(2, engineB.cookiesSent());
        assertNotEquals(NotifyType.COOKIE, HostileInputTest.notifyOf(floodFrom(client(3), 0x50010)));
        assertEquals(2, engineB.cookiesSent(), "the site's requests spent none of the clients' rate");
    }

    /*
     * With cookies off and the table full of clients old enough to give way, requests spoofed as
     * the site with a bad key exchange value make no half-open SA, and so displace no client's.
     */
    @Test
    void aSiteRequestThatMakesNoSaDisplacesNoClient() {
        engineB.cookies(false);
        engineB.halfOpenLimit(10);
        for (int i = 0; i < 10; i++) {
            floodFrom(client(i), 0x60000 + i);
        }
        clock.advance(Duration.ofSeconds(6));
        for (int i = 0; i < 20; i++) {
            byte[] spoofed = HostileInputTest.initRequest(0x61000 + i, KeyExchangeMethod.ECP_256, HostileInputTest.offCurve(), null);
            engineB.receive(spoofed, 0, spoofed.length, B500, HostileInputTest.A500);
            assertEquals(NotifyType.INVALID_SYNTAX, HostileInputTest.notifyOf(network.sent.getLast().bytes()));
        }
        assertEquals(10, engineB.halfOpenSas());
        assertEquals(10, engineB.ikeSas().stream().filter(s -> s.state() == IkeSaState.CONNECTING).count());
    }
}
